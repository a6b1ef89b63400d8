"""The review-and-approve gate between a candidate release and a published one.

A run never publishes. It writes a *candidate* and its QA pack under
``OUTPUT/restricted/<release>/``; a named reviewer then approves that exact candidate, and
only an approved candidate is copied to ``OUTPUT/publications/<release>/``. This follows
the Code of Practice for Statistics (T3 Orderly release: release is a deliberate, recorded
act; Q3 Assured quality: quality assurance is signed off before release).

The approval pins two hashes, so approving one thing can never publish another:

* the SHA-256 of the candidate's ``manifest.json`` (the manifest lists every public file's
  hash, so this pins every byte of the candidate), and
* the SHA-256 of the landing inventory the candidate was built from. If an LA resubmits
  after approval, the current inputs no longer match and the old approval is refused:
  the pipeline must be re-run and the new candidate reviewed.

The pin is enforced, not only recorded: approving and publishing both check every file of
the candidate against its manifest (nothing changed, added or missing; no links, no
special files), and publishing checks the staged copy once more immediately before the
rename that makes it public. The QA pack records the manifest hash it was written for, so
a candidate beside another run's QA pack is refused. Approvals hold the output folder's
lock (``assets.common.output_lock``), so two cannot interleave.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from assets.common.atomic import atomic_directory, write_json_atomically
from assets.common.hashing import file_sha256
from assets.common.output_lock import output_lock
from assets.common.release_folders import CHECKS_FILE, INPUTS_FILE, MANIFEST_NAME, ReleasePaths
from assets.publication.manifest import verify_manifest


class ApprovalError(Exception):
    """The candidate cannot be approved or published; the message says why and what to do."""


@dataclass(frozen=True)
class Approval:
    """One reviewer's sign-off of one exact candidate built from one exact set of inputs."""

    release: str
    reviewer: str
    approved_at_utc: str
    manifest_sha256: str
    inputs_sha256: str


def check_manifest_inputs(paths: ReleasePaths, inventory: pd.DataFrame) -> None:
    """Refuse if the landing files' combined hash differs from the one the candidate's
    manifest records (a second, independent record of what the release was built from)."""
    from assets.ingest.inventory import inputs_sha256

    manifest = json.loads((paths.candidate / MANIFEST_NAME).read_text(encoding="utf-8"))
    recorded = manifest.get("inputs_sha256")
    if recorded is None:
        return
    now = inputs_sha256(inventory)
    if recorded != now:
        raise ApprovalError(
            f"the landing files (inputs {now[:12]}, {len(inventory)} files now) differ from "
            f"the inputs recorded in the candidate's manifest ({recorded[:12]}); re-run the "
            "pipeline and review the new candidate"
        )


def _require_candidate(paths: ReleasePaths) -> Path:
    manifest = paths.candidate / MANIFEST_NAME
    if not manifest.is_file():
        raise ApprovalError(
            f"no candidate release at {paths.candidate} (missing {MANIFEST_NAME}); "
            f"run `reentry run --release {paths.release}` first"
        )
    return manifest


