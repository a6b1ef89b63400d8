"""Context measures: children ceasing by reason, time from return to re-entry."""

from __future__ import annotations

import pandas as pd

from assets.measures.context import OTHER_REASON, children_ceasing, reason_group, time_band


def periods(rows) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=["la_code", "child", "period_seq", "period_end", "end_rec"])
    out["period_end"] = pd.to_datetime(out["period_end"])
    return out


def test_child_ceasing_twice_in_a_year_is_counted_once_at_last_ceasing():
    out = children_ceasing(
        periods(
            [
                ("201", "A", 0, "2019-05-01", "E4A"),
                ("201", "A", 1, "2019-09-01", "E11"),
                ("201", "A", 2, "2020-05-01", "E4B"),  # next collection year
                ("202", "A", 0, "2019-06-01", "E4B"),  # a different child (other LA)
            ]
        )
    )
    assert out[["la_code", "collection_year", "end_rec"]].values.tolist() == [
        ["201", 2020, "E11"],
        ["201", 2021, "E4B"],
        ["202", 2020, "E4B"],
    ]


def test_open_periods_and_broken_x1_chains_are_not_ceasing():
    out = children_ceasing(
        periods([("201", "A", 0, None, None), ("201", "B", 0, "2019-05-01", "X1")])
    )
    assert out.empty


def test_reason_groups_cover_every_code():
    groups = reason_group(
        pd.Series(["E4A", "E4B", "E13", "E12", "E45", "E41", "E17", "E6", "E8", "E3"])
    )
    assert groups.tolist()[:8] == [
        "Returned home as part of the care plan (E4A)",
        "Returned home not as part of the care plan (E4B)",
        "Left to live with parents or relatives without parental responsibility (E13)",
        "Adopted (E11, E12)",
        "Special guardianship order (E43 to E48)",
        "Residence or child arrangement order (E41)",
        "Aged 18 and stayed with carers (E17)",
        "Moved to independent living (E5, E6)",
    ]
    assert groups.tolist()[8:] == [OTHER_REASON, OTHER_REASON]


def test_time_bands_include_their_upper_boundary_so_they_nest_with_windows():
    ret = pd.Series(pd.to_datetime(["2020-01-31"] * 7))
    reentry = pd.Series(
        pd.to_datetime(
            [
                "2020-02-29",
                "2020-03-01",
                "2020-07-31",
                "2020-08-01",
                "2025-01-31",
                "2025-02-01",
                None,
            ]
        )
    )
    bands = time_band(ret, reentry)
    assert bands.iloc[0] == "Under 1 month"  # exactly 1 month: inside, like the windows
    assert bands.iloc[1] == "1 to 3 months"
    assert bands.iloc[2] == "3 to 6 months"
    assert bands.iloc[3] == "6 to 12 months"
    assert bands.iloc[4] == "24 to 60 months"
    assert pd.isna(bands.iloc[5]) and pd.isna(bands.iloc[6])
