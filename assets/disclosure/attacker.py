"""The attacker's model of a published release: every count cell with what a reader
knows about it, and every relation the tables obey.

Rebuilt from the published tables' structure alone (geography, breakdowns, complements,
nested windows, pooled years, the context tables, rates), so a relation is included
because the tables imply it, not because the suppression step chose to use it. Both the
suppression search (``assets.disclosure.suppression``) and the audit
(``assets.disclosure.audit``) attack the release through this one model; see
docs/disclosure-control.md for what that shared model does and does not prove.

Attacker knowledge, chosen to be at least as strong as a real reader:
- National and regional counts: by default the attacker is granted their *unrounded*
  values. Published regional rates and confidence intervals are computed from unrounded
  counts (DfE practice), which narrows the rounded figures a great deal, so rounding to 10
  is not relied on to protect local-authority cells. This also makes the system split into
  small independent components (LA cells of one region). With
  ``exact_aggregates=False`` the attacker sees only the rounding interval [r-5, r+4].
- A published rate is the interval [r-0.5, r+0.5) of 100 x numerator / denominator, a
  linear constraint in integers: (2r-1) den <= 200 num <= (2r+1) den - 1. Nonlinear
  figures (Wilson bounds, funnel position, standardised ratios) must only be published
  over known counts; if one is published over a suppressed count the audit fails that
  cell outright. The statistical neighbours' rate is pooled over published neighbour
  counts only: the attacker recomputes it from the page, and a rate that does not match
  exposes every withheld neighbour count behind it.
- Across releases: the previous release's published tables are added as a second copy of
  the system, and a cell whose true value did not change between releases is the same
  variable in both, so differencing the two releases is part of the attack.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from assets.common.contracts import ALL_TABLE_KEYS, TABLE_COUNTS, TABLE_KEYS
from assets.common.reference import load_statistical_neighbours
from assets.common.vocabulary import LOCAL, NATIONAL, REGIONAL, SINGLE_YEAR, TOTAL
from assets.disclosure.published import (
    aggregate_figures_from_published,
    neighbour_rate_strings,
)

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


# --------------------------------------------------------------------------------------
# Cells: every published count, with what the attacker knows about it
# --------------------------------------------------------------------------------------


def _normalise_keys(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    for k in ALL_TABLE_KEYS:
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
    cols = ["release", "table", "row", *ALL_TABLE_KEYS, "column", "published"]
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
    lg = lg[["table", *ALL_TABLE_KEYS, "column", "true_value", "reason"]].rename(
        columns={"reason": "log_reason"}
    )
    lg["true_value"] = pd.to_numeric(lg["true_value"], errors="coerce").astype("float64")
    lg = lg.drop_duplicates(["table", *ALL_TABLE_KEYS, "column"])
    out = cells.merge(lg, on=["table", *ALL_TABLE_KEYS, "column"], how="left", sort=False)
    if len(out) != len(cells):  # pragma: no cover - guarded by drop_duplicates
        raise ValueError("suppression_log has duplicate cells")
    return out


def _knowledge(cells: pd.DataFrame, rounding_base: int, exact_aggregates: bool) -> pd.DataFrame:
    """Bounds [lo, hi] on each cell implied by its published string alone; ``known`` when
    lo == hi; ``avail`` False for x / z (the cell takes part in no relation)."""
    s = cells["published"].astype(str).str.strip()
    num = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
    is_la = cells["geographic_level"].eq(LOCAL).to_numpy()
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
    sub = r[r["geographic_level"].isin([LOCAL, REGIONAL])]
    is_tot = sub["geographic_level"].eq(REGIONAL).to_numpy()
    rel.sum_to_total(sub, [*geo, "region_code"], is_tot, "la_to_region", drop_parts=True)
    sub = r[r["geographic_level"].isin([REGIONAL, NATIONAL])]
    is_tot = sub["geographic_level"].eq(NATIONAL).to_numpy()
    rel.sum_to_total(sub, geo, is_tot, "region_to_england", drop_parts=True)
    # Windows: the same cohort has the same returned_home in every window, unless
    # children were left out of one window for a quarantined follow-up year
    # (measures.cohorts.unfollowable): equal unless two published values differ, then no
    # relation. Cumulative counts cannot fall as the window lengthens.
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
    pub = nested["published"].to_numpy()
    prev_pub = nested.groupby(win, dropna=False, sort=False)["published"].shift(1).to_numpy()
    differ = (pub != prev_pub)[has] & np.char.isdigit(pub[has].astype(str))
    differ &= np.char.isdigit(prev_pub[has].astype(str))
    same = is_rh & ~differ
    rel.pairs(a[same], b[same], "window_same_cohort", equal=True)
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
    sub = c[c["geographic_level"].isin([LOCAL, REGIONAL])]
    rel.sum_to_total(
        sub,
        [*geo, "region_code"],
        sub["geographic_level"].eq(REGIONAL).to_numpy(),
        "ceased_la_to_region",
        drop_parts=True,
    )
    sub = c[c["geographic_level"].isin([REGIONAL, NATIONAL])]
    rel.sum_to_total(
        sub,
        geo,
        sub["geographic_level"].eq(NATIONAL).to_numpy(),
        "ceased_region_to_england",
        drop_parts=True,
    )


def _time_to_reentry_relations(rel: _Relations, t: pd.DataFrame, r: pd.DataFrame) -> None:
    keys = ["release", *TABLE_KEYS["time_to_reentry"]]
    by = [k for k in keys if k != "time_band"] + ["column"]
    rel.sum_to_total(t, by, t["time_band"].eq(TOTAL).to_numpy(), "time_band_categories")
    sub = t[t["geographic_level"].isin([REGIONAL, NATIONAL])]
    rel.sum_to_total(
        sub,
        ["release", "time_period", "time_band", "column"],
        sub["geographic_level"].eq(NATIONAL).to_numpy(),
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


def _sensitivity_relations(rel: _Relations, s: pd.DataFrame, r: pd.DataFrame) -> None:
    """The England and regional sensitivity table: its headline rows are the main
    table's single-year Totals, regions sum to England, re-entered is within returned
    home, and the wider definition counts at least, the short-stay one at most, the
    headline's children. Every cell is an England or regional count (known exactly to
    this attacker), so these relations tie known cells to known cells."""
    from assets.measures.tables import HEADLINE_DEFINITION, SENSITIVITY

    broad, short = (d for d in SENSITIVITY if d != HEADLINE_DEFINITION)
    keys = ["release", *TABLE_KEYS["sensitivity"]]
    sub = s[s["geographic_level"].isin([REGIONAL, NATIONAL])]
    rel.sum_to_total(
        sub,
        ["release", "time_period", "follow_up_months", "definition", "column"],
        sub["geographic_level"].eq(NATIONAL).to_numpy(),
        "sensitivity_region_to_england",
        drop_parts=True,
    )
    av = s[s["avail"]]
    home = av[av["column"].eq("returned_home")]
    back = av[av["column"].eq("re_entered")]
    a, b = _pair_frame(back, home, keys)
    rel.pairs(a, b, "sensitivity_re_entered_within_returned", equal=False)
    on = [k for k in keys if k != "definition"]
    head = home[home["definition"].eq(HEADLINE_DEFINITION)]
    a, b = _pair_frame(head, home[home["definition"].eq(broad)], on)
    rel.pairs(a, b, "sensitivity_wider_definition_at_least_headline", equal=False)
    a, b = _pair_frame(home[home["definition"].eq(short)], head, on)
    rel.pairs(a, b, "sensitivity_short_stays_out_at_most_headline", equal=False)
    main = r[
        r["avail"]
        & r["cohort_span"].eq(SINGLE_YEAR)
        & r["characteristic_group"].eq(TOTAL)
        & r["characteristic"].eq(TOTAL)
        & r["geographic_level"].isin([REGIONAL, NATIONAL])
    ]
    headline = av[av["definition"].eq(HEADLINE_DEFINITION)]
    on = ["release", "time_period", "geographic_level", "region_code", "follow_up_months"]
    a, b = _pair_frame(headline, main, [*on, "column"])
    rel.pairs(a, b, "sensitivity_headline_is_main_total", equal=True)


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
    sens = cells[cells["table"].eq("sensitivity")]
    if len(sens):
        _sensitivity_relations(rel, sens, r)
    # Across releases: an unchanged cell is the same number in both.
    if cells["release"].nunique() > 1:
        on = ["table", *ALL_TABLE_KEYS, "column"]
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


def _derived_from_published(df: pd.DataFrame, figure: str) -> np.ndarray:
    """Rows whose published ``figure`` is what a reader computes from the row's published
    counts (England and regional rates and bounds published from rounded counts): such a
    figure tells the attacker nothing more, so it adds no relation and exposes nothing."""
    shown = df[figure].astype("object").where(df[figure].notna(), "x").astype(str).str.strip()
    again = aggregate_figures_from_published(df, 1).get(figure)
    if again is None:
        return np.zeros(len(df), dtype=bool)
    number = ~shown.isin(SYMBOLS_NOT_PUBLISHED).to_numpy()
    return number & (shown.to_numpy() == again)


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
            risky &= ~_derived_from_published(df, rate)
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
        if fig in df.columns and fig.startswith("re_entry_rate"):
            shown &= ~_derived_from_published(df, fig)
        for c in (num, den):
            hit = shown & unknown[c].to_numpy(bool)
            out.append(pd.DataFrame({"cid": cid[c].to_numpy()[hit], "exposed_by": fig}))
    if "sn_re_entry_rate" in df and "old_la_code" in df:
        # The neighbours' rate must be what a reader gets by pooling the neighbours'
        # published counts; where it is not, it was computed over a withheld count, and
        # every withheld neighbour count of that row counts as exposed.
        shown = ~df["sn_re_entry_rate"].astype(str).str.strip().isin(SYMBOLS_NOT_PUBLISHED)
        again, _ = neighbour_rate_strings(df, 1)
        differs = (shown & (df["sn_re_entry_rate"].astype(str).str.strip() != again)).to_numpy()
        keys = ["time_period", "cohort_span", "follow_up_months", "characteristic_group"]
        keys += ["characteristic"]
        la = r[r["geographic_level"].eq(LOCAL) & r["column"].isin(["returned_home", "re_entered"])]
        rows = la.drop_duplicates("row").set_index("row")
        bad_rows = rows[differs[rows.index.to_numpy()]][[*keys, "old_la_code"]]
        nb = load_statistical_neighbours()[["old_la_code", "neighbour_old_la_code"]]
        pairs = bad_rows.merge(nb, on="old_la_code")
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

    ``tables``: the published ``reentry``, ``ceased_by_reason``, ``time_to_reentry``
    and (when built) ``sensitivity`` (strings). ``log``: the suppression log (true values and reasons).
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
