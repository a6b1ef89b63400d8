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


def sort_order(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Row positions that sort ``frame`` by ``columns`` (missing values last).

    Text columns are replaced by their rank among the sorted distinct values and dates by
    their integer value, then numpy's lexsort orders the integers: much faster than
    sorting Arrow-backed strings row by row, and the same order.
    """
    keys = []
    for col in columns:
        values = frame[col]
        if pd.api.types.is_datetime64_any_dtype(values):
            ints = values.to_numpy().view("int64").copy()
            ints[values.isna().to_numpy()] = np.iinfo(np.int64).max
        elif pd.api.types.is_numeric_dtype(values):
            ints = values.to_numpy()
        else:
            codes, _ = pd.factorize(values, sort=True)
            ints = np.where(codes < 0, np.iinfo(np.int64).max, codes)
        keys.append(ints)
    return np.lexsort(keys[::-1])


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
    ep = ep.iloc[sort_order(ep, ["la_code", "child", "decom", "dec"])].reset_index(drop=True)

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
