"""The attacker: an independent linear-programming audit of a disclosure-controlled release.

For every suppressed cell it finds the smallest and largest value consistent with
everything a reader can see: every published figure, every relation the tables obey
(geography, breakdowns, complements, nested windows, pooled years, the context tables,
rates), the suppression rule (a ``c`` is a count of at least 1, because zeros are
published) and that counts are non-negative. A primary-suppressed cell is protected only
if that interval spans at least ``protection_width`` (max - min >= 4 by default); this is
the "protection interval" criterion of Hundepool et al., *Statistical Disclosure Control*
(Wiley 2012), section 5.2 and chapter 4 on linked tables.

Independence: this module never imports the suppression code's relation builder; it
rebuilds every relation from the published tables' structure alone, so a relation the
suppression step forgot is still used against it. ``suppression_log`` is read only for
each cell's true value (to report it and to check that every relation used really holds)
and whether it was primarily suppressed.

Attacker knowledge, chosen to be at least as strong as a real reader:
- National and regional counts: by default the attacker is granted their *unrounded*
  values. Published regional rates and confidence intervals are computed from unrounded
  counts (DfE practice), which narrows the rounded figures a great deal, so rounding to 10
  is not relied on to protect local-authority cells. This also makes the system split into
  small independent components (LA cells of one region). With
  ``exact_aggregates=False`` the attacker sees only the rounding interval [r-5, r+4].
- A published rate is the interval [r-0.5, r+0.5) of 100 x numerator / denominator, a
  linear constraint in integers: (2r-1) den <= 200 num <= (2r+1) den - 1. Nonlinear
  figures (Wilson bounds, funnel position, statistical-neighbour rates, standardised
  ratios) must only be published over known counts; if one is published over a suppressed
  count the audit fails that cell outright.
- Across releases: the previous release's published tables are added as a second copy of
  the system, and a cell whose true value did not change between releases is the same
  variable in both, so differencing the two releases is part of the attack.

The LP is solved with HiGHS (scipy.optimize.linprog). LP bounds are rounded inwards to
integers (ceil of the minimum, floor of the maximum). For speed the audit first collects
feasible points from a few LPs with shared objectives over all components at once (any
two feasible points prove a lower bound on a cell's range), then solves the exact minimum
and maximum only for cells those points do not already show to be wide.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components

from assets.reference import load_statistical_neighbours
from validation.contracts import TABLE_COUNTS, TABLE_KEYS

if TYPE_CHECKING:  # pragma: no cover - typing only; no runtime dependency on suppression
    from assets.disclosure import DisclosureConfig, PublishedTables

LA, REGION, NATION = "Local authority", "Regional", "National"
SINGLE_YEAR = "Single year"
TOTAL = "Total"

ALL_KEYS = list(dict.fromkeys(k for keys in TABLE_KEYS.values() for k in keys))
INT_KEYS = ("time_period", "follow_up_months")
# Rates whose published value is a linear constraint on (numerator, denominator).
LINEAR_RATES = {
    "re_entry_rate": ("re_entered", "returned_home"),
    "re_entry_rate_any_la": ("re_entered_any_la", "returned_home"),
}
# Published figures that are nonlinear in counts: allowed only over known counts.
NONLINEAR = {
    "re_entry_rate_lower_ci": ("re_entered", "returned_home"),
    "re_entry_rate_upper_ci": ("re_entered", "returned_home"),
    "funnel_position": ("re_entered", "returned_home"),
    "standardised_ratio": ("re_entered", "returned_home"),
    "standardised_ratio_lower_ci": ("re_entered", "returned_home"),
    "standardised_ratio_upper_ci": ("re_entered", "returned_home"),
}
SYMBOLS_NOT_PUBLISHED = {"c", "x", "z"}
# Geographic sums whose parts may be incomplete (parts <= total still holds).
PARTIAL_SUMS = ("la_to_region", "ceased_la_to_region")
BIG = 1_000_000.0  # an upper bound no count in England can reach
EPS = 1e-6


@dataclass(frozen=True)
class AuditResult:
    """What the attacker could learn. ``failures`` lists every primary cell narrower than
    the protection width (and any cell exposed by a nonlinear figure), with its true value
    and feasible range; ``intervals`` has every checked cell's range (restricted: it holds
    true values)."""

    passed: bool
    cells_checked: int
    narrowest_width: int | None
    cells_by_reason: dict[str, int]
    failures: pd.DataFrame
    components: int
    seconds: float
    largest_component: int = 0
    relations: int = 0
    relations_not_holding: int = 0
    lp_solves: int = 0
    certificates_accepted: int = 0
    certificates_rejected: int = 0
    intervals: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)


# --------------------------------------------------------------------------------------
# Cells: every published count, with what the attacker knows about it
# --------------------------------------------------------------------------------------


def _normalise_keys(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    for k in ALL_KEYS:
        if k not in df:
            df[k] = np.nan
        if k in INT_KEYS:
            df[k] = pd.to_numeric(df[k], errors="coerce").astype("Float64").astype("float64")
        else:
            s = df[k]
            present = s.notna().to_numpy().copy()
            text = s.astype("object").where(present, "").astype(str).to_numpy(dtype=object)
            present &= text != ""
            text[~present] = None
            df[k] = pd.Series(text, index=df.index, dtype="object")
    return df


def _long_cells(tables: dict[str, pd.DataFrame], release: str) -> pd.DataFrame:
    """One row per published count cell: release, table, row, key columns, column,
    published string."""
    parts = []
    for name, df in tables.items():
        if df is None or len(df) == 0:
            continue
        base = _normalise_keys(df[[k for k in TABLE_KEYS[name] if k in df]])
        for col in TABLE_COUNTS[name]:
            if col not in df:
                continue
            part = base.copy()
            part["release"] = release
            part["table"] = name
            part["row"] = np.arange(len(df))
            part["column"] = col
            part["published"] = df[col].astype("object").where(df[col].notna(), "x").astype(str)
            parts.append(part)
    cols = ["release", "table", "row", *ALL_KEYS, "column", "published"]
    if not parts:
        return pd.DataFrame(columns=cols)
    return pd.concat(parts, ignore_index=True)[cols]


def _attach_log(cells: pd.DataFrame, log: pd.DataFrame | None) -> pd.DataFrame:
    cells = cells.copy()
    if log is None or len(log) == 0:
        cells["true_value"] = np.nan
        cells["log_reason"] = None
        return cells
    # Only count cells take part in the attack: drop rate rows before the (costly) key
    # normalisation.
    lg = log[log["column"].isin({c for cs in TABLE_COUNTS.values() for c in cs})]
    lg = _normalise_keys(lg)
    lg = lg[["table", *ALL_KEYS, "column", "true_value", "reason"]].rename(
        columns={"reason": "log_reason"}
    )
    lg["true_value"] = pd.to_numeric(lg["true_value"], errors="coerce").astype("float64")
    lg = lg.drop_duplicates(["table", *ALL_KEYS, "column"])
    out = cells.merge(lg, on=["table", *ALL_KEYS, "column"], how="left", sort=False)
    if len(out) != len(cells):  # pragma: no cover - guarded by drop_duplicates
        raise ValueError("suppression_log has duplicate cells")
    return out


def _knowledge(cells: pd.DataFrame, rounding_base: int, exact_aggregates: bool) -> pd.DataFrame:
    """Bounds [lo, hi] on each cell implied by its published string alone; ``known`` when
    lo == hi; ``avail`` False for x / z (the cell takes part in no relation)."""
    s = cells["published"].astype(str).str.strip()
    num = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
    is_la = cells["geographic_level"].eq(LA).to_numpy()
    half = rounding_base // 2
    lo = np.full(len(cells), np.nan)
    hi = np.full(len(cells), np.nan)
    isnum = ~np.isnan(num)
    la_num = isnum & is_la
    lo[la_num] = hi[la_num] = num[la_num]
    agg_num = isnum & ~is_la
    zero = agg_num & (num == 0)
    lo[zero] = hi[zero] = 0
    rounded = agg_num & (num != 0)
    lo[rounded] = np.maximum(num[rounded] - half, 0)
    hi[rounded] = num[rounded] + half - 1
    k = (s == "k").to_numpy()
    lo[k] = 1
    hi[k] = max(half - 1, 1)
    c = (s == "c").to_numpy()
    lo[c] = 1
    hi[c] = BIG
    avail = isnum | k | c
    true = cells["true_value"].to_numpy(dtype=float)
    if exact_aggregates:
        grant = (~is_la) & (rounded | k) & ~np.isnan(true)
        lo[grant] = hi[grant] = true[grant]
    out = cells.copy()
    out["lo"], out["hi"], out["avail"] = lo, hi, avail
    out["suppressed"] = c
    return out


# --------------------------------------------------------------------------------------
# Relations rebuilt from the tables' structure
# --------------------------------------------------------------------------------------


class _Relations:
    """Sparse linear relations sum(coef * cell) in [lo, hi], collected by kind."""

    def __init__(self) -> None:
        self.parts: list[pd.DataFrame] = []
        self.bounds: list[pd.DataFrame] = []
        self.n = 0

    def add(self, rel: np.ndarray, cid: np.ndarray, coef: np.ndarray, lo, hi, kind: str) -> None:
        if len(rel) == 0:
            return
        uniq, local = np.unique(rel, return_inverse=True)
        k = len(uniq)
        self.parts.append(pd.DataFrame({"rel": local + self.n, "cid": cid, "coef": coef}))
        lo_a = np.broadcast_to(np.asarray(lo, dtype=float), (k,)) if np.ndim(lo) == 0 else lo
        hi_a = np.broadcast_to(np.asarray(hi, dtype=float), (k,)) if np.ndim(hi) == 0 else hi
        self.bounds.append(
            pd.DataFrame({"rel": np.arange(k) + self.n, "lo": lo_a, "hi": hi_a, "kind": kind})
        )
        self.n += k

    def sum_to_total(
        self, sub: pd.DataFrame, by: list[str], is_total: np.ndarray, kind: str, drop_parts=False
    ) -> None:
        """Parts sum to their total within each group of ``by``. Relations with an
        unavailable member are not used, except that unavailable parts are dropped when
        ``drop_parts`` (an LA with no usable return contributes nothing to its region)."""
        if len(sub) == 0:
            return
        is_total = np.asarray(is_total, dtype=bool)
        if drop_parts:
            keep = sub["avail"].to_numpy() | is_total
            sub, is_total = sub[keep], is_total[keep]
        g = sub.groupby(by, dropna=False, sort=False).ngroup().to_numpy()
        n = g.max() + 1
        av = sub["avail"].to_numpy()
        n_tot = np.bincount(g, is_total, n)
        n_part = np.bincount(g, ~is_total, n)
        n_bad = np.bincount(g, ~av, n)
        ok = (n_tot == 1) & (n_part >= 1) & (n_bad == 0)
        keep = ok[g]
        self.add(
            g[keep],
            sub["cid"].to_numpy()[keep],
            np.where(is_total[keep], -1.0, 1.0),
            0.0,
            0.0,
            kind,
        )

    def pairs(self, a: np.ndarray, b: np.ndarray, kind: str, equal: bool) -> None:
        """a - b == 0 (equal) or a - b <= 0."""
        if len(a) == 0:
            return
        rel = np.repeat(np.arange(len(a)), 2)
        cid = np.column_stack([a, b]).ravel()
        coef = np.tile([1.0, -1.0], len(a))
        self.add(rel, cid, coef, 0.0 if equal else -np.inf, 0.0, kind)

    def frame(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        if not self.parts:
            return (
                pd.DataFrame({"rel": [], "cid": [], "coef": []}),
                pd.DataFrame({"rel": [], "lo": [], "hi": [], "kind": []}),
            )
        return pd.concat(self.parts, ignore_index=True), pd.concat(self.bounds, ignore_index=True)


def _pair_frame(left: pd.DataFrame, right: pd.DataFrame, on: list[str]) -> tuple:
    m = left[[*on, "cid"]].merge(right[[*on, "cid"]], on=on, suffixes=("_a", "_b"))
    return m["cid_a"].to_numpy(), m["cid_b"].to_numpy()


def with_group_totals(r: pd.DataFrame) -> pd.DataFrame:
    """The breakdown rows (groups other than Total) plus, for each group with no Total
    row of its own, a copy of the overall Total rows relabelled as that group's Total
    (same index, so the copies are the same cells). Every breakdown's categories sum to
    the whole cohort whether or not the table repeats the Total inside each group."""
    parts = r[r["characteristic_group"].ne(TOTAL)]
    overall = r[r["characteristic_group"].eq(TOTAL) & r["characteristic"].eq(TOTAL)]
    own = set(parts.loc[parts["characteristic"].eq(TOTAL), "characteristic_group"].unique())
    missing = [g for g in parts["characteristic_group"].dropna().unique() if g not in own]
    copies = [overall.assign(characteristic_group=g) for g in sorted(missing)]
    return pd.concat([parts, *copies]) if copies else parts


def _reentry_relations(rel: _Relations, r: pd.DataFrame) -> None:
    keys = ["release", *TABLE_KEYS["reentry"]]
    col = r["column"]
    # returned home = re-entered + not re-entered, on every row.
    sub = r[col.isin(["returned_home", "re_entered", "not_re_entered"])]
    rel.sum_to_total(sub, keys, sub["column"].eq("returned_home").to_numpy(), "complement")
    # Categories within a breakdown group add up to that group's Total, or, for a group
    # published without a Total row of its own, to the overall Total row.
    sub = with_group_totals(r)
    by = [k for k in keys if k != "characteristic"] + ["column"]
    rel.sum_to_total(sub, by, sub["characteristic"].eq(TOTAL).to_numpy(), "categories")
    # Each group's Total is the whole cohort.
    on = [k for k in keys if k not in ("characteristic_group", "characteristic")] + ["column"]
    grp_tot = r[r["characteristic_group"].ne(TOTAL) & r["characteristic"].eq(TOTAL) & r["avail"]]
    all_tot = r[r["characteristic_group"].eq(TOTAL) & r["avail"]]
    a, b = _pair_frame(grp_tot, all_tot, on)
    rel.pairs(a, b, "group_total", equal=True)
    # Geography: LAs to their region, regions to England (usable LAs only).
    geo = ["release", "time_period", "cohort_span", "follow_up_months"]
    geo += ["characteristic_group", "characteristic", "column"]
    sub = r[r["geographic_level"].isin([LA, REGION])]
    is_tot = sub["geographic_level"].eq(REGION).to_numpy()
    rel.sum_to_total(sub, [*geo, "region_code"], is_tot, "la_to_region", drop_parts=True)
    sub = r[r["geographic_level"].isin([REGION, NATION])]
    is_tot = sub["geographic_level"].eq(NATION).to_numpy()
    rel.sum_to_total(sub, geo, is_tot, "region_to_england", drop_parts=True)
    # Windows: the same cohort has the same returned_home in every window; cumulative
    # counts cannot fall as the window lengthens.
    win = [k for k in keys if k != "follow_up_months"] + ["column"]
    nested = r[
        r["avail"]
        & r["column"].isin(
            ["returned_home", "re_entered", "re_entered_any_la", "turned_18_in_window"]
        )
    ].sort_values([*win, "follow_up_months"], kind="stable", na_position="first")
    prev = nested.groupby(win, dropna=False, sort=False)["cid"].shift(1)
    has = prev.notna().to_numpy()
    a = prev.to_numpy()[has].astype(np.int64)
    b = nested["cid"].to_numpy()[has]
    is_rh = nested["column"].eq("returned_home").to_numpy()[has]
    rel.pairs(a[is_rh], b[is_rh], "window_same_cohort", equal=True)
    rel.pairs(a[~is_rh], b[~is_rh], "window_nesting", equal=False)
    nested_nre = r[r["avail"] & r["column"].eq("not_re_entered")].sort_values(
        [*win, "follow_up_months"], kind="stable", na_position="first"
    )
    prev = nested_nre.groupby(win, dropna=False, sort=False)["cid"].shift(1)
    has = prev.notna().to_numpy()
    # not re-entered can only fall: later <= earlier.
    rel.pairs(
        nested_nre["cid"].to_numpy()[has],
        prev.to_numpy()[has].astype(np.int64),
        "window_nesting",
        equal=False,
    )
    # Within a row: re_entered <= re_entered_any_la <= returned_home, turned_18 <= returned.
    avail = r[r["avail"]]
    by_col = {c: avail[avail["column"].eq(c)] for c in TABLE_COUNTS["reentry"]}
    for small, big in [
        ("re_entered", "re_entered_any_la"),
        ("re_entered_any_la", "returned_home"),
        ("turned_18_in_window", "returned_home"),
    ]:
        a, b = _pair_frame(by_col[small], by_col[big], keys)
        rel.pairs(a, b, "row_order", equal=False)
    # Pooled spans: the pooled row is the sum of its single-year rows.
    pooled = r[r["cohort_span"].ne(SINGLE_YEAR)]
    if len(pooled):
        span = pooled["cohort_span"].str.extract(r"^(\d{4}) to (\d{4})$").astype(float)
        ok = span.notna().all(axis=1).to_numpy()
        pooled, span = pooled[ok], span[ok]
        first = span[0].to_numpy().astype(int)
        last = span[1].to_numpy().astype(int)
        n_years = last - first + 1
        rows = np.repeat(np.arange(len(pooled)), n_years)
        years = np.concatenate([np.arange(f, la + 1) for f, la in zip(first, last, strict=True)])
        other = [k for k in keys if k not in ("time_period", "cohort_span")] + ["column"]
        want = pooled.iloc[rows][[*other, "cid", "avail"]].reset_index(drop=True)
        want["time_period"] = years.astype(float)
        want["n_years"] = n_years[rows]
        singles = r[r["cohort_span"].eq(SINGLE_YEAR)]
        m = want.merge(
            singles[[*other, "time_period", "cid", "avail"]],
            on=[*other, "time_period"],
            how="left",
            suffixes=("_p", ""),
        )
        m["found"] = m["cid"].notna() & m["avail"].fillna(False).astype(bool)
        g = m.groupby("cid_p", sort=False)
        complete = (g["found"].transform("sum") == m["n_years"]) & m["avail_p"].astype(bool)
        m = m[complete.to_numpy()]
        if len(m):
            tot = m.drop_duplicates("cid_p")
            relid = np.concatenate([m["cid_p"].to_numpy(), tot["cid_p"].to_numpy()])
            cid = np.concatenate([m["cid"].to_numpy().astype(np.int64), tot["cid_p"].to_numpy()])
            coef = np.concatenate([np.ones(len(m)), -np.ones(len(tot))])
            rel.add(relid, cid, coef, 0.0, 0.0, "pooled_years")


def _ceased_relations(rel: _Relations, c: pd.DataFrame) -> None:
    keys = ["release", *TABLE_KEYS["ceased_by_reason"]]
    by = [k for k in keys if k != "reason_group"] + ["column"]
    rel.sum_to_total(c, by, c["reason_group"].eq(TOTAL).to_numpy(), "ceased_categories")
    geo = ["release", "time_period", "reason_group", "column"]
    sub = c[c["geographic_level"].isin([LA, REGION])]
    rel.sum_to_total(
        sub,
        [*geo, "region_code"],
        sub["geographic_level"].eq(REGION).to_numpy(),
        "ceased_la_to_region",
        drop_parts=True,
    )
    sub = c[c["geographic_level"].isin([REGION, NATION])]
    rel.sum_to_total(
        sub,
        geo,
        sub["geographic_level"].eq(NATION).to_numpy(),
        "ceased_region_to_england",
        drop_parts=True,
    )


def _time_to_reentry_relations(rel: _Relations, t: pd.DataFrame, r: pd.DataFrame) -> None:
    keys = ["release", *TABLE_KEYS["time_to_reentry"]]
    by = [k for k in keys if k != "time_band"] + ["column"]
    rel.sum_to_total(t, by, t["time_band"].eq(TOTAL).to_numpy(), "time_band_categories")
    sub = t[t["geographic_level"].isin([REGION, NATION])]
    rel.sum_to_total(
        sub,
        ["release", "time_period", "time_band", "column"],
        sub["geographic_level"].eq(NATION).to_numpy(),
        "time_band_region_to_england",
        drop_parts=True,
    )
    # Its Total is the 60-month re-entered Total of the main table.
    on = ["release", "time_period", "geographic_level", "region_code"]
    tt = t[t["time_band"].eq(TOTAL) & t["avail"]]
    rr = r[
        r["avail"]
        & r["column"].eq("re_entered")
        & r["follow_up_months"].eq(60)
        & r["cohort_span"].eq(SINGLE_YEAR)
        & r["characteristic_group"].eq(TOTAL)
        & r["characteristic"].eq(TOTAL)
    ]
    a, b = _pair_frame(tt, rr, on)
    rel.pairs(a, b, "time_band_total_is_60_month", equal=True)


def _build_relations(cells: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    rel = _Relations()
    r = cells[cells["table"].eq("reentry")]
    if len(r):
        _reentry_relations(rel, r)
    c = cells[cells["table"].eq("ceased_by_reason")]
    if len(c):
        _ceased_relations(rel, c)
    t = cells[cells["table"].eq("time_to_reentry")]
    if len(t):
        _time_to_reentry_relations(rel, t, r)
    # Across releases: an unchanged cell is the same number in both.
    if cells["release"].nunique() > 1:
        on = ["table", *ALL_KEYS, "column"]
        cur = cells[cells["release"].eq("current") & cells["avail"]]
        prv = cells[cells["release"].eq("previous") & cells["avail"]]
        m = cur[[*on, "cid", "true_value"]].merge(
            prv[[*on, "cid", "true_value"]], on=on, suffixes=("_a", "_b")
        )
        same = (m["true_value_a"] == m["true_value_b"]).to_numpy()
        rel.pairs(
            m["cid_a"].to_numpy()[same],
            m["cid_b"].to_numpy()[same],
            "unchanged_since_previous",
            equal=True,
        )
    return rel.frame()


def _rate_relations(
    cells: pd.DataFrame, tables: dict[str, dict[str, pd.DataFrame]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Published whole-number rates over unknown counts, as integer-exact linear rows."""
    rel = _Relations()
    r = cells[cells["table"].eq("reentry")]
    for release, tabs in tables.items():
        df = tabs.get("reentry")
        if df is None or len(df) == 0:
            continue
        rr = r[r["release"].eq(release)]
        cid = rr.pivot(index="row", columns="column", values="cid")
        unknown = rr.pivot(index="row", columns="column", values="unknown")
        for rate, (num, den) in LINEAR_RATES.items():
            if rate not in df or num not in cid or den not in cid:
                continue
            s = df[rate].astype("object").where(df[rate].notna(), "x").astype(str).str.strip()
            val = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
            is_k = (s == "k").to_numpy()
            rows = np.arange(len(df))
            risky = (unknown[num].to_numpy(bool) | unknown[den].to_numpy(bool))[rows]
            use = risky & (~np.isnan(val) | is_k)
            if not use.any():
                continue
            n_id = cid[num].to_numpy()[use].astype(np.int64)
            d_id = cid[den].to_numpy()[use].astype(np.int64)
            v = np.where(is_k[use], 0.0, val[use])
            k = is_k[use]
            # 200 num - (2r-1) den >= 0 (skipped for 'k': num >= 1 is the rule there)
            m = len(n_id)
            idx = np.arange(m)
            lower_rows = idx[~k]
            rel.add(
                np.repeat(lower_rows, 2),
                np.column_stack([n_id[~k], d_id[~k]]).ravel(),
                np.column_stack([np.full((~k).sum(), 200.0), -(2 * v[~k] - 1)]).ravel(),
                0.0,
                np.inf,
                f"{rate}_lower",
            )
            rel.add(
                np.repeat(idx, 2),
                np.column_stack([n_id, d_id]).ravel(),
                np.column_stack([np.full(m, 200.0), -(2 * v + 1)]).ravel(),
                -np.inf,
                -1.0,
                f"{rate}_upper",
            )
            if k.any():
                rel.add(
                    np.arange(k.sum()),
                    n_id[k],
                    np.ones(k.sum()),
                    1.0,
                    np.inf,
                    f"{rate}_k_nonzero",
                )
    return rel.frame()


