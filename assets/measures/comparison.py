"""Uncertainty and comparison: Wilson intervals, funnel limits, statistical neighbours,
indirectly standardised ratios.

All functions are vectorised over arrays of counts so a whole table is done at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

WITHIN = "Within limits"
ABOVE_95 = "Above 95% limit"
BELOW_95 = "Below 95% limit"
ABOVE_998 = "Above 99.8% limit"
BELOW_998 = "Below 99.8% limit"


def _as_float(values) -> np.ndarray:
    """Counts or rates as a float array, anything non-numeric as NaN. Plain NumPy and
    numeric pandas columns take the direct route (the funnel code calls this thousands of
    times on arrays that are already numbers)."""
    if isinstance(values, np.ndarray | pd.Series) and values.dtype.kind in "fiub":
        return np.atleast_1d(np.array(values, dtype=float))
    return pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def wilson_interval(successes, trials, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a proportion (Wilson 1927; recommended over the normal
    approximation for small counts and proportions near 0 or 1 by Newcombe 1998,
    "Two-sided confidence intervals for the single proportion", Stat Med 17:857-872).

    Returns (lower, upper) as proportions; NaN where trials is 0 or missing.
    """
    k = _as_float(successes)
    n = _as_float(trials)
    z = stats.norm.ppf(0.5 + confidence / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
        lower = np.clip(centre - half, 0.0, 1.0)
        upper = np.clip(centre + half, 0.0, 1.0)
    bad = ~(n > 0)
    lower[bad] = np.nan
    upper[bad] = np.nan
    return lower, upper


def funnel_limit(target, trials, probability: float) -> np.ndarray:
    """Exact binomial control limit (as a proportion) at cumulative ``probability`` for a
    unit with ``trials`` cases when the true rate is ``target``.

    Uses the interpolation of Spiegelhalter (2005), "Funnel plots for comparing
    institutional performance", Stat Med 24:1185-1202, Appendix A.1.1: with r the
    ``probability`` quantile of Binomial(n, target), alpha = (F(r) - p) / (F(r) - F(r-1))
    and the limit is (r - alpha) / n, which makes the limits smooth in n instead of
    stepping at each whole count. NaN where n is 0 or missing, or target is 0 or 1.
    """
    theta = _as_float(target)
    n = _as_float(trials)
    ok = (n > 0) & (theta > 0) & (theta < 1)
    out = np.full(len(n), np.nan)
    if ok.any():
        t, m = theta[ok], n[ok]
        r = stats.binom.ppf(probability, m, t)
        f_r = stats.binom.cdf(r, m, t)
        f_below = stats.binom.cdf(r - 1, m, t)
        alpha = (f_r - probability) / (f_r - f_below)
        out[ok] = (r - alpha) / m
    return out


# Share of z-scores pulled in at each end before estimating over-dispersion
# (Spiegelhalter 2005, "Handling over-dispersion of performance indicators", Qual Saf
# Health Care 14:347-351; the NHS-R FunnelPlotR default is also 10%).
WINSOR_SHARE = 0.10
# Over-dispersion is declared when the chi-squared test of phi rejects "no over-dispersion"
# at this level; otherwise the plain binomial limits stand.
DISPERSION_TEST_LEVEL = 0.05


@dataclass(frozen=True)
class Dispersion:
    """Between-unit variation beyond chance on one funnel plot.

    phi: winsorised mean squared z-score (1 when variation is what chance predicts);
    p_value: chi-squared test of I*phi on I-1 degrees of freedom; tau2: the additive
    random-effects variance (DerSimonian-Laird form) that widens the limits when
    ``overdispersed``; units: the number of units with a defined z-score.
    """

    units: int
    phi: float
    p_value: float
    tau2: float
    overdispersed: bool


def z_scores(observed, trials, target) -> np.ndarray:
    """(observed proportion - target) / binomial standard error at the target."""
    k, n, theta = _as_float(observed), _as_float(trials), _as_float(target)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (k / n - theta) / np.sqrt(theta * (1 - theta) / n)


def dispersion(observed, trials, target, winsor: float = WINSOR_SHARE) -> Dispersion:
    """Estimate over-dispersion across units as Spiegelhalter (2005) does: winsorise the
    z-scores at the ``winsor`` and 1 - ``winsor`` quantiles so the outliers being looked
    for do not inflate the estimate, phi = mean z^2, test I*phi against chi-squared(I-1),
    and tau2 = (I*phi - (I-1)) / (sum w - sum w^2 / sum w) with w = 1 / s^2."""
    n = _as_float(trials)
    theta = np.broadcast_to(_as_float(np.atleast_1d(target)), n.shape)  # scalar target too
    z = z_scores(observed, n, theta)
    ok = np.isfinite(z) & (n > 0)
    units = int(ok.sum())
    if units < 3:
        return Dispersion(units, np.nan, np.nan, 0.0, False)
    z, n, theta = z[ok], n[ok], theta[ok]
    lo, hi = np.quantile(z, [winsor, 1 - winsor])
    phi = float(np.mean(np.clip(z, lo, hi) ** 2))
    p_value = float(stats.chi2.sf(units * phi, units - 1))
    w = n / (theta * (1 - theta))
    tau2 = max(0.0, (units * phi - (units - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    overdispersed = bool(p_value < DISPERSION_TEST_LEVEL and tau2 > 0)
    return Dispersion(units, phi, p_value, float(tau2) if overdispersed else 0.0, overdispersed)


def random_effects_limit(target, trials, probability: float, tau2) -> np.ndarray:
    """Control limit (as a proportion) at cumulative ``probability`` with additive
    random-effects over-dispersion: target + z_p * sqrt(target(1-target)/n + tau2),
    clipped to [0, 1]. Smooth in n; tends to target +- z_p * tau as n grows."""
    theta, n = _as_float(target), _as_float(trials)
    tau2 = np.broadcast_to(_as_float(np.atleast_1d(tau2)), theta.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.sqrt(theta * (1 - theta) / n + tau2)
        out = np.clip(theta + stats.norm.ppf(probability) * se, 0.0, 1.0)
    out[~((n > 0) & (theta > 0) & (theta < 1))] = np.nan
    return out


def funnel_position(observed, trials, target, tau2=None) -> pd.Series:
    """Classify each unit against the 95% and 99.8% limits around target.

    Without ``tau2`` the limits are exact binomial (no over-dispersion); with it (a
    scalar or one value per unit, from ``dispersion``) they are the additive
    random-effects limits. A unit is above (below) a limit when its observed proportion
    is strictly above (below) it; the 99.8% classification takes precedence. Null where
    there is no observed count, no cases, or the target is 0%/100% (limits undefined).
    """
    k = _as_float(observed)
    n = _as_float(trials)
    with np.errstate(invalid="ignore", divide="ignore"):
        y = k / n
    if tau2 is None:
        lo95, hi95 = funnel_limit(target, n, 0.025), funnel_limit(target, n, 0.975)
        lo998, hi998 = funnel_limit(target, n, 0.001), funnel_limit(target, n, 0.999)
    else:
        lo95, hi95 = (random_effects_limit(target, n, q, tau2) for q in (0.025, 0.975))
        lo998, hi998 = (random_effects_limit(target, n, q, tau2) for q in (0.001, 0.999))
    position = np.select(
        [y > hi998, y < lo998, y > hi95, y < lo95],
        [ABOVE_998, BELOW_998, ABOVE_95, BELOW_95],
        default=WITHIN,
    ).astype(object)
    undefined = np.isnan(y) | np.isnan(lo95) | np.isnan(hi95)
    position[undefined] = None
    return pd.Series(position, dtype="str")


def neighbour_pooled_counts(
    la_rows: pd.DataFrame, keys: Sequence[str], neighbours: pd.DataFrame
) -> pd.DataFrame:
    """Pooled returned_home and re_entered of each LA's statistical neighbours.

    ``la_rows``: keys + old_la_code + returned_home + re_entered (null if unavailable).
    ``neighbours``: old_la_code, neighbour_old_la_code (reference statistical neighbours).
    Neighbours whose figure is unavailable (or that did not exist that year) are left
    out of the pool; ``sn_neighbours_included`` says how many were pooled.
    Returns keys + old_la_code + sn_returned_home, sn_re_entered, sn_neighbours_included.
    """
    keys = list(keys)
    figures = la_rows[[*keys, "old_la_code", "returned_home", "re_entered"]]
    figures = figures[figures["returned_home"].notna()].rename(
        columns={"old_la_code": "neighbour_old_la_code"}
    )
    pairs = la_rows[[*keys, "old_la_code"]].merge(
        neighbours[["old_la_code", "neighbour_old_la_code"]], on="old_la_code"
    )
    pooled = pairs.merge(figures, on=[*keys, "neighbour_old_la_code"], how="inner")
    out = (
        pooled.groupby([*keys, "old_la_code"], sort=True, dropna=False)
        .agg(
            sn_returned_home=("returned_home", "sum"),
            sn_re_entered=("re_entered", "sum"),
            sn_neighbours_included=("neighbour_old_la_code", "count"),
        )
        .reset_index()
    )
    for col in ("sn_returned_home", "sn_re_entered", "sn_neighbours_included"):
        out[col] = out[col].astype("Int64")
    return out


def standardised_ratio_interval(
    observed, expected, confidence: float = 0.95, trials=None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Observed / expected with a 95% interval. Returns (ratio, lower, upper); NaN where
    expected is 0 or missing.

    With ``trials`` (the unit's children returned home) the interval is binomial: the
    Wilson interval of observed / trials divided by expected / trials. Re-entry is a
    yes/no outcome for each child at rates of 10-30%, where the Poisson limits are too
    wide. Without it, the exact Poisson interval on the observed count (Breslow and Day
    1987, Statistical Methods in Cancer Research vol II, section 2.3)."""
    o = _as_float(observed)
    e = _as_float(expected)
    a = 1 - confidence
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = o / e
        if trials is None:
            lower = np.where(o > 0, stats.chi2.ppf(a / 2, 2 * o) / 2, 0.0) / e
            upper = stats.chi2.ppf(1 - a / 2, 2 * (o + 1)) / 2 / e
        else:
            n = _as_float(trials)
            lo, hi = wilson_interval(o, n, confidence)
            lower, upper = lo * n / e, hi * n / e
    bad = ~(e > 0) | np.isnan(o)
    for arr in (ratio, lower, upper):
        arr[bad] = np.nan
    return ratio, lower, upper


HIGHER = "higher than"
LOWER = "lower than"
SIMILAR = "similar to"


def difference_interval(
    k1, n1, k0, n0, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Difference of two independent proportions (p1 - p0) with Newcombe's hybrid score
    interval built from the two Wilson intervals (Newcombe 1998, "Interval estimation
    for the difference between independent proportions", Stat Med 17:873-890, method
    10). Returns (difference, lower, upper) as proportions; NaN where a count is missing."""
    k1, n1, k0, n0 = (_as_float(v) for v in (k1, n1, k0, n0))
    l1, u1 = wilson_interval(k1, n1, confidence)
    l0, u0 = wilson_interval(k0, n0, confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        p1, p0 = k1 / n1, k0 / n0
        diff = p1 - p0
        lower = diff - np.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
        upper = diff + np.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    return diff, lower, upper


def change_wording(k1, n1, k0, n0, confidence: float = 0.95) -> list[str | None]:
    """ "higher than" / "lower than" when the interval for p1 - p0 excludes 0, else
    "similar to": the only words generated sentences may use to compare two figures, so
    a change is stated only when the data support it. None where a count is missing."""
    _, lower, upper = difference_interval(k1, n1, k0, n0, confidence)
    words = np.where(lower > 0, HIGHER, np.where(upper < 0, LOWER, SIMILAR)).astype(object)
    words[np.isnan(lower) | np.isnan(upper)] = None
    return list(words)


ABOUT_AS_EXPECTED = "about the same as expected given its children"
HIGHER_THAN_EXPECTED = "higher than expected given its children"
LOWER_THAN_EXPECTED = "lower than expected given its children"


def ratio_reading(lower, upper) -> list[str | None]:
    """Plain-language reading of a standardised ratio from its 95% interval: higher or
    lower than expected only when the interval excludes 1 (the US Children and Family
    Services Reviews label "better / no different / worse" the same way; here the words
    are neutral, as a lower re-entry rate is not by itself better for children)."""
    lo, hi = _as_float(lower), _as_float(upper)
    words = np.where(
        lo > 1, HIGHER_THAN_EXPECTED, np.where(hi < 1, LOWER_THAN_EXPECTED, ABOUT_AS_EXPECTED)
    ).astype(object)
    words[np.isnan(lo) | np.isnan(hi)] = None
    return list(words)