def _require_intact(folder: Path, what: str) -> None:
    """Refuse unless every file in ``folder`` matches its manifest and nothing else is there."""
    problems = verify_manifest(folder)
    if problems:
        shown = "; ".join(problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise ApprovalError(
            f"{what} {folder} does not match its manifest: {shown}{more}; it cannot be "
            "approved or published: re-run the pipeline and review the new candidate"
        )


def _require_same_run(paths: ReleasePaths, manifest: Path) -> None:
    """Refuse a candidate whose QA pack was written for another candidate (for example one
    left beside a newer candidate by an interrupted run)."""
    record = paths.qa / INPUTS_FILE
    recorded = json.loads(record.read_text(encoding="utf-8")).get("manifest_sha256")
    if recorded != file_sha256(manifest):
        raise ApprovalError(
            f"the QA pack in {paths.qa} was not written for this candidate (it records "
            f"manifest {str(recorded)[:12]}, the candidate's is {file_sha256(manifest)[:12]}); "
            "the reviewer would be approving figures the QA pack does not describe: re-run "
            "the pipeline and review the new candidate"
        )


def _failed_checks(paths: ReleasePaths) -> list[str]:
    record = paths.qa / CHECKS_FILE
    if not record.is_file():
        return [f"QA check record {record} is missing"]
    checks = json.loads(record.read_text(encoding="utf-8"))
    return sorted(name for name, passed in checks.items() if not passed)


def record_approval(
    paths: ReleasePaths,
    *,
    reviewer: str,
    current_inputs_sha256: str,
    now: datetime | None = None,
) -> Approval:
    """Record that ``reviewer`` approved the candidate as it is now.

    Refused when there is no candidate, a QA check failed, the release is already
    published, or the landing inputs have changed since the candidate was built (the
    reviewer would be approving figures that no longer match the data).
    """
    reviewer = reviewer.strip()
    if not reviewer:
        raise ApprovalError("a reviewer name is required (--reviewer NAME)")
    with output_lock(paths.output, f"approval of release {paths.release}"):
        return _record_approval(paths, reviewer, current_inputs_sha256, now)


def _record_approval(
    paths: ReleasePaths, reviewer: str, current_inputs_sha256: str, now: datetime | None
) -> Approval:
    if paths.published.exists():
        raise ApprovalError(
            f"release {paths.release} is already published at {paths.published}; "
            "published releases are never replaced: use a new release name"
        )
    manifest = _require_candidate(paths)
    failed = _failed_checks(paths)
    if failed:
        raise ApprovalError(
            f"candidate {paths.candidate} failed QA checks ({', '.join(failed)}); "
            "it cannot be approved"
        )
    built_from = candidate_inputs_sha256(paths)
    _require_same_run(paths, manifest)
    _require_intact(paths.candidate, "candidate")
    if built_from != current_inputs_sha256:
        raise ApprovalError(
            "the landing files have changed since this candidate was built "
            f"(built from inputs {built_from[:12]}, landing now {current_inputs_sha256[:12]}); "
            "re-run the pipeline and review the new candidate"
        )
    stamp = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    approval = Approval(
        release=paths.release,
        reviewer=reviewer,
        approved_at_utc=stamp.isoformat().replace("+00:00", "Z"),
        manifest_sha256=file_sha256(manifest),
        inputs_sha256=current_inputs_sha256,
    )
    write_json_atomically(paths.approval, asdict(approval))
    return approval


def read_approval(paths: ReleasePaths) -> Approval | None:
    """The recorded approval, or None if the candidate has not been approved."""
    if not paths.approval.is_file():
        return None
    return Approval(**json.loads(paths.approval.read_text(encoding="utf-8")))


def verify_approval(paths: ReleasePaths, *, current_inputs_sha256: str) -> Approval:
    """Return the approval if it still covers this exact candidate and these inputs."""
    manifest = _require_candidate(paths)
    approval = read_approval(paths)
    if approval is None:
        raise ApprovalError(
            f"candidate {paths.release} has not been approved; a reviewer must run "
            f"`reentry approve {paths.release} --reviewer NAME` after checking the QA pack "
            f"in {paths.qa}"
        )
    if file_sha256(manifest) != approval.manifest_sha256:
        raise ApprovalError(
            f"the candidate changed after {approval.reviewer} approved it (manifest hash "
            "differs); the approval no longer applies: review and approve the new candidate"
        )
    _require_intact(paths.candidate, "candidate")
    if current_inputs_sha256 != approval.inputs_sha256:
        raise ApprovalError(
            f"the landing files changed after {approval.reviewer} approved the candidate; "
            "the approval no longer applies: re-run the pipeline and approve the new candidate"
        )
    return approval


def publish_approved(paths: ReleasePaths, *, current_inputs_sha256: str) -> Path:
    """Copy an approved candidate to ``publications/<release>/`` in one atomic step.

    Only the files the approved manifest lists are copied (never a link, never an extra
    file), and the staged copy is checked against the approved manifest immediately before
    the rename that makes it public, so a file changed at any moment up to the rename is
    caught. Never overwrites an existing published release (a correction is a new release).
    """
    with output_lock(paths.output, f"publication of release {paths.release}"):
        approval = verify_approval(paths, current_inputs_sha256=current_inputs_sha256)
        if paths.published.exists():
            raise ApprovalError(
                f"{paths.published} already exists; published releases are never replaced"
            )
        with atomic_directory(paths.published) as staging:
            listed = json.loads((paths.candidate / MANIFEST_NAME).read_text(encoding="utf-8"))
            for rel in [MANIFEST_NAME, *(str(f["path"]) for f in listed["files"])]:
                target = staging / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(paths.candidate / rel, target, follow_symlinks=False)
            _require_intact(staging, "the staged copy of candidate")
            if file_sha256(staging / MANIFEST_NAME) != approval.manifest_sha256:
                raise ApprovalError("the copied manifest is not the one approved; not published")
    return paths.published


def release_state(paths: ReleasePaths, *, current_inputs_sha256: str | None = None) -> str:
    """A one-line, plain-English state of a release, for `reentry status`."""
    if paths.published.exists():
        return f"published at {paths.published}"
    if not (paths.candidate / MANIFEST_NAME).is_file():
        return "no candidate"
    approval = read_approval(paths)
    if approval is None:
        return f"candidate awaiting approval (QA pack in {paths.qa})"
    if current_inputs_sha256 is None:
        return f"approved by {approval.reviewer} at {approval.approved_at_utc}, not yet published"
    try:
        verify_approval(paths, current_inputs_sha256=current_inputs_sha256)
    except ApprovalError as err:
        return f"approval no longer valid: {err}"
    return f"approved by {approval.reviewer} at {approval.approved_at_utc}, not yet published"


def candidate_inputs_sha256(paths: ReleasePaths) -> str:
    """The inputs hash recorded when the candidate was built."""
    record = paths.qa / INPUTS_FILE
    if not record.is_file():
        raise ApprovalError(
            f"{record} is missing: the candidate was not built by the pipeline; "
            "run `reentry run` to build it"
        )
    return json.loads(record.read_text(encoding="utf-8"))["inputs_sha256"]


def candidate_landing(paths: ReleasePaths) -> Path | None:
    """The landing folder the candidate was built from, if recorded."""
    record = paths.qa / INPUTS_FILE
    if not record.is_file():
        return None
    landing = json.loads(record.read_text(encoding="utf-8")).get("landing")
    return Path(landing) if landing else None
