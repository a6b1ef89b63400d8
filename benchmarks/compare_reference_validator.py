"""Agreement with the reference DfE-rule implementation, csc-validator-be-903.

For one LA's return (plus the previous year's, for the cross-year rules 502/503) this runs
the open-source validator (module ``lac_validator``) and ours on the same files and prints,
per rule code we implement, how many rows each flags.

The reference validator needs pandas<2, so it lives in its own virtual environment,
never the project's. The script creates it on first use (``python3.11 -m venv`` + ``pip
install csc-validator-be-903``) under ``~/.cache/reentry/lac-validator-venv`` (override
with ``--venv``) and talks to it through a small driver run in a subprocess.

    .venv/bin/python benchmarks/compare_reference_validator.py --landing LANDING --year 2024 --la 201
    .venv/bin/python benchmarks/compare_reference_validator.py ... --format both

``--format xml`` first writes each year's CSV return as the DfE SSDA903 XML (root
``EXPSSDA903``, ``CHILD`` > ``HEADER`` and ``EPISODE``; ``CHILDID`` and ``PL`` for CHILD
and PLACE; values unchanged) and gives both validators that file instead; ``both``
prints the two comparisons and whether each validator flags the same rows from the XML
as from the CSVs.

If the reference validator cannot be installed or run here, the script says so clearly
and exits with status 2.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_VENV = Path.home() / ".cache" / "reentry" / "lac-validator-venv"
PACKAGE = "csc-validator-be-903"

# Runs inside the reference venv: validate this year's (and last year's) files, print
# {rule code: rows flagged} as JSON on the last line of stdout.
DRIVER = r"""
import json, logging, sys
logging.disable(logging.CRITICAL)
import importlib
from lac_validator import lac_validator
from lac_validator.utils import process_uploaded_files
args = json.loads(sys.argv[1])
module = importlib.import_module("lac_validator.rules." + args["ruleset"])
files = {"This year": args["this_year"]}
if args["prev_year"]:
    files["Prev year"] = args["prev_year"]
uploaded = process_uploaded_files(files)
v = lac_validator.LacValidator(
    metadata={"collectionYear": str(args["year"]), "localAuthority": args["la"]},
    files=uploaded, registry=module.registry, selected_rules=args["rules"] or None,
)
counts = {}
for table in ("Header", "Episodes"):
    frame = v.ds_results.get(table)
    if frame is None:
        continue
    for col in frame.columns:
        if col.startswith("ERR_"):
            code = col[4:]
            counts[code] = counts.get(code, 0) + int(frame[col].fillna(False).astype(bool).sum())
print(json.dumps({"counts": counts, "ran": v.dones, "skipped": v.skips, "failed_to_run": v.fails}))
"""


def ruleset_for(year: int) -> str:
    """lac_validator ruleset for collection year ``year`` (2024 -> lac2023_24)."""
    year = min(max(year, 2023), 2027)
    return f"lac{year - 1}_{str(year)[2:]}"


def ensure_venv(venv: Path) -> Path:
    """The reference validator's Python, creating its own venv if needed."""
    python = venv / "bin" / "python"
    probe = [str(python), "-c", "import lac_validator"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    base = shutil.which("python3.11") or shutil.which("python3")
    if base is None:
        raise RuntimeError("no python3.11 on PATH to create the reference validator's venv")
    print(f"creating {venv} and installing {PACKAGE} (needs pandas<2) ...", file=sys.stderr)
    subprocess.run([base, "-m", "venv", str(venv)], check=True)
    pip = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", PACKAGE], capture_output=True, text=True
    )
    if pip.returncode != 0:
        raise RuntimeError(f"pip install {PACKAGE} failed:\n{pip.stderr[-2000:]}")
    return python


def csv_return_as_xml(folder: Path) -> str:
    """An LA's header.csv and episodes.csv as the DfE SSDA903 XML, values unchanged."""
    import csv
    from xml.sax.saxutils import escape

    def rows(name: str) -> list[dict[str, str]]:
        with open(folder / name, newline="", encoding="utf-8-sig") as fh:
            return list(csv.DictReader(fh))

    episodes: dict[str, list[dict[str, str]]] = {}
    for ep in rows("episodes.csv"):
        episodes.setdefault(ep["CHILD"], []).append(ep)

    def leaf(tag: str, value: str | None) -> str:
        return f"<{tag}>{escape(value)}</{tag}>" if value else f"<{tag}/>"

    out = ['<?xml version="1.0" encoding="UTF-8"?>', "<EXPSSDA903>"]
    for head in rows("header.csv"):
        fields = "".join(leaf("CHILDID" if k == "CHILD" else k, v) for k, v in head.items() if k)
        out.append(f"<CHILD><HEADER>{fields}</HEADER>")
        for ep in episodes.get(head["CHILD"], []):
            body = "".join(
                leaf("PL" if k == "PLACE" else k, v) for k, v in ep.items() if k and k != "CHILD"
            )
            out.append(f"<EPISODE>{body}</EPISODE>")
        out.append("</CHILD>")
    out.append("</EXPSSDA903>")
    return "\n".join(out) + "\n"


