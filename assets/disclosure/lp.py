"""The LP engine: feasible ranges of unknown cells in the attacker's system.

Solved with HiGHS (scipy.optimize.linprog): warm-started dual simplex for small
components, interior point for large ones. LP bounds are rounded inwards to integers (ceil
of the minimum, floor of the maximum). For speed, feasible points are collected first from
a few LPs with shared objectives over all components at once (any two feasible points
prove a lower bound on a cell's range); the exact minimum and maximum are solved only for
cells those points do not already show to be wide.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components

from assets.disclosure.attacker import EPS, AttackerSystem


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


CERTIFICATE_KEYS = ["release", "table", "row", "column"]
