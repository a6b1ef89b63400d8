"""Uncertainty and comparison: Wilson intervals, funnel limits, statistical neighbours,
indirectly standardised ratios.

All functions are vectorised over arrays of counts so a whole table is done at once.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

WITHIN = "Within limits"
ABOVE_95 = "Above 95% limit"
BELOW_95 = "Below 95% limit"
ABOVE_998 = "Above 99.8% limit"
BELOW_998 = "Below 99.8% limit"


def _as_float(values) -> np.ndarray:
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


def funnel_position(observed, trials, target) -> pd.Series:
    """Classify each unit against the 95% and 99.8% exact binomial limits around target.

    A unit is above (below) a limit when its observed proportion is strictly above
    (below) it; the 99.8% classification takes precedence. Null where there is no
    observed count, no cases, or the target is 0%/100% (limits undefined).
    """
    k = _as_float(observed)
    n = _as_float(trials)
    with np.errstate(invalid="ignore", divide="ignore"):
        y = k / n
    lo95, hi95 = funnel_limit(target, n, 0.025), funnel_limit(target, n, 0.975)
    lo998, hi998 = funnel_limit(target, n, 0.001), funnel_limit(target, n, 0.999)
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
    observed, expected, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Observed / expected with an exact Poisson interval on the observed count
    (Breslow and Day 1987, Statistical Methods in Cancer Research vol II, section 2.3:
    the chi-squared form of the exact Poisson limits). Returns (ratio, lower, upper);
    NaN where expected is 0 or missing."""
    o = _as_float(observed)
    e = _as_float(expected)
    a = 1 - confidence
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = o / e
        lower = np.where(o > 0, stats.chi2.ppf(a / 2, 2 * o) / 2, 0.0) / e
        upper = stats.chi2.ppf(1 - a / 2, 2 * (o + 1)) / 2 / e
    bad = ~(e > 0) | np.isnan(o)
    for arr in (ratio, lower, upper):
        arr[bad] = np.nan
    return ratio, lower, upper
