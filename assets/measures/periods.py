"""Episodes -> periods of care.

SSDA903 records care as *episodes*: a new episode starts whenever the legal status or
placement changes, and the one before it ends with REC ``X1`` ("episode ceases, and new
episode begins on same day", DfE SSDA903 guidance 2024-25). A child's *period of care* is
the unbroken chain of such episodes; re-entry to care is about periods, not episodes.

Short-break care (legal status V3 "accommodated under an agreement for a series of
short-term placements" / V4 "... in a series of short-term placements, single placement")
is removed before chaining, as DfE does in its children-looked-after statistics
("Children looked after in England including adoptions", methodology: children looked
after under a series of short-term placements are excluded). A period therefore starts
with the first remaining episode.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

SHORT_BREAK_LEGAL_STATUSES = ("V3", "V4")
CHAIN_REC = "X1"

PERIOD_COLUMNS = [
    "la_code",
    "child",
    "period_seq",
    "period_start",
    "first_rne",
    "period_end",
    "end_rec",
    "ls_at_end",
    "cin_at_end",
    "episodes",
    "sex",
    "dob",
    "upn",
]


def remove_short_breaks(episodes: pd.DataFrame) -> pd.DataFrame:
    """Drop V3/V4 short-break episodes (DfE excludes short-break care from CLA counts)."""
    return episodes[~episodes["ls"].isin(SHORT_BREAK_LEGAL_STATUSES)]


def _number_key(values: pd.Series) -> np.ndarray | None:
    """Dates as their integer value (missing last) and numbers as they are; None for
    text. The one key both the sort and the sorted check use."""
    if pd.api.types.is_datetime64_any_dtype(values):
        ints = values.to_numpy().view("int64").copy()
        ints[values.isna().to_numpy()] = np.iinfo(np.int64).max
        return ints
    if pd.api.types.is_numeric_dtype(values):
        return values.to_numpy()
    return None


def _adjacent_order(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """For each row after the first: is it after / equal to the row before, with missing
    values last (the order ``sort_order`` gives). Text is compared by Arrow kernels, so
    no factorising of a million strings."""
    if pd.api.types.is_numeric_dtype(values) and values.isna().any():
        raise _NotComparable(values.name)
    key = _number_key(values)
    if key is not None:
        return key[1:] > key[:-1], key[1:] == key[:-1]
    try:
        text = pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as err:
        raise _NotComparable(values.name) from err
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    if not pa.types.is_string(text.type) and not pa.types.is_large_string(text.type):
        raise _NotComparable(values.name)
    before, after = text[:-1], text[1:]
    na_before = pc.is_null(before).to_numpy(zero_copy_only=False)
    na_after = pc.is_null(after).to_numpy(zero_copy_only=False)
    greater = pc.fill_null(pc.greater(after, before), False).to_numpy(zero_copy_only=False)
    equal = pc.fill_null(pc.equal(after, before), False).to_numpy(zero_copy_only=False)
    return greater | (na_after & ~na_before), equal | (na_after & na_before)


class _NotComparable(Exception):
    """A column the sorted check does not cover (``sort_order`` sorts it instead)."""


def _already_sorted(frame: pd.DataFrame, columns: list[str]) -> bool:
    """Whether ``frame`` is already in ``columns`` order: one linear pass. The episode
    history arrives in (LA, child, start) order and each step keeps it, so most sorts
    here would return the rows as they are, after factorising every text key."""
    if len(frame) < 2:
        return True
    tied = np.ones(len(frame) - 1, dtype=bool)  # rows equal to the one before so far
    try:
        for col in columns:
            greater, equal = _adjacent_order(frame[col])
            if (tied & ~greater & ~equal).any():
                return False
            tied &= equal
    except _NotComparable:
        return False
    return True


def _lexsort_order(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    keys = []
    for col in columns:
        key = _number_key(frame[col])
        if key is None:
            codes, _ = pd.factorize(frame[col], sort=True)
            key = np.where(codes < 0, np.iinfo(np.int64).max, codes)
        keys.append(key)
    return np.lexsort(keys[::-1])


def sort_order(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Row positions that sort ``frame`` by ``columns`` (missing values last), stably.

    Text columns are replaced by their rank among the sorted distinct values and dates by
    their integer value, then numpy's lexsort orders the integers: much faster than
    sorting Arrow-backed strings row by row, and the same order. Rows already in order
    (the usual case) are found in one pass and returned as they are.
    """
    if _already_sorted(frame, columns):
        return np.arange(len(frame))
    return _lexsort_order(frame, columns)