def _nonlinear_exposures(
    cells: pd.DataFrame, tables: dict[str, dict[str, pd.DataFrame]]
) -> pd.DataFrame:
    """Suppressed cells of the current release that a published nonlinear figure (Wilson
    bound, funnel position, standardised ratio, neighbours' rate) was computed from."""
    df = tables.get("current", {}).get("reentry")
    r = cells[cells["table"].eq("reentry") & cells["release"].eq("current")]
    if df is None or len(df) == 0 or len(r) == 0:
        return pd.DataFrame(columns=["cid", "exposed_by"])
    unknown = r.pivot(index="row", columns="column", values="unknown")
    cid = r.pivot(index="row", columns="column", values="cid")
    out = []
    for fig, (num, den) in NONLINEAR.items():
        if fig not in df or num not in cid:
            continue
        s = df[fig].astype("object").where(df[fig].notna(), "x").astype(str).str.strip()
        shown = ~s.isin(SYMBOLS_NOT_PUBLISHED).to_numpy()
        for c in (num, den):
            hit = shown & unknown[c].to_numpy(bool)
            out.append(pd.DataFrame({"cid": cid[c].to_numpy()[hit], "exposed_by": fig}))
    if "sn_re_entry_rate" in df:
        s = df["sn_re_entry_rate"].astype("object").where(df["sn_re_entry_rate"].notna(), "x")
        shown = ~s.astype(str).str.strip().isin(SYMBOLS_NOT_PUBLISHED).to_numpy()
        keys = ["time_period", "cohort_span", "follow_up_months", "characteristic_group"]
        keys += ["characteristic"]
        la = r[r["geographic_level"].eq(LA) & r["column"].isin(["returned_home", "re_entered"])]
        rows = la.drop_duplicates("row").set_index("row")
        shown_rows = rows[shown[rows.index.to_numpy()]][[*keys, "old_la_code"]]
        nb = load_statistical_neighbours()[["old_la_code", "neighbour_old_la_code"]]
        pairs = shown_rows.merge(nb, on="old_la_code")
        hidden = la[la["unknown"]].rename(columns={"old_la_code": "neighbour_old_la_code"})
        hits = pairs.merge(
            hidden[[*keys, "neighbour_old_la_code", "cid"]], on=[*keys, "neighbour_old_la_code"]
        )
        out.append(pd.DataFrame({"cid": hits["cid"].to_numpy(), "exposed_by": "sn_re_entry_rate"}))
    if not out:
        return pd.DataFrame(columns=["cid", "exposed_by"])
    res = pd.concat(out, ignore_index=True)
    return res.drop_duplicates("cid").astype({"cid": np.int64})


