"""Disclosure control of every published table: primary suppression, rounding, secondary
suppression over the whole release, and GSS symbols.

Rules (DfE practice for children-looked-after statistics, "Children looked after in
England including adoptions", methodology: "numbers from 1 to 5 are suppressed (c) and
secondary suppression applied where necessary; national and regional figures rounded to
the nearest 10"; GSS / Analysis Function "Symbols in tables, definitions and help"):

- Local-authority counts from ``threshold_low`` to ``threshold_high`` (1-5) are suppressed
  (``c``); zeros are published as ``0`` (so a reader knows every ``c`` is at least 1).
- National and regional counts are rounded to the nearest ``rounding_base`` (10) with
  round-half-up; a non-zero count that rounds to 0 is shown as ``k``.
- Rates and confidence bounds are computed from unrounded counts and shown as whole
  numbers (half-up); a rate (with its interval, funnel position and standardised ratio)
  is withheld (``c``) when its numerator, complement or denominator is suppressed or the
  denominator is below ``min_rate_denominator``; a non-zero rate that rounds to 0 is ``k``;
  ``x`` not available, ``z`` not applicable.
- Secondary suppression treats the release as one system of linear relations (see
  docs/disclosure-control.md). Cells are added at least cost - small LA cells first, never a
  Total or a regional/national figure if a smaller cell will do - deterministically, until
  the independent attacker in ``assets.audit`` finds every primary cell's feasible range at
  least ``protection_width`` wide (Hundepool et al., *Statistical Disclosure Control*, Wiley
  2012, ch. 4 and 5: protection intervals and the cell suppression problem).

The suppression pattern is data: ``suppression_log`` (restricted, it holds the true
values) records every cell's reason, and is what the next release's audit reads to stop
differencing between releases.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse

from assets.audit import with_group_totals
from assets.reference import load_statistical_neighbours
from validation.contracts import TABLE_COUNTS, TABLE_KEYS

LOG = logging.getLogger(__name__)

LA, REGION, NATION = "Local authority", "Regional", "National"
SINGLE_YEAR = "Single year"
TOTAL = "Total"

KEYS = TABLE_KEYS
COUNTS = TABLE_COUNTS
LOG_KEYS = list(dict.fromkeys(k for keys in KEYS.values() for k in keys))
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
# re-entries are NOT published: ten-LA sums would let a reader solve for single LAs.
REENTRY_PUBLISHED = [
    *KEYS["reentry"],
    *COUNTS["reentry"],
    "re_entry_rate",
    "re_entry_rate_lower_ci",
    "re_entry_rate_upper_ci",
    "re_entry_rate_any_la",
    "funnel_position",
    "sn_re_entry_rate",
    "england_re_entry_rate",
    "standardised_ratio",
    "standardised_ratio_lower_ci",
    "standardised_ratio_upper_ci",
    "sn_neighbours_included",
    "las_excluded",
    "unavailable_reason",
]


@dataclass(frozen=True)
class DisclosureConfig:
    """Disclosure parameters (DfE defaults)."""

    threshold_low: int = 1
    threshold_high: int = 5
    rounding_base: int = 10
    protection_width: int = 4
    min_rate_denominator: int = 10
    max_rounds: int = 60  # secondary-suppression passes before giving up (audit then fails)
    # After the first pass, a component larger than this is re-solved only over the rings
    # of cells around its still-unprotected cells, the rest held at their true values
    # (assets.audit.solve_ranges): same proofs, a fraction of the LP size.
    lp_region_vars: int = 6000
    # Table redesign before cell suppression (Hundepool et al. 2012, 4.2: on sparse tables
    # redesign first, then suppress). At LA level breakdowns are published for the pooled
    # three-year cohorts only, and only for these groups; single-year LA figures are the
    # Total. At scale 1.0 the single-year LA breakdowns were 42% primary-suppressed and
    # another 20-30% secondary, and the linked system took hours to protect.
    la_breakdown_groups: tuple[str, ...] = ("Planned return",)
    la_single_year_breakdowns: bool = False
    # The two context counts are sparse in single-year LA cohorts (at scale 1.0 they were
    # 57% of all primary cells) and, through regional sums with only zeros beside them,
    # forced regional figures and headline rates to be withheld. For LAs they are
    # published for the pooled three-year cohorts; England and regions keep every year.
    la_pooled_only_counts: tuple[str, ...] = ("re_entered_any_la", "turned_18_in_window")


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


# --------------------------------------------------------------------------------------
# Rounding and formatting
# --------------------------------------------------------------------------------------


def round_half_up(values, base: int) -> np.ndarray:
    """Round non-negative integers to the nearest ``base``, halves up (15 -> 20, 25 -> 30),
    in integer arithmetic (Python's round() is banker's rounding: round(25, -1) == 20)."""
    v = np.asarray(values, dtype=np.int64)
    return (v + base // 2) // base * base


def whole_percent(num, den) -> np.ndarray:
    """100 * num / den rounded half-up to a whole number, exactly (integer arithmetic, so
    12.5 -> 13 even when the float is 12.499999...)."""
    num = np.asarray(num, dtype=np.int64)
    den = np.asarray(den, dtype=np.int64)
    safe = np.where(den > 0, den, 1)
    return (200 * num + safe) // (2 * safe)


def _half_up_float(x: np.ndarray) -> np.ndarray:
    return np.floor(np.asarray(x, dtype=float) + 0.5 + 1e-9)


def _int_str(v: np.ndarray) -> np.ndarray:
    return np.asarray(v, dtype=np.int64).astype(str).astype(object)


# --------------------------------------------------------------------------------------
# Cells
# --------------------------------------------------------------------------------------


def _cells(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every count cell in long form: table, row, key columns, column, value (float, NaN
    when not available), level."""
    parts = []
    for name, df in tables.items():
        for col in COUNTS[name]:
            part = pd.DataFrame(
                {k: df[k].to_numpy() if k in df else None for k in LOG_KEYS}, index=df.index
            )
            part.insert(0, "table", name)
            part.insert(1, "row", np.arange(len(df)))
            part["column"] = col
            part["value"] = pd.to_numeric(df[col], errors="coerce").astype("float64").to_numpy()
            parts.append(part.reset_index(drop=True))
    cells = pd.concat(parts, ignore_index=True)
    for k in LOG_KEYS:
        if k in ("time_period", "follow_up_months"):
            cells[k] = pd.to_numeric(cells[k], errors="coerce").astype("Float64")
        else:
            s = cells[k]
            cells[k] = s.astype("object").where(s.notna(), None)
    return cells


