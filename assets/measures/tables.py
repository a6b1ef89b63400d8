"""The one entry point that turns the validated episode history into every unsuppressed
re-entry table: ``build_measures``.

Flow: episodes -> periods of care (assets.measures.periods) -> index returns with re-entry flags
(assets.measures.cohorts) -> counts per LA x cohort x window x breakdown (assets.measures.breakdowns) ->
masked where an LA's figure is unavailable -> summed to regions and England -> three-year
pooled figures -> rates, Wilson intervals, funnel positions, statistical neighbours and
standardised ratios (assets.measures.comparison). Context tables come from the same child-level
flags (assets.measures.context), so shared counts agree exactly.

The long table is built on small integer codes (LA, region, breakdown group and category,
reason) and labelled once at the end: the grid is every LA x year x window x category
(about 300,000 rows) whatever the data volume, and integer joins keep it fast.

Nothing here is disclosure-controlled; the tables stay under restricted/.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from assets.common import background
from assets.common.contracts import TABLE_KEYS, ReentryMeasures
from assets.common.reference import las_in_year, load_regions, load_statistical_neighbours
from assets.common.vocabulary import (
    FOLLOW_UP_MONTHS,
    LOCAL,
    NATIONAL,
    POOLED_YEARS,
    REGIONAL,
    SINGLE_YEAR,
)
from assets.measures import breakdowns as bd
from assets.measures import context as ctx
from assets.measures.cohorts import (
    BROAD_RETURN_HOME_RECS,
    RETURN_HOME_RECS,
    SHORT_STAY_DAYS,
    UNAVAILABLE_FOLLOW_UP,
    UNAVAILABLE_NOT_RECEIVED,
    UNAVAILABLE_REJECTED,
    add_window_flags,
    follow_up_complete,
    index_returns,
    la_availability,
    order_periods,
    upn_match_rates,
)
from assets.measures.comparison import (
    ABOVE_95,
    ABOVE_998,
    BELOW_95,
    BELOW_998,
    dispersion,
    funnel_position,
    neighbour_pooled_counts,
    standardised_ratio_interval,
    wilson_interval,
)
from assets.measures.periods import periods_of_care

LEVELS = [NATIONAL, REGIONAL, LOCAL]
OUTSIDE_998 = [ABOVE_998, BELOW_998]
OUTSIDE_95 = [*OUTSIDE_998, ABOVE_95, BELOW_95]
LEVEL_ORDER = {level: i for i, level in enumerate(LEVELS)}
NO_USABLE_RETURNS = "No usable returns"
# Reason codes used internally; 0 = available.
REASONS = [
    None,
    UNAVAILABLE_FOLLOW_UP,
    UNAVAILABLE_REJECTED,
    UNAVAILABLE_NOT_RECEIVED,
    NO_USABLE_RETURNS,
]
REASON_CODE = {r: i for i, r in enumerate(REASONS) if r}
FOLLOW_UP_CODE = REASON_CODE[UNAVAILABLE_FOLLOW_UP]
NO_USABLE_CODE = REASON_CODE[NO_USABLE_RETURNS]

# Internal group used only to compute expected re-entries for the standardised ratio:
# age band x planned/not planned, never published as a breakdown.
STRATUM = "_stratum"
STRATUM_G = len(bd.GROUPS)
LA_G = [list(bd.GROUPS).index(g) for g in bd.LA_GROUPS]

COUNTS = ["returned_home", "re_entered", "re_entered_any_la", "turned_18_in_window"]
KEYS = TABLE_KEYS["reentry"]
REENTRY_COLUMNS = [
    *KEYS,
    "returned_home",
    "re_entered",
    "not_re_entered",
    "re_entered_any_la",
    "turned_18_in_window",
    "unavailable_reason",
    "las_excluded",
    "re_entry_rate",
    "re_entry_rate_lower_ci",
    "re_entry_rate_upper_ci",
    "re_entry_rate_any_la",
    "england_re_entry_rate",
    "funnel_position",
    "sn_returned_home",
    "sn_re_entered",
    "sn_neighbours_included",
    "sn_re_entry_rate",
    "expected_re_entered",
    "standardised_ratio",
    "standardised_ratio_lower_ci",
    "standardised_ratio_upper_ci",
]


@dataclass(frozen=True)
class MeasureTables:
    """Every unsuppressed measure table (see docs/methodology.md for definitions)."""

    reentry: pd.DataFrame
    ceased_by_reason: pd.DataFrame
    time_to_reentry: pd.DataFrame
    index_returns: pd.DataFrame
    # cohort_year, la_code, follow_up_months, children_excluded: index returns left out
    # of a window because a year it needs was quarantined for the child (restricted QA).
    follow_up_exclusions: pd.DataFrame | None = None
    # One row per LA funnel plot: phi, the test, tau2, LAs outside before/after adjustment.
    funnel_dispersion: pd.DataFrame | None = None
    # England and regional re-entry under the sensitivity definitions (SENSITIVITY).
    sensitivity: pd.DataFrame | None = None
    # la_code, cohort_year, index_returns, with_upn, upn_match_rate: the UPN coverage
    # behind each LA's any-LA figure (cohorts.upn_match_rates; restricted QA, LA pages).
    upn_matching: pd.DataFrame | None = None


def _las_by_year(years: Sequence[int]) -> pd.DataFrame:
    """collection_year, old_la_code, region_code for each LA existing in each year."""
    parts = []
    for y in years:
        las = las_in_year(int(y))[["old_la_code", "region_code"]].copy()
        las.insert(0, "collection_year", int(y))
        parts.append(las)
    return pd.concat(parts, ignore_index=True)


def _region_codes() -> list[str]:
    return load_regions()["region_code"].tolist()


def _category_grid() -> pd.DataFrame:
    """g, c, characteristic_group, characteristic for every published category, plus the
    internal standardisation strata (g = STRATUM_G)."""
    order = bd.category_order().rename(columns={"group_order": "g", "category_order": "c"})
    strata = [
        (STRATUM, f"{a} | {p}", STRATUM_G, i)
        for i, (a, p) in enumerate((a, p) for a in bd.AGE_BANDS for p in bd.PLANNED.values())
    ]
    strata = pd.DataFrame(strata, columns=["characteristic_group", "characteristic", "g", "c"])
    return pd.concat([order, strata], ignore_index=True)


def _category_codes(flagged: pd.DataFrame) -> pd.DataFrame:
    """Each child's category code (c) in every group (columns g0, g1, ...)."""
    chars = bd.characteristics(flagged)
    codes = pd.DataFrame(index=flagged.index)
    for g, (group, categories) in enumerate(bd.GROUPS.items()):
        codes[f"g{g}"] = pd.Categorical(chars[group], categories=categories).codes
    planned = len(bd.PLANNED)
    codes[f"g{STRATUM_G}"] = (
        codes[f"g{list(bd.GROUPS).index('Age at return')}"] * planned
        + codes[f"g{list(bd.GROUPS).index('Planned return')}"]
    )
    return codes


