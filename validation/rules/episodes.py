"""The year's episodes as a working table the episode rules share.

Rules compare each episode with the previous and next episode of the same child, so the
episodes are sorted once (LA, CHILD, DECOM, row) and neighbours taken by a shift: whole-
table operations, no loop over children.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from validation.schemas import parse_903_dates

# Threads for per-column takes (Arrow's take releases the GIL).
_TAKE_THREADS = max(1, min(4, os.cpu_count() or 1))


def take_rows(frame: pd.DataFrame, positions: np.ndarray) -> pd.DataFrame:
    """``frame.iloc[positions].reset_index(drop=True)``, one column per thread: Arrow's
    take releases the GIL, so reordering a year's columns uses both cores."""
    positions = np.asarray(positions, dtype=np.int64)

    def take(name: str) -> pd.Series:
        return frame[name].take(positions).reset_index(drop=True)

    names = list(frame.columns)
    if frame.columns.has_duplicates or len(names) < 2:
        return frame.iloc[positions].reset_index(drop=True)
    with ThreadPoolExecutor(max_workers=_TAKE_THREADS) as pool:
        columns = list(pool.map(take, names))
    return pd.DataFrame(dict(zip(names, columns, strict=True)), index=pd.RangeIndex(len(positions)))


def episode_frame(episodes: pd.DataFrame, header: pd.DataFrame) -> pd.DataFrame:
    """Raw episodes plus parsed dates, the child's DOB and previous/next-episode columns.

    ``episodes``/``header``: raw string columns plus la_code, source_file, source_row, and
    (from validation.collection_year) KEY (int64 child key), DECOM_DT, DEC_DT / DOB_DT.
    Added: DOB_DT, IS_FIRST, IS_LAST, HAS_PREV, HAS_NEXT, PREV_DEC_DT, PREV_DEC,
    PREV_REC, NEXT_DECOM_DT.
    """
    ep = episodes.copy(deep=False)  # copy-on-write: new columns never reach the caller
    if "DECOM_DT" not in ep:
        ep["DECOM_DT"] = parse_903_dates(ep["DECOM"])
        ep["DEC_DT"] = parse_903_dates(ep["DEC"])
    first = header[header["KEY"] >= 0].drop_duplicates("KEY")
    dob_dt = first["DOB_DT"] if "DOB_DT" in first else parse_903_dates(first["DOB"])
    lookup = pd.Series(
        dob_dt.to_numpy(dtype="datetime64[ns]"),
        index=pd.Index(first["KEY"].to_numpy(dtype=np.int64)),
        dtype="datetime64[ns]",
    )
    ep["DOB_DT"] = lookup.reindex(ep["KEY"].to_numpy(dtype=np.int64)).to_numpy()
    # NaT sorts last; ties keep file order.
    decom = ep["DECOM_DT"].to_numpy(dtype="datetime64[ns]").view("int64")
    decom = np.where(ep["DECOM_DT"].isna().to_numpy(), np.iinfo(np.int64).max, decom)
    order = np.lexsort((ep["source_row"].to_numpy(), decom, ep["KEY"].to_numpy()))
    ep = take_rows(ep, order)
    key = ep["KEY"].to_numpy()
    valid = key >= 0
    same_prev = np.zeros(len(ep), dtype=bool)
    same_prev[1:] = (key[1:] == key[:-1]) & valid[1:]
    same_next = np.zeros(len(ep), dtype=bool)
    same_next[:-1] = (key[:-1] == key[1:]) & valid[:-1]
    ep["HAS_PREV"] = same_prev
    ep["HAS_NEXT"] = same_next
    ep["IS_FIRST"] = ~same_prev
    ep["IS_LAST"] = ~same_next
    ep["PREV_DEC_DT"] = ep["DEC_DT"].shift().where(same_prev)
    ep["PREV_DEC"] = ep["DEC"].shift().where(same_prev)
    ep["PREV_REC"] = ep["REC"].shift().where(same_prev)
    ep["NEXT_DECOM_DT"] = ep["DECOM_DT"].shift(-1).where(same_next)
    return ep


def age_in_years(dob: pd.Series, on: pd.Series) -> pd.Series:
    """Whole years of age on a date (birthday counted on the day), NaN if either is NaT."""
    valid = dob.notna() & on.notna()
    d_y, d_m, d_d = dob.dt.year, dob.dt.month, dob.dt.day
    o_y, o_m, o_d = on.dt.year, on.dt.month, on.dt.day
    before_birthday = (o_m < d_m) | ((o_m == d_m) & (o_d < d_d))
    age = (o_y - d_y) - before_birthday.astype("float64")
    return age.where(valid, np.nan)