def _canonical_class(cells: pd.DataFrame) -> np.ndarray:
    """Cells that are the same number by definition share a class: returned_home in every
    window of a cohort, each breakdown group's Total and the overall Total, and the
    time-to-re-entry Total with the 60-month re-entered Total. Suppressing one member
    without the others would publish it anyway."""
    k = cells.copy()
    is_tot = k["characteristic"].eq(TOTAL)
    k.loc[is_tot, "characteristic_group"] = TOTAL
    rh = k["column"].eq("returned_home") & k["table"].eq("reentry")
    k["follow_up_months"] = k["follow_up_months"].astype("Float64").mask(rh, -1)
    ttr_tot = k["table"].eq("time_to_reentry") & k["time_band"].eq(TOTAL)
    k.loc[ttr_tot, "table"] = "reentry"
    k.loc[ttr_tot, "cohort_span"] = SINGLE_YEAR
    k.loc[ttr_tot, "follow_up_months"] = 60
    k.loc[ttr_tot, ["characteristic_group", "characteristic"]] = TOTAL
    k.loc[ttr_tot, "time_band"] = None
    cols = ["table", *LOG_KEYS, "column"]
    return k.groupby(cols, dropna=False, sort=True).ngroup().to_numpy()


def _sum_relations(cells: pd.DataFrame) -> pd.DataFrame:
    """Equality relations (parts sum to a total) over available cells, as rows
    (rel, cell, is_total). Used for the cheap local rules; the audit has its own."""
    out = []
    avail = cells["value"].notna()
    n = 0

    def add(sub: pd.DataFrame, by: list[str], is_total: pd.Series, drop_parts: bool):
        nonlocal n
        ok_av = avail[sub.index]
        if drop_parts:
            keep = ok_av | is_total
            sub, is_total, ok_av = sub[keep], is_total[keep], ok_av[keep]
        if len(sub) == 0:
            return
        g = sub.groupby(by, dropna=False, sort=False).ngroup().to_numpy()
        tot = is_total.to_numpy(bool)
        m = g.max() + 1
        good = (
            (np.bincount(g, tot, m) == 1)
            & (np.bincount(g, ~tot, m) >= 1)
            & (np.bincount(g, ~ok_av.to_numpy(bool), m) == 0)
        )
        keep = good[g]
        out.append(
            pd.DataFrame({"rel": g[keep] + n, "cell": sub.index[keep], "is_total": tot[keep]})
        )
        n += m

    r = cells[cells["table"].eq("reentry")]
    row_keys = ["row"]
    three = r[r["column"].isin(["returned_home", "re_entered", "not_re_entered"])]
    add(three, row_keys, three["column"].eq("returned_home"), False)
    cat = with_group_totals(r)
    by = [k for k in KEYS["reentry"] if k != "characteristic"] + ["column"]
    add(cat, by, cat["characteristic"].eq(TOTAL), False)
    geo = ["time_period", "cohort_span", "follow_up_months", "characteristic_group"]
    geo += ["characteristic", "column"]
    sub = r[r["geographic_level"].isin([LA, REGION])]
    add(sub, [*geo, "region_code"], sub["geographic_level"].eq(REGION), True)
    sub = r[r["geographic_level"].isin([REGION, NATION])]
    add(sub, geo, sub["geographic_level"].eq(NATION), True)
    pooled = r[r["cohort_span"].ne(SINGLE_YEAR)]
    if len(pooled):
        span = pooled["cohort_span"].astype(str).str.extract(r"^(\d{4}) to (\d{4})$")
        ok = span.notna().all(axis=1)
        pooled, span = pooled[ok], span[ok].astype(int)
        other = ["geographic_level", "region_code", "old_la_code", "follow_up_months"]
        other += ["characteristic_group", "characteristic", "column"]
        singles = r[r["cohort_span"].eq(SINGLE_YEAR)].reset_index()
        want = []
        for offset in range(int((span[1] - span[0]).max()) + 1 if len(span) else 0):
            sel = span[0] + offset <= span[1]
            w = pooled[sel.to_numpy()][other].copy()
            w["time_period"] = (span[0][sel] + offset).astype("Float64").to_numpy()
            w["pooled"] = pooled.index[sel.to_numpy()]
            want.append(w)
        if want:
            want = pd.concat(want).merge(singles[[*other, "time_period", "index"]], how="left")
            size = (span[1] - span[0] + 1).reindex(want["pooled"]).to_numpy()
            want["found"] = (
                want["index"].notna()
                & avail.reindex(want["index"].fillna(-1).astype(int)).fillna(False).to_numpy()
            )
            complete = want.groupby("pooled")["found"].transform("sum").to_numpy() == size
            complete &= avail.reindex(want["pooled"]).to_numpy()
            want = want[complete]
            rel = want["pooled"].to_numpy()
            tot = np.unique(rel)
            out.append(
                pd.DataFrame(
                    {
                        "rel": np.concatenate([rel, tot]) + n,
                        "cell": np.concatenate([want["index"].to_numpy().astype(int), tot]),
                        "is_total": np.concatenate(
                            [np.zeros(len(rel), bool), np.ones(len(tot), bool)]
                        ),
                    }
                )
            )
            n += int(cells.index.max()) + 1
    c = cells[cells["table"].eq("ceased_by_reason")]
    add(
        c,
        [k for k in KEYS["ceased_by_reason"] if k != "reason_group"],
        c["reason_group"].eq(TOTAL),
        False,
    )
    sub = c[c["geographic_level"].isin([LA, REGION])]
    add(
        sub,
        ["time_period", "reason_group", "region_code"],
        sub["geographic_level"].eq(REGION),
        True,
    )
    sub = c[c["geographic_level"].isin([REGION, NATION])]
    add(sub, ["time_period", "reason_group"], sub["geographic_level"].eq(NATION), True)
    t = cells[cells["table"].eq("time_to_reentry")]
    add(
        t, [k for k in KEYS["time_to_reentry"] if k != "time_band"], t["time_band"].eq(TOTAL), False
    )
    sub = t[t["geographic_level"].isin([REGION, NATION])]
    add(sub, ["time_period", "time_band"], sub["geographic_level"].eq(NATION), True)
    if not out:
        return pd.DataFrame({"rel": [], "cell": [], "is_total": []})
    return pd.concat(out, ignore_index=True)


