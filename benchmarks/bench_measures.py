"""Benchmark: build every re-entry measure from a validated national history.

Target: scale 1.0, 10 collection years (about 1.5 million episodes) in under
20 s with peak memory under 2 GB on a 2-core machine.

    .venv/bin/python benchmarks/bench_measures.py                 # scale 1.0, 2016-2025
    .venv/bin/python benchmarks/bench_measures.py --scale 0.1     # quicker
    .venv/bin/python benchmarks/bench_measures.py --landing DIR   # an existing landing folder

The synthetic returns are generated (if no landing is given), validated and combined into
the episode history exactly as the pipeline does (validation.collection_year, assets.history.history); the
history is cached as Parquet and the measures are then built in a fresh process, so the
peak memory printed (VmHWM, the process's resident high-water mark) is the measures
stage's own (including reading the cached history), not ingest's.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _peak_mb() -> float:
    """Peak resident memory of this process in MB.

    VmHWM (Linux) is the high-water mark of this process's own address space, so it starts
    afresh in the measuring subprocess; ru_maxrss is not used first because Linux carries it
    over from the parent across fork/exec, which would count ingest's peak as ours.
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def prepare_history(args, work: Path) -> dict:
    """Generate (unless --landing), validate and build the history; cache it as Parquet."""
    from assets.history.history import build_episode_history
    from assets.ingest.inventory import inventory_landing
    from validation.collection_year import validate_collection_year

    landing = Path(args.landing) if args.landing else work / "landing"
    figures: dict = {}
    if not args.landing:
        from synthetic.generator import generate

        t0 = time.perf_counter()
        generate(
            landing,
            first_year=args.first_year,
            last_year=args.last_year,
            scale=args.scale,
            seed=args.seed,
        )
        figures["generate_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    inventory = inventory_landing(landing)  # once, not once per year
    years = [
        validate_collection_year(landing, y, inventory=inventory)
        for y in range(args.first_year, args.last_year + 1)
    ]
    history = build_episode_history(years)
    figures["ingest_and_history_s"] = time.perf_counter() - t0
    history.episode_history.to_parquet(work / "episode_history.parquet")
    history.la_year_status.to_parquet(work / "la_year_status.parquet")
    figures["episodes"] = len(history.episode_history)
    return figures


def measure_stage(work: Path) -> dict:
    """Run in a fresh process: read the cached history, time build_measures."""
    import pandas as pd

    from assets.measures.tables import build_measures

    episodes = pd.read_parquet(work / "episode_history.parquet")
    status = pd.read_parquet(work / "la_year_status.parquet")
    before = _peak_mb()
    t0 = time.perf_counter()
    tables = build_measures(episodes, status)
    wall = time.perf_counter() - t0
    return {
        "build_measures_s": wall,
        "peak_rss_mb": _peak_mb(),
        "peak_rss_after_read_mb": before,
        "reentry_rows": len(tables.reentry),
        "index_returns": len(tables.index_returns),
        "ceased_rows": len(tables.ceased_by_reason),
        "time_to_reentry_rows": len(tables.time_to_reentry),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--first-year", type=int, default=2016)
    parser.add_argument("--last-year", type=int, default=2025)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--landing", help="existing landing folder (skip generation)")
    parser.add_argument("--work", help="folder for the cached history (default: temporary)")
    parser.add_argument("--stage", choices=["measures"], help=argparse.SUPPRESS)
    parser.add_argument("--reuse", action="store_true", help="reuse the history cached in --work")
    args = parser.parse_args()

    if args.stage == "measures":
        print(json.dumps(measure_stage(Path(args.work))))
        return

    with tempfile.TemporaryDirectory(prefix="bench_measures_") as tmp:
        work = Path(args.work) if args.work else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        cached = (work / "episode_history.parquet").exists()
        figures = {} if args.reuse and cached else prepare_history(args, work)
        out = subprocess.run(
            [sys.executable, __file__, "--stage", "measures", "--work", str(work)],
            check=True,
            capture_output=True,
            text=True,
        )
        figures.update(json.loads(out.stdout.strip().splitlines()[-1]))

    print(f"bench_measures: scale {args.scale}, years {args.first_year}-{args.last_year}")
    print(f"{'figure':<24}{'value':>14}")
    for key, value in figures.items():
        shown = f"{value:,.2f}" if isinstance(value, float) else f"{value:,}"
        print(f"{key:<24}{shown:>14}")
    ok_time = figures["build_measures_s"] < 20
    ok_mem = figures["peak_rss_mb"] < 2048
    print(f"target <20 s: {'met' if ok_time else 'MISSED'}; <2 GB: {'met' if ok_mem else 'MISSED'}")


if __name__ == "__main__":
    main()
