"""The review-and-approve gate: nothing is published without a valid, current approval."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from assets.approval.gate import (
    ApprovalError,
    publish_approved,
    read_approval,
    record_approval,
    release_state,
)
from assets.common.hashing import file_sha256
from assets.common.release_folders import ReleasePaths
from assets.ingest.inventory import inputs_sha256
from assets.publication.candidate_record import write_candidate_record
from assets.publication.differences import release_differences
from assets.publication.manifest import file_hashes


def _inventory(episodes_sha: str = "b" * 64) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "collection_year": [2025, 2025],
            "la_code": ["201", "201"],
            "table": ["header", "episodes"],
            "path": ["/l/2025/201/header.csv", "/l/2025/201/episodes.csv"],
            "sha256": ["a" * 64, episodes_sha],
        }
    )


def _candidate(tmp_path: Path, *, audit_passed: bool = True) -> ReleasePaths:
    paths = ReleasePaths(tmp_path, "2025")
    paths.candidate.mkdir(parents=True)
    (paths.candidate / "data").mkdir()
    (paths.candidate / "data" / "reentry.csv").write_text("time_period,value\n2025,10\n")
    manifest = {"files": file_hashes(paths.candidate), "inputs_sha256": inputs_sha256(_inventory())}
    (paths.candidate / "manifest.json").write_text(json.dumps(manifest) + "\n")
    write_candidate_record(
        paths.qa,
        inventory=_inventory(),
        checks={"disclosure_audit": audit_passed},
        manifest_sha256=file_sha256(paths.candidate / "manifest.json"),
    )
    return paths


def test_unapproved_candidate_is_never_published(tmp_path):
    paths = _candidate(tmp_path)
    with pytest.raises(ApprovalError, match="has not been approved"):
        publish_approved(paths, current_inputs_sha256=inputs_sha256(_inventory()))
    assert not paths.published.exists()


def test_approval_records_reviewer_utc_time_manifest_and_inputs_hashes(tmp_path):
    paths = _candidate(tmp_path)
    when = datetime(2025, 11, 20, 9, 30, 15, 123, tzinfo=UTC)
    approval = record_approval(
        paths,
        reviewer="  A. Reviewer ",
        current_inputs_sha256=inputs_sha256(_inventory()),
        now=when,
    )
    stored = json.loads(paths.approval.read_text())
    assert stored == {
        "release": "2025",
        "reviewer": "A. Reviewer",
        "approved_at_utc": "2025-11-20T09:30:15Z",
        "manifest_sha256": file_sha256(paths.candidate / "manifest.json"),
        "inputs_sha256": inputs_sha256(_inventory()),
    }
    assert read_approval(paths) == approval


def test_approved_candidate_is_published_byte_for_byte(tmp_path):
    paths = _candidate(tmp_path)
    current = inputs_sha256(_inventory())
    record_approval(paths, reviewer="A. Reviewer", current_inputs_sha256=current)
    target = publish_approved(paths, current_inputs_sha256=current)
    assert target == tmp_path / "publications" / "2025"
    assert file_sha256(target / "manifest.json") == file_sha256(paths.candidate / "manifest.json")
    assert (target / "data" / "reentry.csv").read_text() == "time_period,value\n2025,10\n"
    assert not (target / "approval.json").exists()  # the approval record stays restricted
    assert release_state(paths).startswith("published at")


def test_resubmitted_return_after_approval_invalidates_the_approval(tmp_path):
    paths = _candidate(tmp_path)
    record_approval(
        paths, reviewer="A. Reviewer", current_inputs_sha256=inputs_sha256(_inventory())
    )
    resubmitted = inputs_sha256(_inventory(episodes_sha="c" * 64))
    with pytest.raises(ApprovalError, match="landing files changed after A. Reviewer approved"):
        publish_approved(paths, current_inputs_sha256=resubmitted)
    assert not paths.published.exists()
    assert release_state(paths, current_inputs_sha256=resubmitted).startswith(
        "approval no longer valid"
    )


def test_candidate_rebuilt_after_approval_is_not_published_with_the_old_approval(tmp_path):
    paths = _candidate(tmp_path)
    current = inputs_sha256(_inventory())
    record_approval(paths, reviewer="A. Reviewer", current_inputs_sha256=current)
    (paths.candidate / "manifest.json").write_text('{"files": ["data/other.csv"]}\n')
    with pytest.raises(ApprovalError, match="candidate changed after A. Reviewer approved"):
        publish_approved(paths, current_inputs_sha256=current)
    assert not paths.published.exists()


def test_candidate_built_from_other_inputs_cannot_be_approved(tmp_path):
    paths = _candidate(tmp_path)
    with pytest.raises(ApprovalError, match="landing files have changed since this candidate"):
        record_approval(
            paths,
            reviewer="A. Reviewer",
            current_inputs_sha256=inputs_sha256(_inventory(episodes_sha="c" * 64)),
        )
    assert not paths.approval.exists()


def test_candidate_that_failed_a_qa_check_cannot_be_approved(tmp_path):
    paths = _candidate(tmp_path, audit_passed=False)
    with pytest.raises(ApprovalError, match="failed QA checks \\(disclosure_audit\\)"):
        record_approval(
            paths, reviewer="A. Reviewer", current_inputs_sha256=inputs_sha256(_inventory())
        )


def test_missing_reviewer_name_is_refused(tmp_path):
    paths = _candidate(tmp_path)
    with pytest.raises(ApprovalError, match="reviewer name is required"):
        record_approval(paths, reviewer="  ", current_inputs_sha256=inputs_sha256(_inventory()))


def test_missing_candidate_cannot_be_approved(tmp_path):
    paths = ReleasePaths(tmp_path, "2025")
    with pytest.raises(ApprovalError, match="no candidate release"):
        record_approval(paths, reviewer="A. Reviewer", current_inputs_sha256="0" * 64)


def test_published_release_is_never_overwritten(tmp_path):
    paths = _candidate(tmp_path)
    current = inputs_sha256(_inventory())
    paths.published.mkdir(parents=True)
    (paths.published / "manifest.json").write_text("earlier release\n")
    with pytest.raises(ApprovalError, match="already published"):
        record_approval(paths, reviewer="A. Reviewer", current_inputs_sha256=current)
    assert (paths.published / "manifest.json").read_text() == "earlier release\n"


def test_inputs_hash_ignores_row_order_and_paths_but_not_content():
    inv = _inventory()
    moved = inv.assign(path=["/elsewhere/a", "/elsewhere/b"]).iloc[::-1]
    assert inputs_sha256(moved) == inputs_sha256(inv)
    assert inputs_sha256(_inventory(episodes_sha="c" * 64)) != inputs_sha256(inv)
    assert inputs_sha256(inv.iloc[:1]) != inputs_sha256(inv)


def test_differences_from_previous_release_count_revised_rows(tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    for root in (old, new):
        root.mkdir()
        (root / "same.txt").write_text("unchanged\n")
    (old / "t.csv").write_text("year,n\n2024,10\n2025,c\n")
    (new / "t.csv").write_text("year,n\n2024,10\n2025,20\n2026,5\n")
    (old / "gone.csv").write_text("a\n1\n")
    (new / "added.csv").write_text("a\n1\n")
    diff = release_differences(new, old).set_index("file")
    assert diff.loc["same.txt", "change"] == "unchanged"
    assert diff.loc["gone.csv", "change"] == "removed"
    assert diff.loc["added.csv", "change"] == "added"
    assert diff.loc["t.csv", "change"] == "changed"
    assert diff.loc[
        "t.csv", ["rows_previous", "rows_candidate", "rows_added", "rows_removed"]
    ].tolist() == [2, 3, 2, 1]
    assert release_differences(new, None).empty


def test_inputs_recorded_in_the_manifest_must_match_the_landing_files(tmp_path):
    from assets.approval.gate import check_manifest_inputs

    paths = _candidate(tmp_path)
    inventory = _inventory()
    check_manifest_inputs(paths, inventory)  # unchanged inputs: accepted
    with pytest.raises(ApprovalError, match="differ from the inputs recorded"):
        check_manifest_inputs(paths, _inventory(episodes_sha="c" * 64))
