"""Episode-date rules: order of dates within an episode, against birth and the year."""

from __future__ import annotations

import pandas as pd

from assets.common.calendar import collection_year_bounds
from validation.rules.episodes import age_in_years


def rule_302(ep: pd.DataFrame) -> pd.Series:
    """302: the child's first episode cannot start before the child was born."""
    return ep["IS_FIRST"] & (ep["DECOM_DT"] < ep["DOB_DT"])


def rule_352(ep: pd.DataFrame) -> pd.Series:
    """352: a child cannot *start* to be looked after (RNE S) aged 18 or over."""
    return ep["RNE"].eq("S") & (age_in_years(ep["DOB_DT"], ep["DECOM_DT"]) >= 18)


def rule_354(ep: pd.DataFrame, year: int) -> pd.Series:
    """354: an episode in this year's return cannot start after the year ends."""
    return ep["DECOM_DT"] > collection_year_bounds(year)[1]


def rule_385(ep: pd.DataFrame, year: int) -> pd.Series:
    """385: the date an episode ceased must be on or before the end of the year."""
    return ep["DEC_DT"] > collection_year_bounds(year)[1]


def rule_355(ep: pd.DataFrame) -> pd.Series:
    """355: an episode that ends on the day it starts lasted under 24 hours (warning)."""
    return ep["DEC_DT"].eq(ep["DECOM_DT"])


def rule_356(ep: pd.DataFrame) -> pd.Series:
    """356: an episode cannot end before it started."""
    return ep["DEC_DT"] < ep["DECOM_DT"]
