"""The one entry point that turns the validated episode history into every unsuppressed
re-entry table: ``build_measures``.

Flow: episodes -> periods of care (assets.periods) -> index returns with re-entry flags
(assets.cohorts) -> counts per LA x cohort x window x breakdown (assets.breakdowns) ->
masked where an LA's figure is unavailable -> summed to regions and England -> three-year
pooled figures -> rates, Wilson intervals, funnel positions, statistical neighbours and
standardised ratios (assets.comparison). Context tables come from the same child-level
flags (assets.context), so shared counts agree exactly.

Nothing here is disclosure-controlled; the tables stay under restricted/.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from assets import breakdowns as bd
from assets import context as ctx
from assets.cohorts import (
    UNAVAILABLE_FOLLOW_UP,
    add_window_flags,
    follow_up_complete,
    index_returns,
    la_availability,
)
from assets.comparison import (
    funnel_position,
    neighbour_pooled_counts,
    standardised_ratio_interval,
    wilson_interval,
)
from assets.periods import periods_of_care
from assets.reference import las_in_year, load_statistical_neighbours
from validation.contracts import ReentryMeasures

NATIONAL, REGIONAL, LOCAL = "National", "Regional", "Local authority"
LEVEL_ORDER = {NATIONAL: 0, REGIONAL: 1, LOCAL: 2}
SINGLE_YEAR = "Single year"
POOLED_YEARS = 3
NO_USABLE_RETURNS = "No usable returns"

# Internal group used only to compute expected re-entries for the standardised ratio:
# age band x planned/not planned (issue 4), never published as a breakdown.
STRATUM = "_stratum"

COUNTS = ["returned_home", "re_entered", "re_entered_any_la", "turned_18_in_window"]
KEYS = [
    "time_period",
    "cohort_span",
    "geographic_level",
    "region_code",
    "old_la_code",
    "follow_up_months",
    "characteristic_group",
    "characteristic",
]
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


def _las_by_year(years: Sequence[int]) -> pd.DataFrame:
    """collection_year, old_la_code, region_code for each LA existing in each year."""
    parts = []
    for y in years:
        las = las_in_year(int(y))[["old_la_code", "region_code"]].copy()
        las.insert(0, "collection_year", int(y))
        parts.append(las)
    return pd.concat(parts, ignore_index=True)


def _group_long(flagged: pd.DataFrame, values: pd.DataFrame) -> pd.DataFrame:
    """Stack each child once per breakdown group: ``values`` (cohort_year, la_code and
    the count columns) plus characteristic_group and characteristic."""
    chars = bd.characteristics(flagged)
    chars[STRATUM] = chars["Age at return"] + " | " + chars["Planned return"]
    parts = []
    for group in [*bd.GROUPS, STRATUM]:
        part = values.copy()
        part["characteristic_group"] = group
        part["characteristic"] = chars[group]
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _category_grid() -> pd.DataFrame:
    order = bd.category_order()
    strata = [
        (STRATUM, f"{a} | {p}", len(bd.GROUPS), i)
        for i, (a, p) in enumerate((a, p) for a in bd.AGE_BANDS for p in bd.PLANNED.values())
    ]
    return pd.concat([order, pd.DataFrame(strata, columns=order.columns)], ignore_index=True)


def _la_counts(
    flagged: pd.DataFrame, la_grid: pd.DataFrame, availability: pd.DataFrame, windows
) -> pd.DataFrame:
    """LA x cohort x window x group x category counts on the full grid (zeros where no
    child), null with a reason where the LA's figure is unavailable."""
    flag_cols = [
        f"{kind}_{w}" for w in windows for kind in ("re_entered", "re_entered_any_la", "turned_18")
    ]
    ints = flagged[["cohort_year", "la_code"]].copy()
    for col in flag_cols:
        ints[col] = flagged[col].fillna(False).astype("int64")
    ints["returned_home"] = 1
    long = _group_long(flagged, ints)
    summed = (
        long.groupby(["cohort_year", "la_code", "characteristic_group", "characteristic"])[
            ["returned_home", *flag_cols]
        ]
        .sum()
        .reset_index()
        .rename(columns={"la_code": "old_la_code"})
    )
    grid = la_grid.merge(_category_grid(), how="cross")
    wide = grid.merge(
        summed,
        on=["cohort_year", "old_la_code", "characteristic_group", "characteristic"],
        how="left",
    )
    parts = []
    for w in windows:
        part = wide[
            [
                "cohort_year",
                "old_la_code",
                "region_code",
                "characteristic_group",
                "characteristic",
                "group_order",
                "category_order",
                "returned_home",
            ]
        ].copy()
        part["follow_up_months"] = w
        part["re_entered"] = wide[f"re_entered_{w}"]
        part["re_entered_any_la"] = wide[f"re_entered_any_la_{w}"]
        part["turned_18_in_window"] = wide[f"turned_18_{w}"]
        parts.append(part)
    counts = pd.concat(parts, ignore_index=True)
    for col in COUNTS:
        counts[col] = counts[col].fillna(0).astype("Int64")
    counts = counts.merge(availability, on=["cohort_year", "old_la_code", "follow_up_months"])
    unavailable = counts["unavailable_reason"].notna()
    for col in COUNTS:
        counts.loc[unavailable, col] = pd.NA
    return counts


