"""Benchmark every pipeline stage and the whole run: wall time and peak memory.

    .venv/bin/python benchmarks/run_all.py                 # scale 1.0, 2016-2025
    .venv/bin/python benchmarks/run_all.py --scale 10      # ten times national (minutes, ~GBs)
    .venv/bin/python benchmarks/run_all.py --scale 0.05 --first-year 2021   # quick smoke run

Each stage runs in a fresh Python process that loads the previous stage's output from a
pickle, runs the stage's public function once, and reports its own wall time and CPU time
(``time.perf_counter`` and ``getrusage`` user + system of the process and its forked
workers, around the call only) and peak resident memory
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``, which includes the stage's inputs: a stage
needs them in memory to run). A fresh process per stage keeps one stage's peak from
hiding another's. End to end is ``reentry run`` followed by ``reentry approve``, also in
its own process, with a fresh DAGSTER_HOME: it reports the same figures plus the sampled
PSS of the process tree and every Dagster step's duration from the run's event log (the
real run, stage by stage). The floor is a pure ``pyarrow.csv`` read of every input CSV:
no pipeline can read its inputs faster, so end-to-end / floor says how much the pipeline
costs beyond reading. The load average is printed with the results: when it is above the
CPU count other jobs were sharing the machine and wall times are inflated (CPU less so).

Prints a table and writes it (markdown and JSON) to ``benchmarks/results/`` (git-ignored).
Figures on a shared machine are noisy; run twice and take the lower when it matters.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import platform
import resource
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"

# Targets (2-core machine): seconds, MB.
TARGETS = {
    1.0: {
        "generate": (60, 2048),
        "ingest+validate": (30, 2048),
        "measures": (20, 2048),
        "disclosure+audit": (30, None),
        "publication": (20, None),
        "end to end": (60, 2048),
    },
    10.0: {"end to end": (600, 16384)},
}


def _cpu_s() -> float:
    """User + system CPU of this process and its finished children (forked workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


class _Clock:
    """Wall and CPU time of a block: on a shared machine CPU is the steadier figure."""

    def __enter__(self) -> _Clock:
        self._t0, self._c0 = time.perf_counter(), _cpu_s()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self._t0
        self.cpu = _cpu_s() - self._c0

    def result(self, **extra) -> dict:
        return {"wall_s": self.wall, "cpu_s": self.cpu, **extra}


def _peak_mb() -> float:
    # Linux reports ru_maxrss in kilobytes.
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(self_kb, child_kb) / 1024


def _load(work: Path, name: str):
    with open(work / f"{name}.pkl", "rb") as fh:
        return pickle.load(fh)


def _save(work: Path, name: str, obj) -> None:
    with open(work / f"{name}.pkl", "wb") as fh:
        pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)


def _years(args) -> list[int]:
    return list(range(args.first_year, args.last_year + 1))


# --- stages: each runs inside its own process -----------------------------------------


def stage_generate(args, work: Path) -> dict:
    from synthetic.generator import generate

    landing = work / "landing"
    with _Clock() as clock:
        generate(
            out=landing,
            first_year=args.first_year,
            last_year=args.last_year,
            scale=args.scale,
            seed=args.seed,
        )
    return clock.result()


def stage_floor(args, work: Path) -> dict:
    """Pure pyarrow read of every input CSV (all columns as strings, as the reader needs)."""
    import pyarrow.csv as pacsv

    files = sorted((work / "landing").rglob("*.csv"))
    rows = 0
    with _Clock() as clock:
        for f in files:
            options = pacsv.ConvertOptions(strings_can_be_null=False)
            rows += pacsv.read_csv(f, convert_options=options).num_rows
    size = sum(f.stat().st_size for f in files)
    return clock.result(rows=rows, files=len(files), bytes=size)


def stage_ingest(args, work: Path) -> dict:
    from assets.ingest.inventory import inventory_landing
    from validation.collection_year import validate_collection_year

    landing = work / "landing"
    with _Clock() as clock:
        inventory = inventory_landing(landing)
        years = [validate_collection_year(landing, y, inventory=inventory) for y in _years(args)]
    _save(work, "inventory", inventory)
    _save(work, "validated", years)
    return clock.result(
        rows=int(sum(len(y.episodes) for y in years)),
        failures=int(sum(len(y.failures) for y in years)),
    )


def stage_history(args, work: Path) -> dict:
    from assets.history.history import build_episode_history

    years = _load(work, "validated")
    with _Clock() as clock:
        history = build_episode_history(years)
    _save(work, "history", history)
    return clock.result(rows=len(history.episode_history))


def stage_measures(args, work: Path) -> dict:
    from assets.measures.tables import build_measures

    history = _load(work, "history")
    with _Clock() as clock:
        measures = build_measures(history.episode_history, history.la_year_status)
    _save(work, "measures", measures)
    return clock.result(rows=len(measures.reentry))


def _disclosure_config():
    from assets.disclosure import suppression as disclosure

    for name in ("DisclosureConfig", "SuppressionConfig", "Config"):
        if hasattr(disclosure, name):
            return getattr(disclosure, name)()
    raise RuntimeError("assets.disclosure.suppression exposes no config class")


