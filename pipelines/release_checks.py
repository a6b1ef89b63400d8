"""`reentry check`: re-run the release checks on a release folder already on disk.

Each check calls the validator the publishing and disclosure stages use when they write
the release, so a folder that passes here passes the same rules it was written under.
Plain functions, no Dagster.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from assets.approval import MANIFEST_FILE, file_sha256


@dataclass(frozen=True)
class CheckOutcome:
    name: str
    passed: bool
    detail: str


def _manifest_entries(manifest: dict) -> dict[str, str]:
    """path -> sha256 from the manifest's file list (list of records or a mapping)."""
    files = manifest.get("files", manifest)
    if isinstance(files, dict):
        return {str(k): (v if isinstance(v, str) else v.get("sha256")) for k, v in files.items()}
    return {str(f["path"]): f["sha256"] for f in files}


def check_manifest(folder: Path) -> CheckOutcome:
    """Every file listed in manifest.json exists with the recorded SHA-256; none unlisted."""
    manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    entries = _manifest_entries(manifest)
    problems = []
    for rel, sha in sorted(entries.items()):
        path = folder / rel
        if not path.is_file():
            problems.append(f"{rel} is listed but missing")
        elif file_sha256(path) != sha:
            problems.append(f"{rel} does not match its recorded SHA-256")
    on_disk = {
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.name != MANIFEST_FILE
    }
    for rel in sorted(on_disk - set(entries)):
        problems.append(f"{rel} is not listed in the manifest")
    if problems:
        return CheckOutcome("manifest hashes", False, "; ".join(problems[:10]))
    return CheckOutcome("manifest hashes", True, f"{len(entries)} files match manifest.json")


def check_ees_files(folder: Path) -> CheckOutcome:
    """Every EES data file with a ``.meta.csv`` passes the open data standards checks."""
    from assets.publish_csv import NON_ADDITIVE_FILTERS
    from validation.ees import EesValidationError, validate_ees_files

    metas = sorted(folder.rglob("*.meta.csv"))
    if not metas:
        return CheckOutcome("EES open data rules", False, "no .meta.csv files found")
    problems, checked = [], 0
    for meta in metas:
        stem = meta.name[: -len(".meta.csv")]
        data = meta.with_name(f"{stem}.csv")
        # A meta file describes its namesake, or (per-LA extracts) every CSV in a folder
        # of the same name.
        extracts = (
            sorted((meta.parent / stem).glob("*.csv")) if (meta.parent / stem).is_dir() else []
        )
        targets = [data] if data.is_file() else extracts
        if not targets:
            problems.append(f"{meta.relative_to(folder)} describes no data file")
            continue
        try:
            validate_ees_files(targets, meta, filters_without_total=NON_ADDITIVE_FILTERS)
            checked += len(targets)
        except EesValidationError as err:
            problems.append(str(err).splitlines()[0])
    if problems:
        return CheckOutcome("EES open data rules", False, "; ".join(problems[:5]))
    return CheckOutcome("EES open data rules", True, f"{checked} data file(s) pass")


def qa_pack_for(folder: Path) -> Path | None:
    """The restricted QA pack of a candidate or published release folder, if present."""
    folder = folder.resolve()
    if folder.name == "candidate" and (folder.parent / "qa").is_dir():
        return folder.parent / "qa"
    if folder.parent.name == "publications":
        qa = folder.parent.parent / "restricted" / folder.name / "qa"
        if qa.is_dir():
            return qa
    return None


def check_disclosure_audit(folder: Path) -> CheckOutcome:
    """Re-run the independent disclosure audit on the release's controlled tables."""
    from assets.audit import audit_release_dir

    qa = qa_pack_for(folder)
    if qa is None or not (qa / "disclosure").is_dir():
        return CheckOutcome(
            "disclosure audit",
            False,
            "cannot audit: the restricted QA pack with the suppression log was not found "
            "(expected restricted/<release>/qa/ beside the release)",
        )
    params = json.loads((qa / "disclosure_audit.json").read_text(encoding="utf-8"))
    result = audit_release_dir(
        qa / "disclosure",
        log_path=qa / "disclosure" / "suppression_log.csv",
        protection_width=int(params["protection_width"]),
    )
    detail = (
        f"{result.cells_checked} suppressed cells checked; narrowest feasible range "
        f"{result.narrowest_width} (needed {params['protection_width']})"
    )
    return CheckOutcome("disclosure audit", bool(result.passed), detail)


def check_release_folder(folder: Path) -> list[CheckOutcome]:
    """Run every release check; a check that cannot run is reported as failed, with why."""
    outcomes = []
    for check in (check_manifest, check_ees_files, check_disclosure_audit):
        try:
            outcomes.append(check(folder))
        except Exception as err:  # report, do not crash: the user needs every result
            name = check.__name__.removeprefix("check_").replace("_", " ")
            outcomes.append(CheckOutcome(name, False, f"could not run: {err}"))
    return outcomes
