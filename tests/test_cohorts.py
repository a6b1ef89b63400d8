"""Returns home, index returns and re-entry within W months (docs/methodology.md)."""

from __future__ import annotations

import pandas as pd
import pytest
from histories import episode

from assets.measures.cohorts import (
    add_window_flags,
    follow_up_complete,
    index_returns,
    la_availability,
    years_needed,
)
from assets.measures.periods import periods_of_care


def flags(rows: list[dict], windows=(6, 12, 24, 60), cut_off_year=2026) -> pd.DataFrame:
    index = index_returns(periods_of_care(pd.DataFrame(rows)))
    return add_window_flags(index, windows, cut_off_year)


def one(rows, **kw) -> pd.Series:
    out = flags(rows, **kw)
    assert len(out) == 1
    return out.iloc[0]


def test_return_home_is_a_period_ending_e4a_or_e4b():
    out = flags(
        [
            episode("A", "2019-05-01", "2019-07-01", rec="E4A"),
            episode("B", "2019-05-01", "2019-07-01", rec="E4B"),
            episode("C", "2019-05-01", "2019-07-01", rec="E13"),
            episode("D", "2019-05-01", "2019-07-01", rec="X1"),
        ]
    )
    assert out["child"].tolist() == ["A", "B"]
    assert out["cohort_year"].tolist() == [2020, 2020]


def test_reentry_on_last_day_of_window_counts():
    # 31 August + 6 calendar months = 28 February (end-of-month clipping).
    row = one(
        [
            episode("A", "2019-05-01", "2019-08-31", rec="E4A"),
            episode("A", "2020-02-29", None),
        ]
    )
    assert row["window_end_6"] == pd.Timestamp("2020-02-29")
    assert bool(row["re_entered_6"]) is True


def test_reentry_one_day_after_window_does_not_count():
    row = one(
        [
            episode("A", "2019-05-01", "2019-08-31", rec="E4A"),
            episode("A", "2020-03-01", None),
        ]
    )
    assert bool(row["re_entered_6"]) is False
    assert bool(row["re_entered_12"]) is True


def test_same_day_restart_is_a_reentry():
    row = one(
        [
            episode("A", "2019-05-01", "2019-08-31", rec="E4B"),
            episode("A", "2019-08-31", None),
        ]
    )
    assert row["reentry_date"] == pd.Timestamp("2019-08-31")
    assert bool(row["re_entered_6"]) is True


def test_short_break_between_return_and_new_start_is_not_a_reentry():
    row = one(
        [
            episode("A", "2019-05-01", "2019-08-31", rec="E4A"),
            episode("A", "2019-09-10", "2019-09-12", ls="V3", rec="E8"),
            episode("A", "2020-06-01", None),
        ]
    )
    assert row["reentry_date"] == pd.Timestamp("2020-06-01")
    assert bool(row["re_entered_6"]) is False
    assert bool(row["re_entered_12"]) is True


def test_two_returns_in_one_year_index_is_first_and_first_reentry_counts():
    out = flags(
        [
            episode("A", "2019-05-01", "2019-06-30", rec="E4A"),
            episode("A", "2019-08-01", "2019-10-01", rec="E4B"),
            episode("A", "2019-12-01", None),
        ]
    )
    assert len(out) == 1
    row = out.iloc[0]
    assert (row["return_date"], row["rec"]) == (pd.Timestamp("2019-06-30"), "E4A")
    assert row["reentry_date"] == pd.Timestamp("2019-08-01")
    assert row["previous_returns"] == 0


def test_returns_in_later_years_count_earlier_returns_as_previous():
    out = flags(
        [
            episode("A", "2017-05-01", "2017-06-30", rec="E4A"),
            episode("A", "2018-08-01", "2018-10-01", rec="E4B"),
            episode("A", "2019-12-01", "2020-01-01", rec="E4A"),
        ]
    )
    assert out["cohort_year"].tolist() == [2018, 2019, 2020]
    assert out["previous_returns"].tolist() == [0, 1, 2]


