"""End to end, this code beside an earlier commit: ``reentry run`` + ``reentry approve`` on
the same landing folder, runs of the two codes interleaved, each step's time from the
Dagster event log.

A shared or virtual 2-core machine changes speed by a third from one minute to the next
(the same code took 55 s on 1 December and 103 s on 2 December), so a figure from another
day says nothing about a change: only runs made together compare. Each run is a fresh
process with a fresh ``DAGSTER_HOME`` and output folder; the earlier commit is checked out
as a git worktree and run with this environment's packages.

    .venv/bin/python benchmarks/compare_end_to_end.py --base 36cb34b --runs 3
    .venv/bin/python benchmarks/compare_end_to_end.py --base 36cb34b --landing DIR

Without ``--landing`` the national synthetic data (scale 1.0, 2016-2025, seed 0) is
generated into the work folder first.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.append(str(Path(__file__).resolve().parent))  # run_all, after the code under test


def _one_run(code: Path, out: Path, landing: str) -> dict:
    """Run and approve with the code in ``code`` (inside this process), return timings."""
    sys.path.insert(0, str(code))
    os.chdir(code)
    shutil.rmtree(out, ignore_errors=True)
    home = out / "dagster_home"
    home.mkdir(parents=True)
    shutil.copy(code / "dagster.yaml", home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(home)
    from pipelines.cli import main  # the code under test, not this checkout's

    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    rc_run = main(["run", "--landing", landing, "--output", str(out / "o"), "--release", "2025"])
    rc_approve = main(["approve", "2025", "--reviewer", "benchmark", "--output", str(out / "o")])
    total = time.perf_counter() - t0
    from dagster import DagsterInstance
    from run_all import _step_durations  # this checkout's benchmark, no project import

    steps: dict[str, float] = {}
    with DagsterInstance.get() as instance:
        for run in reversed(instance.get_runs()):
            steps.update(_step_durations(instance, run.run_id))
    return {
        "exit": [rc_run, rc_approve],
        "total_s": total,
        "steps": steps,
        "load_before": load,
        "load_after": os.getloadavg()[0],
    }


def _worktree(base: str, work: Path) -> Path:
    sha = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", base],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    folder = work / f"base-{sha}"
    if not folder.exists():
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(folder), sha],
            check=True,
            capture_output=True,
        )
    return folder


def _landing(args, work: Path) -> str:
    if args.landing:
        return str(Path(args.landing).resolve())
    landing = work / "landing"
    if not landing.exists():
        national = ["--first-year", "2016", "--last-year", "2025", "--scale", "1.0", "--seed", "0"]
        subprocess.run(
            [sys.executable, "-c", "from pipelines.cli import main; raise SystemExit(main())"]
            + ["synth", "--out", str(landing), *national],
            check=True,
            cwd=ROOT,
        )
    return str(landing)


def _table(results: dict[str, list[dict]]) -> str:
    names = list(results)
    order = [s for r in results[names[-1]] for s in r["steps"]]
    steps = sorted(set(order), key=order.index)
    head = "| step (mean s) | " + " | ".join(names) + " | change |"
    lines = [head, "|---" * (len(names) + 2) + "|"]
    for step in steps:
        means = [statistics.mean(r["steps"].get(step, 0.0) for r in results[n]) for n in names]
        cells = " | ".join(f"{m:.1f}" for m in means)
        lines.append(f"| {step} | {cells} | {means[-1] - means[0]:+.1f} |")
    totals = [[r["total_s"] for r in results[n]] for n in names]
    cells = " | ".join(", ".join(f"{t:.1f}" for t in ts) for ts in totals)
    change = statistics.mean(totals[-1]) - statistics.mean(totals[0])
    lines.append(f"| **end to end (each run)** | {cells} | {change:+.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", help="the earlier commit to compare with (required)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each code (interleaved)")
    parser.add_argument("--landing", help="landing folder (default: generate national data)")
    parser.add_argument("--work", type=Path, help="working folder (default: a temporary one)")
    parser.add_argument(
        "--one", nargs=3, metavar=("CODE", "OUT", "LANDING"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.one:
        code, out, landing = args.one
        print("RESULT " + json.dumps(_one_run(Path(code), Path(out), landing)))
        return 0
    if not args.base:
        parser.error("--base COMMIT is required")
    work = args.work or Path(tempfile.mkdtemp(prefix="reentry-compare-"))
    work.mkdir(parents=True, exist_ok=True)
    landing = _landing(args, work)
    codes = {f"{args.base} (before)": _worktree(args.base, work), "this code": ROOT}
    results: dict[str, list[dict]] = {name: [] for name in codes}
    for i in range(args.runs):
        for name, code in codes.items():
            proc = subprocess.run(
                [sys.executable, __file__, "--one", str(code), str(work / "out"), landing],
                capture_output=True,
                text=True,
                check=False,
            )
            line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
            if line is None:
                sys.stderr.write(proc.stdout[-2000:] + proc.stderr[-4000:])
                print(f"run {i + 1} of {name} failed (exit {proc.returncode})", file=sys.stderr)
                return 1
            result = json.loads(line[len("RESULT ") :])
            results[name].append(result)
            print(
                f"run {i + 1}, {name}: {result['total_s']:.1f} s (exit {result['exit']}, "
                f"load {result['load_before']:.2f} -> {result['load_after']:.2f})",
                flush=True,
            )
    shutil.rmtree(work / "out", ignore_errors=True)
    print()
    print(_table(results))
    (work / "compare_end_to_end.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nraw figures: {work / 'compare_end_to_end.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
