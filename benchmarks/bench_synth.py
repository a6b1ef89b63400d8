"""Benchmark: the synthetic returns generator (target: scale 1.0, ten collection years, under
60 s and under 2 GB peak on a 2-core machine), plus the national back-check against the
published EES figures.

    .venv/bin/python benchmarks/bench_synth.py                    # scale 1.0, 2016-2025
    .venv/bin/python benchmarks/bench_synth.py --scale 0.1 --truth
    .venv/bin/python benchmarks/bench_synth.py --no-backcheck

Each run generates in a fresh child process so its wall time (time.perf_counter around
``generate``) and peak resident memory (getrusage ru_maxrss) are its own. Figures on a
shared machine are noisy; run twice and take the lower when it matters.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import json, resource, sys, time
from pathlib import Path
from synthetic.generator import generate
args = json.loads(sys.argv[1])
t = time.perf_counter()
s = generate(Path(args["out"]), args["first_year"], args["last_year"], args["scale"],
             args["seed"], args["error_rate"], Path(args["truth"]) if args["truth"] else None)
seconds = time.perf_counter() - t
ru = resource.getrusage(resource.RUSAGE_SELF)
peak = ru.ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "cpu": ru.ru_utime + ru.ru_stime, "peak_mb": peak, "files": s.files,
                  "episodes": s.episodes, "children": s.children}))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--first-year", type=int, default=2016)
    parser.add_argument("--last-year", type=int, default=2025)
    parser.add_argument("--scale", type=float, nargs="+", default=[1.0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--truth", action="store_true", help="also write ground truth")
    parser.add_argument("--no-backcheck", action="store_true")
    parser.add_argument("--out", type=Path, help="folder to generate into (default: temp)")
    args = parser.parse_args(argv)

    base = args.out or Path(tempfile.mkdtemp(prefix="bench_synth_"))
    years = args.last_year - args.first_year + 1
    rows = []
    for scale in args.scale:
        out = base / f"scale_{scale}"
        spec = {
            "out": str(out / "landing"),
            "truth": str(out / "truth") if args.truth else "",
            "first_year": args.first_year,
            "last_year": args.last_year,
            "scale": scale,
            "seed": args.seed,
            "error_rate": args.error_rate,
        }
        res = subprocess.run(
            [sys.executable, "-c", CHILD, json.dumps(spec)],
            check=True, cwd=ROOT, capture_output=True, text=True,
        )  # fmt: skip
        fig = json.loads(res.stdout.strip().splitlines()[-1])
        rows.append((scale, years, fig, out / "landing"))

    print(f"{'scale':>6} {'years':>5} {'seconds':>8} {'CPU s':>6} {'peak MB':>8} {'files':>6} "
          f"{'episodes':>10} {'children':>10}")  # fmt: skip
    for scale, yrs, f, _ in rows:
        print(f"{scale:>6} {yrs:>5} {f['seconds']:>8.1f} {f['cpu']:>6.1f} {f['peak_mb']:>8.0f} {f['files']:>6} "
              f"{f['episodes']:>10,} {f['children']:>10,}")  # fmt: skip
    print("target (scale 1.0, 10 years): < 60 s, < 2048 MB peak; CPU s = user + system time of")
    print("the generating process (wall time is inflated when other work shares the 2 cores)")

    if not args.no_backcheck:
        sys.path.insert(0, str(ROOT))
        from synthetic.backcheck import compare_with_published

        for scale, _, _, landing in rows:
            national, _la = compare_with_published(landing, scale)
            print(f"\nback-check, scale {scale} (generated / scale vs EES published):")
            print(f"{'year':>5} {'ceasing':>9} {'published':>9} {'ratio':>6} "
                  f"{'E4A/B %':>8} {'published %':>11}")  # fmt: skip
            for r in national.itertuples(index=False):
                pub = "" if r.published_share_home != r.published_share_home else (
                    f"{100 * r.published_share_home:.1f}")  # fmt: skip
                print(f"{r.year:>5} {r.ceasing:>9,.0f} {r.published_ceasing:>9,.0f} "
                      f"{r.ceasing_ratio:>6.3f} {100 * r.share_home:>8.1f} {pub:>11}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
