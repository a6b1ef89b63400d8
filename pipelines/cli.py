"""The ``reentry`` command line.

  reentry synth   --out DIR [...]          generate synthetic SSDA903 returns
  reentry run     [--landing DIR] [--output DIR] [--release NAME] [...]
                                           build the candidate release and its QA pack
  reentry approve RELEASE --reviewer NAME  approve the candidate and publish it
  reentry status                           recent runs and the state of each release
  reentry check   RELEASE_FOLDER           re-check an existing release's files
  reentry ui                               the Dagster UI on http://127.0.0.1:3000
  reentry demo                             synth (if absent), run, auto-approve, publish

Exit codes: 0 success; 1 the pipeline ran but a check failed (validation, disclosure audit,
approval refused, a release check); 2 bad arguments or missing folders/inputs.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from assets.common.output_lock import OutputFolderBusy, output_lock
from assets.common.release_folders import MANIFEST_NAME
from assets.disclosure.config import DEFAULTS as DISCLOSURE_DEFAULTS
from assets.publication.release_info import STATUSES
from pipelines.runner import (
    ensure_dagster_home,
    execute_build,
    execute_publish,
    failure_messages,
    project_root,
)

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2

DEMO_REVIEWER = "demo (automatic approval)"


class UsageError(Exception):
    """Bad arguments or missing inputs: exit code 2."""


# --- synth ----------------------------------------------------------------------------


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
    return EXIT_OK


# --- run ------------------------------------------------------------------------------


def _add_release_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--landing", type=Path, default=None, help="landing folder of returns")
    p.add_argument("--output", type=Path, default=None, help="output root (default: project)")


def _add_run(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="build the candidate release and its QA pack")
    _add_release_options(p)
    p.add_argument("--release", default=None, help="release name (default: latest year)")
    p.add_argument(
        "--years",
        default=None,
        help="collection years to (re)validate, e.g. 2025 "
        "or 2016-2025 (default: every year in the landing folder)",
    )
    p.add_argument("--release-date", default=None, help="publication date yyyy-mm-dd")
    p.add_argument("--next-update", default=None, help="e.g. 'November 2026'")
    p.add_argument("--status", choices=list(STATUSES), default=None)
    p.add_argument(
        "--threshold",
        type=int,
        default=None,
        help="largest count suppressed (primary suppression 1..N; "
        f"default {DISCLOSURE_DEFAULTS.threshold_high})",
    )
    p.add_argument(
        "--protection-width",
        type=int,
        default=None,
        help="minimum feasible-range width of a suppressed cell "
        f"(default {DISCLOSURE_DEFAULTS.protection_width})",
    )
    p.add_argument("--windows", default=None, help="follow-up months, e.g. 6,12,24,60")
    p.set_defaults(func=_run)


def settings_from_args(args: argparse.Namespace):
    """ReleaseSettings from command-line options; unspecified options keep the defaults."""
    from pydantic import ValidationError

    from pipelines.resources import ReleaseSettings

    values: dict = {}
    if getattr(args, "landing", None) is not None:
        values["landing"] = str(args.landing)
    if getattr(args, "output", None) is not None:
        values["output"] = str(args.output)
    for name, field in [
        ("release", "release"),
        ("release_date", "release_date"),
        ("next_update", "next_update"),
        ("status", "status"),
        ("threshold", "threshold_high"),
        ("protection_width", "protection_width"),
    ]:
        value = getattr(args, name, None)
        if value is not None:
            values[field] = value
    if getattr(args, "windows", None):
        try:
            values["windows"] = [int(w) for w in args.windows.split(",")]
        except ValueError as err:
            raise UsageError(
                f"--windows must be comma-separated months, e.g. 6,12,24,60: {err}"
            ) from None
    try:
        return ReleaseSettings(**values)
    except ValidationError as err:
        raise UsageError("; ".join(_setting_problem(e) for e in err.errors())) from None


# The command-line option that sets each release setting, for error messages.
_OPTION_OF_SETTING = {
    "release": "--release",
    "release_date": "--release-date",
    "status": "--status",
    "threshold_high": "--threshold",
    "protection_width": "--protection-width",
    "windows": "--windows",
    "landing": "--landing",
    "output": "--output",
}


def _setting_problem(error: dict) -> str:
    """One validation error as the user typed it: the option, then the settings' reason."""
    message = str(error.get("msg", "")).removeprefix("Value error, ")
    field = error["loc"][0] if error.get("loc") else None
    option = _OPTION_OF_SETTING.get(field, field)
    return f"{option} {message}" if option else message


