"""Breakdown categories (docs/methodology.md, "Breakdowns")."""

from __future__ import annotations

import pandas as pd
import pytest

from assets.measures.breakdowns import (
    GROUPS,
    age_band,
    age_in_years,
    characteristics,
    previous_returns_band,
    time_in_care_band,
)


def ts(*dates: str) -> pd.Series:
    return pd.Series(pd.to_datetime(list(dates)))


def test_age_in_completed_years_counts_the_birthday_itself():
    ages = age_in_years(
        ts("2010-06-15", "2010-06-15", "2010-06-15"), ts("2020-06-14", "2020-06-15", "2011-01-01")
    )
    assert ages.tolist() == [9, 10, 0]


def test_age_bands_match_dfe_bands():
    bands = age_band(pd.Series([0, 1, 4, 5, 9, 10, 15, 16, 17]))
    assert bands.tolist() == [
        "Under 1",
        "1 to 4",
        "1 to 4",
        "5 to 9",
        "5 to 9",
        "10 to 15",
        "10 to 15",
        "16 and over",
        "16 and over",
    ]


def test_time_in_care_bands_use_calendar_months():
    start = ts("2020-01-31", "2020-01-31", "2020-01-01", "2020-01-01", "2020-01-01", "2020-01-01")
    returned = ts(
        "2020-02-28", "2020-02-29", "2020-06-30", "2020-07-01", "2021-12-31", "2022-01-01"
    )
    assert time_in_care_band(start, returned).tolist() == [
        "Under 1 month",  # 31 Jan + 1 month = 29 Feb 2020
        "1 to under 6 months",
        "1 to under 6 months",
        "6 to under 12 months",
        "1 to under 2 years",
        "2 years and over",
    ]


def test_previous_returns_top_band_is_two_or_more():
    assert previous_returns_band(pd.Series([0, 1, 2, 7])).tolist() == [
        "None",
        "1",
        "2 or more",
        "2 or more",
    ]


def index_frame(**over) -> pd.DataFrame:
    base = {
        "dob": pd.to_datetime(["2019-05-01", "2005-01-01"]),
        "return_date": pd.to_datetime(["2020-01-01", "2022-01-01"]),
        "period_start": pd.to_datetime(["2019-12-15", "2019-01-01"]),
        "sex": ["M", "F"],
        "rec": ["E4A", "E4B"],
        "ls_at_return": ["C1", "J2"],
        "cin_at_return": ["N1", "N8"],
        "previous_returns": [0, 3],
    }
    base.update(over)
    return pd.DataFrame(base)


def test_each_child_gets_one_category_in_every_group():
    chars = characteristics(index_frame())
    assert list(chars.columns) == list(GROUPS)
    assert chars.iloc[0].tolist() == [
        "Total",
        "Under 1",
        "Male",
        "Planned (E4A)",
        "Interim care order",
        "Under 1 month",
        "None",
        "N1 Abuse or neglect",
    ]
    assert chars.iloc[1].tolist() == [
        "Total",
        "16 and over",
        "Female",
        "Not planned (E4B)",
        "Other legal status",
        "2 years and over",
        "2 or more",
        "N8 Absent parenting",
    ]


def test_sex_u_from_the_2024_25_return_is_its_own_category():
    chars = characteristics(index_frame(sex=["U", "F"]))
    assert chars["Sex"].tolist() == ["Not known", "Female"]
    assert "Not known" in GROUPS["Sex"]


def test_a_code_outside_a_group_stops_the_run_instead_of_breaking_the_total():
    with pytest.raises(ValueError, match="Category of need"):
        characteristics(index_frame(cin_at_return=["N1", "N9"]))
