"""`reentry check`: re-run the release checks on a release folder already on disk.

Each check calls the validator the publishing and disclosure stages use when they write
the release, so a folder that passes here passes the same rules it was written under.
Plain functions, no Dagster.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from assets.common.release_folders import MANIFEST_NAME


@dataclass(frozen=True)
class CheckOutcome:
    name: str
    passed: bool
    detail: str


def check_manifest(folder: Path) -> CheckOutcome:
    """Every file listed in manifest.json exists with its recorded size and SHA-256, and
    nothing unlisted is present (assets.publication.manifest.verify_manifest)."""
    from assets.publication.manifest import verify_manifest

    problems = verify_manifest(folder)
    if problems:
        return CheckOutcome("manifest hashes", False, "; ".join(problems[:10]))
    listed = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))["files"]
    return CheckOutcome("manifest hashes", True, f"{len(listed)} files match manifest.json")


def spreadsheet_problems(path: Path) -> list[str]:
    """Breaches of the Analysis Function "Releasing statistics in spreadsheets" checklist
    that can be seen in the file: hidden sheets, merged cells, filter buttons, a sheet
    without a title in A1, a data sheet without a marked-up table, default sheet names."""
    from openpyxl import load_workbook

    problems = []
    wb = load_workbook(path)
    for ws in wb.worksheets:
        where = f"{path.name} sheet '{ws.title}'"
        if ws.sheet_state != "visible":
            problems.append(f"{where} is hidden")
        if ws.merged_cells.ranges:
            problems.append(f"{where} has merged cells")
        if ws.auto_filter and ws.auto_filter.ref:
            problems.append(f"{where} has filter buttons")
        if ws.title.lower().startswith("sheet"):
            problems.append(f"{where} has a default name")
        if not isinstance(ws["A1"].value, str) or not ws["A1"].value.strip():
            problems.append(f"{where} has no title in cell A1")
        for table in ws.tables.values():
            if table.autoFilter is not None and table.autoFilter.ref:
                problems.append(f"{where} table {table.name} has filter buttons")
    data_sheets = [ws for ws in wb.worksheets[1:] if ws.max_row > 3]
    for ws in data_sheets:
        if not ws.tables:
            problems.append(f"{path.name} sheet '{ws.title}' has data but no marked-up table")
    return problems


def check_spreadsheet(folder: Path) -> CheckOutcome:
    """Every spreadsheet in the release passes the visible checklist items."""
    books = sorted(folder.glob("*.xlsx"))
    if not books:
        return CheckOutcome("spreadsheet checklist", False, "no .xlsx spreadsheet found")
    problems = [p for book in books for p in spreadsheet_problems(book)]
    if problems:
        return CheckOutcome("spreadsheet checklist", False, "; ".join(problems[:10]))
    return CheckOutcome("spreadsheet checklist", True, f"{len(books)} spreadsheet(s) pass")


def check_ees_files(folder: Path) -> CheckOutcome:
    """Every EES data file with a ``.meta.csv`` passes the open data standards checks."""
    from assets.publication.ees_rules import EesValidationError, validate_ees_files
    from assets.publication.open_data import NON_ADDITIVE_FILTERS

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
    from assets.disclosure.audit import audit_release_dir

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
        rounding_base=int(params.get("rounding_base", 10)),
    )
    detail = (
        f"{result.cells_checked} suppressed cells checked; narrowest feasible range "
        f"{result.narrowest_width} (needed {params['protection_width']})"
    )
    return CheckOutcome("disclosure audit", bool(result.passed), detail)


def check_release_folder(folder: Path) -> list[CheckOutcome]:
    """Run every release check; a check that cannot run is reported as failed, with why."""
    outcomes = []
    for check in (check_manifest, check_ees_files, check_spreadsheet, check_disclosure_audit):
        try:
            outcomes.append(check(folder))
        except Exception as err:  # report, do not crash: the user needs every result
            name = check.__name__.removeprefix("check_").replace("_", " ")
            outcomes.append(CheckOutcome(name, False, f"could not run: {err}"))
    return outcomes