def _parse_years(text: str | None, available: list[int]) -> list[int]:
    if not text:
        return available
    try:
        if "-" in text:
            a, b = (int(x) for x in text.split("-", 1))
            years = list(range(a, b + 1))
        else:
            years = sorted({int(x) for x in text.split(",")})
    except ValueError:
        raise UsageError(f"--years {text!r}: expected e.g. 2025, 2024,2025 or 2016-2025") from None
    missing = [y for y in years if y not in available]
    if missing:
        raise UsageError(f"--years: no landing folder for collection year(s) {missing}")
    return years


def _check_landing(settings) -> list[int]:
    from assets.ingest.layout import landing_years
    from pipelines.partitions import collection_year_partitions

    landing = settings.landing_path
    if not landing.is_dir():
        raise UsageError(
            f"landing folder {landing} does not exist; generate demo data with "
            "`reentry synth --out DIR` or pass --landing DIR"
        )
    years = landing_years(landing)
    if not years:
        raise UsageError(f"no collection-year folders (e.g. 2025/) in landing folder {landing}")
    keys = collection_year_partitions.get_partition_keys()
    outside = [y for y in years if str(y) not in keys]
    if outside:
        # One stray or early year folder must not stop the others being read.
        print(
            f"warning: collection year folder(s) {outside} in {landing} are outside the "
            f"configured years {keys[0]}-{keys[-1]} (a collection year exists once it has "
            "ended on 31 March); skipped",
            file=sys.stderr,
        )
        years = [y for y in years if str(y) in keys]
    if not years:
        raise UsageError(f"no collection-year folder in {landing} is within {keys[0]}-{keys[-1]}")
    return years


def _run(args: argparse.Namespace) -> int:
    from assets.common.release_folders import ReleasePaths

    settings = settings_from_args(args)
    available = _check_landing(settings)
    years = _parse_years(args.years, available)
    release = settings.release_name()
    if ReleasePaths(settings.output_path, release).published.exists():
        raise UsageError(
            f"release {release} is already published under {settings.output_path / 'publications'}; "
            "published releases are never replaced: choose a new name with --release"
        )
    print(
        f"Building candidate release {release} from {settings.landing_path} "
        f"(collection years {years[0]}-{years[-1]})"
    )
    print(f"Run history: DAGSTER_HOME={ensure_dagster_home()}")
    with output_lock(settings.output_path, f"reentry run (release {release})"):
        _clean_stale(settings.output_path)
        result = execute_build(settings, years)
    paths = ReleasePaths(settings.output_path, release)
    if not result.success:
        print(f"\nRun {result.run_id} failed; nothing was published:", file=sys.stderr)
        for message in failure_messages(result):
            print(f"  - {message}", file=sys.stderr)
        print("See the run in the UI (`reentry ui`) for details.", file=sys.stderr)
        return EXIT_CHECK_FAILED
    print(f"\nRun {result.run_id} succeeded.")
    print(f"Candidate release: {paths.candidate}")
    print(f"QA pack:           {paths.qa}")
    print(f"Review it, then publish with: reentry approve {release} --reviewer NAME")
    return EXIT_OK


def _clean_stale(output: Path) -> None:
    """Remove what killed or disk-full runs left behind (temporary files, staging folders),
    while holding the lock, so no live writer's files are touched."""
    from assets.common.atomic import remove_stale_temporary_files

    for root in (output / "restricted", output / "publications"):
        for path in remove_stale_temporary_files(root):
            print(f"  removed {path} left by an interrupted run")


# --- approve --------------------------------------------------------------------------