def stage_disclosure(args, work: Path) -> dict:
    from assets.disclosure.control import apply_disclosure_control

    m = _load(work, "measures")
    config = _disclosure_config()
    with _Clock() as clock:
        published = apply_disclosure_control(
            m.reentry, m.ceased_by_reason, m.time_to_reentry, config=config
        )
    _save(work, "published", published)
    return clock.result()


def stage_audit(args, work: Path) -> dict:
    from assets.disclosure.audit import audit_release

    published = _load(work, "published")
    with _Clock() as clock:
        audit = audit_release(published, config=_disclosure_config())
    _save(work, "audit", audit)
    return clock.result()


def stage_publication(args, work: Path) -> dict:
    """Contextual notes and the whole candidate release (CSV, spreadsheet, HTML, manifest)."""
    import shutil

    from assets.publication.assets import release_info
    from assets.publication.candidate import build_candidate
    from assets.publication.notes import contextual_notes
    from assets.publication.privacy import PrivateIdentifiers
    from pipelines.resources import ReleaseSettings

    published, audit = _load(work, "published"), _load(work, "audit")
    history, inventory = _load(work, "history"), _load(work, "inventory")
    years = history.la_year_status["collection_year"].astype(int)
    info = release_info(
        ReleaseSettings(landing=str(work / "landing"), output=str(work / "stage_output")),
        "benchmark",
        first_year=int(years.min()),
        cut_off_year=int(years.max()),
    )
    folder = work / "stage_output" / "candidate"
    shutil.rmtree(folder, ignore_errors=True)
    with _Clock() as clock:
        notes = contextual_notes(
            published, history.la_year_status, previous_release_dir=None, release=info
        )
        manifest = build_candidate(
            folder,
            published=published,
            notes=notes,
            la_year_status=history.la_year_status,
            audit=audit,
            inventory=inventory,
            release=info,
            private_identifiers=PrivateIdentifiers.from_history(history.episode_history),
        )
    files = sum(1 for p in folder.rglob("*") if p.is_file())
    # The manifest's hashes identify the output: compare two runs' to check the bytes.
    digest = hashlib.sha256(json.dumps(manifest.files, sort_keys=True).encode()).hexdigest()
    return clock.result(rows=files, files_sha256=digest)


class _TreeMemory:
    """Peak proportional set size (PSS) of this process and its children, sampled.

    ``ru_maxrss`` counts pages a forked worker shares with its parent once in each
    process; PSS splits shared pages between them, so the sum is the memory really used.
    """

    def __init__(self, every: float = 0.1):
        self.peak_mb = 0.0
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    @staticmethod
    def _pss_kb(pid: int) -> int:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as fh:
                return sum(int(ln.split()[1]) for ln in fh if ln.startswith("Pss:"))
        except OSError:
            return 0

    def sample(self) -> None:
        me = os.getpid()
        try:
            with open(f"/proc/{me}/task/{me}/children") as fh:
                kids = [int(x) for x in fh.read().split()]
        except OSError:
            kids = []
        total = sum(self._pss_kb(p) for p in [me, *kids]) / 1024
        self.peak_mb = max(self.peak_mb, total)

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            self.sample()

    def __enter__(self) -> _TreeMemory:
        if Path("/proc/self/smaps_rollup").exists():
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


def _step_durations(instance, run_id: str) -> dict[str, float]:
    """Seconds from STEP_START to STEP_SUCCESS/FAILURE of each step, from the event log."""
    started, out = {}, {}
    for event in instance.all_logs(run_id):
        de = event.dagster_event
        if de is None or not de.step_key:
            continue
        if de.event_type_value == "STEP_START":
            started[de.step_key] = event.timestamp
        elif de.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            out[de.step_key] = event.timestamp - started.get(de.step_key, event.timestamp)
    return out


def stage_e2e(args, work: Path) -> dict:
    """``reentry run`` then ``reentry approve``, in this process, as a user runs them.

    Reports wall and CPU time (this process and its forked workers), peak memory (this
    process's ru_maxrss and the sampled PSS of the process tree) and each Dagster step's
    duration from the run's event log, so the real run can be tabulated stage by stage."""
    import shutil

    from pipelines.cli import main

    out = work / "output"
    shutil.rmtree(out, ignore_errors=True)
    home = work / "dagster_home"
    shutil.rmtree(home, ignore_errors=True)  # only this benchmark's runs in the event log
    home.mkdir()
    os.environ["DAGSTER_HOME"] = str(home)
    release = "benchmark"
    landing = str(work / "landing")
    with _TreeMemory() as memory, _Clock() as clock:
        t0 = time.perf_counter()
        rc = main(["run", "--landing", landing, "--output", str(out), "--release", release])
        t_run = time.perf_counter() - t0
        rc2 = main(["approve", release, "--reviewer", "benchmark", "--output", str(out)])
    from dagster import DagsterInstance

    steps: dict[str, float] = {}
    with DagsterInstance.get() as instance:
        for run in reversed(instance.get_runs()):
            steps.update(_step_durations(instance, run.run_id))
    return clock.result(
        run_s=t_run,
        exit=[rc, rc2],
        steps=steps,
        pss_peak_mb=memory.peak_mb,
        load_average=os.getloadavg(),
    )


