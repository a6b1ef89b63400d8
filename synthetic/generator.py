"""``reentry synth``: write a synthetic national set of SSDA903 returns (and ground truth).

Layout: ``OUT/<collection_year>/<old_la_code>/header.csv`` and ``episodes.csv``. Same
arguments give byte-identical files: one seeded numpy SeedSequence drives every draw, tables
are sorted before writing, and nothing depends on dict/set order or the wall clock.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from synthetic.calibration import calibrate
from synthetic.errors import inject_errors
from synthetic.render import EPISODE_COLUMNS, HEADER_COLUMNS, DateText, observed_rows, year_tables
from synthetic.simulate import simulate, to_days
from synthetic.truth import (
    child_upns,
    observed_episodes,
    periods_of_care,
    periods_table,
    returns_home,
)


@dataclass
class GenerationSummary:
    out: str
    first_year: int
    last_year: int
    scale: float
    seed: int
    error_rate: float
    folders: int
    returns: int
    children: int
    episodes: int
    errors: int
    seconds: float

    def __str__(self) -> str:
        return (
            f"wrote {self.returns} returns in {self.folders} LA-year folders under {self.out} "
            f"(collection years {self.first_year}-{self.last_year}, scale {self.scale}, "
            f"seed {self.seed}): {self.children:,} child records, {self.episodes:,} episode "
            f"rows, {self.errors} injected errors, {self.seconds:.1f} s"
        )


def _csv_lines(df: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """One CSV line per row (no field needs quoting: codes, dates and digits only)."""
    line = df[columns[0]].astype(str)
    for c in columns[1:]:
        line = line + "," + df[c].astype(str)
    return line.to_numpy(dtype=object)


def _write_year(
    out: Path,
    year: int,
    header: pd.DataFrame,
    episodes: pd.DataFrame,
    missing: set[tuple[str, str]],
) -> int:
    """Write every LA's two files for one year; returns the number of files written."""
    written = 0
    for table, name, cols in (
        (header, "header.csv", HEADER_COLUMNS),
        (episodes, "episodes.csv", EPISODE_COLUMNS),
    ):
        lines = _csv_lines(table, cols)
        la = table["la_code"].to_numpy()
        cuts = np.flatnonzero(la[1:] != la[:-1]) + 1
        starts = np.concatenate([[0], cuts])
        ends = np.concatenate([cuts, [len(la)]])
        head = ",".join(cols) + "\n"
        for a, b in zip(starts, ends, strict=True):
            code = str(la[a])
            if (code, name) in missing:
                continue
            folder = out / str(year) / code
            folder.mkdir(parents=True, exist_ok=True)
            body = "\n".join(lines[a:b]) + "\n"
            (folder / name).write_text(head + body, encoding="utf-8", newline="\n")
            written += 1
    return written


def generate(
    out: Path,
    first_year: int = 2016,
    last_year: int = 2025,
    scale: float = 1.0,
    seed: int = 0,
    error_rate: float = 0.0,
    truth: Path | None = None,
    progress: bool = False,
) -> GenerationSummary:
    """Simulate care histories for every LA and write one return per LA per year."""
    if first_year > last_year:
        raise ValueError(f"--first-year {first_year} is after --last-year {last_year}")
    if scale <= 0:
        raise ValueError(f"--scale must be positive, got {scale}")
    if not 0 <= error_rate < 1:
        raise ValueError(f"--error-rate must be in [0, 1), got {error_rate}")
    t0 = time.perf_counter()
    out = Path(out)

    def say(msg: str) -> None:
        if progress:
            print(f"[synth {time.perf_counter() - t0:5.1f}s] {msg}", file=sys.stderr, flush=True)

    cal = calibrate(last_year)
    say(f"simulating {len(cal.units)} LAs, scale {scale}, seed {seed}")
    sim = simulate(cal, first_year, last_year, scale, seed)
    say(f"{len(sim.periods):,} periods, {len(sim.episodes):,} episodes simulated")
    rows = observed_rows(sim, cal.units, first_year, last_year)
    lo = int(min(sim.children["dob"].min(), rows["decom"].min()))
    dates = DateText(lo, to_days(f"{last_year}-03-31"))
    err_rng = np.random.default_rng(np.random.SeedSequence([seed, 903]))

    folders = returns = n_children = n_episodes = 0
    error_frames: list[pd.DataFrame] = []
    header_upn: list[pd.DataFrame] = []
    for year in range(first_year, last_year + 1):
        header, episodes = year_tables(sim, rows, year, dates)
        header_upn.append(
            pd.DataFrame(
                {
                    "la_code": header["la_code"],
                    "child": header["CHILD"],
                    "upn": header["UPN"],
                    "year": year,
                }
            )
        )
        header, episodes, errs, missing = inject_errors(
            header,
            episodes,
            year,
            error_rate,
            err_rng,
            len(error_frames) and sum(len(f) for f in error_frames),
        )
        error_frames.append(errs)
        folders += header["la_code"].nunique()
        returns += header["la_code"].nunique()
        n_children += len(header)
        n_episodes += len(episodes)
        _write_year(out, year, header, episodes, missing)
        say(
            f"{year}: {header['la_code'].nunique()} returns, {len(header):,} children, {len(episodes):,} episodes"
        )

    errors = pd.concat(error_frames, ignore_index=True) if error_frames else pd.DataFrame()
    if truth is not None:
        _write_truth(Path(truth), sim, rows, pd.concat(header_upn, ignore_index=True), errors, locals_summary := {
            "first_year": first_year, "last_year": last_year, "scale": scale, "seed": seed,
            "error_rate": error_rate,
        })  # fmt: skip
        del locals_summary
        say(f"truth written to {truth}")
    summary = GenerationSummary(
        out=str(out), first_year=first_year, last_year=last_year, scale=scale, seed=seed,
        error_rate=error_rate, folders=folders, returns=returns, children=n_children,
        episodes=n_episodes, errors=len(errors), seconds=round(time.perf_counter() - t0, 2),
    )  # fmt: skip
    return summary


def _write_truth(
    folder: Path,
    sim,
    rows: pd.DataFrame,
    header_upn: pd.DataFrame,
    errors: pd.DataFrame,
    args: dict,
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    obs = observed_episodes(sim, rows)
    upns = child_upns(sim, header_upn)
    per = periods_of_care(obs)
    periods = periods_table(per, upns)
    ret = returns_home(per, upns, sim)
    periods.to_csv(folder / "periods.csv", index=False, lineterminator="\n")
    ret.to_csv(folder / "returns_home.csv", index=False, lineterminator="\n")
    errors.to_csv(folder / "errors.csv", index=False, lineterminator="\n")
    summary = {
        "arguments": args,
        "counts": {
            "periods": int(len(periods)),
            "short_break_periods": int((periods["short_break"] == "true").sum()),
            "returns_home": int(len(ret)),
            "index_returns": int((ret["is_index_return"] == "true").sum()),
            "reentries_same_la": int((ret["reentry_date"] != "").sum()),
            "reentries_any_la": int((ret["reentry_date_any_la"] != "").sum()),
            "errors": int(len(errors)),
        },
    }
    (folder / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")


__all__ = ["GenerationSummary", "generate", "asdict"]