def test_return_in_one_year_and_reentry_only_in_next_years_return():
    # The return is in the 2020 return (March 2020), the new period only in the 2021 one.
    row = one(
        [
            episode("A", "2019-05-01", "2020-03-15", rec="E4A", collection_year=2020),
            episode("A", "2020-05-01", None, collection_year=2021),
        ]
    )
    assert row["cohort_year"] == 2020
    assert bool(row["re_entered_6"]) is True


def test_stage_uses_the_episode_it_is_given_for_a_resubmitted_year():
    # History keeps the later return's version; this stage must use exactly that one.
    original = [
        episode("A", "2019-05-01", "2019-08-31", rec="E4A"),
        episode("A", "2019-10-01", None),
    ]
    resubmitted = [
        episode("A", "2019-05-01", "2019-08-31", rec="E4A"),
        episode("A", "2020-04-01", None, collection_year=2021),
    ]
    assert bool(one(original)["re_entered_6"]) is True
    assert bool(one(resubmitted)["re_entered_6"]) is False


def test_short_break_turning_into_full_time_care_is_a_reentry_whatever_its_rne():
    # After a V3 short break chained by X1 into care, the period starts with RNE L: the
    # child is in full-time care from that day, so that is the re-entry (the old rule,
    # "a new period whose first episode is RNE S", waited for 1 December).
    row = one(
        [
            episode("A", "2019-05-01", "2019-08-31", rec="E4A"),
            episode("A", "2019-09-10", "2019-09-12", ls="V3", rec="X1"),
            episode("A", "2019-09-12", "2019-10-12", rne="L", rec="E4B"),
            episode("A", "2019-12-01", None),
        ]
    )
    assert row["reentry_date"] == pd.Timestamp("2019-09-12")


def test_child_turning_18_inside_window_stays_in_denominator():
    row = one(
        [
            episode("A", "2023-05-01", "2023-09-01", rec="E4A", dob=pd.Timestamp("2006-01-15")),
        ],
        cut_off_year=2030,
    )
    assert bool(row["re_entered_6"]) is False
    assert bool(row["turned_18_6"]) is True  # 15 Jan 2024 is within 1 Sep 2023 + 6 months
    assert bool(row["turned_18_60"]) is True


def test_child_turning_18_after_window_is_not_counted():
    row = one(
        [episode("A", "2023-05-01", "2023-09-01", rec="E4A", dob=pd.Timestamp("2006-03-02"))],
        cut_off_year=2030,
    )
    assert bool(row["turned_18_6"]) is False
    assert bool(row["turned_18_12"]) is True


def test_child_who_reentered_before_18_is_not_counted_as_turning_18():
    row = one(
        [
            episode("A", "2023-05-01", "2023-09-01", rec="E4A", dob=pd.Timestamp("2006-01-15")),
            episode("A", "2023-10-01", None, dob=pd.Timestamp("2006-01-15")),
        ],
        cut_off_year=2030,
    )
    assert bool(row["re_entered_6"]) is True
    assert bool(row["turned_18_6"]) is False


def test_incomplete_window_is_null_never_partial():
    # Cohort 2020, cut-off 2021: 6 and 12 months complete (to 30 Sep 2020 / 31 Mar 2021),
    # 24 and 60 months not, even though this child has already re-entered.
    row = one(
        [
            episode("A", "2019-05-01", "2019-08-31", rec="E4A"),
            episode("A", "2019-10-01", None),
        ],
        cut_off_year=2021,
    )
    assert bool(row["re_entered_12"]) is True
    assert pd.isna(row["re_entered_24"]) and pd.isna(row["re_entered_60"])
    assert pd.isna(row["re_entered_any_la_24"]) and pd.isna(row["turned_18_24"])


@pytest.mark.parametrize(
    ("cohort", "months", "cut_off", "complete"),
    [
        (2020, 6, 2021, True),
        (2020, 12, 2021, True),
        (2020, 24, 2021, False),
        (2020, 24, 2022, True),
        (2020, 60, 2024, False),
        (2020, 60, 2025, True),
        (2021, 6, 2021, False),
    ],
)
def test_follow_up_complete_needs_31_march_plus_window_by_cut_off(
    cohort, months, cut_off, complete
):
    assert follow_up_complete(cohort, months, cut_off) is complete


