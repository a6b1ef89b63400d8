"""Episodes -> periods of care (docs/methodology.md, "Periods of care")."""

from __future__ import annotations

import pandas as pd
from histories import episode

from assets.measures.periods import collection_year_of, periods_of_care


def history(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows))


def test_x1_chain_on_the_same_day_is_one_period():
    periods = periods_of_care(
        history(
            episode("A", "2019-05-01", "2019-07-01", rec="X1"),
            episode("A", "2019-07-01", "2019-09-01", rne="P", ls="C1", rec="X1"),
            episode("A", "2019-09-01", "2020-01-10", rne="L", ls="V2", rec="E4A"),
        )
    )
    assert len(periods) == 1
    p = periods.iloc[0]
    assert p["period_start"] == pd.Timestamp("2019-05-01")
    assert p["period_end"] == pd.Timestamp("2020-01-10")
    assert (p["end_rec"], p["first_rne"], p["ls_at_end"], p["episodes"]) == ("E4A", "S", "V2", 3)


def test_x1_followed_by_a_gap_starts_a_new_period():
    periods = periods_of_care(
        history(
            episode("A", "2019-05-01", "2019-07-01", rec="X1"),
            episode("A", "2019-07-02", "2019-09-01", rne="P", rec="E4B"),
        )
    )
    assert periods["period_seq"].tolist() == [0, 1]
    assert periods["end_rec"].tolist() == ["X1", "E4B"]


def test_a_non_x1_ending_breaks_the_chain_even_on_a_same_day_restart():
    periods = periods_of_care(
        history(
            episode("A", "2019-05-01", "2019-07-01", rec="E4A"),
            episode("A", "2019-07-01", None, rne="S"),
        )
    )
    assert periods["period_start"].tolist() == [
        pd.Timestamp("2019-05-01"),
        pd.Timestamp("2019-07-01"),
    ]
    assert periods["end_rec"].isna().tolist() == [False, True]
    assert pd.isna(periods["period_end"].iloc[1])


def test_short_break_episodes_are_removed_before_chaining():
    # A V3 short break between a return home and a later start is not a period of care.
    periods = periods_of_care(
        history(
            episode("A", "2019-05-01", "2019-07-01", rec="E4A"),
            episode("A", "2019-08-01", "2019-08-03", ls="V3", rec="E8"),
            episode("A", "2019-09-01", "2019-09-04", ls="V4", rec="E8"),
            episode("A", "2019-12-01", None),
        )
    )
    assert periods["period_start"].tolist() == [
        pd.Timestamp("2019-05-01"),
        pd.Timestamp("2019-12-01"),
    ]


def test_period_starts_at_first_remaining_episode_after_a_short_break_chain():
    periods = periods_of_care(
        history(
            episode("A", "2019-05-01", "2019-07-01", ls="V3", rec="X1"),
            episode("A", "2019-07-01", None, rne="L", ls="C2"),
        )
    )
    assert len(periods) == 1
    assert periods.iloc[0]["period_start"] == pd.Timestamp("2019-07-01")
    assert periods.iloc[0]["first_rne"] == "L"


def test_children_are_distinct_per_la_and_unsorted_input_is_ordered():
    periods = periods_of_care(
        history(
            episode("A", "2019-09-01", None, la="202"),
            episode("A", "2019-05-01", "2019-07-01", rec="X1", la="201"),
            episode("A", "2019-07-01", None, rne="P", la="202"),
        )
    )
    # Same CHILD in two LAs: different children; X1 in 201 does not chain into 202.
    assert periods[["la_code", "child", "period_seq"]].values.tolist() == [
        ["201", "A", 0],
        ["202", "A", 0],
        ["202", "A", 1],
    ]


def test_open_period_has_no_end():
    periods = periods_of_care(history(episode("A", "2019-05-01", None)))
    assert pd.isna(periods.iloc[0]["period_end"]) and pd.isna(periods.iloc[0]["end_rec"])


def test_collection_year_runs_april_to_march():
    dates = pd.Series(pd.to_datetime(["2019-03-31", "2019-04-01", "2020-03-31"]))
    assert collection_year_of(dates).tolist() == [2019, 2020, 2020]


def _stably_sorted(frame: pd.DataFrame, columns: list[str]):
    """The reference order, from pandas itself: a stable sort, missing values last."""
    return frame.sort_values(columns, kind="stable", na_position="last").index.to_numpy()


def test_sort_order_matches_a_stable_sort_whether_or_not_rows_are_already_in_order():
    """The one-pass check for rows already in order must agree with the full sort, with
    ties, missing text and missing dates (last), for sorted and shuffled frames alike."""
    import numpy as np

    from assets.measures.periods import in_order, sort_order

    rng = np.random.default_rng(11)
    n = 4_000
    la = np.array(["202", "203", "919", None], dtype=object)[rng.integers(0, 4, n)]
    child = np.array(["A1", "A10", "A2", "b", "é", None], dtype=object)[rng.integers(0, 6, n)]
    days = rng.integers(0, 40, n).astype("timedelta64[D]") + np.datetime64("2020-01-01")
    start = pd.Series(days.astype("datetime64[ns]"))
    start[rng.random(n) < 0.05] = pd.NaT
    frame = pd.DataFrame(
        {"la_code": pd.array(la, dtype="str"), "child": pd.array(child, dtype="str")}
    ).assign(decom=start, seq=rng.integers(0, 3, n))
    columns = ["la_code", "child", "decom", "seq"]
    reference = _stably_sorted(frame, columns)
    assert np.array_equal(sort_order(frame, columns), reference)
    ordered = frame.iloc[reference].reset_index(drop=True)
    assert np.array_equal(sort_order(ordered, columns), np.arange(n))
    assert in_order(ordered, columns) is ordered
    pd.testing.assert_frame_equal(
        in_order(frame, columns).reset_index(drop=True), ordered, check_exact=True
    )
    swapped = ordered.iloc[[1, 0, *range(2, n)]]
    if (
        not ordered.iloc[[0]]
        .reset_index(drop=True)
        .equals(ordered.iloc[[1]].reset_index(drop=True))
    ):
        assert not np.array_equal(sort_order(swapped, columns), np.arange(n))
