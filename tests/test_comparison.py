"""Wilson intervals, exact binomial funnel limits, neighbours, standardised ratios."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from assets.measures.comparison import (
    funnel_limit,
    funnel_position,
    neighbour_pooled_counts,
    standardised_ratio_interval,
    wilson_interval,
)


def test_wilson_interval_matches_newcombe_1998_worked_examples():
    # Newcombe (1998) Table I: 81/263 -> 0.2553 to 0.3662; 15/148 -> 0.0624 to 0.1605;
    # 0/20 -> 0 to 0.1611; 1/29 -> 0.0061 to 0.1718.
    lower, upper = wilson_interval([81, 15, 0, 1], [263, 148, 20, 29])
    np.testing.assert_allclose(lower, [0.2553, 0.0624, 0.0, 0.0061], atol=5e-5)
    np.testing.assert_allclose(upper, [0.3662, 0.1605, 0.1611, 0.1718], atol=5e-5)


def test_wilson_interval_is_missing_for_no_cases_or_missing_counts():
    lower, upper = wilson_interval(pd.array([1, pd.NA, 0], dtype="Int64"), [0, 5, pd.NA])
    assert np.isnan(lower).all() and np.isnan(upper).all()


def test_funnel_limit_lies_between_neighbouring_exact_quantiles():
    n = np.array([5, 20, 57, 300])
    theta = 0.3
    for p in (0.001, 0.025, 0.975, 0.999):
        limit = funnel_limit(np.full(len(n), theta), n, p) * n
        r = stats.binom.ppf(p, n, theta)
        assert ((limit >= r - 1) & (limit <= r)).all()


def test_funnel_limits_approach_the_normal_limits_for_large_cohorts():
    n = np.array([100_000])
    upper = funnel_limit([0.3], n, 0.975)[0]
    normal = 0.3 + 1.959964 * np.sqrt(0.3 * 0.7 / n[0])
    assert upper == pytest.approx(normal, abs=2e-4)


def test_funnel_position_classifies_against_95_and_998_limits():
    # England 30%, cohort of 100: 95% limits about 21% to 39%, 99.8% about 16% to 45%.
    position = funnel_position([46, 40, 30, 20, 15], [100] * 5, [0.3] * 5)
    assert position.tolist() == [
        "Above 99.8% limit",
        "Above 95% limit",
        "Within limits",
        "Below 95% limit",
        "Below 99.8% limit",
    ]


def test_funnel_position_is_null_without_cases_or_target():
    position = funnel_position(
        pd.array([pd.NA, 0, 3], dtype="Int64"), [10, 0, 10], [0.3, 0.3, np.nan]
    )
    assert position.isna().all()


def test_neighbours_pooled_rate_sums_available_neighbours_only():
    rows = pd.DataFrame(
        {
            "time_period": [2020] * 4,
            "old_la_code": ["201", "202", "203", "204"],
            "returned_home": pd.array([10, 20, pd.NA, 30], dtype="Int64"),
            "re_entered": pd.array([1, 5, pd.NA, 6], dtype="Int64"),
        }
    )
    neighbours = pd.DataFrame(
        {
            "old_la_code": ["201", "201", "201", "202"],
            "neighbour_old_la_code": ["202", "203", "204", "201"],
        }
    )
    out = neighbour_pooled_counts(rows, ["time_period"], neighbours).set_index("old_la_code")
    assert out.loc[
        "201", ["sn_returned_home", "sn_re_entered", "sn_neighbours_included"]
    ].tolist() == [50, 11, 2]
    assert out.loc["202", ["sn_returned_home", "sn_re_entered"]].tolist() == [10, 1]
    assert "203" not in out.index


def test_standardised_ratio_interval_is_exact_poisson():
    ratio, lower, upper = standardised_ratio_interval([10, 0], [10.0, 2.0])
    assert ratio.tolist() == [1.0, 0.0]
    # Exact Poisson 95% limits for 10 events: 4.795 to 18.39; for 0 events: 0 to 3.689.
    np.testing.assert_allclose(lower, [0.4795, 0.0], atol=1e-4)
    np.testing.assert_allclose(upper, [1.8390, 3.6889 / 2], atol=1e-4)
