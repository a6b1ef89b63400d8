"""Primary and secondary cell suppression over the whole release.

Primary: local-authority counts from ``threshold_low`` to ``threshold_high`` are withheld.
Secondary: the release is one system of linear relations (``assets.disclosure.attacker``);
complements are added at least cost, deterministically, until every primary cell's
feasible range is at least ``protection_width`` wide (Hundepool et al., *Statistical
Disclosure Control*, Wiley 2012, ch. 4 and 5: protection intervals and the cell
suppression problem).
"""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd
from scipy import sparse

from assets.common.contracts import ALL_TABLE_KEYS, TABLE_COUNTS, TABLE_KEYS
from assets.common.vocabulary import LOCAL, NATIONAL, REGIONAL, SINGLE_YEAR, TOTAL
from assets.disclosure.attacker import BIG, build_attacker_system, with_group_totals
from assets.disclosure.config import DisclosureConfig
from assets.disclosure.lp import CERTIFICATE_KEYS, FeasiblePoints, solve_ranges
from assets.disclosure.published import PublishedTables
from assets.disclosure.rounding import int_strings, round_half_up

LOG = logging.getLogger(__name__)


def suppression_cells(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every count cell in long form: table, row, key columns, column, value (float, NaN
    when not available), level."""
    parts = []
    for name, df in tables.items():
        for col in TABLE_COUNTS[name]:
            part = pd.DataFrame(
                {k: df[k].to_numpy() if k in df else None for k in ALL_TABLE_KEYS}, index=df.index
            )
            part.insert(0, "table", name)
            part.insert(1, "row", np.arange(len(df)))
            part["column"] = col
            part["value"] = pd.to_numeric(df[col], errors="coerce").astype("float64").to_numpy()
            parts.append(part.reset_index(drop=True))
    cells = pd.concat(parts, ignore_index=True)
    for k in ALL_TABLE_KEYS:
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
    cols = ["table", *ALL_TABLE_KEYS, "column"]
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
    by = [k for k in TABLE_KEYS["reentry"] if k != "characteristic"] + ["column"]
    add(cat, by, cat["characteristic"].eq(TOTAL), False)
    geo = ["time_period", "cohort_span", "follow_up_months", "characteristic_group"]
    geo += ["characteristic", "column"]
    sub = r[r["geographic_level"].isin([LOCAL, REGIONAL])]
    add(sub, [*geo, "region_code"], sub["geographic_level"].eq(REGIONAL), True)
    sub = r[r["geographic_level"].isin([REGIONAL, NATIONAL])]
    add(sub, geo, sub["geographic_level"].eq(NATIONAL), True)
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
        [k for k in TABLE_KEYS["ceased_by_reason"] if k != "reason_group"],
        c["reason_group"].eq(TOTAL),
        False,
    )
    sub = c[c["geographic_level"].isin([LOCAL, REGIONAL])]
    add(
        sub,
        ["time_period", "reason_group", "region_code"],
        sub["geographic_level"].eq(REGIONAL),
        True,
    )
    sub = c[c["geographic_level"].isin([REGIONAL, NATIONAL])]
    add(sub, ["time_period", "reason_group"], sub["geographic_level"].eq(NATIONAL), True)
    t = cells[cells["table"].eq("time_to_reentry")]
    add(
        t,
        [k for k in TABLE_KEYS["time_to_reentry"] if k != "time_band"],
        t["time_band"].eq(TOTAL),
        False,
    )
    sub = t[t["geographic_level"].isin([REGIONAL, NATIONAL])]
    add(sub, ["time_period", "time_band"], sub["geographic_level"].eq(NATIONAL), True)
    if not out:
        return pd.DataFrame({"rel": [], "cell": [], "is_total": []})
    return pd.concat(out, ignore_index=True)


# Cost bands of a candidate complement (as tau-ARGUS and sdcTable weight cells): a
# complement is always taken from the cheapest band that has one, then by value. England
# and regional figures are not candidates at all (``_Pattern.suppressible``).
BAND_CHEAP = 0  # LA breakdown categories and context counts
BAND_SINGLE_TOTAL = 1  # an LA's single-year Total figures
BAND_HEADLINE = 2  # an LA's pooled three-year Total figures: the headline
BAND_TOTALS = {BAND_CHEAP: 0.0, BAND_SINGLE_TOTAL: 1e4, BAND_HEADLINE: 1e6}


def cost_band(cells: pd.DataFrame) -> np.ndarray:
    """The cost band of each cell as a complement: the LA's pooled headline is expensive,
    its single-year Total cheaper, breakdown categories and the ceased table cheapest."""
    total = (
        cells["characteristic"].eq(TOTAL)
        | cells["reason_group"].eq(TOTAL)
        | cells["time_band"].eq(TOTAL)
    ).to_numpy()
    pooled = (
        cells["cohort_span"].notna().to_numpy() & cells["cohort_span"].ne(SINGLE_YEAR).to_numpy()
    )
    band = np.where(total, BAND_SINGLE_TOTAL, BAND_CHEAP)
    return np.where(total & pooled, BAND_HEADLINE, band).astype(np.int64)


def _cost(cells: pd.DataFrame) -> np.ndarray:
    """Cost of suppressing a cell: its band's weight plus its value (within a band, the
    smaller figure is the smaller loss)."""
    value = cells["value"].fillna(0).to_numpy()
    weight = np.vectorize(BAND_TOTALS.get, otypes=[float])(cost_band(cells))
    return value + weight


# --------------------------------------------------------------------------------------
# Primary and secondary suppression
# --------------------------------------------------------------------------------------


def suppress_primary(cells: pd.DataFrame, config: DisclosureConfig) -> np.ndarray:
    """Reason per count cell before secondary suppression."""
    v = cells["value"].to_numpy()
    la = cells["geographic_level"].eq(LOCAL).to_numpy()
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
        # England and regional figures are published (rounded) by construction: LA cells
        # are protected by complements among LA cells only.
        la = cells["geographic_level"].eq(LOCAL).to_numpy()
        self.any_suppressible = ~np.isnan(v) & (v >= 1)
        self.suppressible = self.any_suppressible & la
        band = cost_band(cells)
        # A class (the same number in several places) costs what its dearest member does.
        cls_band = np.zeros(self.cls.max() + 1 if len(self.cls) else 0, dtype=np.int64)
        np.maximum.at(cls_band, self.cls, band)
        self.band = cls_band[self.cls]
        # Stable tie-break: the cells' order after sorting by their keys.
        order = cells.sort_values(
            ["table", *ALL_TABLE_KEYS, "column"], kind="stable", na_position="first"
        ).index.to_numpy()
        self.rank = np.empty(len(cells), dtype=np.int64)
        self.rank[order] = np.arange(len(cells))
        self.hidden = np.isin(self.reason, ("primary", "secondary"))
        self.close_classes()

    def open_aggregates(self) -> bool:
        """The last resort, when no LA cell is left to protect a primary cell (a region
        whose figure is one LA's small count, every other LA's being 0): England and
        regional cells become candidates too. False if they already were."""
        if (self.suppressible == self.any_suppressible).all():
            return False
        self.suppressible = self.any_suppressible.copy()
        return True

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
    group of ``cand[i]``): from the cheapest cost band that has one, cells of at least
    ``need`` cheapest first, then the largest smaller cells, then any ``last`` (totals)
    cheapest first; ties by the stable key order. One sort for all groups."""
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
    order = np.lexsort((pattern.rank[c], key, tier, pattern.band[c], g))
    gs = g[order]
    within = np.arange(len(gs)) - np.searchsorted(gs, gs, side="left")
    allowed = quota[gs] if np.ndim(quota) else quota
    return c[order][within < allowed]


