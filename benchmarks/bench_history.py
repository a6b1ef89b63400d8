"""Benchmark: the history stage (assets/history), and its identity checks alone.

Target: the identity checks across years (assets/history/identity.py) in about 1 s at
scale 1.0 (10 collection years, about 1.2 million header records), and the whole history
build no slower than before them.

    .venv/bin/python benchmarks/bench_history.py --storage OUTPUT/restricted/.storage/2025
    .venv/bin/python benchmarks/bench_history.py --landing DIR      # validate first (slower)

``--storage`` reads a finished run's validated years (its ``validated_returns``
intermediates), so only the history stage is timed. Prints seconds (best of --repeat)
and what the checks found.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def load_years(args) -> list:
    if args.storage:
        from assets.common.intermediates import read_intermediate

        folder = Path(args.storage) / "validated_returns"
        years = sorted(p for p in folder.iterdir() if p.is_dir())
        return [read_intermediate(p).result for p in years]
    from validation.collection_year import validate_collection_year

    landing = Path(args.landing)
    found = sorted(int(p.name) for p in landing.iterdir() if p.name.isdigit())
    return [validate_collection_year(landing, y) for y in found]


def best(fn, repeat: int) -> tuple[str, object]:
    """Best wall-clock and best CPU seconds of ``repeat`` calls (on a shared machine the
    CPU time is the steadier figure), and the last result."""
    wall, cpu, out = [], [], None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return f"{min(wall):.2f} s wall, {min(cpu):.2f} s CPU (best of {repeat})", out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--storage", help="a run's restricted/.storage/<release> folder")
    source.add_argument("--landing", help="a landing folder to validate")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")

    from assets.history.history import HEADER_KEEP, _child_keys, build_episode_history

    t0 = time.perf_counter()
    years = load_years(args)
    print(f"loaded {len(years)} validated years in {time.perf_counter() - t0:.1f} s")
    headers = sum(len(y.header) for y in years)
    episodes = sum(len(y.episodes) for y in years)
    print(f"header records: {headers:,}; episode records: {episodes:,}")

    try:
        from assets.history.identity import resolve_identities
    except ImportError:  # the code before the identity checks
        resolve_identities = None
    if resolve_identities is not None:
        ep = [y.episodes[["la_code", "child"]] for y in years]
        hd = [y.header[HEADER_KEEP] for y in years]
        keys, children = _child_keys([*ep, *hd])
        hd = [f.assign(KEY=k) for f, k in zip(hd, keys[len(years) :], strict=True)]
        seconds, ident = best(lambda: resolve_identities(hd, children), args.repeat)
        codes = ident.failures["rule_code"].value_counts()
        print(f"identity checks: {seconds}")
        print(f"  identity_conflict warnings: {int(codes.get('identity_conflict', 0)):,}")
        print(f"  child_id_leading_zeros warnings: {int(codes.get('child_id_leading_zeros', 0)):,}")
        las = ident.failures.loc[ident.failures["rule_code"].eq("identity_conflict"), "la_code"]
        print(f"  LAs with a conflict: {las.nunique()}")

    seconds, result = best(lambda: build_episode_history(years), args.repeat)
    print(f"build_episode_history: {seconds}")
    print(f"  history rows: {len(result.episode_history):,}")
    print(f"  history failures: {len(result.failures):,}")


if __name__ == "__main__":
    main()
