"""The published tables: every figure as the string a reader sees (a number or a GSS
symbol), the restricted suppression log, and the information-loss summary."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from assets.common.contracts import ALL_TABLE_KEYS, TABLE_COUNTS, TABLE_KEYS
from assets.common.reference import load_statistical_neighbours
from assets.common.vocabulary import LOCAL, NATIONAL, REGIONAL
from assets.disclosure.config import DisclosureConfig
from assets.disclosure.rounding import half_up, int_strings, whole_percent

REASONS = (
    "published",
    "primary",
    "secondary",
    "rounded",
    "not_available",
    "not_applicable",
    "rate_withheld",
)
# Published alongside the counts (as strings). Pooled neighbour counts and expected
# re-entries are NOT published. The neighbours' rate is pooled over the neighbours whose
# counts are published (as DfE's LAIT does), so a reader can recompute it: it adds
# nothing to what they know and needs no suppression.
SN_MIN_NEIGHBOURS = 7
COMPARATOR_KEYS = [
    "time_period",
    "cohort_span",
    "follow_up_months",
    "characteristic_group",
    "characteristic",
]
REENTRY_PUBLISHED = [
    *TABLE_KEYS["reentry"],
    *TABLE_COUNTS["reentry"],
    "re_entry_rate",
    "re_entry_rate_lower_ci",
    "re_entry_rate_upper_ci",
    "re_entry_rate_any_la",
    "funnel_position",
    "sn_re_entry_rate",
    "england_re_entry_rate",
    "region_re_entry_rate",
    "standardised_ratio",
    "standardised_ratio_lower_ci",
    "standardised_ratio_upper_ci",
    "sn_neighbours_included",
    "las_excluded",
    "unavailable_reason",
]


@dataclass(frozen=True)
class PublishedTables:
    """The disclosure-controlled tables (every figure a string) plus the restricted log."""

    reentry: pd.DataFrame
    ceased_by_reason: pd.DataFrame
    time_to_reentry: pd.DataFrame
    suppression_log: pd.DataFrame
    information_loss: pd.DataFrame
    # Restricted: feasible points of the attacker's system that show each primary cell's
    # range (release, table, row, column, point, value). The audit checks each point
    # against its own relations before it trusts it, so these only save it LP solves.
    certificates: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    # England and regional re-entry under the sensitivity definitions (empty if not built).
    sensitivity: pd.DataFrame = field(default_factory=pd.DataFrame)


def _rate_strings(num, den, withheld, unavailable, min_den) -> np.ndarray:
    num = pd.to_numeric(pd.Series(num), errors="coerce").to_numpy(dtype=float)
    den = pd.to_numeric(pd.Series(den), errors="coerce").to_numpy(dtype=float)
    out = np.full(len(num), "x", dtype=object)
    ok = ~np.isnan(num) & ~np.isnan(den) & ~unavailable
    zero_den = ok & (den == 0)
    show = ok & (den > 0) & ~withheld & (den >= min_den)
    pct = whole_percent(np.nan_to_num(num[show]), np.nan_to_num(den[show]))
    s = int_strings(pct)
    s[(pct == 0) & (num[show] > 0)] = "k"
    out[show] = s
    out[ok & (den > 0) & ~show] = "c"
    out[zero_den] = "z"
    return out


def _float_strings(x, show, fallback, unavailable, decimals: int | None = None) -> np.ndarray:
    x = pd.to_numeric(pd.Series(x), errors="coerce").to_numpy(dtype=float)
    out = np.full(len(x), "z", dtype=object)
    out[unavailable] = "x"
    ok = show & ~np.isnan(x)
    if decimals is None:
        r = half_up(x[ok])
        s = int_strings(r)
        s[(r == 0) & (x[ok] > 0)] = "k"
    else:
        s = np.array([f"{v:.{decimals}f}" for v in x[ok]], dtype=object)
    out[ok] = s
    out[~show & ~np.isnan(x) & ~unavailable] = fallback
    return out


def publish_sensitivity(
    raw: pd.DataFrame, published: pd.DataFrame, config: DisclosureConfig
) -> pd.DataFrame:
    """The sensitivity table as published: rounded counts (already in ``published``), the
    rate from the unrounded counts as on every England and regional row, and the number
    of LAs left out (an LA count, not a count of children)."""
    out = published.copy()
    n = len(raw)
    out["re_entry_rate"] = _rate_strings(
        raw["re_entered"],
        raw["returned_home"],
        np.zeros(n, dtype=bool),
        np.zeros(n, dtype=bool),
        config.min_rate_denominator,
    )
    out["las_excluded"] = raw["las_excluded"].astype("int64").astype(str).to_numpy()
    return out


def publish_reentry(
    df: pd.DataFrame, counts: dict[str, np.ndarray], config: DisclosureConfig
) -> pd.DataFrame:
    """Strings for every published reentry column."""
    df = df.copy()
    for col in ("re_entry_rate", "re_entry_rate_lower_ci", "re_entry_rate_upper_ci"):
        if col not in df:
            df[col] = np.nan
    out = df[TABLE_KEYS["reentry"]].copy()
    for col, s in counts.items():
        out[col] = s
    c = {k: np.asarray(v) == "c" for k, v in counts.items()}
    rh = pd.to_numeric(df["returned_home"], errors="coerce").to_numpy(dtype=float)
    re = pd.to_numeric(df["re_entered"], errors="coerce").to_numpy(dtype=float)
    unavailable = np.isnan(rh) | np.isnan(re)
    withheld = c["returned_home"] | c["re_entered"] | c["not_re_entered"]
    md = config.min_rate_denominator
    # A rate on fewer than ``md`` children is not calculated (too unreliable), which is
    # not a confidentiality matter when its counts are published: ``x``, never ``c``.
    # England and regional rates are never withheld (their counts never are).
    too_few = ~withheld & ~unavailable & (np.nan_to_num(rh) > 0) & (np.nan_to_num(rh) < md)
    withheld |= np.nan_to_num(rh) < md
    out["re_entry_rate"] = _rate_strings(re, rh, withheld, unavailable, md)
    out.loc[too_few, "re_entry_rate"] = "x"
    shown = out["re_entry_rate"].isin(["c", "x", "z"]).to_numpy() == False  # noqa: E712
    for col in ("re_entry_rate_lower_ci", "re_entry_rate_upper_ci"):
        out[col] = _float_strings(df[col], shown, "c", unavailable)
        out.loc[out["re_entry_rate"].eq("z"), col] = "z"
    if "re_entered_any_la" in df:
        anyla = pd.to_numeric(df["re_entered_any_la"], errors="coerce").to_numpy(dtype=float)
        hid_any = c["returned_home"] | c["re_entered_any_la"]
        w_any = hid_any | (np.nan_to_num(rh) < md)
        out["re_entry_rate_any_la"] = _rate_strings(anyla, rh, w_any, np.isnan(anyla), md)
        few_any = ~hid_any & ~np.isnan(anyla) & (np.nan_to_num(rh) > 0)
        out.loc[few_any & (np.nan_to_num(rh) < md), "re_entry_rate_any_la"] = "x"
    is_la = df["geographic_level"].eq(LOCAL).to_numpy()
    fp = df["funnel_position"] if "funnel_position" in df else pd.Series(np.nan, index=df.index)
    fp = fp.astype("object").where(fp.notna(), None).to_numpy()
    funnel = np.where(pd.isna(fp), "z", fp).astype(object)
    funnel[is_la & ~shown] = "c"
    funnel[unavailable & is_la] = "x"
    funnel[~is_la] = "z"
    out["funnel_position"] = funnel
    if not config.aggregates_exact:
        for col, figure in aggregate_figures_from_published(out, md).items():
            out.loc[~is_la, col] = figure[~is_la]
    sn_rate, sn_included = neighbour_rate_strings(out, md)
    out["sn_re_entry_rate"] = sn_rate
    out["sn_neighbours_included"] = sn_included
    out["england_re_entry_rate"] = _england_strings(df, out)
    out["region_re_entry_rate"] = region_rate_strings(out)
    for col in ("standardised_ratio", "standardised_ratio_lower_ci", "standardised_ratio_upper_ci"):
        if col in df:
            out[col] = _float_strings(df[col], shown, "c", unavailable, decimals=2)
    for col in ("las_excluded",):
        if col in df:
            v = pd.to_numeric(df[col], errors="coerce")
            out[col] = np.where(v.isna(), "z", v.fillna(0).astype("int64").astype(str))
    if "unavailable_reason" in df:
        out["unavailable_reason"] = df["unavailable_reason"].to_numpy()
    cols = [c_ for c_ in REENTRY_PUBLISHED if c_ in out]
    return out[cols]


# England and regional figures that, with ``aggregates_exact`` off, are computed from the
# published rounded counts: (numerator, denominator) of each.
AGGREGATE_DERIVED = {
    "re_entry_rate": ("re_entered", "returned_home"),
    "re_entry_rate_lower_ci": ("re_entered", "returned_home"),
    "re_entry_rate_upper_ci": ("re_entered", "returned_home"),
    "re_entry_rate_any_la": ("re_entered_any_la", "returned_home"),
}


def aggregate_figures_from_published(out: pd.DataFrame, min_den: int) -> dict[str, np.ndarray]:
    """Each row's rate and Wilson bounds recomputed from its *published* counts (rounded
    for England and regions; ``x`` where a count is not a number, ``z`` over no children).
    Published this way, an England or regional rate tells a reader nothing the rounded
    counts do not, so the attacker needs only the rounding interval; the audit recomputes
    them and treats any figure that differs as computed from the unrounded counts."""
    from assets.measures.comparison import wilson_interval

    figures: dict[str, np.ndarray] = {}
    for col, (num_col, den_col) in AGGREGATE_DERIVED.items():
        if num_col not in out or den_col not in out:
            continue
        num = _published_number(out[num_col])
        den = _published_number(out[den_col])
        missing = np.isnan(num) | np.isnan(den)
        rate = _rate_strings(num, den, np.zeros(len(out), bool), missing, min_den)
        rate[(rate == "c")] = "x"  # too few children: not calculated
        if col == "re_entry_rate" or col == "re_entry_rate_any_la":
            figures[col] = rate
            continue
        lower, upper = wilson_interval(num, den)
        bound = 100 * (lower if col.endswith("lower_ci") else upper)
        shown = ~np.isin(rate, ["x", "z"])
        s = _float_strings(bound, shown, "x", missing)
        s[rate == "z"] = "z"
        figures[col] = s
    return figures


def _published_number(s: pd.Series) -> np.ndarray:
    t = s.astype("object").where(s.notna(), "x").astype(str).str.strip()
    return pd.to_numeric(t, errors="coerce").to_numpy(dtype=float)


def neighbour_rate_strings(out: pd.DataFrame, min_den: int) -> tuple[np.ndarray, np.ndarray]:
    """Each LA row's statistical neighbours' pooled rate, from the neighbours' *published*
    counts only (a neighbour whose returned_home or re_entered is withheld or not
    available is left out), and how many neighbours were included. Published when at
    least ``SN_MIN_NEIGHBOURS`` neighbours are included, else ``x``; ``z`` off LA rows.
    Computed from the published strings, so the audit can recompute it exactly."""
    n = len(out)
    rate = np.full(n, "z", dtype=object)
    included = np.full(n, "z", dtype=object)
    is_la = out["geographic_level"].eq(LOCAL).to_numpy()
    if not is_la.any():
        return rate, included
    keys = COMPARATOR_KEYS
    la = out.loc[is_la, [*keys, "old_la_code"]].copy()
    for k in ("time_period", "follow_up_months"):
        la[k] = pd.to_numeric(la[k], errors="coerce")
    la["old_la_code"] = la["old_la_code"].astype(str)
    rh = _published_number(out.loc[is_la, "returned_home"])
    re = _published_number(out.loc[is_la, "re_entered"])
    both = ~np.isnan(rh) & ~np.isnan(re)
    figures = la[both].assign(rh=rh[both], re=re[both])
    figures = figures.rename(columns={"old_la_code": "neighbour_old_la_code"})
    nb = load_statistical_neighbours()[["old_la_code", "neighbour_old_la_code"]].astype(str)
    pairs = la.reset_index(names="_row").merge(nb, on="old_la_code")
    pooled = pairs.merge(figures, on=[*keys, "neighbour_old_la_code"], how="inner")
    agg = pooled.groupby("_row", sort=True).agg(
        rh=("rh", "sum"), re=("re", "sum"), k=("neighbour_old_la_code", "count")
    )
    pos = out.index.get_indexer(la.index)
    rate[pos] = "x"
    included[pos] = "0"
    at = out.index.get_indexer(agg.index)
    included[at] = agg["k"].astype("int64").astype(str).to_numpy()
    enough = (agg["k"].to_numpy() >= SN_MIN_NEIGHBOURS) & (agg["rh"].to_numpy() >= min_den)
    s = _rate_strings(
        agg["re"].to_numpy(),
        agg["rh"].to_numpy(),
        ~enough,
        np.zeros(len(agg), bool),
        min_den,
    )
    s = np.where(enough, s, "x")
    rate[at] = s
    return rate, included


def region_rate_strings(out: pd.DataFrame) -> np.ndarray:
    """The region's published rate for the same cohort, window and characteristic, on
    every LA row and the region's own rows (``z`` for England); ``x`` where the region
    has no such row."""
    keys = [*COMPARATOR_KEYS, "region_code"]
    reg = out.loc[out["geographic_level"].eq(REGIONAL), [*keys, "re_entry_rate"]]
    merged = out[keys].merge(reg, on=keys, how="left")
    res = merged["re_entry_rate"].astype("object").where(merged["re_entry_rate"].notna(), "x")
    res = res.to_numpy(dtype=object).copy()
    res[out["geographic_level"].eq(NATIONAL).to_numpy()] = "z"
    return res


def _england_strings(df: pd.DataFrame, out: pd.DataFrame) -> np.ndarray:
    """England's rate as published in its own National row, so the two always agree."""
    match = ["time_period", "cohort_span", "follow_up_months", "characteristic_group"]
    match += ["characteristic"]
    nat = out.loc[out["geographic_level"].eq(NATIONAL), [*match, "re_entry_rate"]]
    merged = out[match].merge(nat, on=match, how="left")
    own = _float_strings(
        df.get("england_re_entry_rate", pd.Series(np.nan, index=df.index)),
        np.ones(len(df), bool),
        "c",
        np.zeros(len(df), bool),
    )
    own = np.where(own == "z", "x", own)
    return np.where(merged["re_entry_rate"].isna(), own, merged["re_entry_rate"]).astype(object)


