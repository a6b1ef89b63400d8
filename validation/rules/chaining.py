"""Episode-chaining rules: how each episode follows the previous one for the same child.

A period of care is a chain of episodes: each episode ends with REC X1 and the next one
starts the same day with a continuation reason (RNE L/P/T/U/B); a period starts with
RNE S. These rules find broken chains, which make periods of care (and so returns home
and re-entries) unreliable.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from assets.common.calendar import collection_year_bounds
from validation.schemas import CONTINUATION_RNE, CONTINUING_REC, TEMPORARY_PLACE


def rule_142(ep: pd.DataFrame) -> pd.Series:
    """142: an episode with no end date is followed by another episode (flag the open one)."""
    return ep["HAS_NEXT"] & ep["DEC"].isna()


def rule_148(ep: pd.DataFrame) -> pd.Series:
    """148: DEC and REC must both be present or both blank."""
    return ep["DEC"].isna() != ep["REC"].isna()


def rule_501(ep: pd.DataFrame) -> pd.Series:
    """501: an episode starts before the previous episode ended (overlap)."""
    return ep["HAS_PREV"] & (ep["DECOM_DT"] < ep["PREV_DEC_DT"])


def duplicate_episode(ep: pd.DataFrame) -> pd.Series:
    """Two episodes of one child start on the same day (a duplicated row, or an overlap
    that 501 cannot see because the sort puts the pair side by side). The second and later
    copies are flagged."""
    keyed = ep["DECOM_DT"].notna() & ep["KEY"].ge(0)
    key = ep["KEY"].to_numpy(dtype=np.int64)
    missing = ep["DECOM_DT"].isna().to_numpy()
    decom = np.where(missing, np.iinfo(np.int64).max, ep["DECOM_DT"].to_numpy().view("int64"))
    same = (key[1:] == key[:-1]) & (decom[1:] == decom[:-1])
    ordered = (key[1:] > key[:-1]) | same | ((key[1:] == key[:-1]) & (decom[1:] > decom[:-1]))
    if len(ep) > 1 and ordered.all():
        # Sorted by child and start (as episode_frame leaves it): copies are adjacent.
        dup = pd.Series(np.concatenate([[False], same]), index=ep.index)
    else:
        dup = ep.duplicated(["KEY", "DECOM_DT"], keep="first")
    return keyed & dup


def rule_388(ep: pd.DataFrame) -> pd.Series:
    """388: REC X1 (new episode begins) but no episode starts the day this one ended."""
    x1 = ep["REC"].eq(CONTINUING_REC) & ep["DEC_DT"].notna()
    continued = ep["HAS_NEXT"] & ep["NEXT_DECOM_DT"].eq(ep["DEC_DT"])
    return x1 & ~continued


def rule_431(ep: pd.DataFrame) -> pd.Series:
    """431: RNE S (started to be looked after) but the previous episode ended that day."""
    return ep["RNE"].eq("S") & ep["HAS_PREV"] & ep["PREV_DEC_DT"].eq(ep["DECOM_DT"])


def rule_432(ep: pd.DataFrame) -> pd.Series:
    """432: the previous episode ended care (REC not X1) but this one is not RNE S."""
    ceased = ep["PREV_REC"].notna() & ep["PREV_REC"].ne(CONTINUING_REC)
    return ep["HAS_PREV"] & ceased & ep["RNE"].notna() & ep["RNE"].ne("S")


def rule_433(ep: pd.DataFrame) -> pd.Series:
    """433: a continuation RNE but the episode does not start the day the last one ended
    (including when the last one has not ended at all)."""
    cont = ep["RNE"].isin(CONTINUATION_RNE)
    same_day = ep["PREV_DEC_DT"].eq(ep["DECOM_DT"]).fillna(False).astype(bool)
    return cont & ep["HAS_PREV"] & ~same_day


def rule_357(ep: pd.DataFrame, first_visible_start: pd.Timestamp) -> pd.Series:
    """357: the first episode ever must be RNE S.

    Only the loaded history is visible. A return holds every episode open at any time in
    its year, so an episode immediately preceding one that starts on or after the start of
    the first loaded year would itself be in the data. The rule therefore fires only for a
    child's first visible episode starting on/after ``first_visible_start``; before that,
    the preceding episode may simply be out of sight.
    """
    return (
        ep["IS_FIRST"]
        & ep["RNE"].notna()
        & ep["RNE"].ne("S")
        & (ep["DECOM_DT"] >= first_visible_start)
    )


def rule_357_year(ep: pd.DataFrame, year: int) -> pd.Series:
    return rule_357(ep, collection_year_bounds(year)[0])


def rule_437(ep: pd.DataFrame) -> pd.Series:
    """437: REC E2 (died) or E15 (aged 18 or over) but the child has later episodes."""
    return ep["REC"].isin(["E2", "E15"]) & ep["HAS_NEXT"]


def rule_380(ep: pd.DataFrame) -> pd.Series:
    """380: a period of care (RNE S) cannot start in a temporary placement (T0-T4)."""
    return ep["PLACE"].isin(TEMPORARY_PLACE) & ep["RNE"].eq("S")


def rule_381(ep: pd.DataFrame) -> pd.Series:
    """381: a period of care (REC other than X1) cannot end in a temporary placement."""
    ends_period = ep["REC"].notna() & ep["REC"].ne(CONTINUING_REC)
    return ep["PLACE"].isin(TEMPORARY_PLACE) & ends_period