# --------------------------------------------------------------------------------------
# The attacker's system and its solution
# --------------------------------------------------------------------------------------


@dataclass
class AttackerSystem:
    """Cells (with bounds), relations, and the unknown-variable view of both."""

    cells: pd.DataFrame
    triplets: pd.DataFrame
    rel_bounds: pd.DataFrame
    relations_not_holding: int
    nonlinear: pd.DataFrame
    # A value per cell that satisfies every kept relation: the true value where the log
    # has one, else the published value of a known cell (NaN otherwise).
    base_values: np.ndarray = field(default_factory=lambda: np.array([]))


def build_attacker_system(
    tables: dict[str, pd.DataFrame],
    log: pd.DataFrame | None,
    *,
    rounding_base: int = 10,
    exact_aggregates: bool = True,
    previous_tables: dict[str, pd.DataFrame] | None = None,
    previous_log: pd.DataFrame | None = None,
) -> AttackerSystem:
    """Everything the attacker knows, as cells with bounds and linear relations.

    ``tables``: the published ``reentry``, ``ceased_by_reason`` and ``time_to_reentry``
    (strings). ``log``: the suppression log (true values and reasons).
    """
    parts = [_attach_log(_long_cells(tables, "current"), log)]
    releases = {"current": tables}
    if previous_tables is not None:
        parts.append(_attach_log(_long_cells(previous_tables, "previous"), previous_log))
        releases["previous"] = previous_tables
    cells = pd.concat(parts, ignore_index=True)
    cells = _knowledge(cells, rounding_base, exact_aggregates)
    cells["cid"] = np.arange(len(cells), dtype=np.int64)
    cells["unknown"] = cells["avail"] & (cells["lo"] < cells["hi"])
    trip, bounds = _build_relations(cells)
    rtrip, rbounds = _rate_relations(cells, releases)
    if len(rtrip):
        off = len(bounds)
        rtrip = rtrip.assign(rel=rtrip["rel"] + off)
        rbounds = rbounds.assign(rel=rbounds["rel"] + off)
        trip = pd.concat([trip, rtrip], ignore_index=True)
        bounds = pd.concat([bounds, rbounds], ignore_index=True)
    trip = trip.astype({"rel": np.int64, "cid": np.int64, "coef": float})
    # Keep only relations that hold on the true values: a relation that does not hold is
    # not something the attacker can know, and using it would make the audit unsound.
    bad = 0
    true = cells["true_value"].to_numpy(dtype=float)
    # For cells with no log value, a known cell's published value is its true value.
    known_val = np.where(cells["lo"].to_numpy() == cells["hi"].to_numpy(), cells["lo"], np.nan)
    val = np.where(np.isnan(true), known_val, true)
    if len(trip):
        v = val[trip["cid"].to_numpy()]
        lhs = np.bincount(
            trip["rel"].to_numpy(),
            trip["coef"].to_numpy() * np.nan_to_num(v),
            minlength=len(bounds),
        )
        missing = np.bincount(trip["rel"].to_numpy(), np.isnan(v), minlength=len(bounds)) > 0
        lo = bounds["lo"].to_numpy()
        hi = bounds["hi"].to_numpy()
        holds = missing | ((lhs >= lo - EPS) & (lhs <= hi + EPS))
        # An area's LAs can fall short of its total when an LA has no row of its own (an
        # authority abolished inside a pooled span, such as Dorset's in 2019): the reader
        # still knows the listed LAs cannot exceed it, so that sum becomes an inequality.
        short = ~holds & bounds["kind"].isin(PARTIAL_SUMS).to_numpy() & (lhs < lo)
        bounds.loc[short, "lo"] = -np.inf
        holds |= short
        bad = int((~holds).sum())
        if bad:
            keep_rel = np.flatnonzero(holds)
            remap = np.full(len(bounds), -1)
            remap[keep_rel] = np.arange(len(keep_rel))
            trip = trip[holds[trip["rel"].to_numpy()]].copy()
            trip["rel"] = remap[trip["rel"].to_numpy()]
            bounds = bounds.iloc[keep_rel].reset_index(drop=True)
            bounds["rel"] = np.arange(len(bounds))
    nonlinear = _nonlinear_exposures(cells, releases)
    return AttackerSystem(cells, trip, bounds, bad, nonlinear, val)