def _without_aggregate_totals(rels: pd.DataFrame, cells: pd.DataFrame) -> pd.DataFrame:
    """``rels`` without the relations whose total is an England or regional cell."""
    total_cells = rels.loc[rels["is_total"].to_numpy(), ["rel", "cell"]]
    agg = ~cells["geographic_level"].eq(LOCAL).to_numpy()[total_cells["cell"].to_numpy()]
    return rels[~rels["rel"].isin(total_cells["rel"].to_numpy()[agg])].reset_index(drop=True)


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


def count_strings(cells: pd.DataFrame, reason: np.ndarray, base: int) -> np.ndarray:
    v = cells["value"].to_numpy()
    out = np.full(len(cells), "x", dtype=object)
    la = cells["geographic_level"].eq(LOCAL).to_numpy()
    ok = ~np.isnan(v)
    out[la & ok] = int_strings(np.nan_to_num(v[la & ok]))
    agg = ~la & ok
    rounded = round_half_up(np.nan_to_num(v[agg]).astype(np.int64), base)
    s = int_strings(rounded)
    s[(rounded == 0) & (v[agg] > 0)] = "k"
    out[agg] = s
    out[np.isin(reason, ("primary", "secondary"))] = "c"
    return out


def _pseudo_tables(cells, reason, base, tables) -> tuple[dict, pd.DataFrame]:
    """Count-only published tables and log, for the audit inside the suppression loop."""
    strings = count_strings(cells, reason, base)
    out = {}
    for name, df in tables.items():
        t = df[TABLE_KEYS[name]].copy()
        for col in TABLE_COUNTS[name]:
            sel = (cells["table"].eq(name) & cells["column"].eq(col)).to_numpy()
            t[col] = strings[sel][np.argsort(cells.loc[sel, "row"].to_numpy())]
        out[name] = t
    log = cells[["table", *ALL_TABLE_KEYS, "column"]].copy()
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

    t_start = time.perf_counter()
    pattern = _Pattern(cells, reason, config)
    rels = _sum_relations(cells)
    if not config.aggregates_exact:
        # A rounded England or regional total is only an interval: one hidden LA cell in
        # its sum is not found by subtraction, so the local rules leave those sums to the LP.
        rels = _without_aggregate_totals(rels, cells)
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
        if len(getattr(previous, "sensitivity", ())):
            prev_tables["sensitivity"] = previous.sensitivity
        prev_log = previous.suppression_log
    system = build_attacker_system(
        pseudo,
        log,
        rounding_base=config.rounding_base,
        exact_aggregates=config.aggregates_exact,
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
    points = FeasiblePoints(len(sc))
    for round_no in range(config.max_rounds):
        t0 = time.perf_counter()
        unknown = base_unknown.copy()
        hid_cid = cid_of[pattern.hidden]
        hid_cid = hid_cid[hid_cid >= 0]
        unknown[hid_cid] = True
        lo, hi = sc["lo"].to_numpy().copy(), sc["hi"].to_numpy().copy()
        lo[hid_cid], hi[hid_cid] = 1.0, BIG
        sc["lo"], sc["hi"] = lo, hi
        primary_cids = cid_of[(pattern.reason == "primary")]
        primary_cids = np.sort(primary_cids[primary_cids >= 0])
        targets = primary_cids[~proven[primary_cids]]
        ranges, _, _ = solve_ranges(
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
            if not pattern.open_aggregates():
                break
            LOG.warning("no LA complement left: England and regional cells opened")
        _local_rules(pattern, rels)
    if certificates is not None:
        wit = points.witnesses(np.flatnonzero(proven))
        keys = sc[CERTIFICATE_KEYS].iloc[wit["cid"].to_numpy()]
        certificates.append(
            pd.concat(
                [keys.reset_index(drop=True), wit[["point", "value"]].reset_index(drop=True)],
                axis=1,
            )
        )
    return pattern.reason
