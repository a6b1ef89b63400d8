"""The ``reentry`` command line.

Exit codes: 0 success; 1 the pipeline ran but a check failed; 2 bad arguments or missing
folders.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _add_synth(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("synth", help="generate synthetic SSDA903 returns into a landing folder")
    p.add_argument("--out", type=Path, required=True, help="landing folder to write")
    p.add_argument("--first-year", type=int, default=2016)
    p.add_argument("--last-year", type=int, default=2025)
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--error-rate", type=float, default=0.0)
    p.add_argument("--truth", type=Path, default=None, help="folder for ground truth (tests only)")
    p.set_defaults(func=_synth)


def _synth(args: argparse.Namespace) -> int:
    from synthetic.generator import generate

    summary = generate(
        out=args.out,
        first_year=args.first_year,
        last_year=args.last_year,
        scale=args.scale,
        seed=args.seed,
        error_rate=args.error_rate,
        truth=args.truth,
        progress=True,
    )
    print(summary)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reentry", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _add_synth(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