def information_loss(
    cells: pd.DataFrame, reason: np.ndarray, unpublished: pd.Series
) -> pd.DataFrame:
    """Share of non-zero LA count cells (as computed, before table redesign) withheld by
    table design, suppressed as primary, and suppressed as secondary, per table."""
    la = cells["geographic_level"].eq(LOCAL).to_numpy() & (cells["value"].fillna(0) > 0).to_numpy()
    design = la & unpublished.to_numpy()
    rows = []
    for name in [*TABLE_COUNTS, "all"]:
        sel = la & (cells["table"].eq(name).to_numpy() if name != "all" else True)
        n = int(sel.sum())
        d = int((sel & design).sum())
        p = int((sel & ~design & (reason == "primary")).sum())
        s = int((sel & ~design & (reason == "secondary")).sum())
        rows.append(
            {
                "table": name,
                "nonzero_la_cells": n,
                "redesigned": d,
                "primary": p,
                "secondary": s,
                "redesigned_share": d / n if n else 0.0,
                "primary_share": p / n if n else 0.0,
                "secondary_share": s / n if n else 0.0,
            }
        )
    return pd.DataFrame(rows)


RATE_COLUMNS = [
    "re_entry_rate",
    "re_entry_rate_lower_ci",
    "re_entry_rate_upper_ci",
    "re_entry_rate_any_la",
    "sn_re_entry_rate",
    "england_re_entry_rate",
    "standardised_ratio",
    "standardised_ratio_lower_ci",
    "standardised_ratio_upper_ci",
]


