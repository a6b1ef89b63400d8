"""Benchmark every pipeline stage and the whole run: wall time and peak memory.

    .venv/bin/python benchmarks/run_all.py                 # scale 1.0, 2016-2025
    .venv/bin/python benchmarks/run_all.py --scale 10      # ten times national (minutes, ~GBs)
    .venv/bin/python benchmarks/run_all.py --scale 0.05 --first-year 2021   # quick smoke run

Each stage runs in a fresh Python process that loads the previous stage's output from a
pickle, runs the stage's public function once, and reports its own wall time
(``time.perf_counter`` around the call only) and peak resident memory
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``, which includes the stage's inputs: a stage
needs them in memory to run). A fresh process per stage keeps one stage's peak from
hiding another's. End to end is ``reentry run`` followed by ``reentry approve``, also in
its own process. The floor is a pure ``pyarrow.csv`` read of every input CSV: no pipeline
can read its inputs faster, so end-to-end / floor says how much the pipeline costs beyond
reading.

Prints a table and writes it (markdown and JSON) to ``benchmarks/results/`` (git-ignored).
Figures on a shared machine are noisy; run twice and take the lower when it matters.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"

# Targets from issues 2-8 (2-core machine): seconds, MB.
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
    t0 = time.perf_counter()
    generate(
        out=landing,
        first_year=args.first_year,
        last_year=args.last_year,
        scale=args.scale,
        seed=args.seed,
    )
    return {"wall_s": time.perf_counter() - t0}


def stage_floor(args, work: Path) -> dict:
    """Pure pyarrow read of every input CSV (all columns as strings, as the reader needs)."""
    import pyarrow.csv as pacsv

    files = sorted((work / "landing").rglob("*.csv"))
    t0 = time.perf_counter()
    rows = 0
    for f in files:
        table = pacsv.read_csv(f, convert_options=pacsv.ConvertOptions(strings_can_be_null=False))
        rows += table.num_rows
    wall = time.perf_counter() - t0
    size = sum(f.stat().st_size for f in files)
    return {"wall_s": wall, "rows": rows, "files": len(files), "bytes": size}


def stage_ingest(args, work: Path) -> dict:
    from assets.landing import inventory_landing
    from validation.run import validate_collection_year

    landing = work / "landing"
    t0 = time.perf_counter()
    inventory = inventory_landing(landing)
    years = [validate_collection_year(landing, y, inventory=inventory) for y in _years(args)]
    wall = time.perf_counter() - t0
    _save(work, "inventory", inventory)
    _save(work, "validated", years)
    return {
        "wall_s": wall,
        "rows": int(sum(len(y.episodes) for y in years)),
        "failures": int(sum(len(y.failures) for y in years)),
    }


def stage_history(args, work: Path) -> dict:
    from assets.history import build_episode_history

    years = _load(work, "validated")
    t0 = time.perf_counter()
    history = build_episode_history(years)
    wall = time.perf_counter() - t0
    _save(work, "history", history)
    return {"wall_s": wall, "rows": len(history.episode_history)}


def stage_measures(args, work: Path) -> dict:
    from assets.measures import build_measures

    history = _load(work, "history")
    t0 = time.perf_counter()
    measures = build_measures(history.episode_history, history.la_year_status)
    wall = time.perf_counter() - t0
    _save(work, "measures", measures)
    return {"wall_s": wall, "rows": len(measures.reentry)}


def _disclosure_config():
    from assets import disclosure

    for name in ("DisclosureConfig", "SuppressionConfig", "Config"):
        if hasattr(disclosure, name):
            return getattr(disclosure, name)()
    raise RuntimeError("assets.disclosure exposes no config class")


def stage_disclosure(args, work: Path) -> dict:
    from assets.disclosure import apply_disclosure_control

    m = _load(work, "measures")
    config = _disclosure_config()
    t0 = time.perf_counter()
    published = apply_disclosure_control(
        m.reentry, m.ceased_by_reason, m.time_to_reentry, config=config
    )
    wall = time.perf_counter() - t0
    _save(work, "published", published)
    return {"wall_s": wall}


def stage_audit(args, work: Path) -> dict:
    from assets.audit import audit_release

    published = _load(work, "published")
    t0 = time.perf_counter()
    audit = audit_release(published, config=_disclosure_config())
    wall = time.perf_counter() - t0
    _save(work, "audit", audit)
    return {"wall_s": wall}


def stage_publication(args, work: Path) -> dict:
    """Contextual notes and the whole candidate release (CSV, spreadsheet, HTML, manifest)."""
    import shutil

    from assets.notes import contextual_notes
    from assets.release import PrivateIdentifiers, build_candidate
    from pipelines.assets_publication import release_info
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
    t0 = time.perf_counter()
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
    wall = time.perf_counter() - t0
    files = sum(1 for p in folder.rglob("*") if p.is_file())
    del manifest
    return {"wall_s": wall, "rows": files}


def stage_e2e(args, work: Path) -> dict:
    """``reentry run`` then ``reentry approve``, in this process, as a user runs them."""
    import shutil

    from pipelines.cli import main

    out = work / "output"
    shutil.rmtree(out, ignore_errors=True)
    os.environ["DAGSTER_HOME"] = str(work / "dagster_home")
    (work / "dagster_home").mkdir(exist_ok=True)
    release = "benchmark"
    t0 = time.perf_counter()
    rc = main(
        ["run", "--landing", str(work / "landing"), "--output", str(out), "--release", release]
    )
    t_run = time.perf_counter() - t0
    rc2 = main(["approve", release, "--reviewer", "benchmark", "--output", str(out)])
    wall = time.perf_counter() - t0
    return {"wall_s": wall, "run_s": t_run, "exit": [rc, rc2]}


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
        "| stage | wall (s) | peak memory (MB) | rows | target | vs floor |",
        "|---|---:|---:|---:|---|---:|",
    ]
    for name, r in results.items():
        if "error" in r:
            lines.append(f"| {name} | failed | | | | {r['error'][:120]} |")
            continue
        target = targets.get(name)
        if name in ("disclosure", "audit"):
            target = targets.get("disclosure+audit")
        target_txt = (
            f"< {target[0]} s" + (f", < {target[1]} MB" if target[1] else "") if target else ""
        )
        ratio = r["wall_s"] / floor if floor and name != "floor" else None
        lines.append(
            f"| {name} | {r['wall_s']:.1f} | {r['peak_mb']:.0f} | {_fmt(r.get('rows'), ',')} "
            f"| {target_txt} | {_fmt(ratio, '.1f')} |"
        )
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