def _cost(cells: pd.DataFrame) -> np.ndarray:
    """Cost of suppressing a cell: its value, plus large penalties for Totals and for
    regional and national figures, so small LA cells are always preferred."""
    value = cells["value"].fillna(0).to_numpy()
    total = (
        cells["characteristic"].eq(TOTAL)
        | cells["reason_group"].eq(TOTAL)
        | cells["time_band"].eq(TOTAL)
    ).to_numpy()
    level = cells["geographic_level"].map({LA: 0.0, REGION: 1e6, NATION: 1e8}).to_numpy()
    return value + 1e4 * total + level


# --------------------------------------------------------------------------------------
# Primary and secondary suppression
# --------------------------------------------------------------------------------------


def suppress_primary(cells: pd.DataFrame, config: DisclosureConfig) -> np.ndarray:
    """Reason per count cell before secondary suppression."""
    v = cells["value"].to_numpy()
    la = cells["geographic_level"].eq(LA).to_numpy()
    reason = np.where(la, "published", "rounded").astype(object)
    small = la & (v >= config.threshold_low) & (v <= config.threshold_high)
    reason[small] = "primary"
    reason[np.isnan(v)] = "not_available"
    return reason


class _Pattern:
    """The evolving suppression pattern, by identity class."""

    def __init__(self, cells: pd.DataFrame, reason: np.ndarray, config: DisclosureConfig):
        self.cells = cells
        self.reason = reason.copy()
        self.config = config
        self.cls = _canonical_class(cells)
        self.cost = _cost(cells)
        cls_cost = np.bincount(self.cls, self.cost)
        self.cell_cost = cls_cost[self.cls]
        v = cells["value"].to_numpy()
        self.suppressible = ~np.isnan(v) & (v >= 1)
        # Stable tie-break: the cells' order after sorting by their keys.
        order = cells.sort_values(
            ["table", *LOG_KEYS, "column"], kind="stable", na_position="first"
        ).index.to_numpy()
        self.rank = np.empty(len(cells), dtype=np.int64)
        self.rank[order] = np.arange(len(cells))
        self.hidden = np.isin(self.reason, ("primary", "secondary"))
        self.close_classes()

    def suppress(self, idx: np.ndarray) -> int:
        idx = np.asarray(idx, dtype=np.int64)
        new = idx[~self.hidden[idx] & self.suppressible[idx]]
        self.reason[new] = "secondary"
        self.hidden[new] = True
        return len(new) + self.close_classes()

    def close_classes(self) -> int:
        hidden_cls = np.zeros(self.cls.max() + 1 if len(self.cls) else 0, dtype=bool)
        hidden_cls[self.cls[self.hidden]] = True
        spread = hidden_cls[self.cls] & ~self.hidden & self.suppressible
        self.reason[spread] = "secondary"
        self.hidden |= spread
        return int(spread.sum())


def _pick_per_group(
    pattern: _Pattern,
    groups: np.ndarray,
    cand: np.ndarray,
    need: np.ndarray | float,
    quota: np.ndarray | int = 1,
    last: np.ndarray | None = None,
) -> np.ndarray:
    """The ``quota`` best still-published candidates of each group (``groups[i]`` is the
    group of ``cand[i]``): cells of at least ``need`` cheapest first, then the largest
    smaller cells, then any ``last`` (totals) cheapest first; ties by the stable key
    order. One sort for all groups."""
    ok = pattern.suppressible[cand] & ~pattern.hidden[cand]
    g, c = groups[ok], cand[ok]
    if len(c) == 0:
        return np.array([], dtype=np.int64)
    value = pattern.cells["value"].fillna(0).to_numpy()[c]
    need_c = need[g] if np.ndim(need) else need
    small = value < need_c
    tier = small.astype(np.int64)
    if last is not None:
        tier = np.where(last[ok], 2, tier)
    key = np.where(tier == 1, -value, pattern.cell_cost[c])
    order = np.lexsort((pattern.rank[c], key, tier, g))
    gs = g[order]
    within = np.arange(len(gs)) - np.searchsorted(gs, gs, side="left")
    allowed = quota[gs] if np.ndim(quota) else quota
    return c[order][within < allowed]


