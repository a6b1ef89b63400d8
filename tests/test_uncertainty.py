"""Honest uncertainty: over-dispersion on funnel plots, changes stated only when real,
the standardised ratio's binomial interval and reading, one 29 February convention."""

from __future__ import annotations

import numpy as np
import pandas as pd

from assets.measures.breakdowns import age_in_years
from assets.measures.cohorts import eighteenth_birthday
from assets.measures.comparison import (
    ABOUT_AS_EXPECTED,
    HIGHER,
    HIGHER_THAN_EXPECTED,
    LOWER,
    LOWER_THAN_EXPECTED,
    SIMILAR,
    change_wording,
    difference_interval,
    dispersion,
    funnel_limit,
    funnel_position,
    random_effects_limit,
    ratio_reading,
    standardised_ratio_interval,
)

RATE = 0.2


def _units(extra_sd: float, seed: int = 3, units: int = 150):
    """Cohort sizes like LAs' pooled cohorts; rates vary around 20% by ``extra_sd``."""
    rng = np.random.default_rng(seed)
    n = rng.integers(40, 600, size=units)
    p = np.clip(RATE + rng.normal(0, extra_sd, size=units), 0.01, 0.99)
    return rng.binomial(n, p), n


def test_chance_variation_is_not_called_over_dispersion():
    k, n = _units(extra_sd=0.0)
    d = dispersion(k, n, np.full(len(n), RATE))
    assert 0.6 < d.phi < 1.4
    assert not d.overdispersed and d.tau2 == 0.0


def test_over_dispersed_plot_gets_wider_limits_and_far_fewer_outliers():
    k, n = _units(extra_sd=0.06)
    target = np.full(len(n), RATE)
    d = dispersion(k, n, target)
    assert d.overdispersed and d.phi > 2 and d.p_value < 0.001 and d.tau2 > 0
    plain = funnel_position(k, n, target)
    adjusted = funnel_position(k, n, target, tau2=d.tau2)
    outside = ("Above 99.8% limit", "Below 99.8% limit")
    before, after = plain.isin(outside).sum(), adjusted.isin(outside).sum()
    # One LA in four or five outside the plain 99.8% limits; a handful after adjustment.
    assert before > 20 and after <= 5


def test_random_effects_limits_are_smooth_and_reduce_to_the_normal_limits():
    n = np.arange(20, 400)
    target = np.full(len(n), RATE)
    plain = random_effects_limit(target, n, 0.975, 0.0)
    np.testing.assert_allclose(plain, RATE + 1.959964 * np.sqrt(RATE * (1 - RATE) / n), 1e-6)
    wide = random_effects_limit(target, n, 0.975, 0.002)
    assert (wide > plain).all() and (np.diff(wide) < 0).all()
    # The interpolated binomial limits have no steps at whole counts: their largest jump
    # is a fraction of the plain percentile's.
    from scipy.stats import binom

    smooth = np.abs(np.diff(funnel_limit(target, n, 0.975))).max()
    steps = np.abs(np.diff(binom.ppf(0.975, n, RATE) / n)).max()
    assert smooth < steps / 2


def test_a_one_point_change_in_a_national_rate_is_similar_not_lower():
    # The example: 19% of about 6,250 against 20% a year earlier.
    assert change_wording([1190], [6250], [1250], [6250]) == [SIMILAR]
    assert change_wording([940], [6250], [1250], [6250]) == [LOWER]
    assert change_wording([1500], [6250], [1250], [6250]) == [HIGHER]
    assert change_wording([None], [6250], [1250], [6250]) == [None]
    diff, lo, hi = difference_interval([1190], [6250], [1250], [6250])
    assert lo[0] < diff[0] < hi[0] and lo[0] < 0 < hi[0]


def test_standardised_ratio_has_a_binomial_interval_narrower_than_poisson():
    observed, expected, trials = np.array([60.0]), np.array([50.0]), np.array([200.0])
    _, p_lo, p_hi = standardised_ratio_interval(observed, expected)
    ratio, b_lo, b_hi = standardised_ratio_interval(observed, expected, trials=trials)
    assert ratio[0] == 1.2
    assert p_lo[0] < b_lo[0] < 1.2 < b_hi[0] < p_hi[0]


def test_ratio_reading_says_higher_or_lower_only_when_the_interval_excludes_one():
    assert ratio_reading([1.1, 0.7, 0.9, np.nan], [1.5, 0.95, 1.2, 1.0]) == [
        HIGHER_THAN_EXPECTED,
        LOWER_THAN_EXPECTED,
        ABOUT_AS_EXPECTED,
        None,
    ]


def test_a_child_born_on_29_february_turns_18_on_1_march_as_in_the_age_bands():
    dob = pd.Series(pd.to_datetime(["2004-02-29", "2005-06-15"]))
    birthday = eighteenth_birthday(dob)
    assert list(birthday) == [pd.Timestamp("2022-03-01"), pd.Timestamp("2023-06-15")]
    # The same day on which the age bands (and rule 352) count them as 18.
    on = pd.Series(pd.to_datetime(["2022-02-28", "2022-03-01"]))
    assert list(age_in_years(pd.Series([dob[0], dob[0]]), on)) == [17, 18]
