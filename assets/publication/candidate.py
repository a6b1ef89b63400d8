"""The candidate release: what it is called, what goes in it, and the checks before it exists.

``build_candidate`` writes every public file (EES CSVs, spreadsheet, HTML site) into a
staging folder, validates them, scans them for child identifiers, writes ``manifest.json``
and only then renames the folder into place (``assets.common.atomic.atomic_directory``), so an
interrupted or failed build never leaves a partial release and never touches an earlier one.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pandas as pd

from assets.common import background
from assets.common.atomic import atomic_directory
from assets.common.release_folders import MANIFEST_NAME
from assets.ingest.inventory import inputs_sha256
from assets.publication.manifest import (
    Manifest,
    audit_summary,
    file_hashes,
    json_safe,
    software_versions,
)
from assets.publication.privacy import (
    PrivacyError,
    PrivateIdentifiers,
    scan_for_private_identifiers,
)
from assets.publication.release_info import ReleaseInfo


def spreadsheet_name(release: ReleaseInfo) -> str:
    return f"reentry-to-care-{release.name}.xlsx"


def _write_workbook_file(path: Path, **tables) -> None:
    """The spreadsheet, returning nothing (its tables need not travel back to the parent)."""
    from assets.publication.spreadsheet import write_workbook

    write_workbook(path, **tables)


def build_candidate(
    candidate_dir: Path,
    *,
    published,
    notes: pd.DataFrame,
    la_year_status: pd.DataFrame,
    audit,
    inventory: pd.DataFrame,
    release: ReleaseInfo,
    private_identifiers: PrivateIdentifiers,
    replace: bool = True,
    upn_matching: pd.DataFrame | None = None,
) -> Manifest:
    """Write the whole public release into ``candidate_dir`` atomically.

    Order: EES files (validated as written), spreadsheet, HTML site, privacy scan, manifest,
    then the rename. Any failure (an EES rule, a privacy finding, an exception) leaves the
    previous ``candidate_dir`` as it was and no staging folder behind. ``replace=False``
    refuses to overwrite an existing folder (used for publications). ``upn_matching``
    (``MeasureTables.upn_matching``) adds each LA's UPN match rate to its page.
    """
    from assets.publication.open_data import write_open_data
    from assets.publication.website import render_site, size_text

    if not audit_summary(audit)["passed"]:
        raise RuntimeError(
            "disclosure audit did not pass: a suppressed count can be narrowed below the "
            "protection width; nothing is written (see the audit report in restricted/)"
        )
    with atomic_directory(Path(candidate_dir), replace=replace) as staging:
        data = write_open_data(published, notes, staging / "data")
        xlsx = staging / spreadsheet_name(release)
        # The spreadsheet (about half the build) is written by a second process while
        # this one renders the pages; each writes its own files, so the bytes are the same.
        with background.start(
            _write_workbook_file,
            xlsx,
            release=release,
            reentry_ees=data["reentry"],
            ceased_ees=data["ceased"],
            ttr_ees=data["time_to_reentry"],
            sensitivity_ees=data["sensitivity"],
            notes=notes,
        ) as book:

            def downloads() -> list[dict]:
                book.wait()
                files = [(xlsx.name, "Spreadsheet of all tables"), *data["downloads"]]
                return [
                    {
                        "href": rel,
                        "label": label,
                        "kind": rel.rsplit(".", 1)[-1].upper(),
                        "size": size_text((staging / rel).stat().st_size),
                    }
                    for rel, label in files
                ]

            render_site(
                staging,
                release=release,
                reentry_ees=data["reentry"],
                notes=notes,
                la_files=data["la_files"],
                downloads=downloads,
                ceased_ees=data["ceased"],
                la_year_status=la_year_status,
                upn_matching=upn_matching,
            )
            book.wait()
        status = la_year_status.groupby(["collection_year", "status"]).size()
        manifest = Manifest(
            release=json_safe(asdict(release)),
            files=file_hashes(staging),
            # By one combined hash only: input names and sizes are restricted (inputs.json).
            inputs_sha256=inputs_sha256(inventory),
            software=software_versions(),
            disclosure_audit=audit_summary(audit),
            return_status={
                str(y): {s: int(n) for s, n in g.droplevel(0).items()}
                for y, g in status.groupby(level=0)
            },
        )
        (staging / MANIFEST_NAME).write_text(manifest.to_json(), encoding="utf-8", newline="\n")
        allowed = frozenset({release.release_date})
        findings = scan_for_private_identifiers(staging, private_identifiers, allowed_dates=allowed)
        if findings:
            shown = "\n  ".join(str(f) for f in findings[:20])
            raise PrivacyError(
                f"release {release.name}: {len(findings)} child identifier(s) found in public "
                f"files; nothing was published. Remove them at source and rerun:\n  {shown}"
            )
    return manifest
