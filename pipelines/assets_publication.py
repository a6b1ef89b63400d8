"""Publication assets: the candidate release with its QA pack, and the published release,
which only an approval can produce (assets/approval.py)."""

import dataclasses
import json
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
from dagster import AssetExecutionContext, Config, Failure, MetadataValue, Output, asset
from pydantic import Field

from assets import background
from assets.approval import (
    ApprovalError,
    ReleasePaths,
    candidate_landing,
    check_manifest_inputs,
    file_sha256,
    inputs_sha256,
    publish_approved,
    record_approval,
    release_differences,
    write_candidate_record,
)
from assets.atomic import atomic_directory
from pipelines.checks import USABLE_STATUSES, ledger_imbalance
from pipelines.constants import CANDIDATE_RELEASE, OWNERS, PUBLICATION, PUBLISHED_RELEASE
from pipelines.resources import ReleaseSettings


def third_thursday_of_november(year: int) -> date:
    """Default publication date: DfE's children-looked-after statistics appear in November."""
    first = date(year, 11, 1)
    return first + timedelta(days=(3 - first.weekday()) % 7 + 14)


def release_info(settings: ReleaseSettings, release: str, *, first_year: int, cut_off_year: int):
    """The release's public metadata from the settings; never from the clock."""
    from assets.release import ReleaseInfo

    values = {
        "name": release,
        "title": settings.title,
        "release_date": date.fromisoformat(settings.release_date)
        if settings.release_date
        else third_thursday_of_november(cut_off_year),
        "next_update": settings.next_update or f"November {cut_off_year + 1}",
        "contact_email": settings.contact_email,
        "contact_name": settings.contact_name,
        "producer": settings.producer,
        "cut_off_year": cut_off_year,
        "first_year": first_year,
        "provisional": settings.status == "provisional",
    }
    if settings.designation:
        values["status"] = settings.designation
    accepted = {f.name for f in dataclasses.fields(ReleaseInfo)}
    return ReleaseInfo(**{k: v for k, v in values.items() if k in accepted})


def _csv(df: pd.DataFrame | None, path: Path) -> None:
    frame = pd.DataFrame() if df is None else df
    if not isinstance(frame, pd.DataFrame):
        frame = pd.DataFrame(frame)
    frame.to_csv(path, index=False, lineterminator="\n")


def write_qa_reports(
    qa: Path, *, history, controlled, inventory: pd.DataFrame, release: str
) -> None:
    """The parts of the QA pack that need only the run's inputs (not the candidate): the
    validation report, ledger, LA-year status, inventory, controlled tables and audit."""
    from validation.report import write_validation_report

    write_validation_report(qa / "validation", history, inventory, release)
    _csv(history.ledger, qa / "ledger.csv")
    _csv(history.la_year_status, qa / "la_year_status.csv")
    _csv(inventory, qa / "inventory.csv")
    from assets.disclosure import write_published
    from assets.release import audit_summary

    published, audit = controlled.published, controlled.audit
    # Controlled tables + restricted suppression log, in the layout the audit re-reads
    # (`reentry check`, and the next release's suppression against this one).
    write_published(published, qa / "disclosure")
    _csv(getattr(audit, "failures", None), qa / "disclosure_audit_failures.csv")
    (qa / "disclosure_audit.json").write_text(
        json.dumps(
            {
                **audit_summary(audit),
                "protection_width": controlled.config.protection_width,
                "threshold_low": controlled.config.threshold_low,
                "threshold_high": controlled.config.threshold_high,
                "rounding_base": controlled.config.rounding_base,
            },
            indent=2,
            sort_keys=True,
        )
        + "\n",
        encoding="utf-8",
    )


def finish_qa_pack(
    qa: Path,
    *,
    history,
    controlled,
    inventory: pd.DataFrame,
    candidate: Path,
    previous: Path | None,
    landing: Path | None = None,
) -> dict[str, bool]:
    """The parts of the QA pack that compare the built candidate: differences from the
    previous release, the QA checks and the candidate record. Returns the checks."""
    differences = release_differences(candidate, previous)
    _csv(differences, qa / "differences_from_previous_release.csv")
    status = history.la_year_status
    usable = status["status"].isin(USABLE_STATUSES).groupby(status["collection_year"]).any()
    checks = {
        "disclosure_audit": bool(controlled.audit.passed),
        "ledger_balances": ledger_imbalance(history.ledger).empty,
        "every_year_has_usable_returns": bool(usable.all()) and not usable.empty,
    }
    write_candidate_record(qa, inventory=inventory, checks=checks, landing=landing)
    return checks


def write_qa_pack(
    qa: Path,
    *,
    history,
    controlled,
    inventory: pd.DataFrame,
    release: str,
    candidate: Path,
    previous: Path | None,
    landing: Path | None = None,
) -> dict[str, bool]:
    """Write the reviewers' QA pack into ``qa`` and return the QA checks' outcomes."""
    write_qa_reports(
        qa, history=history, controlled=controlled, inventory=inventory, release=release
    )
    return finish_qa_pack(
        qa,
        history=history,
        controlled=controlled,
        inventory=inventory,
        candidate=candidate,
        previous=previous,
        landing=landing,
    )