def in_order(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``frame`` sorted by ``columns`` as ``sort_order`` orders it; the frame itself when
    it is already in that order (no copy of every column)."""
    if _already_sorted(frame, columns):
        return frame
    return frame.iloc[_lexsort_order(frame, columns)]


def collection_year_of(dates: pd.Series) -> pd.Series:
    """Collection year (ending 31 March) containing each date; NaT -> <NA>."""
    year = dates.dt.year.astype("Int64")
    return year + (dates.dt.month >= 4).astype("Int64")


def periods_of_care(episode_history: pd.DataFrame) -> pd.DataFrame:
    """One row per period of care of each child in each LA, in date order.

    A new period begins at a child's first (non short-break) episode in an LA and at any
    episode that does not continue the previous one, i.e. unless the previous episode
    ended with REC X1 on exactly this episode's DECOM. Whole-table: a running sum over
    "starts a period" flags numbers the periods, no loop over children.

    Columns: la_code, child, period_seq (0, 1, ... within child and LA), period_start
    (DECOM of the first episode), first_rne (its RNE), period_end (DEC of the last episode,
    NaT while open), end_rec (its REC, null while open), ls_at_end and cin_at_end (legal
    status and category of need of the last episode), episodes (number chained), sex, dob,
    upn (from the last episode; header fields are repeated on every episode).
    """
    cols = ["la_code", "child", "decom", "dec", "rne", "ls", "cin", "rec", "sex", "dob", "upn"]
    ep = remove_short_breaks(episode_history[cols])
    # dec as a secondary key keeps the order total (and so the output deterministic) even
    # if two episodes of a child share a DECOM; open episodes (no DEC) sort last.
    ep = in_order(ep, ["la_code", "child", "decom", "dec"]).reset_index(drop=True)

    la = pd.factorize(ep["la_code"])[0]
    child = pd.factorize(ep["child"])[0]
    new_child = np.ones(len(ep), dtype=bool)
    new_child[1:] = (la[1:] != la[:-1]) | (child[1:] != child[:-1])
    rec = ep["rec"].to_numpy(dtype=object, na_value=None)
    dec = ep["dec"].to_numpy()
    decom = ep["decom"].to_numpy()
    continues = np.zeros(len(ep), dtype=bool)
    continues[1:] = ~new_child[1:] & (rec[:-1] == CHAIN_REC) & (dec[:-1] == decom[1:])
    starts = pd.Series(~continues)
    ends = starts.shift(-1, fill_value=True)

    first = ep.loc[starts, ["la_code", "child", "decom", "rne"]].reset_index(drop=True)
    last = ep.loc[ends, ["dec", "rec", "ls", "cin", "sex", "dob", "upn"]].reset_index(drop=True)
    period_number = starts.cumsum()
    episodes = period_number.value_counts(sort=False).sort_index().to_numpy()

    periods = pd.DataFrame(
        {
            "la_code": first["la_code"],
            "child": first["child"],
            "period_start": first["decom"],
            "first_rne": first["rne"],
            "period_end": last["dec"],
            "end_rec": last["rec"],
            "ls_at_end": last["ls"],
            "cin_at_end": last["cin"],
            "episodes": episodes,
            "sex": last["sex"],
            "dob": last["dob"],
            "upn": last["upn"],
        }
    )
    child_number = pd.Series(np.cumsum(new_child[starts.to_numpy()]))
    periods["period_seq"] = child_number.groupby(child_number, sort=False).cumcount()
    return periods[PERIOD_COLUMNS]