STAGES = {
    "generate": stage_generate,
    "floor": stage_floor,
    "ingest+validate": stage_ingest,
    "history": stage_history,
    "measures": stage_measures,
    "disclosure": stage_disclosure,
    "audit": stage_audit,
    "publication": stage_publication,
    "end to end": stage_e2e,
}


def _child(args) -> int:
    sys.path.insert(0, str(ROOT))
    work = Path(args.work)
    result = STAGES[args.child](args, work)
    result["peak_mb"] = _peak_mb()
    print("RESULT " + json.dumps(result))
    return 0


def _run_stage(name: str, args, work: Path) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        name,
        "--work",
        str(work),
        "--scale",
        str(args.scale),
        "--first-year",
        str(args.first_year),
        "--last-year",
        str(args.last_year),
        "--seed",
        str(args.seed),
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - t0
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-8:]
        return {"error": " | ".join(tail), "process_s": elapsed}
    result = json.loads(lines[-1][len("RESULT ") :])
    result["process_s"] = elapsed
    return result


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{cpu}; {os.cpu_count()} CPUs visible; {mem_gb:.0f} GB RAM; "
        f"Python {platform.python_version()}; load average at the end {load} "
        "(other jobs share the machine when this is above the CPU count)"
    )


def _fmt(value, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def table(results: dict, scale: float) -> str:
    targets = TARGETS.get(scale, {})
    floor = results.get("floor", {}).get("wall_s")
    lines = [
        "| stage | wall (s) | CPU (s) | peak memory (MB) | rows | target | vs floor |",
        "|---|---:|---:|---:|---:|---|---:|",
    ]
    for name, r in results.items():
        if "error" in r:
            lines.append(f"| {name} | failed | | | | | {r['error'][:120]} |")
            continue
        target = targets.get(name)
        if name in ("disclosure", "audit"):
            target = targets.get("disclosure+audit")
        target_txt = (
            f"< {target[0]} s" + (f", < {target[1]} MB" if target[1] else "") if target else ""
        )
        ratio = r["wall_s"] / floor if floor and name != "floor" else None
        lines.append(
            f"| {name} | {r['wall_s']:.1f} | {_fmt(r.get('cpu_s'), '.1f')} | {r['peak_mb']:.0f} "
            f"| {_fmt(r.get('rows'), ',')} | {target_txt} | {_fmt(ratio, '.1f')} |"
        )
    e2e = results.get("end to end", {})
    if e2e.get("steps"):
        lines += ["", step_table(e2e)]
    return "\n".join(lines)


def step_table(e2e: dict) -> str:
    """The real run stage by stage: each Dagster step's duration from the event log."""
    steps = e2e["steps"]
    inside = sum(steps.values())
    lines = [
        f"End to end, step by step (Dagster event log). Peak memory: {e2e['peak_mb']:.0f} MB "
        f"resident in the run's process, {_fmt(e2e.get('pss_peak_mb'), ',.0f')} MB PSS of "
        "the process and its forked workers together.",
        "",
        "| step | wall (s) | share of the run |",
        "|---|---:|---:|",
    ]
    for name, secs in steps.items():
        lines.append(f"| {name} | {secs:.1f} | {100 * secs / e2e['wall_s']:.0f}% |")
    outside = e2e["wall_s"] - inside
    lines.append(f"| outside the steps (start-up, job set-up, run storage) | {outside:.1f} | |")
    lines.append(f"| total (`reentry run` + `reentry approve`) | {e2e['wall_s']:.1f} | 100% |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--first-year", type=int, default=2016)
    parser.add_argument("--last-year", type=int, default=2025)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", type=Path, default=None, help="working folder (kept)")
    parser.add_argument(
        "--stages", default=",".join(STAGES), help="comma-separated subset, in order"
    )
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return _child(args)

    work = args.work or RESULTS / f"work-scale{args.scale:g}-{args.first_year}-{args.last_year}"
    work.mkdir(parents=True, exist_ok=True)
    stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    if (work / "landing").is_dir() and "generate" in stages:
        stages.remove("generate")  # reuse the landing folder: generation is benchmarked alone
        print("reusing", work / "landing", "(delete it to benchmark generation)")
    results: dict[str, dict] = {}
    for name in stages:
        print(f"running {name} ...", flush=True)
        results[name] = _run_stage(name, args, work)
        print(f"  {results[name]}", flush=True)

    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    heading = (
        f"Scale {args.scale:g}, collection years {args.first_year}-{args.last_year}, "
        f"measured {stamp} on {_machine()}"
    )
    text = heading + "\n\n" + table(results, args.scale)
    print()
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    base = RESULTS / f"scale{args.scale:g}-{args.first_year}-{args.last_year}"
    base.with_suffix(".md").write_text(text + "\n")
    base.with_suffix(".json").write_text(
        json.dumps({"heading": heading, "results": results}, indent=1, sort_keys=True) + "\n"
    )
    return 0 if all("error" not in r for r in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