def suppression_log(cells, reason, strings, raw: pd.DataFrame, pub: pd.DataFrame) -> pd.DataFrame:
    """One row per published figure: keys, column, true value, published string, reason."""
    log = cells[["table", *ALL_TABLE_KEYS, "column"]].copy()
    log["true_value"] = cells["value"].to_numpy()
    log["published"] = strings
    log["reason"] = reason
    parts = [log]
    for col in RATE_COLUMNS:
        if col not in pub or col not in raw:
            continue
        part = raw[TABLE_KEYS["reentry"]].copy()
        for k in ALL_TABLE_KEYS:
            if k not in part:
                part[k] = None
        part.insert(0, "table", "reentry")
        part["column"] = col
        part["true_value"] = pd.to_numeric(raw[col], errors="coerce").to_numpy(dtype=float)
        s = pub[col].to_numpy()
        part["published"] = s
        part["reason"] = np.select(
            [s == "c", s == "x", s == "z"],
            ["rate_withheld", "not_available", "not_applicable"],
            "published",
        )
        parts.append(part[log.columns])
    out = pd.concat(parts, ignore_index=True)
    out["true_value"] = out["true_value"].astype("Float64")
    for k in ("time_period", "follow_up_months"):
        out[k] = pd.to_numeric(out[k], errors="coerce").astype("Int64")
    return out.sort_values(
        ["table", *ALL_TABLE_KEYS, "column"], kind="stable", na_position="first"
    ).reset_index(drop=True)