def _local_rules(pattern: _Pattern, rels: pd.DataFrame) -> int:
    """Cheap necessary conditions, applied until nothing changes: no relation may hold
    exactly one suppressed cell (it would be found by subtraction), and where a relation's
    total is published, its suppressed parts must leave each primary cell at least
    ``protection_width`` of room (sum - count >= width; Hundepool et al. 2012, 4.2)."""
    added_total = 0
    values = pattern.cells["value"].fillna(0).to_numpy()
    pw = pattern.config.protection_width
    rel = rels["rel"].to_numpy()
    cell = rels["cell"].to_numpy()
    is_total = rels["is_total"].to_numpy()
    for _ in range(200):
        hidden = pattern.hidden[cell]
        primary = (pattern.reason == "primary")[cell]
        m = rel.max() + 1 if len(rel) else 0
        n_hidden = np.bincount(rel, hidden, m)
        # Singletons: one hidden member.
        single = np.flatnonzero(n_hidden == 1)
        # Room: total published, hidden parts include a primary cell.
        tot_hidden = np.bincount(rel, hidden & is_total, m) > 0
        part_hidden = hidden & ~is_total
        s = np.bincount(rel, np.where(part_hidden, values[cell], 0), m)
        k = np.bincount(rel, part_hidden, m)
        has_primary = np.bincount(rel, primary & ~is_total, m) > 0
        tight = np.flatnonzero(~tot_hidden & has_primary & (s - k < pw) & (k >= 1))
        todo = np.union1d(single, tight)
        if len(todo) == 0:
            break
        # For each such relation pick one cell, all relations at once: a part worth at
        # least the room still needed (cheapest first), else the largest part, else the
        # total (cheapest); ties by the stable key order.
        need = np.zeros(m)
        need[tight] = (pw - (s - k) + 1)[tight]
        in_todo = np.isin(rel, todo)
        chosen = _pick_per_group(pattern, rel[in_todo], cell[in_todo], need, last=is_total[in_todo])
        if len(chosen) == 0:
            break
        added = pattern.suppress(np.unique(chosen))
        added_total += added
        if added == 0:
            break
    return added_total


def _count_strings(cells: pd.DataFrame, reason: np.ndarray, base: int) -> np.ndarray:
    v = cells["value"].to_numpy()
    out = np.full(len(cells), "x", dtype=object)
    la = cells["geographic_level"].eq(LA).to_numpy()
    ok = ~np.isnan(v)
    out[la & ok] = _int_str(np.nan_to_num(v[la & ok]))
    agg = ~la & ok
    rounded = round_half_up(np.nan_to_num(v[agg]).astype(np.int64), base)
    s = _int_str(rounded)
    s[(rounded == 0) & (v[agg] > 0)] = "k"
    out[agg] = s
    out[np.isin(reason, ("primary", "secondary"))] = "c"
    return out


def _pseudo_tables(cells, reason, base, tables) -> tuple[dict, pd.DataFrame]:
    """Count-only published tables and log, for the audit inside the suppression loop."""
    strings = _count_strings(cells, reason, base)
    out = {}
    for name, df in tables.items():
        t = df[KEYS[name]].copy()
        for col in COUNTS[name]:
            sel = (cells["table"].eq(name) & cells["column"].eq(col)).to_numpy()
            t[col] = strings[sel][np.argsort(cells.loc[sel, "row"].to_numpy())]
        out[name] = t
    log = cells[["table", *LOG_KEYS, "column"]].copy()
    log["true_value"] = cells["value"].to_numpy()
    log["reason"] = reason
    return out, log


def _complements(
    pattern: _Pattern,
    bad: np.ndarray,
    incidence: sparse.csr_matrix,
    incidence_t: sparse.csr_matrix,
    idx_of: np.ndarray,
    need: float,
    max_depth: int = 6,
    per_cell: np.ndarray | None = None,
) -> np.ndarray:
    """One complementary cell per under-protected cell ``bad`` (attacker cell ids): the
    cheapest still-published cell sharing a relation with it, preferring cells of at least
    ``need`` (a complement of value v can only move down by v - 1, so a cell of 1 adds no
    room). Where every partner is hidden already, the search goes one relation further,
    up to ``max_depth``. ``per_cell`` (default 1) is how many complements each bad cell
    gets from the first ring that has any. Vectorised over all bad cells at once with
    sparse products."""
    quota = np.ones(len(bad), dtype=np.int64) if per_cell is None else per_cell
    open_ = pattern.suppressible & ~pattern.hidden
    picks: list[np.ndarray] = []
    frontier = sparse.csr_matrix(
        (np.ones(len(bad)), (np.arange(len(bad)), bad)), shape=(len(bad), incidence.shape[0])
    )
    seen = frontier.copy()
    row_ids = np.arange(len(bad))
    for _ in range(max_depth):
        reached = ((frontier @ incidence) @ incidence_t).tocsr()
        reached.data[:] = 1.0
        # Drop cells already visited so the next ring only holds new cells.
        reached = (reached - reached.multiply(seen)).tocoo()
        keep = reached.data > 0
        r, c = reached.row[keep], reached.col[keep]
        idx = idx_of[c]
        ok = idx >= 0
        ok[ok] = open_[idx[ok]]
        rr, ii = r[ok], idx[ok]
        picks.append(_pick_per_group(pattern, rr, ii, need, quota[row_ids]))
        done = np.unique(rr)
        todo = np.setdiff1d(np.arange(frontier.shape[0]), done)
        if len(todo) == 0 or len(c) == 0:
            break
        nxt = sparse.csr_matrix((np.ones(len(r)), (r, c)), shape=frontier.shape)[todo]
        row_ids = row_ids[todo]
        seen = (seen[todo] + nxt).tocsr()
        seen.data[:] = 1.0
        frontier = nxt
        if frontier.nnz == 0:
            break
    if not picks:
        return np.array([], dtype=np.int64)
    return np.unique(np.concatenate(picks))