@asset(
    name=CANDIDATE_RELEASE,
    group_name=PUBLICATION,
    owners=OWNERS[PUBLICATION],
    description="The complete public release (CSV, spreadsheet, HTML, manifest) written "
    "atomically to OUTPUT/restricted/<release>/candidate, with its QA pack beside it in "
    "OUTPUT/restricted/<release>/qa: validation report, ledger, disclosure audit, suppression "
    "log and differences from the previous release. Nothing is public until approved.",
)
def candidate_release(
    context: AssetExecutionContext,
    settings: ReleaseSettings,
    landing_inventory: pd.DataFrame,
    episode_history,
    disclosure_controlled_tables,
) -> Output:
    from assets.notes import contextual_notes
    from assets.release import PrivateIdentifiers, build_candidate

    controlled = disclosure_controlled_tables
    if not controlled.audit.passed:
        raise Failure(description="the disclosure audit failed; no candidate is built")
    release = settings.release_name()
    paths = ReleasePaths(settings.output_path, release)
    if paths.published.exists():
        raise Failure(
            description=f"release {release} is already published at {paths.published}; "
            "published releases are never replaced: set a new release name (--release)"
        )
    years = episode_history.la_year_status["collection_year"].astype(int)
    info = release_info(
        settings, release, first_year=int(years.min()), cut_off_year=int(years.max())
    )
    previous = settings.previous_release_path(release)
    notes = contextual_notes(
        controlled.published,
        episode_history.la_year_status,
        previous_release_dir=previous,
        release=info,
    )
    with atomic_directory(paths.qa, replace=True) as qa:
        # The QA reports need only this run's inputs: a second process writes them while
        # this one builds the candidate (both are single-threaded pandas work).
        with background.start(
            write_qa_reports,
            qa,
            history=episode_history,
            controlled=controlled,
            inventory=landing_inventory,
            release=release,
        ) as reports:
            manifest = build_candidate(
                paths.candidate,
                published=controlled.published,
                notes=notes,
                la_year_status=episode_history.la_year_status,
                audit=controlled.audit,
                inventory=landing_inventory,
                release=info,
                private_identifiers=PrivateIdentifiers.from_history(
                    episode_history.episode_history
                ),
            )
            reports.wait()
        checks = finish_qa_pack(
            qa,
            history=episode_history,
            controlled=controlled,
            inventory=landing_inventory,
            candidate=paths.candidate,
            previous=previous,
            landing=settings.landing_path,
        )
    manifest_sha = file_sha256(paths.candidate / "manifest.json")
    files = sorted(p for p in paths.candidate.rglob("*") if p.is_file())
    return Output(
        {
            "release": release,
            "candidate": str(paths.candidate),
            "qa": str(paths.qa),
            "manifest_sha256": manifest_sha,
            "inputs_sha256": inputs_sha256(landing_inventory),
            "manifest": manifest,
        },
        metadata={
            "release": release,
            "candidate_path": MetadataValue.path(str(paths.candidate)),
            "qa_pack_path": MetadataValue.path(str(paths.qa)),
            "manifest_sha256": manifest_sha,
            "inputs_sha256": inputs_sha256(landing_inventory),
            "files": len(files),
            "bytes": sum(p.stat().st_size for p in files),
            "previous_release": str(previous) if previous else "(none)",
            "qa_checks_passed": all(checks.values()),
            "next_step": f"reentry approve {release} --reviewer NAME",
        },
    )


class PublishConfig(Config):
    """Approve-and-publish from the UI: give a reviewer to record an approval first."""

    reviewer: str = Field(
        default="",
        description="If set, record this reviewer's approval of the current candidate before "
        "publishing; if empty, publish only a candidate that is already approved",
    )
    release: str = Field(default="", description="Release to publish; empty = configured release")
    landing: str = Field(
        default="",
        description="Landing folder to re-check; empty = the folder the candidate was built from",
    )


@asset(
    name=PUBLISHED_RELEASE,
    group_name=PUBLICATION,
    owners=OWNERS[PUBLICATION],
    deps=[CANDIDATE_RELEASE],
    description="The approved candidate copied atomically to OUTPUT/publications/<release>/. "
    "Publishing re-checks the candidate's manifest hash and that the landing files still "
    "hash to what was approved; an unapproved or stale candidate is never published, and a "
    "published release is never overwritten.",
)
def published_release(
    context: AssetExecutionContext, config: PublishConfig, settings: ReleaseSettings
) -> Output:
    from assets.landing import inventory_landing

    release = config.release or settings.release_name()
    paths = ReleasePaths(settings.output_path, release)
    landing = Path(config.landing) if config.landing else candidate_landing(paths)
    landing = landing or settings.landing_path
    if not landing.is_dir():
        raise Failure(
            description=f"landing folder {landing} does not exist; cannot re-check inputs"
        )
    inventory = inventory_landing(landing)
    current = inputs_sha256(inventory)
    try:
        check_manifest_inputs(paths, inventory)
        if config.reviewer:
            approval = record_approval(
                paths, reviewer=config.reviewer, current_inputs_sha256=current
            )
            context.log.info(f"approval recorded by {approval.reviewer} in {paths.approval}")
        target = publish_approved(paths, current_inputs_sha256=current)
    except (ApprovalError, FileExistsError) as err:
        raise Failure(description=str(err)) from err
    approval = json.loads(paths.approval.read_text(encoding="utf-8"))
    return Output(
        {"release": release, "published": str(target)},
        metadata={
            "release": release,
            "release_path": MetadataValue.path(str(target)),
            "reviewer": approval["reviewer"],
            "approved_at_utc": approval["approved_at_utc"],
            "manifest_sha256": approval["manifest_sha256"],
            "inputs_sha256": approval["inputs_sha256"],
        },
    )