def as_xml_landing(landing: Path, years: list[int], la: str, out: Path) -> Path:
    """A landing folder holding, for each year, the LA's return as one XML file."""
    for y in years:
        src = landing / str(y) / la
        if (src / "header.csv").exists() and (src / "episodes.csv").exists():
            (out / str(y) / la).mkdir(parents=True, exist_ok=True)
            (out / str(y) / la / "return.xml").write_text(csv_return_as_xml(src))
    return out


def reference_counts(python: Path, landing: Path, year: int, la: str, rules: list[str]) -> dict:
    def files(y: int) -> list[str]:
        folder = landing / str(y) / la
        names = ("header.csv", "episodes.csv", "return.xml")
        return [str(folder / t) for t in names if (folder / t).exists()]

    args = {
        "year": year,
        "la": la,
        "ruleset": ruleset_for(year),
        "this_year": files(year),
        "prev_year": files(year - 1),
        "rules": rules,
    }
    run = subprocess.run(
        [str(python), "-c", DRIVER, json.dumps(args)], capture_output=True, text=True
    )
    if run.returncode != 0:
        raise RuntimeError(f"the reference validator failed:\n{run.stderr[-3000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def our_counts(landing: Path, year: int, la: str) -> dict[str, int]:
    """Rows flagged per rule code by our validation of the LA's two returns."""
    from assets.history.history import build_episode_history
    from validation.collection_year import validate_collection_year

    with tempfile.TemporaryDirectory() as tmp:
        # Only this LA, so other LAs' files cannot change anything.
        for y in (year - 1, year):
            src = landing / str(y) / la
            if src.exists():
                shutil.copytree(src, Path(tmp) / str(y) / la)
        years = [
            validate_collection_year(Path(tmp), y)
            for y in (year - 1, year)
            if (Path(tmp) / str(y)).exists()
        ]
        failures = build_episode_history(years).failures
    this = failures[failures["collection_year"].eq(year) & failures["row"].notna()]
    rows = this.drop_duplicates(["rule_code", "file", "row"])
    return rows.groupby("rule_code").size().astype(int).to_dict()


IMPLEMENTED = [
    "101", "102", "103", "141", "142", "143", "144", "145", "146", "147", "148", "149",
    "178", "302", "352", "354", "355", "356", "357", "380", "381", "385", "388", "431",
    "432", "433", "437", "501", "502", "503A", "503B", "503C", "503D", "503E", "503F",
]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--year", type=int, required=True, help="collection year, e.g. 2024")
    parser.add_argument("--la", required=True, help="3-digit LA code")
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV)
    parser.add_argument("--format", choices=("csv", "xml", "both"), default="csv")
    args = parser.parse_args(argv)
    formats = ["csv", "xml"] if args.format == "both" else [args.format]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in formats:
            landing = args.landing
            if fmt == "xml":
                landing = as_xml_landing(
                    args.landing, [args.year - 1, args.year], args.la, Path(tmp) / "xml"
                )
            code = compare(landing, args, fmt)
            if isinstance(code, int):
                return code
            results[fmt] = code
    if len(results) == 2:
        for who in ("ours", "reference"):
            same = results["csv"][who] == results["xml"][who]
            print(f"{who}: the XML and the CSVs give {'the same' if same else 'DIFFERENT'} counts")
    return 0


def compare(landing: Path, args, fmt: str) -> dict | int:
    """Print the per-rule comparison on one input format; the two count tables."""
    try:
        python = ensure_venv(args.venv)
        ref = reference_counts(python, landing, args.year, args.la, IMPLEMENTED)
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        print(f"REFERENCE VALIDATOR UNAVAILABLE: {exc}")
        return 2
    ours = our_counts(landing, args.year, args.la)
    ref_counts = ref["counts"]
    print(
        f"LA {args.la}, collection year {args.year}, ruleset {ruleset_for(args.year)}, "
        f"input {fmt.upper()}"
    )
    print(f"{'rule':>6} {'ours':>6} {'reference':>9}  agree")
    agree = compared = 0
    for code in IMPLEMENTED:
        o = ours.get(code, 0)
        r = ref_counts.get(code, 0) if code in ref.get("ran", []) else ref_counts.get(code)
        shown = "n/a" if r is None else str(r)
        same = r is not None and o == r
        agree += same
        compared += r is not None
        verdict = "not run by the reference" if r is None else ("yes" if same else "NO")
        print(f"{code:>6} {o:>6} {shown:>9}  {verdict}")
    failed = [c for c in ref.get("failed_to_run", []) if c in IMPLEMENTED]
    if failed:
        print(f"reference rules that crashed on this data: {', '.join(failed)}")
    print(
        f"{agree} of {compared} rule codes run by both flag the same number of rows "
        f"({len(IMPLEMENTED) - compared} not run by the reference on this input)"
    )
    return {"ours": ours, "reference": ref_counts}


if __name__ == "__main__":
    raise SystemExit(main())