def _complements_every_relation(
    pattern: _Pattern,
    bad: np.ndarray,
    incidence: sparse.csr_matrix,
    incidence_t: sparse.csr_matrix,
    idx_of: np.ndarray,
    need: float,
) -> np.ndarray:
    """For cells still under-protected after a complement of their own: the cheapest
    still-published cell (of at least ``need`` if any) in every relation that holds them,
    so that whichever relation binds them gains room."""
    rel_ids = np.unique(incidence[bad].indices)
    members = incidence_t[rel_ids].tocoo()
    idx = idx_of[members.col]
    ok = idx >= 0
    return np.unique(_pick_per_group(pattern, members.row[ok], idx[ok], need))


def suppress_secondary(
    cells: pd.DataFrame,
    reason: np.ndarray,
    tables: dict[str, pd.DataFrame],
    config: DisclosureConfig,
    previous: PublishedTables | None = None,
    certificates: list | None = None,
) -> np.ndarray:
    """Add complementary suppressions until the attacker cannot narrow any primary cell
    below the protection width. Local rules first (no LP), then LP-guided: for each
    component that still fails, suppress the cheapest published cell in a relation of its
    first failing cell (or, failing that, of any hidden cell in the component).

    ``certificates``: if a list, the feasible points that show every protected primary
    cell's range are appended to it (as one frame keyed by release, table, row, column)."""
    from assets import audit  # the attacker; it never imports this module's relations

    t_start = time.perf_counter()
    pattern = _Pattern(cells, reason, config)
    rels = _sum_relations(cells)
    _local_rules(pattern, rels)
    LOG.info(
        "local rules: %d cells hidden (%d primary), %.1f s",
        int(pattern.hidden.sum()),
        int((pattern.reason == "primary").sum()),
        time.perf_counter() - t_start,
    )
    pseudo, log = _pseudo_tables(cells, pattern.reason, config.rounding_base, tables)
    prev_tables = prev_log = None
    if previous is not None:
        prev_tables = {
            "reentry": previous.reentry,
            "ceased_by_reason": previous.ceased_by_reason,
            "time_to_reentry": previous.time_to_reentry,
        }
        prev_log = previous.suppression_log
    system = audit.build_attacker_system(
        pseudo,
        log,
        rounding_base=config.rounding_base,
        previous_tables=prev_tables,
        previous_log=prev_log,
    )
    sc = system.cells
    cur = sc["release"].eq("current").to_numpy()
    # Map attacker cell ids <-> our cells through (table, row, column).
    ours = cells[["table", "row", "column"]].reset_index(names="idx")
    mapped = sc.loc[cur, ["table", "row", "column", "cid"]].merge(
        ours, on=["table", "row", "column"]
    )
    cid_of = np.full(len(cells), -1, dtype=np.int64)
    cid_of[mapped["idx"].to_numpy()] = mapped["cid"].to_numpy()
    idx_of = np.full(len(sc), -1, dtype=np.int64)
    idx_of[mapped["cid"].to_numpy()] = mapped["idx"].to_numpy()
    # What the attacker cannot read off the page already (the previous release's hidden
    # cells, and any figure known only to an interval, such as a rounded count) stays
    # unknown; cells hidden in later rounds join it with the bounds of a 'c': [1, BIG].
    base_unknown = sc["unknown"].to_numpy().copy()
    trip = system.triplets
    # Cell-relation incidence as sparse matrices: the search for complementary cells walks
    # relations many times per round, and row slices of a CSR matrix do that in C.
    incidence = sparse.csr_matrix(
        (np.ones(len(trip), dtype=np.int8), (trip["cid"].to_numpy(), trip["rel"].to_numpy())),
        shape=(len(sc), len(system.rel_bounds)),
    )
    incidence_t = incidence.T.tocsr()

    LOG.info("attacker system built: %.1f s", time.perf_counter() - t_start)
    need = float(config.protection_width + 1)
    # Once feasible points show a primary cell's range wide enough it stays so: each later
    # suppression only relaxes the attacker's system (a hidden cell's bounds [v, v] become
    # [1, BIG]), so every earlier feasible point is still feasible.
    proven = np.zeros(len(sc), dtype=bool)
    stuck = np.zeros(len(sc), dtype=np.int64)
    points = audit.FeasiblePoints(len(sc))
    for round_no in range(config.max_rounds):
        t0 = time.perf_counter()
        unknown = base_unknown.copy()
        hid_cid = cid_of[pattern.hidden]
        hid_cid = hid_cid[hid_cid >= 0]
        unknown[hid_cid] = True
        lo, hi = sc["lo"].to_numpy().copy(), sc["hi"].to_numpy().copy()
        lo[hid_cid], hi[hid_cid] = 1.0, audit.BIG
        sc["lo"], sc["hi"] = lo, hi
        primary_cids = cid_of[(pattern.reason == "primary")]
        primary_cids = np.sort(primary_cids[primary_cids >= 0])
        targets = primary_cids[~proven[primary_cids]]
        ranges, _, _ = audit.solve_ranges(
            system,
            unknown,
            targets,
            enough=config.protection_width,
            exact=False,
            feasible_rounds=4,
            truth=system.base_values if round_no else None,
            max_region_vars=config.lp_region_vars,
            points=points,
            exact_below=2,
        )
        wide = ranges["width"].to_numpy() >= config.protection_width
        checked = ranges["cid"].to_numpy().astype(np.int64)
        proven[checked[wide]] = True
        bad = np.sort(checked[~wide])
        LOG.info(
            "secondary round %d: %d cells hidden, %d primary cells still to protect "
            "(%d checked), %.1f s",
            round_no,
            int(pattern.hidden.sum()),
            len(bad),
            len(targets),
            time.perf_counter() - t0,
        )
        if len(bad) == 0:
            break
        # Feasible points did not show these cells wide enough: give each one more
        # complementary cell, the cheapest published cell sharing a relation with it
        # (looking further along relations when every partner is already hidden).
        # A cell that failed last round too gets a complement in every relation, and
        # twice as many nearest complements for each further round it stays unprotected.
        stuck[checked[wide]] = 0
        stuck[bad] += 1
        again = bad[stuck[bad] > 1]
        per_cell = np.minimum(4 ** (stuck[bad] - 1), 64)
        chosen = _complements(pattern, bad, incidence, incidence_t, idx_of, need, per_cell=per_cell)
        if len(again):
            more = _complements_every_relation(pattern, again, incidence, incidence_t, idx_of, need)
            chosen = np.union1d(chosen, more)
        if len(chosen) == 0 or pattern.suppress(chosen) == 0:
            break
        _local_rules(pattern, rels)
    if certificates is not None:
        wit = points.witnesses(np.flatnonzero(proven))
        keys = sc[audit.CERTIFICATE_KEYS].iloc[wit["cid"].to_numpy()]
        certificates.append(
            pd.concat(
                [keys.reset_index(drop=True), wit[["point", "value"]].reset_index(drop=True)],
                axis=1,
            )
        )
    return pattern.reason


