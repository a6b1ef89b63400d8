"""The year's episodes as a working table the episode rules share.

Rules compare each episode with the previous and next episode of the same child, so the
episodes are sorted once (LA, CHILD, DECOM, row) and neighbours taken by a shift: whole-
table operations, no loop over children.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from validation.schemas import parse_903_dates


def episode_frame(episodes: pd.DataFrame, header: pd.DataFrame) -> pd.DataFrame:
    """Raw episodes plus parsed dates, the child's DOB and previous/next-episode columns.

    ``episodes``/``header``: raw string columns plus la_code, source_file, source_row.
    Added: DECOM_DT, DEC_DT, DOB_DT, IS_FIRST, IS_LAST, PREV_DEC_DT, PREV_REC,
    NEXT_DECOM_DT, HAS_PREV, HAS_NEXT.
    """
    ep = episodes.copy()
    ep["DECOM_DT"] = parse_903_dates(ep["DECOM"])
    ep["DEC_DT"] = parse_903_dates(ep["DEC"])
    dob = header.drop_duplicates(["la_code", "CHILD"])[["la_code", "CHILD", "DOB"]]
    dob = dob.assign(DOB_DT=parse_903_dates(dob["DOB"]))[["la_code", "CHILD", "DOB_DT"]]
    ep = ep.merge(dob, on=["la_code", "CHILD"], how="left", sort=False)
    ep = ep.sort_values(
        ["la_code", "CHILD", "DECOM_DT", "source_row"], kind="mergesort", na_position="last"
    ).reset_index(drop=True)
    same_prev = (ep["la_code"].eq(ep["la_code"].shift())) & ep["CHILD"].eq(ep["CHILD"].shift())
    same_next = (ep["la_code"].eq(ep["la_code"].shift(-1))) & ep["CHILD"].eq(ep["CHILD"].shift(-1))
    ep["HAS_PREV"] = same_prev.fillna(False).astype(bool) & ep["CHILD"].notna()
    ep["HAS_NEXT"] = same_next.fillna(False).astype(bool) & ep["CHILD"].notna()
    ep["IS_FIRST"] = ~ep["HAS_PREV"]
    ep["IS_LAST"] = ~ep["HAS_NEXT"]
    ep["PREV_DEC_DT"] = ep["DEC_DT"].shift().where(ep["HAS_PREV"])
    ep["PREV_DEC"] = ep["DEC"].shift().where(ep["HAS_PREV"])
    ep["PREV_REC"] = ep["REC"].shift().where(ep["HAS_PREV"])
    ep["NEXT_DECOM_DT"] = ep["DECOM_DT"].shift(-1).where(ep["HAS_NEXT"])
    return ep


def age_in_years(dob: pd.Series, on: pd.Series) -> pd.Series:
    """Whole years of age on a date (birthday counted on the day), NaN if either is NaT."""
    valid = dob.notna() & on.notna()
    d_y, d_m, d_d = dob.dt.year, dob.dt.month, dob.dt.day
    o_y, o_m, o_d = on.dt.year, on.dt.month, on.dt.day
    before_birthday = (o_m < d_m) | ((o_m == d_m) & (o_d < d_d))
    age = (o_y - d_y) - before_birthday.astype("float64")
    return age.where(valid, np.nan)