def _aggregate(counts: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Sum LA counts over LAs whose figure is usable; ``las_excluded`` counts the others.
    Follow-up-incomplete figures stay null at every level."""
    keys = [
        "cohort_year",
        *by,
        "follow_up_months",
        "characteristic_group",
        "characteristic",
        "group_order",
        "category_order",
    ]
    work = counts[keys[:1] + by + keys[1 + len(by) :] + COUNTS + ["unavailable_reason"]].copy()
    work["usable"] = work["unavailable_reason"].isna().astype(int)
    work["excluded"] = (
        work["unavailable_reason"].notna() & work["unavailable_reason"].ne(UNAVAILABLE_FOLLOW_UP)
    ).astype(int)
    work["incomplete"] = work["unavailable_reason"].eq(UNAVAILABLE_FOLLOW_UP).astype(int)
    agg = work.groupby(keys, dropna=False, sort=False).agg(
        **{c: (c, "sum") for c in COUNTS},
        usable=("usable", "sum"),
        las_excluded=("excluded", "sum"),
        incomplete=("incomplete", "max"),
    )
    agg = agg.reset_index()
    reason = np.where(
        agg["incomplete"].eq(1),
        UNAVAILABLE_FOLLOW_UP,
        np.where(agg["usable"].eq(0), NO_USABLE_RETURNS, None),
    )
    agg["unavailable_reason"] = pd.Series(reason, index=agg.index, dtype="str")
    for col in COUNTS:
        agg[col] = agg[col].astype("Int64").where(agg["unavailable_reason"].isna(), pd.NA)
    agg["las_excluded"] = agg["las_excluded"].astype("Int64")
    return agg.drop(columns=["usable", "incomplete"])


def _single_year_rows(counts: pd.DataFrame) -> pd.DataFrame:
    la = counts.drop(columns=["region_code"]).merge(
        counts[["cohort_year", "old_la_code", "region_code"]].drop_duplicates(),
        on=["cohort_year", "old_la_code"],
    )
    la["geographic_level"] = LOCAL
    la["las_excluded"] = pd.array([pd.NA] * len(la), dtype="Int64")
    region = _aggregate(counts, ["region_code"])
    region["geographic_level"] = REGIONAL
    region["old_la_code"] = None
    england = _aggregate(counts, [])
    england["geographic_level"] = NATIONAL
    england["region_code"] = None
    england["old_la_code"] = None
    rows = pd.concat([england, region, la], ignore_index=True)
    rows = rows.rename(columns={"cohort_year": "time_period"})
    rows["cohort_span"] = SINGLE_YEAR
    for col in ("region_code", "old_la_code", "unavailable_reason"):
        rows[col] = rows[col].astype("str")
    return rows


def _pooled_rows(single: pd.DataFrame, windows, cut_off_year: int) -> pd.DataFrame:
    """Latest three complete cohorts per window, summed (child-returns, not distinct
    children), for the groups published at LA level; null if any single year is null."""
    parts = []
    groups = [*bd.LA_GROUPS, STRATUM]
    years_loaded = sorted(single["time_period"].unique())
    for w in windows:
        complete = [y for y in years_loaded if follow_up_complete(int(y), w, cut_off_year)]
        if len(complete) < POOLED_YEARS:
            continue
        span = complete[-POOLED_YEARS:]
        if span != list(range(span[0], span[0] + POOLED_YEARS)):
            continue  # a gap in the loaded years: not three consecutive cohorts
        rows = single[
            single["follow_up_months"].eq(w)
            & single["time_period"].isin(span)
            & single["characteristic_group"].isin(groups)
        ].sort_values("time_period", kind="stable")
        keys = [k for k in KEYS if k not in ("time_period", "cohort_span")]
        keys += ["group_order", "category_order"]
        agg = rows.groupby(keys, dropna=False, sort=False).agg(
            **{c: (c, "sum") for c in COUNTS},
            **{f"n_{c}": (c, "count") for c in COUNTS[:1]},
            las_excluded=("las_excluded", "sum"),
            unavailable_reason=("unavailable_reason", "first"),
        )
        agg = agg.reset_index()
        missing = agg[f"n_{COUNTS[0]}"] < POOLED_YEARS
        for col in COUNTS:
            agg[col] = agg[col].astype("Int64").mask(missing, pd.NA)
        agg["unavailable_reason"] = agg["unavailable_reason"].where(missing, None).astype("str")
        is_la = agg["geographic_level"].eq(LOCAL)
        agg["las_excluded"] = agg["las_excluded"].astype("Int64").mask(is_la, pd.NA)
        agg["time_period"] = span[-1]
        agg["cohort_span"] = f"{span[0]} to {span[-1]}"
        parts.append(agg.drop(columns=[f"n_{COUNTS[0]}"]))
    return pd.concat(parts, ignore_index=True) if parts else single.iloc[0:0]


def _add_rates(rows: pd.DataFrame) -> pd.DataFrame:
    rh = rows["returned_home"].astype("Float64")
    rows["not_re_entered"] = (rows["returned_home"] - rows["re_entered"]).astype("Int64")
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = (rows["re_entered"].astype("Float64") / rh * 100).astype(float)
        any_rate = (rows["re_entered_any_la"].astype("Float64") / rh * 100).astype(float)
    rows["re_entry_rate"] = np.where(rh.fillna(0).to_numpy() > 0, rate, np.nan)
    rows["re_entry_rate_any_la"] = np.where(rh.fillna(0).to_numpy() > 0, any_rate, np.nan)
    lower, upper = wilson_interval(rows["re_entered"], rows["returned_home"])
    rows["re_entry_rate_lower_ci"] = lower * 100
    rows["re_entry_rate_upper_ci"] = upper * 100
    return rows


def _add_comparisons(rows: pd.DataFrame) -> pd.DataFrame:
    match = ["time_period", "cohort_span", "follow_up_months", "characteristic_group"]
    match += ["characteristic"]
    england = rows.loc[rows["geographic_level"].eq(NATIONAL), [*match, "re_entry_rate"]]
    rows = rows.merge(
        england.rename(columns={"re_entry_rate": "england_re_entry_rate"}), on=match, how="left"
    )
    is_la = rows["geographic_level"].eq(LOCAL)
    position = funnel_position(
        rows.loc[is_la, "re_entered"],
        rows.loc[is_la, "returned_home"],
        rows.loc[is_la, "england_re_entry_rate"] / 100,
    )
    rows["funnel_position"] = pd.Series(pd.NA, index=rows.index, dtype="str")
    rows.loc[is_la, "funnel_position"] = position.to_numpy()

    la = rows.loc[is_la, [*match, "old_la_code", "returned_home", "re_entered"]]
    neighbours = load_statistical_neighbours()
    sn = neighbour_pooled_counts(la, match, neighbours)
    sn["old_la_code"] = sn["old_la_code"].astype("str")
    sn["geographic_level"] = LOCAL
    rows = rows.merge(sn, on=[*match, "old_la_code", "geographic_level"], how="left")
    with np.errstate(invalid="ignore", divide="ignore"):
        sn_rate = rows["sn_re_entered"].astype("Float64") / rows["sn_returned_home"] * 100
    rows["sn_re_entry_rate"] = sn_rate.astype(float)
    return rows


def _add_standardised_ratio(rows: pd.DataFrame) -> pd.DataFrame:
    """Indirect standardisation by age band x planned/not planned: expected re-entries =
    sum over strata of the unit's returns home x England's stratum rate (same cohort span
    and window). Totals only, LA and regional rows; pooled expected = sum over the span's
    stratum counts at the pooled England stratum rates."""
    match = ["time_period", "cohort_span", "follow_up_months", "characteristic"]
    strata = rows[rows["characteristic_group"].eq(STRATUM)]
    national = strata.loc[
        strata["geographic_level"].eq(NATIONAL), [*match, "re_entered", "returned_home"]
    ]
    national = national.rename(columns={"re_entered": "e_re", "returned_home": "e_rh"})
    local = strata[strata["geographic_level"].ne(NATIONAL)].merge(national, on=match, how="left")
    with np.errstate(invalid="ignore", divide="ignore"):
        stratum_rate = (local["e_re"].astype("Float64") / local["e_rh"]).fillna(0)
    local["expected"] = (local["returned_home"].astype("Float64") * stratum_rate).astype(float)
    unit = ["time_period", "cohort_span", "follow_up_months", "geographic_level"]
    unit += ["region_code", "old_la_code"]
    expected = local.groupby(unit, dropna=False, sort=False)["expected"].sum(min_count=1)
    expected = expected.rename("expected_re_entered").reset_index()
    expected["characteristic_group"] = bd.TOTAL
    rows = rows.merge(expected, on=[*unit, "characteristic_group"], how="left")
    rows.loc[rows["returned_home"].isna(), "expected_re_entered"] = np.nan
    ratio, lower, upper = standardised_ratio_interval(
        rows["re_entered"], rows["expected_re_entered"]
    )
    rows["standardised_ratio"] = ratio
    rows["standardised_ratio_lower_ci"] = lower
    rows["standardised_ratio_upper_ci"] = upper
    return rows


def _sort(rows: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    rows = rows.assign(
        _span=rows["cohort_span"].ne(SINGLE_YEAR).astype(int),
        _level=rows["geographic_level"].map(LEVEL_ORDER),
    )
    order = ["_span", "time_period", "cohort_span", "_level", "region_code", "old_la_code"]
    order += ["follow_up_months", "group_order", "category_order"]
    rows = rows.sort_values(order, kind="stable", na_position="first")
    return rows[columns].reset_index(drop=True)


def _reentry_table(
    flagged: pd.DataFrame,
    la_grid: pd.DataFrame,
    availability: pd.DataFrame,
    windows,
    cut_off_year: int,
) -> pd.DataFrame:
    counts = _la_counts(flagged, la_grid, availability, windows)
    single = _single_year_rows(counts)
    pooled = _pooled_rows(single, windows, cut_off_year)
    rows = pd.concat([single, pooled], ignore_index=True)
    # LA cohorts are small: only the groups issue 4 asks for are produced at LA level.
    keep = rows["geographic_level"].ne(LOCAL) | rows["characteristic_group"].isin(
        [*bd.LA_GROUPS, STRATUM]
    )
    rows = _add_rates(rows[keep].reset_index(drop=True))
    rows = _add_comparisons(rows)
    rows = _add_standardised_ratio(rows)
    rows = rows[rows["characteristic_group"].ne(STRATUM)]
    rows = _sort(rows, REENTRY_COLUMNS)
    rows["time_period"] = rows["time_period"].astype("int64")
    rows["follow_up_months"] = rows["follow_up_months"].astype("int64")
    return ReentryMeasures.validate(rows)


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
    kids = flagged[flagged["cohort_year"].isin(complete_years)][
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
        cols += [f"re_entered_{w}", f"re_entered_any_la_{w}", f"turned_18_{w}"]
    return flagged[cols].reset_index(drop=True)


def build_measures(
    episode_history: pd.DataFrame,
    la_year_status: pd.DataFrame,
    *,
    windows: Sequence[int] = (6, 12, 24, 60),
    cut_off_year: int | None = None,
) -> MeasureTables:
    """All re-entry measures from the validated episode history.

    ``cut_off_year`` is the latest collection year whose return is loaded (default: the
    latest in ``episode_history``); follow-up ends on 31 March of that year. Cohorts are
    the loaded collection years (from ``la_year_status``) up to the cut-off.
    """
    windows = sorted({int(w) for w in windows})
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
    index = index_returns(periods)
    index = index[index["cohort_year"].isin(years)]
    flagged = add_window_flags(index, windows, cut_off_year)
    time_windows = sorted({*windows, 60})
    availability = la_availability(la_grid, la_year_status, time_windows, cut_off_year, las_by_year)
    ceased_availability = la_availability(la_grid, la_year_status, [0], cut_off_year, las_by_year)

    reentry = _reentry_table(
        flagged,
        la_grid,
        availability[availability["follow_up_months"].isin(windows)],
        windows,
        cut_off_year,
    )
    ceased = _ceased_table(
        periods[periods["period_end"].notna()],
        la_grid,
        ceased_availability.drop(columns=["follow_up_months"]),
    )
    time_to = _time_to_reentry_table(
        add_window_flags(index, [60], cut_off_year), la_grid, availability, cut_off_year
    )
    return MeasureTables(
        reentry=reentry,
        ceased_by_reason=ceased,
        time_to_reentry=time_to,
        index_returns=_index_returns_table(flagged, windows),
    )