def _la_counts(
    flagged: pd.DataFrame, la_grid: pd.DataFrame, availability: pd.DataFrame, windows
) -> pd.DataFrame:
    """LA x cohort x window x group x category counts on the full grid (zeros where no
    child), null (with a reason code) where the LA's figure is unavailable.
    Columns: year, la, region, w, g, c, counts..., reason."""
    flag_cols = [
        f"{k}_{w}" for w in windows for k in ("re_entered", "re_entered_any_la", "turned_18")
    ]
    values = pd.DataFrame(
        {"year": flagged["cohort_year"].to_numpy(), "la": flagged["la_code"].astype(int).to_numpy()}
    )
    for col in flag_cols:
        values[col] = flagged[col].fillna(False).astype("int64").to_numpy()
    # Children excluded from a window (a follow-up year quarantined) are in no count.
    for w in windows:
        values[f"returned_home_{w}"] = (~flagged[f"excluded_{w}"]).astype("int64").to_numpy()
    flag_cols += [f"returned_home_{w}" for w in windows]
    codes = _category_codes(flagged)
    parts = []
    for g in range(STRATUM_G + 1):
        part = values.copy()
        part["g"] = g
        part["c"] = codes[f"g{g}"].to_numpy()
        parts.append(part)
    long = pd.concat(parts, ignore_index=True)
    summed = long.groupby(["year", "la", "g", "c"])[flag_cols].sum()
    summed = summed.reset_index()

    cats = _category_grid()[["g", "c"]]
    grid = la_grid.merge(cats, how="cross")
    wide = grid.merge(summed, on=["year", "la", "g", "c"], how="left")
    parts = []
    for w in windows:
        part = wide[["year", "la", "region", "g", "c"]].copy()
        part["w"] = w
        part["returned_home"] = wide[f"returned_home_{w}"]
        part["re_entered"] = wide[f"re_entered_{w}"]
        part["re_entered_any_la"] = wide[f"re_entered_any_la_{w}"]
        part["turned_18_in_window"] = wide[f"turned_18_{w}"]
        parts.append(part)
    counts = pd.concat(parts, ignore_index=True)
    counts = counts.merge(availability, on=["year", "la", "w"], how="left")
    unavailable = counts["reason"].to_numpy() > 0
    for col in COUNTS:
        values = counts[col].fillna(0).to_numpy(dtype="int64")
        counts[col] = pd.array(values, dtype="Int64")
        counts.loc[unavailable, col] = pd.NA
    return counts