# --------------------------------------------------------------------------------------
# Rates and the published tables
# --------------------------------------------------------------------------------------


def _rate_strings(num, den, withheld, unavailable, min_den) -> np.ndarray:
    num = pd.to_numeric(pd.Series(num), errors="coerce").to_numpy(dtype=float)
    den = pd.to_numeric(pd.Series(den), errors="coerce").to_numpy(dtype=float)
    out = np.full(len(num), "x", dtype=object)
    ok = ~np.isnan(num) & ~np.isnan(den) & ~unavailable
    zero_den = ok & (den == 0)
    show = ok & (den > 0) & ~withheld & (den >= min_den)
    pct = whole_percent(np.nan_to_num(num[show]), np.nan_to_num(den[show]))
    s = _int_str(pct)
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
        r = _half_up_float(x[ok])
        s = _int_str(r)
        s[(r == 0) & (x[ok] > 0)] = "k"
    else:
        s = np.array([f"{v:.{decimals}f}" for v in x[ok]], dtype=object)
    out[ok] = s
    out[~show & ~np.isnan(x) & ~unavailable] = fallback
    return out


def _publish_reentry(
    df: pd.DataFrame, counts: dict[str, np.ndarray], config: DisclosureConfig
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Strings for every published reentry column; returns the table and each rate
    column's log reason."""
    df = df.copy()
    for col in ("re_entry_rate", "re_entry_rate_lower_ci", "re_entry_rate_upper_ci"):
        if col not in df:
            df[col] = np.nan
    out = df[KEYS["reentry"]].copy()
    for col, s in counts.items():
        out[col] = s
    c = {k: np.asarray(v) == "c" for k, v in counts.items()}
    rh = pd.to_numeric(df["returned_home"], errors="coerce").to_numpy(dtype=float)
    re = pd.to_numeric(df["re_entered"], errors="coerce").to_numpy(dtype=float)
    unavailable = np.isnan(rh) | np.isnan(re)
    withheld = c["returned_home"] | c["re_entered"] | c["not_re_entered"]
    withheld |= np.nan_to_num(rh) < config.min_rate_denominator
    md = config.min_rate_denominator
    out["re_entry_rate"] = _rate_strings(re, rh, withheld, unavailable, md)
    shown = out["re_entry_rate"].isin(["c", "x", "z"]).to_numpy() == False  # noqa: E712
    for col in ("re_entry_rate_lower_ci", "re_entry_rate_upper_ci"):
        out[col] = _float_strings(df[col], shown, "c", unavailable)
        out.loc[out["re_entry_rate"].eq("z"), col] = "z"
    if "re_entered_any_la" in df:
        anyla = pd.to_numeric(df["re_entered_any_la"], errors="coerce").to_numpy(dtype=float)
        w_any = c["returned_home"] | c["re_entered_any_la"] | (np.nan_to_num(rh) < md)
        out["re_entry_rate_any_la"] = _rate_strings(anyla, rh, w_any, np.isnan(anyla), md)
    is_la = df["geographic_level"].eq(LA).to_numpy()
    fp = df["funnel_position"] if "funnel_position" in df else pd.Series(np.nan, index=df.index)
    fp = fp.astype("object").where(fp.notna(), None).to_numpy()
    funnel = np.where(pd.isna(fp), "z", fp).astype(object)
    funnel[is_la & ~shown] = "c"
    funnel[unavailable & is_la] = "x"
    funnel[~is_la] = "z"
    out["funnel_position"] = funnel
    # Neighbours' rate: only when no neighbour's count behind it is suppressed.
    out["sn_re_entry_rate"] = _sn_strings(df, counts, is_la, md)
    out["england_re_entry_rate"] = _england_strings(df, out)
    for col in ("standardised_ratio", "standardised_ratio_lower_ci", "standardised_ratio_upper_ci"):
        if col in df:
            out[col] = _float_strings(df[col], shown, "c", unavailable, decimals=2)
    for col in ("sn_neighbours_included", "las_excluded"):
        if col in df:
            v = pd.to_numeric(df[col], errors="coerce")
            out[col] = np.where(v.isna(), "z", v.fillna(0).astype("int64").astype(str))
    if "unavailable_reason" in df:
        out["unavailable_reason"] = df["unavailable_reason"].to_numpy()
    cols = [c_ for c_ in REENTRY_PUBLISHED if c_ in out]
    return out[cols], {}


def _sn_strings(df, counts, is_la, min_den) -> np.ndarray:
    out = np.full(len(df), "z", dtype=object)
    if "sn_re_entry_rate" not in df:
        return out
    keys = ["time_period", "cohort_span", "follow_up_months", "characteristic_group"]
    keys += ["characteristic"]
    la = df.loc[is_la, [*keys, "old_la_code"]].copy()
    la["hidden"] = (np.asarray(counts["returned_home"]) == "c")[is_la] | (
        np.asarray(counts["re_entered"]) == "c"
    )[is_la]
    hidden = la[la["hidden"]].rename(columns={"old_la_code": "neighbour_old_la_code"})
    nb = load_statistical_neighbours()[["old_la_code", "neighbour_old_la_code"]]
    pairs = la[[*keys, "old_la_code"]].reset_index().merge(nb, on="old_la_code")
    hit = pairs.merge(hidden[[*keys, "neighbour_old_la_code"]], on=[*keys, "neighbour_old_la_code"])
    blocked = np.zeros(len(df), dtype=bool)
    blocked[df.index.get_indexer(hit["index"].unique())] = True
    num = df.get("sn_re_entered")
    den = df.get("sn_returned_home")
    rate = pd.to_numeric(df["sn_re_entry_rate"], errors="coerce").to_numpy(dtype=float)
    if num is not None and den is not None:
        s = _rate_strings(num, den, blocked, np.isnan(rate), min_den)
    else:
        s = _float_strings(rate, ~blocked, "c", np.isnan(rate))
    out[is_la] = s[is_la]
    return out


def _england_strings(df: pd.DataFrame, out: pd.DataFrame) -> np.ndarray:
    """England's rate as published in its own National row, so the two always agree."""
    match = ["time_period", "cohort_span", "follow_up_months", "characteristic_group"]
    match += ["characteristic"]
    nat = out.loc[out["geographic_level"].eq(NATION), [*match, "re_entry_rate"]]
    merged = out[match].merge(nat, on=match, how="left")
    own = _float_strings(
        df.get("england_re_entry_rate", pd.Series(np.nan, index=df.index)),
        np.ones(len(df), bool),
        "c",
        np.zeros(len(df), bool),
    )
    own = np.where(own == "z", "x", own)
    return np.where(merged["re_entry_rate"].isna(), own, merged["re_entry_rate"]).astype(object)


def _information_loss(
    cells: pd.DataFrame, reason: np.ndarray, unpublished: pd.Series
) -> pd.DataFrame:
    """Share of non-zero LA count cells (as computed, before table redesign) withheld by
    table design, suppressed as primary, and suppressed as secondary, per table."""
    la = cells["geographic_level"].eq(LA).to_numpy() & (cells["value"].fillna(0) > 0).to_numpy()
    design = la & unpublished.to_numpy()
    rows = []
    for name in [*COUNTS, "all"]:
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


REDESIGN_SINGLE_YEAR = "LA breakdowns are published for three-year pooled cohorts"
REDESIGN_GROUP = "Published for England and regions only"
MEASURE_COLUMNS_KEPT = ("unavailable_reason",)


def redesign_la_breakdowns(
    reentry: pd.DataFrame, config: DisclosureConfig
) -> tuple[pd.DataFrame, np.ndarray]:
    """Withhold, by table design, the LA breakdown rows that are not published (their
    figures become not available, with the reason), and the ``la_pooled_only_counts`` of
    single-year LA rows (not available; the methodology says why), before any cell is
    suppressed. Returns the table and a mask of the rows withheld."""
    la = reentry["geographic_level"].eq(LA).to_numpy()
    group = reentry["characteristic_group"].astype("object").to_numpy()
    breakdown = group != TOTAL
    single = reentry["cohort_span"].eq(SINGLE_YEAR).to_numpy()
    other_group = breakdown & ~np.isin(group, list(config.la_breakdown_groups))
    by_year = breakdown & single & (not config.la_single_year_breakdowns)
    withheld = la & (other_group | by_year)
    context = [c for c in config.la_pooled_only_counts if c in reentry]
    single_la = la & single & ~withheld
    if not withheld.any() and not (context and single_la.any()):
        return reentry, withheld
    out = reentry.copy()
    for col in context:
        out[col] = pd.to_numeric(out[col].astype("object").where(~single_la, None))
    keys = set(KEYS["reentry"]) | set(MEASURE_COLUMNS_KEPT)
    for col in out.columns:
        if col in keys:
            continue
        if pd.api.types.is_numeric_dtype(out[col]) or col == "funnel_position":
            out[col] = out[col].astype("object").where(~withheld, None)
            if col != "funnel_position":
                out[col] = pd.to_numeric(out[col], errors="coerce")
    reason = np.where(other_group, REDESIGN_GROUP, REDESIGN_SINGLE_YEAR)
    current = (
        out["unavailable_reason"].astype("object").to_numpy()
        if "unavailable_reason" in out
        else np.full(len(out), None, dtype=object)
    )
    out["unavailable_reason"] = np.where(withheld, reason, current)
    return out, withheld


def _validate_inputs(tables: dict[str, pd.DataFrame]) -> None:
    for name, df in tables.items():
        missing = [c for c in [*KEYS[name], *COUNTS[name]] if c not in df]
        if missing:
            raise ValueError(f"{name}: missing column(s) {missing} needed for disclosure control")
        dup = df.duplicated(KEYS[name])
        if dup.any():
            row = int(np.flatnonzero(dup.to_numpy())[0])
            raise ValueError(f"{name}: row {row} repeats the keys of an earlier row {KEYS[name]}")
        for col in COUNTS[name]:
            v = pd.to_numeric(df[col], errors="coerce")
            bad = (v < 0) | (v.notna() & (v != v.round()))
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0])
                raise ValueError(
                    f"{name}: row {row}, column {col}: counts must be non-negative whole numbers"
                )


