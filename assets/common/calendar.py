"""The collection-year calendar: SSDA903 collection year Y runs from 1 April Y-1 to
31 March Y (DfE, "Children looked after return: guidance"), and boundary changes between
LAs take effect on 1 April."""

from __future__ import annotations

from datetime import date

import pandas as pd


def collection_year_bounds(year: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day of collection year ``year`` (1 April ``year-1``, 31 March ``year``)."""
    return pd.Timestamp(date(year - 1, 4, 1)), pd.Timestamp(date(year, 3, 31))


def collection_year_end(year: int) -> pd.Timestamp:
    """31 March of ``year``: the census date that closes collection year ``year``."""
    return collection_year_bounds(year)[1]