def _components(sys_: AttackerSystem, unknown: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Variable index of each unknown cell and its connected component label."""
    var_of = np.full(len(unknown), -1)
    var_cells = np.flatnonzero(unknown)
    var_of[var_cells] = np.arange(len(var_cells))
    t = sys_.triplets
    v = var_of[t["cid"].to_numpy()]
    mask = v >= 0
    rows = t["rel"].to_numpy()[mask]
    cols = v[mask]
    n = len(var_cells)
    if n == 0:
        return var_of, np.array([], dtype=int)
    inc = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(sys_.rel_bounds), n))
    adj = (inc.T @ inc).tocsr()
    _, labels = connected_components(adj, directed=False)
    return var_of, labels


def _lp_matrix(sys_: AttackerSystem, unknown: np.ndarray, var_of: np.ndarray):
    """Relations restricted to unknown variables, with known cells moved to the bounds."""
    t = sys_.triplets
    cid = t["cid"].to_numpy()
    rel = t["rel"].to_numpy()
    coef = t["coef"].to_numpy()
    cells = sys_.cells
    lo_c = cells["lo"].to_numpy()
    is_unknown = unknown[cid]
    const = np.bincount(
        rel[~is_unknown],
        coef[~is_unknown] * np.nan_to_num(lo_c[cid[~is_unknown]]),
        minlength=len(sys_.rel_bounds),
    )
    n_unknown = np.bincount(rel[is_unknown], minlength=len(sys_.rel_bounds))
    active = np.flatnonzero(n_unknown > 0)
    row_of = np.full(len(sys_.rel_bounds), -1)
    row_of[active] = np.arange(len(active))
    keep = is_unknown & (row_of[rel] >= 0)
    a = sparse.csr_matrix(
        (coef[keep], (row_of[rel[keep]], var_of[cid[keep]])),
        shape=(len(active), int(unknown.sum())),
    )
    rlo = sys_.rel_bounds["lo"].to_numpy()[active] - const[active]
    rhi = sys_.rel_bounds["hi"].to_numpy()[active] - const[active]
    return a, rlo, rhi


class _WarmLP:
    """One LP (fixed constraints) re-solved under many objectives. With ``solver``
    "simplex" HiGHS keeps its basis between solves, so each new objective costs a few
    simplex iterations; "ipm" (interior point, presolve on) re-solves from scratch, which
    is faster on large components whose objective changes wholesale. Falls back to
    scipy.optimize.linprog (also HiGHS) if the bundled bindings are unavailable."""

    def __init__(self, a: sparse.csr_matrix, rlo, rhi, vlo, vhi, solver: str = "simplex"):
        self.n = a.shape[1]
        self.args = (a, rlo, rhi, vlo, vhi)
        try:
            from scipy.optimize._highspy import _core
        except ImportError:  # pragma: no cover - scipy layout changed
            self.h = None
            return
        inf = np.inf
        csc = a.tocsc()
        lp = _core.HighsLp()
        lp.num_col_, lp.num_row_ = a.shape[1], a.shape[0]
        lp.col_cost_ = np.zeros(self.n)
        lp.col_lower_ = np.asarray(vlo, float)
        lp.col_upper_ = np.asarray(vhi, float)
        lp.row_lower_ = np.where(np.isfinite(rlo), rlo, -inf).astype(float)
        lp.row_upper_ = np.where(np.isfinite(rhi), rhi, inf).astype(float)
        lp.a_matrix_.format_ = _core.MatrixFormat.kColwise
        lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
        lp.a_matrix_.index_ = csc.indices.astype(np.int32)
        lp.a_matrix_.value_ = csc.data.astype(float)
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = a.shape[1], a.shape[0]
        h = _core._Highs()
        h.setOptionValue("output_flag", False)
        if solver == "simplex":
            # Warm starts need the simplex basis kept between objectives: no presolve.
            h.setOptionValue("presolve", "off")
        h.setOptionValue("solver", solver)
        h.passModel(lp)
        self.h, self.core = h, _core
        self.idx = np.arange(self.n, dtype=np.int32)

    def solve(self, c: np.ndarray) -> np.ndarray:
        if self.h is None:  # pragma: no cover
            return _solve_linprog(np.asarray(c, float), *self.args)
        self.h.changeColsCost(self.n, self.idx, np.asarray(c, float))
        self.h.run()
        status = self.h.getModelStatus()
        if status != self.core.HighsModelStatus.kOptimal:
            # Rare numerical trouble: solve cold instead.
            return _solve_linprog(np.asarray(c, float), *self.args)
        return np.asarray(self.h.getSolution().col_value)


def _solve_linprog(c, a, rlo, rhi, vlo, vhi):
    eq = rlo == rhi
    ub_hi = ~eq & np.isfinite(rhi)
    ub_lo = ~eq & np.isfinite(rlo)
    a_ub = sparse.vstack([a[ub_hi], -a[ub_lo]]).tocsr()
    b_ub = np.concatenate([rhi[ub_hi], -rlo[ub_lo]])
    res = linprog(
        c,
        A_ub=a_ub if a_ub.shape[0] else None,
        b_ub=b_ub if a_ub.shape[0] else None,
        A_eq=a[eq] if eq.any() else None,
        b_eq=rlo[eq] if eq.any() else None,
        bounds=np.column_stack([vlo, vhi]),
        method="highs",
    )
    if res.status != 0:
        raise RuntimeError(f"attacker LP did not solve: {res.message}")
    return res.x


def _neighbourhoods(adj: sparse.csr_matrix, starts: np.ndarray, max_vars: int) -> sparse.coo_matrix:
    """For each start variable, itself and its nearest variables in the relation graph
    (breadth first; within the last ring, lowest index first), at most ``max_vars``.
    Returned as a 0/1 matrix (start x variable)."""
    n_start, n = len(starts), adj.shape[0]
    sel = sparse.csr_matrix((np.ones(n_start), (np.arange(n_start), starts)), shape=(n_start, n))
    size = np.ones(n_start, dtype=np.int64)
    frontier = sel
    while frontier.nnz:
        ring = (frontier @ adj).tocsr()
        ring.data[:] = 1.0
        ring = (ring - ring.multiply(sel)).tocoo()
        keep = ring.data > 0
        r, c = ring.row[keep], ring.col[keep]
        order = np.lexsort((c, r))
        r, c = r[order], c[order]
        first = np.searchsorted(r, r, side="left")
        rank = np.arange(len(r)) - first
        take = rank < (max_vars - size)[r]
        r, c = r[take], c[take]
        if len(r) == 0:
            break
        frontier = sparse.csr_matrix((np.ones(len(r)), (r, c)), shape=(n_start, n))
        sel = sel + frontier
        size += np.bincount(r, minlength=n_start)
    return sel.tocoo()


def certify_local(
    sys_: AttackerSystem,
    unknown: np.ndarray,
    targets: np.ndarray,
    *,
    max_vars: int = 120,
    chunk_vars: int = 40_000,
) -> pd.DataFrame:
    """Proven-attainable range of each target cell from small local LPs.

    For each target, it and its ``max_vars`` nearest unknown cells (through shared
    relations) are free; every other unknown cell is held at its true value. Held cells
    satisfy every relation (relations that do not hold on the true values were dropped),
    so any solution of the local LP, completed with the true values, is a feasible point
    of the whole attacker's system: the local minimum and maximum are values the attacker
    cannot rule out. The range is therefore an inner bound on the true feasible range -
    enough to prove a cell protected, never to prove it exposed (``solve_ranges`` does
    that). Local LPs of many targets are solved together as one block-diagonal LP (one
    block per target, two solves: every target pushed down, then up).

    Returns (cid, lo, hi, width); NaN where a target could not be certified locally (a
    neighbouring cell with no known true value, or a numerical failure).
    """
    var_of, _ = _components(sys_, unknown)
    out = pd.DataFrame({"cid": np.asarray(targets, dtype=np.int64)})
    out["lo"] = out["hi"] = out["width"] = np.nan
    if len(targets) == 0:
        return out
    a, rlo, rhi = _lp_matrix(sys_, unknown, var_of)
    cells = sys_.cells
    ucells = np.flatnonzero(unknown)
    truth = cells["true_value"].to_numpy(dtype=float)[ucells]
    vlo = cells["lo"].to_numpy()[ucells]
    vhi = cells["hi"].to_numpy()[ucells]
    no_truth = np.isnan(truth)
    truth0 = np.nan_to_num(truth)
    a_abs = abs(a).tocsr()
    adj = (a_abs.T @ a_abs).tocsr()
    ac = a.tocsc()
    const_full = a @ truth0
    nan_full = a_abs @ no_truth.astype(float)
    tv = var_of[np.asarray(targets, dtype=np.int64)]
    nb = _neighbourhoods(adj, tv, max_vars)
    order = np.lexsort((nb.col, nb.row))
    pk, pj = nb.row[order], nb.col[order]
    lo_out = np.full(len(tv), np.nan)
    hi_out = np.full(len(tv), np.nan)
    per_target = np.bincount(pk, minlength=len(tv))
    ends = np.cumsum(per_target)
    bounds = np.searchsorted(ends, np.arange(chunk_vars, ends[-1] + chunk_vars, chunk_vars))
    t_edges = np.unique(np.concatenate([[0], np.minimum(bounds + 1, len(tv)), [len(tv)]]))
    for t0, t1 in zip(t_edges[:-1], t_edges[1:], strict=True):
        p0 = 0 if t0 == 0 else ends[t0 - 1]
        p1 = ends[t1 - 1]
        k, j = pk[p0:p1] - t0, pj[p0:p1]
        starts = ac.indptr[j]
        lens = ac.indptr[j + 1] - starts
        rep = np.repeat(np.arange(len(j)), lens)
        offs = np.repeat(np.cumsum(lens) - lens, lens)
        pos = starts[rep] + (np.arange(len(rep)) - offs)
        r, val = ac.indices[pos], ac.data[pos]
        key = k[rep].astype(np.int64) * a.shape[0] + r
        urow, row_id = np.unique(key, return_inverse=True)
        rr = urow % a.shape[0]
        inside = np.bincount(row_id, val * truth0[j[rep]], minlength=len(urow))
        nan_in = np.bincount(row_id, np.abs(val) * no_truth[j[rep]], minlength=len(urow))
        shift = const_full[rr] - inside
        blocked = np.unique((urow // a.shape[0])[nan_full[rr] > nan_in + 0.5])
        m = sparse.csr_matrix((val, (row_id, rep)), shape=(len(urow), len(j)))
        is_target = j == tv[t0:t1][k]
        c = np.where(is_target, 1.0, 0.0)
        try:
            lp = _WarmLP(m, rlo[rr] - shift, rhi[rr] - shift, vlo[j], vhi[j])
            x_min = lp.solve(c)
            x_max = lp.solve(-c)
        except RuntimeError:  # pragma: no cover - numerical failure: leave uncertified
            continue
        tk = k[is_target] + t0
        lo_out[tk] = x_min[is_target]
        hi_out[tk] = x_max[is_target]
        lo_out[blocked + t0] = hi_out[blocked + t0] = np.nan
    lo_i = np.ceil(lo_out - EPS)
    hi_i = np.floor(hi_out + EPS)
    out["lo"], out["hi"], out["width"] = lo_i, hi_i, hi_i - lo_i
    return out


# Above this many variables an LP is solved by HiGHS's interior-point method (with
# crossover to a vertex): on the national release's 15,000-variable components it took
# 0.6 s a solve against 2.5-10 s for warm-started dual simplex without presolve.
IPM_FROM_VARS = 4000


@dataclass
class FeasiblePoints:
    """Feasible points of the attacker's system, kept as witnesses.

    A point is stored as the cells where it differs from the base values (true values of
    unknown cells, published values of known ones): ``cid`` and ``value`` per point. Each
    observed cell keeps the ids of the points where it was lowest and highest, so the
    points that prove a range can be handed on (as certificates) and checked elsewhere."""

    n_cells: int
    lo: np.ndarray = field(init=False)
    hi: np.ndarray = field(init=False)
    lo_point: np.ndarray = field(init=False)
    hi_point: np.ndarray = field(init=False)
    points: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.lo = np.full(self.n_cells, np.inf)
        self.hi = np.full(self.n_cells, -np.inf)
        self.lo_point = np.full(self.n_cells, -1, dtype=np.int64)
        self.hi_point = np.full(self.n_cells, -1, dtype=np.int64)

    def record(self, cid: np.ndarray, value: np.ndarray) -> None:
        pid = len(self.points)
        self.points.append((cid, value))
        low = value < self.lo[cid]
        high = value > self.hi[cid]
        self.lo[cid[low]] = value[low]
        self.hi[cid[high]] = value[high]
        self.lo_point[cid[low]] = pid
        self.hi_point[cid[high]] = pid

    def width(self, cid: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return np.floor(self.hi[cid] + EPS) - np.ceil(self.lo[cid] - EPS)

    def witnesses(self, cid: np.ndarray) -> pd.DataFrame:
        """The points that show the range of ``cid``, long form (point, cid, value)."""
        pids = np.unique(np.concatenate([self.lo_point[cid], self.hi_point[cid]]))
        pids = pids[pids >= 0]
        if len(pids) == 0:
            return pd.DataFrame({"point": [], "cid": [], "value": []})
        return pd.DataFrame(
            {
                "point": np.repeat(pids, [len(self.points[p][0]) for p in pids]),
                "cid": np.concatenate([self.points[p][0] for p in pids]),
                "value": np.concatenate([self.points[p][1] for p in pids]),
            }
        )


def _rings(adj: sparse.csr_matrix, starts: np.ndarray, cap: int, min_rings: int = 3) -> np.ndarray:
    """``starts`` and the variables reached from them ring by ring (breadth first): at
    least ``min_rings`` rings, then more while the union stays within ``cap``; whole
    rings only, so the choice is deterministic."""
    inside = np.zeros(adj.shape[0], dtype=bool)
    inside[starts] = True
    frontier = np.asarray(starts)
    depth = 0
    while len(frontier):
        reached = np.unique(adj[frontier].indices)
        ring = reached[~inside[reached]]
        if len(ring) == 0 or (depth >= min_rings and inside.sum() + len(ring) > cap):
            break
        inside[ring] = True
        frontier = ring
        depth += 1
    return np.flatnonzero(inside)


def solve_ranges(
    sys_: AttackerSystem,
    unknown: np.ndarray,
    targets: np.ndarray,
    *,
    enough: float,
    seed: int = 0,
    max_batch_vars: int = 3000,
    exact: bool = True,
    feasible_rounds: int = 12,
    report: np.ndarray | None = None,
    truth: np.ndarray | None = None,
    max_region_vars: int | None = None,
    points: FeasiblePoints | None = None,
    exact_below: int = 0,
) -> tuple[pd.DataFrame, int, int]:
    """Feasible [min, max] of each target cell (cell ids) under the attacker's system.

    A target is settled when feasible points already show an integer range of at least
    ``enough``. Feasible points come from LPs that push every unsettled target up, then
    down, repeated while that settles more; the rest get exact LP minima and maxima (one
    cell per component per LP) unless ``exact`` is False, in which case their range is
    the observed one (a lower bound: fine for choosing more suppression, not for an audit).
    ``report``: further cells whose range is reported as the feasible points show it (an
    inner bound, never made exact; NaN where no LP touched their component).

    ``points`` collects every feasible point (and may arrive holding points already, from
    certificates: targets they settle cost no LP). With ``truth`` (a value per cell that
    satisfies every relation) and ``max_region_vars``, a component larger than that is
    solved only over the rings of variables around its unsettled targets, every other
    variable held at its true value: each solution is still a feasible point of the whole
    system (an inner bound, like ``certify_local``) at a fraction of the cost.
    ``exact_below``: once a whole batch has at most this many unsettled targets after the
    first pair of points, their exact minima and maxima are solved instead of more
    feasible rounds (two LPs each settle a target either way).
    Returns a frame (cid, lo, hi, width, exact, component), the number of components
    holding targets, and the number of LP solves.
    """
    var_of, labels = _components(sys_, unknown)
    targets = np.asarray(targets, dtype=np.int64)
    report = np.setdiff1d(np.asarray([] if report is None else report, dtype=np.int64), targets)
    if len(targets) + len(report) == 0:
        empty = pd.DataFrame(
            {"cid": [], "lo": [], "hi": [], "width": [], "exact": [], "component": []}
        )
        return empty, 0, 0
    cells = sys_.cells
    if points is None:
        points = FeasiblePoints(len(cells))
    a, rlo, rhi = _lp_matrix(sys_, unknown, var_of)
    ucells = np.flatnonzero(unknown)
    vlo = cells["lo"].to_numpy()[ucells]
    vhi = cells["hi"].to_numpy()[ucells]
    tv = var_of[targets]
    rv = var_of[report]
    n_var = len(ucells)
    ex_lo = np.zeros(n_var, dtype=bool)
    ex_hi = np.zeros(n_var, dtype=bool)
    target_var_mask = np.zeros(n_var, dtype=bool)
    target_var_mask[tv] = True
    report_var_mask = np.zeros(n_var, dtype=bool)
    report_var_mask[rv] = True

    def open_vars(v: np.ndarray) -> np.ndarray:
        done = (points.width(ucells[v]) >= enough) | (ex_lo[v] & ex_hi[v])
        return target_var_mask[v] & ~done

    # Components with nothing left to settle need no LP: points given in advance already
    # prove their targets. Without such points every component with a target or a cell
    # to report is solved.
    all_open = np.flatnonzero(open_vars(np.arange(n_var)))
    given = len(points.points) > 0
    need = np.unique(labels[all_open]) if given else np.unique(labels[np.concatenate([tv, rv])])
    comps = np.unique(labels[np.concatenate([tv, rv])])
    rng = np.random.default_rng(seed)
    solves = 0
    sizes = np.bincount(labels)
    order = need[np.lexsort((need, -sizes[need]))]
    batches: list[list[int]] = []
    cur: list[int] = []
    cur_n = 0
    for comp in order:
        if cur and cur_n + sizes[comp] > max_batch_vars:
            batches.append(cur)
            cur, cur_n = [], 0
        cur.append(int(comp))
        cur_n += sizes[comp]
    if cur:
        batches.append(cur)
    a_csc = a.tocsc()
    restrict = truth is not None and max_region_vars is not None
    if restrict:
        tru = np.asarray(truth, dtype=float)[ucells]
        a_abs = abs(a).tocsr()
        adj = (a_abs.T @ a_abs).tocsr()
    # A batch solved over a region first goes round again whole if the region's points
    # leave any of its targets unsettled.
    queue = [(batch, restrict) for batch in batches]
    while queue:
        batch, regional = queue.pop(0)
        whole = np.flatnonzero(np.isin(labels, batch))
        bvars, held = whole, np.array([], dtype=np.int64)
        if regional and len(whole) > max_region_vars:
            region = _rings(adj, whole[open_vars(whole)], max_region_vars)
            if len(region) < 0.8 * len(whole):
                bvars, held = region, np.setdiff1d(whole, region)
        sub_cols = a_csc[:, bvars]
        rows = np.unique(sub_cols.nonzero()[0])
        held_cols = a_csc[rows][:, held]
        if len(held) and np.isnan(tru[held][np.unique(held_cols.nonzero()[1])]).any():
            # A held variable without a true value: solve the whole batch instead.
            bvars, held = whole, np.array([], dtype=np.int64)
            sub_cols = a_csc[:, bvars]
            rows = np.unique(sub_cols.nonzero()[0])
            held_cols = a_csc[rows][:, held]
        shift = held_cols @ np.nan_to_num(tru[held]) if len(held) else np.zeros(len(rows))
        lp = _WarmLP(
            sub_cols[rows].tocsr(),
            rlo[rows] - shift,
            rhi[rows] - shift,
            vlo[bvars],
            vhi[bvars],
            solver="ipm" if len(bvars) > IPM_FROM_VARS else "simplex",
        )
        bcells = ucells[bvars]
        blabels = labels[bvars]

        def record(x, bcells=bcells):
            points.record(bcells, np.asarray(x, dtype=float))

        # Feasible points: push the unsettled targets up and down while that keeps
        # settling cells. After the first pair, each target's direction is a random sign,
        # so targets tied by a relation (re-entered and not re-entered in one row, say) are
        # pushed apart in one solve and together in the next.
        stale = 0
        n_prev = None
        for round_ in range(feasible_rounds):
            open_ = open_vars(bvars)
            n_open = int(open_.sum())
            if n_open == 0 or (round_ and not len(held) and n_open <= exact_below):
                break
            if n_prev is not None:
                stale = stale + 1 if n_open > 0.98 * n_prev else 0
                if stale >= 2:
                    break
            n_prev = n_open
            if round_:
                sign = rng.choice([-1.0, 1.0], len(bvars))
                tilt = rng.uniform(-0.01, 0.01, len(bvars))
            else:
                sign, tilt = np.ones(len(bvars)), np.zeros(len(bvars))
            for direction in (-1.0, 1.0):
                c = tilt + direction * sign * open_
                record(lp.solve(c))
                solves += 1
        # Reported cells: one pair of points pushing them down, then up.
        breport = report_var_mask[bvars]
        if breport.any():
            for direction in (1.0, -1.0):
                record(lp.solve(direction * breport))
                solves += 1
        if len(held):
            if open_vars(whole).any():
                queue.append((batch, False))
            continue
        if not exact and int(open_vars(bvars).sum()) > exact_below:
            continue
        while True:
            open_ = open_vars(bvars)
            if not open_.any():
                break
            idx = np.flatnonzero(open_)
            _, first = np.unique(blabels[idx], return_index=True)
            pick = idx[first]
            for direction, flag in ((-1.0, ex_hi), (1.0, ex_lo)):
                need_ = pick[~flag[bvars[pick]]]
                if len(need_) == 0:
                    continue
                c = np.zeros(len(bvars))
                c[need_] = direction
                record(lp.solve(c))
                solves += 1
                flag[bvars[need_]] = True
    targets = np.concatenate([targets, report])
    tv = var_of[targets]
    with np.errstate(invalid="ignore"):
        lo_i = np.ceil(points.lo[targets] - EPS)
        hi_i = np.floor(points.hi[targets] + EPS)
    seen = np.isfinite(lo_i) & np.isfinite(hi_i)
    lo_i[~seen] = hi_i[~seen] = np.nan
    out = pd.DataFrame(
        {
            "cid": targets,
            "lo": lo_i,
            "hi": hi_i,
            "width": hi_i - lo_i,
            "exact": ex_lo[tv] & ex_hi[tv],
            "component": labels[tv],
        }
    )
    return out, len(comps), solves


# --------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------


def _tables_of(published) -> dict[str, pd.DataFrame]:
    return {
        "reentry": published.reentry,
        "ceased_by_reason": published.ceased_by_reason,
        "time_to_reentry": published.time_to_reentry,
    }


def audit_release(
    published: PublishedTables,
    *,
    config: DisclosureConfig | None = None,
    previous: PublishedTables | None = None,
    exact_aggregates: bool = True,
    use_certificates: bool = True,
) -> AuditResult:
    """Attack ``published`` (and, with ``previous``, the two releases together): every
    suppressed cell's feasible range; pass only if every primary cell spans at least
    ``config.protection_width`` and no nonlinear figure was published over a suppressed
    count.

    ``published.certificates`` (feasible points offered by the suppression step) are
    checked against this module's own relations and bounds; each point that satisfies all
    of them is a valid observation, so the cells it settles need no LP. Points that fail
    are discarded and counted; nothing else is taken from them."""
    start = time.perf_counter()
    rounding_base = getattr(config, "rounding_base", 10)
    width_needed = getattr(config, "protection_width", 4)
    system = build_attacker_system(
        _tables_of(published),
        published.suppression_log,
        rounding_base=rounding_base,
        exact_aggregates=exact_aggregates,
        previous_tables=None if previous is None else _tables_of(previous),
        previous_log=None if previous is None else previous.suppression_log,
    )
    offered = getattr(published, "certificates", None) if use_certificates else None
    points, accepted, rejected = verify_points(system, offered)
    return _judge(
        system,
        published.suppression_log,
        width_needed,
        start,
        points=points,
        certificates=(accepted, rejected),
    )


CERTIFICATE_KEYS = ["release", "table", "row", "column"]


def verify_points(
    sys_: AttackerSystem, certificates: pd.DataFrame | None, tol: float = 1e-6
) -> tuple[FeasiblePoints, int, int]:
    """The offered points (release, table, row, column, point, value) that are feasible
    in ``sys_``: every listed cell is unknown to the attacker and within its bounds, and
    every relation touching a listed cell holds (within ``tol`` relative to the bound)
    with unlisted cells at their base values. Returns the accepted points and the numbers
    accepted and rejected."""
    cells = sys_.cells
    points = FeasiblePoints(len(cells))
    if certificates is None or len(certificates) == 0:
        return points, 0, 0
    cert = certificates.merge(cells[[*CERTIFICATE_KEYS, "cid"]], on=CERTIFICATE_KEYS, how="left")
    cert = cert.sort_values(["point", "cid"], kind="stable")
    pid = cert["point"].to_numpy()
    cid_f = cert["cid"].to_numpy(dtype=float)
    value = cert["value"].to_numpy(dtype=float)
    base = sys_.base_values
    lo, hi = cells["lo"].to_numpy(), cells["hi"].to_numpy()
    unknown = cells["unknown"].to_numpy()
    t = sys_.triplets
    m = sparse.csr_matrix(
        (t["coef"].to_numpy(), (t["rel"].to_numpy(), t["cid"].to_numpy())),
        shape=(len(sys_.rel_bounds), len(cells)),
    )
    m_csc = m.tocsc()
    rlo = sys_.rel_bounds["lo"].to_numpy()
    rhi = sys_.rel_bounds["hi"].to_numpy()
    starts = np.flatnonzero(np.r_[True, pid[1:] != pid[:-1]])
    ends = np.r_[starts[1:], len(pid)]
    accepted = rejected = 0
    for s0, s1 in zip(starts, ends, strict=True):
        c_f, v = cid_f[s0:s1], value[s0:s1]
        if np.isnan(c_f).any() or np.isnan(v).any():
            rejected += 1  # a cell this system does not have
            continue
        c = c_f.astype(np.int64)
        ok = unknown[c].all()
        ok &= bool(
            ((v >= lo[c] - tol * (1 + np.abs(lo[c]))) & (v <= hi[c] + tol * (1 + hi[c]))).all()
        )
        if ok:
            x = base.copy()
            x[c] = v
            rows = np.unique(m_csc[:, c].indices)
            sub = m[rows]
            members = np.unique(sub.indices)
            lhs = sub @ np.nan_to_num(x)
            lo_r, hi_r = rlo[rows], rhi[rows]
            ok = not np.isnan(x[members]).any()
            ok &= bool(
                (lhs >= lo_r - tol * (1 + np.abs(np.nan_to_num(lo_r, posinf=0, neginf=0)))).all()
            )
            ok &= bool(
                (lhs <= hi_r + tol * (1 + np.abs(np.nan_to_num(hi_r, posinf=0, neginf=0)))).all()
            )
        if ok:
            points.record(c, v)
            accepted += 1
        else:
            rejected += 1
    return points, accepted, rejected


def _audit_ranges(
    system: AttackerSystem,
    unknown: np.ndarray,
    primary: np.ndarray,
    secondary: np.ndarray,
    width_needed: int,
    points: FeasiblePoints | None = None,
) -> tuple[pd.DataFrame, int, int]:
    """Ranges of every suppressed cell, cheapest proof first: verified certificates and
    feasible points over whole components; for primary cells they leave unsettled, local
    LPs (``certify_local``); for any still unsettled, exact LP minima and maxima over
    their whole component, which decide a failure."""
    ranges, n_comp, solves = solve_ranges(
        system,
        unknown,
        primary,
        enough=width_needed,
        exact=False,
        report=secondary,
        points=points,
    )
    is_primary = np.isin(ranges["cid"].to_numpy(), primary)
    open_ = is_primary & ~(ranges["width"].to_numpy() >= width_needed)
    if not open_.any():
        return ranges, n_comp, solves
    local = certify_local(system, unknown, ranges["cid"].to_numpy()[open_], max_vars=1000)
    wide = local["width"].to_numpy() >= width_needed
    ranges = ranges.set_index("cid")
    got = local[wide].set_index("cid")
    ranges.loc[got.index, ["lo", "hi", "width"]] = got[["lo", "hi", "width"]].to_numpy()
    still = local["cid"].to_numpy()[~wide]
    if len(still):
        exact, _, more = solve_ranges(system, unknown, still, enough=width_needed)
        solves += more
        exact = exact.set_index("cid")
        ranges.loc[exact.index, ["lo", "hi", "width", "exact"]] = exact[
            ["lo", "hi", "width", "exact"]
        ].to_numpy()
    return ranges.reset_index(), n_comp, solves


def _judge(
    system: AttackerSystem,
    log: pd.DataFrame | None,
    width_needed: int,
    start: float,
    *,
    points: FeasiblePoints | None = None,
    certificates: tuple[int, int] = (0, 0),
) -> AuditResult:
    cells = system.cells
    unknown = cells["unknown"].to_numpy()
    current = cells["release"].eq("current").to_numpy()
    suppressed = np.flatnonzero(current & cells["suppressed"].to_numpy())
    # Only primary cells need a protection width: they are the targets (pushed, and made
    # exact where feasible points do not settle them). A 'c' with no log reason counts
    # as primary. Secondary cells get the range the same feasible points show.
    reason = cells["log_reason"].to_numpy()[suppressed]
    primary = np.array([r is None or r != r or r == "primary" for r in reason], dtype=bool)
    ranges, n_comp, solves = _audit_ranges(
        system, unknown, suppressed[primary], suppressed[~primary], width_needed, points
    )
    info = cells.iloc[ranges["cid"].to_numpy()].reset_index(drop=True)
    ranges = pd.concat(
        [
            info[["table", *ALL_KEYS, "column", "true_value", "log_reason"]],
            ranges.drop(columns=["cid"]).reset_index(drop=True),
            pd.Series(ranges["cid"].to_numpy(), name="cid"),
        ],
        axis=1,
    )
    # A 'c' with no log reason is treated as primary (it must be protected).
    is_primary = ranges["log_reason"].fillna("primary").eq("primary")
    narrow = is_primary & (ranges["width"] < width_needed)
    fail = ranges[narrow].assign(failure="interval narrower than protection width")
    exposed = system.nonlinear
    if len(exposed):
        ex = cells.iloc[exposed["cid"].to_numpy()].reset_index(drop=True)
        ex = ex[["table", *ALL_KEYS, "column", "true_value", "log_reason"]].assign(
            failure="published " + exposed["exposed_by"].to_numpy() + " uses this suppressed count",
            cid=exposed["cid"].to_numpy(),
        )
        fail = pd.concat([fail, ex], ignore_index=True)
    fail = fail.drop_duplicates("cid").drop(columns=["cid"])
    fail = fail.rename(columns={"lo": "feasible_min", "hi": "feasible_max"})
    fail = fail.drop(columns=[c for c in ("component", "exact") if c in fail])
    fail = fail.dropna(axis=1, how="all") if len(fail) else fail
    prim = ranges.loc[is_primary, "width"]
    narrowest = None if prim.empty else int(prim.min())
    by_reason: dict[str, int] = {}
    if log is not None and len(log) and "reason" in log:
        by_reason = {str(k): int(v) for k, v in log["reason"].value_counts().sort_index().items()}
    sizes = pd.Series(ranges["component"]).value_counts()
    return AuditResult(
        passed=bool(len(fail) == 0),
        cells_checked=int(len(ranges)),
        narrowest_width=narrowest,
        cells_by_reason=by_reason,
        failures=fail.reset_index(drop=True),
        components=int(n_comp),
        seconds=time.perf_counter() - start,
        largest_component=int(sizes.max()) if len(sizes) else 0,
        relations=int(len(system.rel_bounds)),
        relations_not_holding=int(system.relations_not_holding),
        lp_solves=int(solves),
        certificates_accepted=int(certificates[0]),
        certificates_rejected=int(certificates[1]),
        intervals=ranges.drop(columns=["cid"]),
    )


PUBLISHED_FILES = {
    "reentry": "reentry.csv",
    "ceased_by_reason": "ceased_by_reason.csv",
    "time_to_reentry": "time_to_reentry.csv",
}
LOG_FILE = "suppression_log.csv"


def read_published_dir(folder: Path) -> dict[str, pd.DataFrame]:
    """The three published tables as written by ``assets.disclosure.write_published``
    (every column read as text, so symbols and numbers come back exactly)."""
    folder = Path(folder)
    out = {}
    for name, fname in PUBLISHED_FILES.items():
        path = folder / fname
        if not path.exists():
            raise FileNotFoundError(f"{path}: published table '{name}' is missing")
        df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
        for k in INT_KEYS:
            if k in df:
                df[k] = pd.to_numeric(df[k]).astype("int64")
        out[name] = df
    return out


def read_log(path: Path) -> pd.DataFrame:
    """A suppression log written by ``write_published``: key and text columns as text
    (codes keep their leading zeros; a mostly empty column is not guessed; only an empty
    field is missing)."""
    text = [k for k in ALL_KEYS if k not in INT_KEYS] + ["table", "column", "published", "reason"]
    # "None" is a category (no previous returns home), not a missing value.
    return pd.read_csv(
        path,
        dtype={k: str for k in text},
        keep_default_na=False,
        na_values={k: [""] for k in text},
        low_memory=False,
    )


def audit_release_dir(
    folder: Path,
    *,
    log_path: Path | None = None,
    protection_width: int = 4,
    rounding_base: int = 10,
    previous_folder: Path | None = None,
) -> AuditResult:
    """Re-audit a release already on disk: the published tables in ``folder`` (as written
    by ``assets.disclosure.write_published``) and the restricted suppression log
    (``folder/suppression_log.csv`` unless ``log_path`` is given)."""
    start = time.perf_counter()
    folder = Path(folder)
    tables = read_published_dir(folder)
    log_path = Path(log_path) if log_path is not None else folder / LOG_FILE
    if not log_path.exists():
        raise FileNotFoundError(f"{log_path}: the restricted suppression log is needed")
    log = read_log(log_path)
    prev_tables = prev_log = None
    if previous_folder is not None:
        prev_tables = read_published_dir(previous_folder)
        prev_log = read_log(Path(previous_folder) / LOG_FILE)
    system = build_attacker_system(
        tables,
        log,
        rounding_base=rounding_base,
        previous_tables=prev_tables,
        previous_log=prev_log,
    )
    return _judge(system, log, protection_width, start)