def _add_approve(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("approve", help="approve a reviewed candidate release and publish it")
    p.add_argument("release", help="release name, e.g. 2025")
    p.add_argument("--reviewer", required=True, help="name of the reviewer approving it")
    _add_release_options(p)
    p.set_defaults(func=_approve)


def _approve(args: argparse.Namespace) -> int:
    from assets.approval.gate import candidate_landing
    from assets.common.release_folders import ReleasePaths

    settings = settings_from_args(args)
    if args.landing is None:
        # Re-check the inputs the candidate was actually built from.
        recorded = candidate_landing(ReleasePaths(settings.output_path, args.release))
        if recorded is not None:
            settings = settings_from_args(argparse.Namespace(**{**vars(args), "landing": recorded}))
    if not args.reviewer.strip():
        raise UsageError("--reviewer must name the person approving the release")
    paths = ReleasePaths(settings.output_path, args.release)
    if not paths.candidate.is_dir():
        raise UsageError(
            f"no candidate for release {args.release} at {paths.candidate}; "
            f"run `reentry run --release {args.release}` first"
        )
    if not settings.landing_path.is_dir():
        raise UsageError(
            f"landing folder {settings.landing_path} does not exist; approval re-checks that "
            "the inputs are unchanged, so pass the --landing the candidate was built from"
        )
    with output_lock(settings.output_path, f"reentry approve {args.release}"):
        _clean_stale(settings.output_path)
        result = execute_publish(settings, args.release, args.reviewer)
    if not result.success:
        print(f"Release {args.release} was NOT published:", file=sys.stderr)
        for message in failure_messages(result):
            print(f"  - {message}", file=sys.stderr)
        return EXIT_CHECK_FAILED
    print(f"Approved by {args.reviewer.strip()}; approval recorded in {paths.approval}")
    print(f"Published release: {paths.published}")
    return EXIT_OK


# --- status ---------------------------------------------------------------------------


def _add_status(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("status", help="recent runs and the state of each release")
    _add_release_options(p)
    p.add_argument("--limit", type=int, default=10, help="how many recent runs to list")
    p.set_defaults(func=_status)


def _status(args: argparse.Namespace) -> int:
    from dagster import DagsterInstance

    from assets.approval.gate import release_state
    from assets.common.release_folders import ReleasePaths
    from assets.ingest.inventory import inputs_sha256

    settings = settings_from_args(args)
    home = ensure_dagster_home()
    print(f"Run history (DAGSTER_HOME={home}):")
    with DagsterInstance.get() as instance:
        runs = instance.get_runs(limit=args.limit)
        if not runs:
            print("  no runs yet")
        for run in runs:
            stats = instance.get_run_stats(run.run_id)
            started = (
                time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(stats.start_time))
                if stats.start_time
                else "not started"
            )
            trigger = run.tags.get("reentry/trigger", "")
            years = run.tags.get("dagster/partition") or (
                f"{run.tags['dagster/asset_partition_range_start']}-"
                f"{run.tags['dagster/asset_partition_range_end']}"
                if "dagster/asset_partition_range_start" in run.tags
                else ""
            )
            print(
                f"  {run.run_id[:8]}  {started}  {run.job_name:<26} {run.status.value:<8} "
                f"{years:<10} {trigger}"
            )
    output = settings.output_path
    names = set()
    for folder in ("restricted", "publications"):
        base = output / folder
        if base.is_dir():
            names |= {p.name for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")}
    print(f"\nReleases under {output}:")
    if not names:
        print("  none")
    current = None
    if settings.landing_path.is_dir():
        from assets.ingest.inventory import inventory_landing

        current = inputs_sha256(inventory_landing(settings.landing_path))
    for name in sorted(names):
        state = release_state(ReleasePaths(output, name), current_inputs_sha256=current)
        print(f"  {name}: {state}")
    return EXIT_OK


# --- check ----------------------------------------------------------------------------


def _add_check(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="re-run the release checks on an existing release folder")
    p.add_argument("release_folder", type=Path, help="a candidate or published release folder")
    p.set_defaults(func=_check)


def _check(args: argparse.Namespace) -> int:
    folder = args.release_folder.expanduser().resolve()
    if not folder.is_dir():
        raise UsageError(f"release folder {folder} does not exist")
    if not (folder / MANIFEST_NAME).is_file():
        raise UsageError(f"{folder} has no manifest.json; is it a release folder?")
    from assets.approval.release_checks import check_release_folder

    results = check_release_folder(folder)
    for r in results:
        print(f"  {'PASS' if r.passed else 'FAIL'}  {r.name}: {r.detail}")
    failed = [r for r in results if not r.passed]
    print(f"\n{len(results) - len(failed)} of {len(results)} checks passed for {folder}")
    return EXIT_CHECK_FAILED if failed else EXIT_OK


# --- ui -------------------------------------------------------------------------------


def _add_ui(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ui", help="start the Dagster UI (dagster dev) on 127.0.0.1")
    p.add_argument("--port", type=int, default=3000)
    p.set_defaults(func=_ui)


def dagster_dev_command(port: int) -> list[str]:
    """The `dagster dev` command line, bound to loopback only (child-level run metadata)."""
    dagster = Path(sys.executable).parent / "dagster"
    exe = str(dagster) if dagster.exists() else "dagster"
    workspace = str(project_root() / "workspace.yaml")
    return [exe, "dev", "-w", workspace, "-h", "127.0.0.1", "-p", str(port)]


def _ui(args: argparse.Namespace) -> int:
    home = ensure_dagster_home()
    command = dagster_dev_command(args.port)
    print(f"Dagster UI on http://127.0.0.1:{args.port} (DAGSTER_HOME={home}); Ctrl-C stops it")
    os.chdir(project_root())
    os.execv(command[0], command) if os.path.isabs(command[0]) else os.execvp(command[0], command)
    return EXIT_OK  # not reached


# --- demo -----------------------------------------------------------------------------


# The demo's default data: the synthetic national dataset, ten collection years (about
# five minutes end to end on two cores). `--scale 0.01 --first-year 2023` is a
# one-minute run for a quick look.
DEMO_SCALE = 1.0
DEMO_FIRST_YEAR = 2016
DEMO_LAST_YEAR = 2025


def _add_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo", help="generate demo data if absent, run, approve automatically, publish"
    )
    p.add_argument(
        "--scale",
        type=float,
        default=DEMO_SCALE,
        help=f"synthetic data scale (default {DEMO_SCALE}; 1.0 is national)",
    )
    p.add_argument("--first-year", type=int, default=DEMO_FIRST_YEAR)
    p.add_argument("--last-year", type=int, default=DEMO_LAST_YEAR)
    _add_release_options(p)
    p.set_defaults(func=_demo)


def _demo(args: argparse.Namespace) -> int:
    from assets.common.release_folders import ReleasePaths
    from assets.ingest.layout import landing_years

    settings = settings_from_args(args)
    landing = settings.landing_path
    if not landing_years(landing):
        print(
            f"Generating synthetic SSDA903 returns (scale {args.scale}, "
            f"{args.first_year}-{args.last_year}) in {landing}"
        )
        if args.scale != 1.0:
            print(
                "  (demo default: small data so the run takes about a minute; "
                "`reentry demo --scale 1.0 --first-year 2016` is the national run)"
            )
        from synthetic.generator import generate

        generate(
            out=landing,
            first_year=args.first_year,
            last_year=args.last_year,
            scale=args.scale,
            seed=0,
            error_rate=0.0,
            truth=None,
            progress=True,
        )
    else:
        print(f"Using existing synthetic returns in {landing}")
    release = settings.release_name()
    paths = ReleasePaths(settings.output_path, release)
    if paths.published.exists():
        print(f"Release {release} is already published at {paths.published}")
        print("(published releases are never replaced; delete it to rebuild the demo)")
        return EXIT_OK
    code = _run(
        argparse.Namespace(
            **{
                **vars(args),
                "years": None,
                "release": None,
                "release_date": None,
                "next_update": None,
                "status": None,
                "threshold": None,
                "protection_width": None,
                "windows": None,
            }
        )
    )
    if code != EXIT_OK:
        return code
    print(
        f"\nDEMO: approving automatically as reviewer '{DEMO_REVIEWER}'. A real release "
        "needs a named reviewer to check the QA pack and run `reentry approve`."
    )
    code = _approve(
        argparse.Namespace(
            release=release, reviewer=DEMO_REVIEWER, landing=args.landing, output=args.output
        )
    )
    if code == EXIT_OK:
        print(f"\nRelease: {paths.published}")
        print(f"Open {paths.published / 'index.html'} in a browser")
    return code


# --- entry point ----------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reentry", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (_add_synth, _add_run, _add_approve, _add_status, _add_check, _add_ui, _add_demo):
        add(sub)
    return parser


def _quiet_dagster_warnings() -> None:
    """Dagster's beta/preview notices are for developers, not for statisticians."""
    import warnings

    warnings.filterwarnings("ignore", message=".*is currently in beta.*")
    warnings.filterwarnings("ignore", message=".*is currently in preview.*")
    warnings.filterwarnings("ignore", category=DeprecationWarning)


def main(argv: list[str] | None = None) -> int:
    _quiet_dagster_warnings()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse exits 2 on bad usage, 0 on --help
        return int(exit_.code or 0)
    try:
        return args.func(args)
    except UsageError as err:
        print(f"reentry {args.command}: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except (FileNotFoundError, OutputFolderBusy) as err:
        print(f"reentry {args.command}: error: {err}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