def _aggregate(counts: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Sum LA counts over LAs whose figure is usable; ``las_excluded`` counts the others.
    Follow-up-incomplete figures stay null at every level; a geography with no usable LA
    is null with reason 'No usable returns'."""
    keys = ["year", *by, "w", "g", "c"]
    reason = counts["reason"].to_numpy()
    work = counts[keys + COUNTS].copy()
    work["usable"] = (reason == 0).astype(int)
    work["excluded"] = ((reason > 0) & (reason != FOLLOW_UP_CODE)).astype(int)
    work["incomplete"] = (reason == FOLLOW_UP_CODE).astype(int)
    agg = work.groupby(keys, sort=False).agg(
        **{c: (c, "sum") for c in COUNTS},
        usable=("usable", "sum"),
        las_excluded=("excluded", "sum"),
        incomplete=("incomplete", "max"),
    )
    agg = agg.reset_index()
    agg["reason"] = np.where(
        agg["incomplete"].eq(1), FOLLOW_UP_CODE, np.where(agg["usable"].eq(0), NO_USABLE_CODE, 0)
    )
    missing = agg["reason"].to_numpy() > 0
    for col in COUNTS:
        agg[col] = agg[col].astype("Int64")
        agg.loc[missing, col] = pd.NA
    agg["las_excluded"] = agg["las_excluded"].astype("Int64")
    return agg.drop(columns=["usable", "incomplete"])


def _single_year_rows(counts: pd.DataFrame) -> pd.DataFrame:
    la = counts.copy()
    la["level"] = LEVEL_ORDER[LOCAL]
    la["las_excluded"] = pd.array([pd.NA] * len(la), dtype="Int64")
    region = _aggregate(counts, ["region"])
    region["level"] = LEVEL_ORDER[REGIONAL]
    region["la"] = -1
    england = _aggregate(counts, [])
    england["level"] = LEVEL_ORDER[NATIONAL]
    england["region"] = -1
    england["la"] = -1
    rows = pd.concat([england, region, la], ignore_index=True)
    rows["span_first"] = rows["year"]
    return rows


def _pooled_rows(single: pd.DataFrame, windows, cut_off_year: int) -> pd.DataFrame:
    """Latest three complete cohorts per window, summed (child-returns, not distinct
    children), for the groups published at LA level, at every level; null if any of the
    three single-year figures is null (reason: the earliest such year's)."""
    parts = []
    groups = [*LA_G, STRATUM_G]
    years_loaded = sorted(single["year"].unique())
    keys = ["level", "region", "la", "w", "g", "c"]
    for w in windows:
        complete = [y for y in years_loaded if follow_up_complete(int(y), w, cut_off_year)]
        if len(complete) < POOLED_YEARS:
            continue
        span = complete[-POOLED_YEARS:]
        if span != list(range(span[0], span[0] + POOLED_YEARS)):
            continue  # a gap in the loaded years: not three consecutive cohorts
        rows = single[
            single["w"].eq(w) & single["year"].isin(span) & single["g"].isin(groups)
        ].sort_values("year", kind="stable")
        rows = rows.assign(first_reason=rows["reason"].where(rows["reason"] > 0))
        agg = rows.groupby(keys, sort=False).agg(
            **{c: (c, "sum") for c in COUNTS},
            n=("returned_home", "count"),
            las_excluded=("las_excluded", "sum"),
            reason=("first_reason", "first"),
        )
        agg = agg.reset_index()
        missing = agg["n"].to_numpy() < POOLED_YEARS
        for col in COUNTS:
            agg[col] = agg[col].astype("Int64")
            agg.loc[missing, col] = pd.NA
        agg["reason"] = agg["reason"].where(missing, 0).fillna(0).astype(int)
        agg["las_excluded"] = agg["las_excluded"].astype("Int64")
        agg.loc[agg["level"].eq(LEVEL_ORDER[LOCAL]), "las_excluded"] = pd.NA
        agg["year"] = span[-1]
        agg["span_first"] = span[0]
        parts.append(agg.drop(columns=["n"]))
    return pd.concat(parts, ignore_index=True) if parts else single.iloc[0:0]


def _add_rates(rows: pd.DataFrame) -> pd.DataFrame:
    rh = rows["returned_home"].to_numpy(dtype=float, na_value=np.nan)
    re = rows["re_entered"].to_numpy(dtype=float, na_value=np.nan)
    any_la = rows["re_entered_any_la"].to_numpy(dtype=float, na_value=np.nan)
    rows["not_re_entered"] = (rows["returned_home"] - rows["re_entered"]).astype("Int64")
    with np.errstate(invalid="ignore", divide="ignore"):
        rows["re_entry_rate"] = np.where(rh > 0, re / rh * 100, np.nan)
        rows["re_entry_rate_any_la"] = np.where(rh > 0, any_la / rh * 100, np.nan)
    lower, upper = wilson_interval(re, rh)
    rows["re_entry_rate_lower_ci"] = lower * 100
    rows["re_entry_rate_upper_ci"] = upper * 100
    return rows


FUNNEL_PLOT = ["year", "span_first", "w", "g", "c"]


def _funnel_tau2(la_rows: pd.DataFrame, match: list[str]) -> np.ndarray:
    """Each LA row's random-effects variance: that of its funnel plot (one plot per cohort
    span, window and category), 0 where the plot shows no over-dispersion."""
    tau2 = np.zeros(len(la_rows))
    for _, at in la_rows.groupby(match, sort=False).indices.items():
        part = la_rows.iloc[at]
        d = dispersion(
            part["re_entered"], part["returned_home"], part["england_re_entry_rate"] / 100
        )
        tau2[at] = d.tau2
    return tau2


def funnel_dispersion(reentry: pd.DataFrame) -> pd.DataFrame:
    """Per LA funnel plot (time period, cohort span, window, characteristic): the number
    of LAs, phi, the test's p-value, tau2, and how many LAs fall outside the 95% and
    99.8% limits without (``_binomial``) and with (``_adjusted``) the over-dispersion
    adjustment. The figures a reviewer needs to judge how much the plot can say."""
    la = reentry[reentry["geographic_level"].eq(LOCAL) & reentry["re_entered"].notna()]
    keys = ["time_period", "cohort_span", "follow_up_months", "characteristic_group"]
    keys += ["characteristic"]
    groups = la.groupby(keys, sort=False)
    dispersions = [
        (key, dispersion(p["re_entered"], p["returned_home"], p["england_re_entry_rate"] / 100))
        for key, p in groups
    ]
    # The limits are elementwise, so every plot's LAs are classified in two calls (one
    # per kind of limit) rather than two per plot, then counted by plot.
    plot = groups.ngroup().to_numpy()
    inside = plot >= 0
    k, n = la["re_entered"][inside], la["returned_home"][inside]
    target = la["england_re_entry_rate"][inside] / 100
    plot = plot[inside]
    tau2 = np.array([d.tau2 for _, d in dispersions], dtype=float)[plot]
    plain = funnel_position(k, n, target)
    adjusted = funnel_position(k, n, target, tau2=tau2)

    def outside(position: pd.Series, kinds: list[str]) -> np.ndarray:
        hit = position.isin(kinds).to_numpy(dtype=float)
        return np.bincount(plot, weights=hit, minlength=len(dispersions)).astype(int)

    counts = [outside(plain, OUTSIDE_95), outside(plain, OUTSIDE_998)]
    counts += [outside(adjusted, OUTSIDE_95), outside(adjusted, OUTSIDE_998)]
    rows = [
        (*key, d.units, d.phi, d.p_value, d.tau2, d.overdispersed, *(int(c[i]) for c in counts))
        for i, (key, d) in enumerate(dispersions)
    ]
    columns = [*keys, "las", "phi", "p_value", "tau2", "overdispersed"]
    columns += ["outside_95_binomial", "outside_998_binomial"]
    columns += ["outside_95_adjusted", "outside_998_adjusted"]
    return pd.DataFrame(rows, columns=columns)


def _add_comparisons(rows: pd.DataFrame, funnel_adjustment: bool = True) -> pd.DataFrame:
    match = FUNNEL_PLOT
    england = rows.loc[rows["level"].eq(LEVEL_ORDER[NATIONAL]), [*match, "re_entry_rate"]]
    rows = rows.merge(
        england.rename(columns={"re_entry_rate": "england_re_entry_rate"}), on=match, how="left"
    )
    # Strata rows exist only for the standardised ratio: no funnel or neighbours needed.
    is_la = (rows["level"].eq(LEVEL_ORDER[LOCAL]) & rows["g"].ne(STRATUM_G)).to_numpy()
    la_rows = rows.loc[is_la]
    tau2 = _funnel_tau2(la_rows, match)
    position = funnel_position(
        la_rows["re_entered"],
        la_rows["returned_home"],
        la_rows["england_re_entry_rate"] / 100,
        tau2=tau2 if funnel_adjustment else None,
    )
    rows["funnel_position"] = pd.Series(pd.NA, index=rows.index, dtype="str")
    rows.loc[is_la, "funnel_position"] = position.to_numpy()

    la = rows.loc[is_la, [*match, "la", "returned_home", "re_entered"]]
    la = la.rename(columns={"la": "old_la_code"})
    neighbours = load_statistical_neighbours()
    neighbours = pd.DataFrame(
        {
            "old_la_code": neighbours["old_la_code"].astype(int),
            "neighbour_old_la_code": neighbours["neighbour_old_la_code"].astype(int),
        }
    )
    sn = neighbour_pooled_counts(la, match, neighbours).rename(columns={"old_la_code": "la"})
    sn["level"] = LEVEL_ORDER[LOCAL]
    rows = rows.merge(sn, on=[*match, "la", "level"], how="left")
    sn_rh = rows["sn_returned_home"].to_numpy(dtype=float, na_value=np.nan)
    sn_re = rows["sn_re_entered"].to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        rows["sn_re_entry_rate"] = np.where(sn_rh > 0, sn_re / sn_rh * 100, np.nan)
    return rows


def _add_standardised_ratio(rows: pd.DataFrame) -> pd.DataFrame:
    """Indirect standardisation by age band x planned/not planned: expected re-entries =
    sum over strata of the unit's returns home x England's rate in the stratum (same
    cohort span and window). On Total rows of LAs and regions."""
    match = ["year", "span_first", "w", "c"]
    strata = rows[rows["g"].eq(STRATUM_G)]
    national = strata.loc[
        strata["level"].eq(LEVEL_ORDER[NATIONAL]), [*match, "re_entered", "returned_home"]
    ]
    national = national.rename(columns={"re_entered": "e_re", "returned_home": "e_rh"})
    local = strata[strata["level"].ne(LEVEL_ORDER[NATIONAL])].merge(national, on=match, how="left")
    e_re = local["e_re"].to_numpy(dtype=float, na_value=np.nan)
    e_rh = local["e_rh"].to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        stratum_rate = np.where(e_rh > 0, e_re / e_rh, 0.0)
    local["expected"] = local["returned_home"].to_numpy(dtype=float, na_value=np.nan) * stratum_rate
    unit = ["year", "span_first", "w", "level", "region", "la"]
    expected = local.groupby(unit, sort=False)["expected"].sum(min_count=1)
    expected = expected.rename("expected_re_entered").reset_index()
    expected["g"] = 0  # the Total group
    rows = rows.merge(expected, on=[*unit, "g"], how="left")
    rows.loc[rows["returned_home"].isna(), "expected_re_entered"] = np.nan
    ratio, lower, upper = standardised_ratio_interval(
        rows["re_entered"].to_numpy(dtype=float, na_value=np.nan),
        rows["expected_re_entered"].to_numpy(dtype=float),
        trials=rows["returned_home"].to_numpy(dtype=float, na_value=np.nan),
    )
    rows["standardised_ratio"] = ratio
    rows["standardised_ratio_lower_ci"] = lower
    rows["standardised_ratio_upper_ci"] = upper
    return rows


def _label(rows: pd.DataFrame) -> pd.DataFrame:
    """Integer codes -> published labels, in the published row order."""
    rows = rows.sort_values(
        ["span_first", "year", "level", "region", "la", "w", "g", "c"], kind="stable"
    )
    rows = rows.assign(_pooled=(rows["span_first"] != rows["year"]).astype(int))
    rows = rows.sort_values("_pooled", kind="stable").reset_index(drop=True)
    regions = np.asarray([*_region_codes(), None], dtype=object)  # index -1 -> None
    cats = _category_grid().set_index(["g", "c"])
    labels = cats.reindex(pd.MultiIndex.from_arrays([rows["g"], rows["c"]]))
    pooled = rows["_pooled"].eq(1).to_numpy()
    span = np.where(
        pooled,
        rows["span_first"].astype(str) + " to " + rows["year"].astype(str),
        SINGLE_YEAR,
    )
    la = rows["la"].to_numpy()
    out = pd.DataFrame(
        {
            "time_period": rows["year"].astype("int64").to_numpy(),
            "cohort_span": pd.array(span, dtype="str"),
            "geographic_level": pd.array(
                np.asarray(LEVELS, dtype=object)[rows["level"]], dtype="str"
            ),
            "region_code": pd.array(regions[rows["region"].to_numpy()], dtype="str"),
            "old_la_code": pd.array(
                np.where(la >= 0, np.char.zfill(la.astype(str), 3), None), dtype="str"
            ),
            "follow_up_months": rows["w"].astype("int64").to_numpy(),
            "characteristic_group": pd.array(
                labels["characteristic_group"].to_numpy(), dtype="str"
            ),
            "characteristic": pd.array(labels["characteristic"].to_numpy(), dtype="str"),
            "unavailable_reason": pd.array(
                np.asarray(REASONS, dtype=object)[rows["reason"].to_numpy()], dtype="str"
            ),
        }
    )
    for col in REENTRY_COLUMNS:
        if col not in out:
            out[col] = (
                rows[col].to_numpy()
                if not isinstance(rows[col].dtype, pd.Int64Dtype)
                else rows[col].array
            )
    return out[REENTRY_COLUMNS]


def _reentry_table(
    flagged: pd.DataFrame,
    la_grid: pd.DataFrame,
    availability: pd.DataFrame,
    windows,
    cut_off_year: int,
    funnel_adjustment: bool = True,
) -> pd.DataFrame:
    regions = {code: i for i, code in enumerate(_region_codes())}
    grid = pd.DataFrame(
        {
            "year": la_grid["cohort_year"].astype(int).to_numpy(),
            "la": la_grid["old_la_code"].astype(int).to_numpy(),
            "region": la_grid["region_code"].map(regions).astype(int).to_numpy(),
        }
    )
    avail = pd.DataFrame(
        {
            "year": availability["cohort_year"].astype(int).to_numpy(),
            "la": availability["old_la_code"].astype(int).to_numpy(),
            "w": availability["follow_up_months"].astype(int).to_numpy(),
            "reason": availability["unavailable_reason"]
            .map(REASON_CODE)
            .fillna(0)
            .astype(int)
            .to_numpy(),
        }
    )
    counts = _la_counts(flagged, grid, avail, windows)
    single = _single_year_rows(counts)
    pooled = _pooled_rows(single, windows, cut_off_year)
    rows = pd.concat([single, pooled], ignore_index=True)
    # LA cohorts are small: only the LA groups (breakdowns.LA_GROUPS) are produced at LA level.
    keep = rows["level"].ne(LEVEL_ORDER[LOCAL]) | rows["g"].isin([*LA_G, STRATUM_G])
    rows = _add_rates(rows[keep].reset_index(drop=True))
    rows = _add_comparisons(rows, funnel_adjustment)
    rows = _add_standardised_ratio(rows)
    rows = rows[rows["g"].ne(STRATUM_G)]
    return ReentryMeasures.validate(_label(rows))


def _ceased_table(
    periods: pd.DataFrame, la_grid: pd.DataFrame, availability: pd.DataFrame
) -> pd.DataFrame:
    ceasing = ctx.children_ceasing(periods).rename(
        columns={"la_code": "old_la_code", "collection_year": "cohort_year"}
    )
    by_reason = ceasing.groupby(["cohort_year", "old_la_code", "reason_group"]).size()
    total = ceasing.groupby(["cohort_year", "old_la_code"]).size()
    total = total.to_frame("ceased").assign(reason_group=ctx.TOTAL)
    counts = pd.concat(
        [by_reason.rename("ceased").reset_index(), total.reset_index()], ignore_index=True
    )
    reasons = pd.DataFrame(
        {"reason_group": ctx.REASON_GROUP_ORDER, "order": range(len(ctx.REASON_GROUP_ORDER))}
    )
    grid = la_grid.merge(reasons, how="cross").merge(
        counts, on=["cohort_year", "old_la_code", "reason_group"], how="left"
    )
    grid["ceased"] = grid["ceased"].fillna(0).astype("Int64")
    grid = grid.merge(availability, on=["cohort_year", "old_la_code"])
    grid.loc[grid["unavailable_reason"].notna(), "ceased"] = pd.NA
    grid["usable"] = grid["unavailable_reason"].isna().astype(int)

    def aggregate(by: list[str], level: str) -> pd.DataFrame:
        agg = grid.groupby(["cohort_year", *by, "reason_group", "order"], sort=False).agg(
            ceased=("ceased", "sum"), usable=("usable", "sum")
        )
        agg = agg.reset_index()
        none = agg["usable"].eq(0)
        agg["ceased"] = agg["ceased"].astype("Int64").mask(none, pd.NA)
        agg["unavailable_reason"] = pd.Series(
            np.where(none, NO_USABLE_RETURNS, None), index=agg.index, dtype="str"
        )
        agg["geographic_level"] = level
        return agg

    england = aggregate([], NATIONAL)
    region = aggregate(["region_code"], REGIONAL)
    la = grid.assign(geographic_level=LOCAL)
    out = pd.concat([england, region, la], ignore_index=True)
    out = out.rename(columns={"cohort_year": "time_period"})
    for col in ("region_code", "old_la_code", "unavailable_reason"):
        out[col] = out[col].astype("str")
    out["_level"] = out["geographic_level"].map(LEVEL_ORDER)
    out = out.sort_values(
        ["time_period", "_level", "region_code", "old_la_code", "order"],
        kind="stable",
        na_position="first",
    )
    columns = ["time_period", "geographic_level", "region_code", "old_la_code"]
    columns += ["reason_group", "ceased", "unavailable_reason"]
    out = out[columns].reset_index(drop=True)
    out["time_period"] = out["time_period"].astype("int64")
    return out


def _time_to_reentry_table(
    flagged: pd.DataFrame, la_grid: pd.DataFrame, availability: pd.DataFrame, cut_off: int
) -> pd.DataFrame:
    """Time bands on the 60-month follow-up: cohorts with complete 60-month follow-up,
    usable LAs only, so each Total equals the 60-month re_entered Total exactly."""
    complete_years = [
        y
        for y in sorted(la_grid["cohort_year"].unique())
        if follow_up_complete(int(y), 60, cut_off)
    ]
    usable = availability[
        availability["follow_up_months"].eq(60) & availability["unavailable_reason"].isna()
    ]
    kids = flagged[flagged["cohort_year"].isin(complete_years) & ~flagged["excluded_60"]][
        ["cohort_year", "la_code", "return_date", "reentry_date"]
    ].rename(columns={"la_code": "old_la_code"})
    kids = kids.merge(usable[["cohort_year", "old_la_code"]], on=["cohort_year", "old_la_code"])
    kids = kids.merge(la_grid, on=["cohort_year", "old_la_code"])
    kids["time_band"] = ctx.time_band(kids["return_date"], kids["reentry_date"])
    kids = kids[kids["time_band"].notna()]
    bands = pd.DataFrame(
        {"time_band": ctx.TIME_BAND_ORDER, "order": range(len(ctx.TIME_BAND_ORDER))}
    )
    regions = la_grid[la_grid["cohort_year"].isin(complete_years)]
    usable_regions = regions.merge(usable[["cohort_year", "old_la_code"]])

    def tabulate(by: list[str], level: str, units: pd.DataFrame) -> pd.DataFrame:
        long = pd.concat([kids, kids.assign(time_band=ctx.TOTAL)], ignore_index=True)
        n = long.groupby(["cohort_year", *by, "time_band"]).size().rename("re_entered")
        grid = units[["cohort_year", *by]].drop_duplicates().merge(bands, how="cross")
        grid = grid.merge(n.reset_index(), on=["cohort_year", *by, "time_band"], how="left")
        grid["re_entered"] = grid["re_entered"].fillna(0).astype("Int64")
        has_usable = (
            grid[["cohort_year", *by]]
            .merge(
                usable_regions[["cohort_year", *by]].drop_duplicates(), how="left", indicator=True
            )["_merge"]
            .eq("both")
        )
        grid["re_entered"] = grid["re_entered"].mask(~has_usable.to_numpy(), pd.NA)
        grid["geographic_level"] = level
        return grid

    england = tabulate([], NATIONAL, regions)
    region = tabulate(["region_code"], REGIONAL, regions)
    out = pd.concat([england, region], ignore_index=True)
    out = out.rename(columns={"cohort_year": "time_period"})
    if "region_code" not in out:
        out["region_code"] = None
    out["old_la_code"] = None
    for col in ("region_code", "old_la_code"):
        out[col] = out[col].astype("str")
    out["_level"] = out["geographic_level"].map(LEVEL_ORDER)
    out = out.sort_values(
        ["time_period", "_level", "region_code", "order"], kind="stable", na_position="first"
    )
    columns = ["time_period", "geographic_level", "region_code", "old_la_code"]
    columns += ["time_band", "re_entered"]
    out = out[columns].reset_index(drop=True)
    out["time_period"] = out["time_period"].astype("int64")
    return out


def _index_returns_table(flagged: pd.DataFrame, windows) -> pd.DataFrame:
    cols = ["la_code", "child", "upn", "cohort_year", "return_date", "rec"]
    cols += ["reentry_date", "reentry_date_any_la"]
    for w in windows:
        cols += [f"re_entered_{w}", f"re_entered_any_la_{w}", f"turned_18_{w}", f"excluded_{w}"]
    return flagged[cols].reset_index(drop=True)


HEADLINE_DEFINITION = "Headline: returned home (E4A, E4B)"
# definition label -> (REC codes counted as a return home, minimum stay in days)
SENSITIVITY = {
    HEADLINE_DEFINITION: (RETURN_HOME_RECS, 0),
    "Returns home including E13 and E41": (BROAD_RETURN_HOME_RECS, 0),
    f"Excluding stays in care under {SHORT_STAY_DAYS} days": (RETURN_HOME_RECS, SHORT_STAY_DAYS),
}
SENSITIVITY_COLUMNS = [
    "time_period",
    "geographic_level",
    "region_code",
    "follow_up_months",
    "definition",
    "returned_home",
    "re_entered",
    "re_entry_rate",
    "las_excluded",
]


def _sensitivity_table(
    ordered: pd.DataFrame,
    headline: pd.DataFrame,
    la_grid: pd.DataFrame,
    availability: pd.DataFrame,
    windows,
    cut_off_year: int,
    quarantined: pd.DataFrame | None,
) -> pd.DataFrame:
    """Single-year England and regional Total counts under each SENSITIVITY definition,
    over the same usable LAs as the headline (an LA's figure unavailable for the headline
    is left out of every definition), so the definitions differ only in who counts.
    ``ordered``: the periods from ``order_periods``; ``headline``: the headline's index
    returns with their window flags, reused for the headline definition."""
    years = la_grid["cohort_year"].unique()
    usable = availability[availability["unavailable_reason"].isna()]
    usable = usable.merge(la_grid, on=["cohort_year", "old_la_code"])
    parts = []
    for label, (recs, min_stay) in SENSITIVITY.items():
        if label == HEADLINE_DEFINITION:
            flagged = headline
        else:
            index = index_returns(ordered, recs, min_stay, ordered=True)
            index = index[index["cohort_year"].isin(years)]
            flagged = add_window_flags(index, windows, cut_off_year, quarantined)
        for w in windows:
            kids = pd.DataFrame(
                {
                    "cohort_year": flagged["cohort_year"].to_numpy(),
                    "old_la_code": flagged["la_code"].to_numpy(),
                    "returned_home": (~flagged[f"excluded_{w}"]).astype(int).to_numpy(),
                    "re_entered": flagged[f"re_entered_{w}"].fillna(False).astype(int).to_numpy(),
                }
            )
            units = usable[usable["follow_up_months"].eq(w)]
            counts = kids.groupby(["cohort_year", "old_la_code"]).sum().reset_index()
            la = units[["cohort_year", "old_la_code", "region_code"]].merge(
                counts, how="left", on=["cohort_year", "old_la_code"]
            )
            la = la.fillna({"returned_home": 0, "re_entered": 0})
            all_las = la_grid.groupby(["cohort_year", "region_code"]).size()
            for level, by in ((NATIONAL, []), (REGIONAL, ["region_code"])):
                agg = la.groupby(["cohort_year", *by])[["returned_home", "re_entered"]].sum()
                n_usable = la.groupby(["cohort_year", *by]).size()
                n_all = all_las.groupby(level=["cohort_year", *by]).sum()
                agg["las_excluded"] = (n_all.reindex(agg.index) - n_usable).to_numpy()
                agg = agg.reset_index()
                agg["geographic_level"] = level
                agg["follow_up_months"] = w
                agg["definition"] = label
                parts.append(agg)
    out = pd.concat(parts, ignore_index=True).rename(columns={"cohort_year": "time_period"})
    if "region_code" not in out:
        out["region_code"] = None
    out["region_code"] = out["region_code"].astype("str")
    for col in ("returned_home", "re_entered", "las_excluded"):
        out[col] = out[col].astype("int64")
    with np.errstate(invalid="ignore", divide="ignore"):
        out["re_entry_rate"] = np.where(
            out["returned_home"] > 0, out["re_entered"] / out["returned_home"] * 100, np.nan
        )
    out["_level"] = out["geographic_level"].map(LEVEL_ORDER)
    out["_def"] = out["definition"].map({d: i for i, d in enumerate(SENSITIVITY)})
    out = out.sort_values(
        ["time_period", "follow_up_months", "_level", "region_code", "_def"],
        kind="stable",
        na_position="first",
    )
    return out[SENSITIVITY_COLUMNS].reset_index(drop=True)


def _follow_up_exclusions(flagged: pd.DataFrame, windows) -> pd.DataFrame:
    """Children left out of each LA's W-month figure because a follow-up year was
    quarantined for them: only the LA x cohort x window combinations with any."""
    parts = []
    for w in windows:
        hit = flagged[flagged[f"excluded_{w}"]]
        n = hit.groupby(["cohort_year", "la_code"]).size().rename("children_excluded")
        parts.append(n.reset_index().assign(follow_up_months=w))
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    columns = ["cohort_year", "la_code", "follow_up_months", "children_excluded"]
    if out.empty:
        return pd.DataFrame(
            {
                "cohort_year": pd.Series(dtype="int64"),
                "la_code": pd.Series(dtype="str"),
                "follow_up_months": pd.Series(dtype="int64"),
                "children_excluded": pd.Series(dtype="int64"),
            }
        )
    out = out[columns].astype(
        {"cohort_year": "int64", "follow_up_months": "int64", "children_excluded": "int64"}
    )
    return out.sort_values(columns[:3], kind="mergesort").reset_index(drop=True)


def follow_up_exclusions_by_window(exclusions: pd.DataFrame | None) -> pd.DataFrame:
    """England totals of ``follow_up_exclusions``: per cohort year and window, the
    children left out and the LAs they are in. Sums over LAs of a count published for no
    LA, so it reveals no LA's figure; zero rows mean no child was left out."""
    columns = ["cohort_year", "follow_up_months", "children_excluded", "las_affected"]
    if exclusions is None or exclusions.empty:
        return pd.DataFrame({c: pd.Series(dtype="int64") for c in columns})
    g = exclusions.groupby(["cohort_year", "follow_up_months"], sort=True)
    out = g.agg(
        children_excluded=("children_excluded", "sum"), las_affected=("la_code", "nunique")
    ).reset_index()
    return out[columns].astype("int64")


def build_measures(
    episode_history: pd.DataFrame,
    la_year_status: pd.DataFrame,
    *,
    windows: Sequence[int] = tuple(FOLLOW_UP_MONTHS),
    cut_off_year: int | None = None,
    quarantined: pd.DataFrame | None = None,
    funnel_adjustment: bool = True,
) -> MeasureTables:
    """All re-entry measures from the validated episode history.

    Returns MeasureTables with: ``reentry`` (contract ReentryMeasures plus
    re_entry_rate_any_la, las_excluded, england_re_entry_rate, funnel_position,
    sn_returned_home, sn_re_entered, sn_neighbours_included, sn_re_entry_rate,
    expected_re_entered, standardised_ratio and its interval), ``ceased_by_reason``,
    ``time_to_reentry`` and the child-level ``index_returns`` (restricted).

    ``cut_off_year`` is the latest collection year whose return is loaded (default: the
    latest in ``episode_history``); follow-up ends on 31 March of that year. Cohorts are
    the loaded collection years (from ``la_year_status``) up to the cut-off.

    ``quarantined`` (la_code, collection_year, child; HistoryResult.quarantined): a child
    whose window needs a year in which their records were quarantined is left out of that
    window's figure and counted in ``follow_up_exclusions`` (cohorts.add_window_flags).

    ``funnel_adjustment``: classify LAs against over-dispersion-adjusted funnel limits
    where a plot is over-dispersed (the default, docs/methodology.md); False gives the
    plain exact binomial limits everywhere. ``funnel_dispersion(reentry)`` reports both.
    """
    windows = sorted({int(w) for w in windows})
    if not windows or not set(windows) <= set(FOLLOW_UP_MONTHS):
        raise ValueError(f"windows must be among {FOLLOW_UP_MONTHS} months, got {windows}")
    if cut_off_year is None:
        cut_off_year = int(episode_history["collection_year"].max())
    years = sorted(
        int(y) for y in la_year_status["collection_year"].unique() if int(y) <= cut_off_year
    )
    if not years:
        raise ValueError(
            f"la_year_status has no collection year on or before the cut-off {cut_off_year}"
        )
    las_by_year = _las_by_year(range(years[0], max(years[-1], cut_off_year) + 1))
    la_grid = las_by_year[las_by_year["collection_year"].isin(years)].rename(
        columns={"collection_year": "cohort_year"}
    )

    periods = periods_of_care(episode_history)
    ordered = order_periods(periods)
    index = index_returns(ordered, ordered=True)
    index = index[index["cohort_year"].isin(years)]
    known = (
        index[["cohort_year", "la_code"]]
        .merge(la_grid.rename(columns={"old_la_code": "la_code"}), how="left", indicator=True)[
            "_merge"
        ]
        .eq("both")
    )
    if not known.all():
        # Validation rejects unknown LA codes, so this should not happen; say so loudly
        # rather than drop children from every table without a word.
        strays = index.loc[~known.to_numpy(), ["la_code", "cohort_year"]].drop_duplicates()
        warnings.warn(
            f"{int((~known).sum())} index returns are in LA codes that did not exist in their "
            f"cohort year and are left out of the measures: "
            f"{strays.astype(str).agg(' in '.join, axis=1).tolist()[:10]}",
            stacklevel=2,
        )
    flagged = add_window_flags(index, windows, cut_off_year, quarantined)
    time_windows = sorted({*windows, 60})
    availability = la_availability(la_grid, la_year_status, time_windows, cut_off_year, las_by_year)
    ceased_availability = la_availability(la_grid, la_year_status, [0], cut_off_year, las_by_year)

    window_availability = availability[availability["follow_up_months"].isin(windows)]

    def other_tables() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        ceased = _ceased_table(
            periods[periods["period_end"].notna()],
            la_grid,
            ceased_availability.drop(columns=["follow_up_months"]),
        )
        time_to = _time_to_reentry_table(
            add_window_flags(index, [60], cut_off_year, quarantined),
            la_grid,
            availability,
            cut_off_year,
        )
        complete = [
            w for w in windows if any(follow_up_complete(int(y), w, cut_off_year) for y in years)
        ]
        sensitivity = _sensitivity_table(
            ordered, flagged, la_grid, window_availability, complete, cut_off_year, quarantined
        )
        return ceased, time_to, sensitivity

    # The tables are independent given the index returns: the ceased, time-to-re-entry
    # and sensitivity tables are built in a second process while this one builds the
    # headline table (assets.common.background; the same tables either way).
    with background.start(other_tables) as others:
        reentry = _reentry_table(
            flagged, la_grid, window_availability, windows, cut_off_year, funnel_adjustment
        )
        dispersion = funnel_dispersion(reentry)
        index_table = _index_returns_table(flagged, windows)
        exclusions = _follow_up_exclusions(flagged, windows)
        upn_matching = upn_match_rates(index)
        ceased, time_to, sensitivity = others.wait()
    return MeasureTables(
        reentry=reentry,
        ceased_by_reason=ceased,
        time_to_reentry=time_to,
        index_returns=index_table,
        follow_up_exclusions=exclusions,
        funnel_dispersion=dispersion,
        sensitivity=sensitivity,
        upn_matching=upn_matching,
    )
