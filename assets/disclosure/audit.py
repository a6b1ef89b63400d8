"""The verdict: an LP audit of a disclosure-controlled release.

For every suppressed cell it finds the smallest and largest value consistent with
everything a reader can see: every published figure, every relation the tables obey
(``assets.disclosure.attacker``), the suppression rule (a ``c`` is a count of at least 1,
because zeros are published) and that counts are non-negative. A primary-suppressed cell
is protected only if that interval spans at least ``protection_width`` (max - min >= 4 by
default); this is the "protection interval" criterion of Hundepool et al., *Statistical
Disclosure Control* (Wiley 2012), section 5.2 and chapter 4 on linked tables.

``suppression_log`` is read only for each cell's true value (to report it and to check that
every relation used really holds) and whether it was primarily suppressed. Feasible points
handed over by the suppression step (certificates) are trusted only after each is checked
against the audit's own relations and bounds; ``reentry check`` re-audits from the files
with no certificates at all.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse

from assets.common.contracts import ALL_TABLE_KEYS
from assets.disclosure.attacker import AttackerSystem, build_attacker_system
from assets.disclosure.config import DEFAULTS, DisclosureConfig
from assets.disclosure.files import LOG_FILE, read_log, read_published_dir
from assets.disclosure.lp import CERTIFICATE_KEYS, FeasiblePoints, certify_local, solve_ranges
from assets.disclosure.published import PublishedTables


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


def _tables_of(published) -> dict[str, pd.DataFrame]:
    tables = {
        "reentry": published.reentry,
        "ceased_by_reason": published.ceased_by_reason,
        "time_to_reentry": published.time_to_reentry,
    }
    sensitivity = getattr(published, "sensitivity", None)
    if sensitivity is not None and len(sensitivity):
        tables["sensitivity"] = sensitivity
    return tables


def audit_release(
    published: PublishedTables,
    *,
    config: DisclosureConfig | None = None,
    previous: PublishedTables | None = None,
    exact_aggregates: bool | None = None,
    use_certificates: bool = True,
) -> AuditResult:
    """Attack ``published`` (and, with ``previous``, the two releases together): every
    suppressed cell's feasible range; pass only if every primary cell spans at least
    ``config.protection_width`` and no nonlinear figure was published over a suppressed
    count.

    ``published.certificates`` (feasible points offered by the suppression step) are
    checked against this module's own relations and bounds; each point that satisfies all
    of them is a valid observation, so the cells it settles need no LP. Points that fail
    are discarded and counted; nothing else is taken from them.

    ``exact_aggregates``: grant the attacker England's and the regions' unrounded counts
    (default: ``config.aggregates_exact``)."""
    start = time.perf_counter()
    config = config or DisclosureConfig()
    if exact_aggregates is None:
        exact_aggregates = config.aggregates_exact
    rounding_base = config.rounding_base
    width_needed = config.protection_width
    system = build_attacker_system(
        _tables_of(published),
        published.suppression_log,
        rounding_base=rounding_base,
        exact_aggregates=exact_aggregates,
        previous_tables=None if previous is None else _tables_of(previous),
        previous_log=None if previous is None else previous.suppression_log,
    )
    offered = published.certificates if use_certificates else None
    points, accepted, rejected = verify_points(system, offered)
    return _judge(
        system,
        published.suppression_log,
        width_needed,
        start,
        points=points,
        certificates=(accepted, rejected),
    )


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
            info[["table", *ALL_TABLE_KEYS, "column", "true_value", "log_reason"]],
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
        ex = ex[["table", *ALL_TABLE_KEYS, "column", "true_value", "log_reason"]].assign(
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


def audit_release_dir(
    folder: Path,
    *,
    log_path: Path | None = None,
    protection_width: int = DEFAULTS.protection_width,
    rounding_base: int = DEFAULTS.rounding_base,
    previous_folder: Path | None = None,
) -> AuditResult:
    """Re-audit a release already on disk: the published tables in ``folder`` (as written
    by ``assets.disclosure.files.write_published``) and the restricted suppression log
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
