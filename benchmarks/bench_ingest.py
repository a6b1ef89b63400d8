"""Benchmark: ingest + validation + multi-year history of a synthetic landing folder
(target: scale 1.0, ten collection years, well under 10 s and 2 GB peak on a 2-core
machine; scale 10 well under 5 minutes and 16 GB with the measures).

    .venv/bin/python benchmarks/bench_ingest.py                       # generate scale 1.0, 2016-2025
    .venv/bin/python benchmarks/bench_ingest.py --landing DIR         # use an existing landing folder
    .venv/bin/python benchmarks/bench_ingest.py --landing DIR --measures   # and build_measures
    .venv/bin/python benchmarks/bench_ingest.py --scale 0.1 --error-rate 0.02

Prints, after each stage (inventory, each collection year's validation, the multi-year
history, optionally the measures): wall time (time.perf_counter), CPU time of this
process (getrusage user + system: it includes the reader's and hasher's threads) and
peak resident memory (ru_maxrss, which includes everything the stage keeps). The load
average is printed at the start and the end: on a shared 2-core machine wall time is
only meaningful next to it. Generation (if needed) runs in a child process first so its
memory does not count. The stages are called exactly as benchmarks/run_all.py calls them.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def cpu_s() -> float:
    """User + system CPU seconds of this process (wall time suffers on a shared machine)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def load_average() -> str:
    """1, 5 and 15 minute load averages (other jobs on the machine inflate wall time)."""
    try:
        with open("/proc/loadavg") as fh:
            return " ".join(fh.read().split()[:3])
    except OSError:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--landing", type=Path, help="existing landing folder")
    parser.add_argument("--first-year", type=int, default=2016)
    parser.add_argument("--last-year", type=int, default=2025)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--measures", action="store_true", help="also time build_measures")
    args = parser.parse_args(argv)

    landing = args.landing
    if landing is None:
        landing = Path(tempfile.mkdtemp(prefix="bench_ingest_")) / "landing"
        print(f"generating scale {args.scale} {args.first_year}-{args.last_year} in {landing} ...")
        code = (
            "from pathlib import Path; from synthetic.generator import generate; "
            f"generate(Path({str(landing)!r}), first_year={args.first_year}, "
            f"last_year={args.last_year}, scale={args.scale}, seed={args.seed}, "
            f"error_rate={args.error_rate})"
        )
        subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)

    from assets.history.history import build_episode_history
    from assets.ingest.inventory import inventory_landing
    from validation.collection_year import validate_collection_year

    print(f"load average at start: {load_average()}")
    start, cpu_start = time.perf_counter(), cpu_s()
    t, c = time.perf_counter(), cpu_s()
    inventory = inventory_landing(landing)
    print(
        f"inventory: {len(inventory)} files, {inventory['size_bytes'].sum() / 1e6:.0f} MB "
        f"in {time.perf_counter() - t:.2f} s wall, {cpu_s() - c:.2f} s CPU, "
        f"peak {peak_mb():.0f} MB"
    )
    years = sorted(inventory["collection_year"].dropna().astype(int).unique())
    validated = []
    print(f"{'year':>6} {'wall s':>8} {'CPU s':>7} {'episodes':>9} {'failures':>9} {'peak MB':>8}")
    for year in years:
        t, c = time.perf_counter(), cpu_s()
        vy = validate_collection_year(landing, int(year), inventory=inventory)
        validated.append(vy)
        print(
            f"{year:>6} {time.perf_counter() - t:>8.2f} {cpu_s() - c:>7.2f} {len(vy.episodes):>9} "
            f"{len(vy.failures):>9} {peak_mb():>8.0f}"
        )
    print(
        f"ingest + validation: {time.perf_counter() - start:.1f} s wall, "
        f"{cpu_s() - cpu_start:.1f} s CPU, peak {peak_mb():.0f} MB"
    )
    t, c = time.perf_counter(), cpu_s()
    history = build_episode_history(validated)
    print(
        f"history: {len(history.episode_history)} episodes in {time.perf_counter() - t:.2f} s "
        f"wall, {cpu_s() - c:.2f} s CPU, peak {peak_mb():.0f} MB"
    )
    total = time.perf_counter() - start
    print(
        f"TOTAL ingest + validation + history: {total:.1f} s wall, "
        f"{cpu_s() - cpu_start:.1f} s CPU, peak memory {peak_mb():.0f} MB"
    )
    if args.measures:
        from assets.measures.tables import build_measures

        t, c = time.perf_counter(), cpu_s()
        measures = build_measures(history.episode_history, history.la_year_status)
        print(
            f"measures: {len(measures.reentry)} rows in {time.perf_counter() - t:.2f} s wall, "
            f"{cpu_s() - c:.2f} s CPU, peak {peak_mb():.0f} MB"
        )
        print(
            f"TOTAL with measures: {time.perf_counter() - start:.1f} s wall, "
            f"{cpu_s() - cpu_start:.1f} s CPU, peak memory {peak_mb():.0f} MB"
        )
    print(f"load average at end: {load_average()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