def _sorted_input(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Row order must not change the result: sort by the keys first."""
    return df.sort_values(keys, kind="stable", na_position="first").reset_index(drop=True)


def apply_disclosure_control(
    reentry: pd.DataFrame,
    ceased_by_reason: pd.DataFrame,
    time_to_reentry: pd.DataFrame,
    *,
    config: DisclosureConfig = DisclosureConfig(),
    previous: PublishedTables | None = None,
) -> PublishedTables:
    """Primary and secondary suppression, rounding and symbols for the whole release.

    ``previous``: the last release's PublishedTables (with its suppression_log); cells
    whose true value did not change are linked to it so the two releases cannot be
    differenced.
    """
    tables = {
        "reentry": _sorted_input(reentry, KEYS["reentry"]),
        "ceased_by_reason": _sorted_input(ceased_by_reason, KEYS["ceased_by_reason"]),
        "time_to_reentry": _sorted_input(time_to_reentry, KEYS["time_to_reentry"]),
    }
    _validate_inputs(tables)
    design_cells = _cells(tables)
    tables["reentry"], _ = redesign_la_breakdowns(tables["reentry"], config)
    cells = _cells(tables)
    reason = suppress_primary(cells, config)
    certificates: list[pd.DataFrame] = []
    reason = suppress_secondary(cells, reason, tables, config, previous, certificates)
    strings = _count_strings(cells, reason, config.rounding_base)
    published: dict[str, pd.DataFrame] = {}
    count_strings: dict[str, dict[str, np.ndarray]] = {}
    for name in tables:
        cs = {}
        for col in COUNTS[name]:
            sel = (cells["table"].eq(name) & cells["column"].eq(col)).to_numpy()
            cs[col] = strings[sel]
        count_strings[name] = cs
    published["reentry"], _ = _publish_reentry(tables["reentry"], count_strings["reentry"], config)
    for name in ("ceased_by_reason", "time_to_reentry"):
        t = tables[name][KEYS[name]].copy()
        for col, s in count_strings[name].items():
            t[col] = s
        published[name] = t
    log = _suppression_log(cells, reason, strings, tables["reentry"], published["reentry"])
    return PublishedTables(
        reentry=published["reentry"],
        ceased_by_reason=published["ceased_by_reason"],
        time_to_reentry=published["time_to_reentry"],
        suppression_log=log,
        information_loss=_information_loss(design_cells, reason, cells["value"].isna()),
        certificates=certificates[0] if certificates else pd.DataFrame(),
    )


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


def _suppression_log(cells, reason, strings, raw: pd.DataFrame, pub: pd.DataFrame) -> pd.DataFrame:
    """One row per published figure: keys, column, true value, published string, reason."""
    log = cells[["table", *LOG_KEYS, "column"]].copy()
    log["true_value"] = cells["value"].to_numpy()
    log["published"] = strings
    log["reason"] = reason
    parts = [log]
    for col in RATE_COLUMNS:
        if col not in pub or col not in raw:
            continue
        part = raw[KEYS["reentry"]].copy()
        for k in LOG_KEYS:
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
        ["table", *LOG_KEYS, "column"], kind="stable", na_position="first"
    ).reset_index(drop=True)


def write_published(published: PublishedTables, folder: Path) -> None:
    """Write the published tables (and, alongside, the restricted log) as CSV, sorted and
    without timestamps, in the layout ``assets.audit.audit_release_dir`` reads."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    published.reentry.to_csv(folder / "reentry.csv", index=False)
    published.ceased_by_reason.to_csv(folder / "ceased_by_reason.csv", index=False)
    published.time_to_reentry.to_csv(folder / "time_to_reentry.csv", index=False)
    published.suppression_log.to_csv(folder / "suppression_log.csv", index=False)
    published.information_loss.to_csv(folder / "information_loss.csv", index=False)