def test_reentry_in_another_la_by_upn_counts_only_in_any_la_indicator():
    row = one(
        [
            episode("A", "2019-05-01", "2019-08-31", rec="E4A", upn="A100000000001"),
            episode("Z9", "2019-11-01", None, la="202", upn="A100000000001"),
        ]
    )
    assert row["la_code"] == "201"
    assert pd.isna(row["reentry_date"])
    assert row["reentry_date_any_la"] == pd.Timestamp("2019-11-01")
    assert bool(row["re_entered_6"]) is False and bool(row["re_entered_any_la_6"]) is True


def test_other_la_care_before_the_return_is_not_a_reentry():
    row = one(
        [
            episode("A", "2019-05-01", "2019-08-31", rec="E4A", upn="A100000000001"),
            episode("Z9", "2018-01-01", "2018-03-01", la="202", rec="E8", upn="A100000000001"),
        ]
    )
    assert pd.isna(row["reentry_date_any_la"])


def test_any_la_takes_the_earlier_of_same_la_and_other_la_reentry():
    row = one(
        [
            episode("A", "2019-05-01", "2019-08-31", rec="E4A", upn="A100000000001"),
            episode("A", "2020-01-01", None, upn="A100000000001"),
            episode("Z9", "2019-11-01", "2019-12-01", la="202", rec="E8", upn="A100000000001"),
        ]
    )
    assert row["reentry_date"] == pd.Timestamp("2020-01-01")
    assert row["reentry_date_any_la"] == pd.Timestamp("2019-11-01")


def test_years_needed_cover_the_whole_window():
    assert list(years_needed(2020, 6)) == [2020, 2021]
    assert list(years_needed(2020, 12)) == [2020, 2021]
    assert list(years_needed(2020, 60)) == [2020, 2021, 2022, 2023, 2024, 2025]


def test_la_figure_unavailable_if_any_needed_return_rejected_or_missing():
    grid = pd.DataFrame({"cohort_year": [2020, 2020, 2020], "old_la_code": ["201", "202", "203"]})
    las_by_year = pd.DataFrame(
        {
            "collection_year": [2020, 2020, 2020, 2021, 2021, 2021, 2022, 2022],
            "old_la_code": ["201", "202", "203", "201", "202", "203", "201", "202"],
        }
    )
    status = pd.DataFrame(
        {
            "la_code": ["201", "201", "201", "202", "202", "203", "203"],
            "collection_year": [2020, 2021, 2022, 2020, 2021, 2020, 2021],
            "status": [
                "accepted",
                "accepted_with_quarantine",
                "accepted",
                "accepted",
                "rejected",
                "accepted",
                "accepted",
            ],
        }
    )
    out = la_availability(grid, status, [6, 24], 2022, las_by_year)
    reasons = out.set_index(["old_la_code", "follow_up_months"])["unavailable_reason"]
    assert pd.isna(reasons[("201", 6)]) and pd.isna(reasons[("201", 24)])
    assert reasons[("202", 6)] == "Return rejected"
    # 202 existed in 2022 but its return is absent from the status table.
    assert reasons[("202", 24)] == "Return rejected"
    # 203 ceased to exist after 2021 (boundary change): 2022 is not needed.
    assert pd.isna(reasons[("203", 24)])
    status_missing = status[~((status["la_code"] == "201") & (status["collection_year"] == 2022))]
    out = la_availability(grid, status_missing, [24], 2022, las_by_year)
    assert out.set_index("old_la_code").loc["201", "unavailable_reason"] == "Return not received"


def test_reentry_in_another_la_found_when_returning_period_began_before_loaded_history():
    # The returning period's first loaded episode has RNE L (it began before the first
    # loaded year); the other LA's new period must still be linked by UPN.
    row = one(
        [
            episode("A", "2015-04-01", "2016-03-25", rne="L", rec="E4B", upn="C356223494733"),
            episode("Z9", "2016-07-12", None, la="896", upn="C356223494733"),
        ]
    )
    assert row["reentry_date_any_la"] == pd.Timestamp("2016-07-12")
