"""Publication assets: the candidate release with its QA pack, and the published release,
which only an approval can produce (assets/approval/gate.py)."""

import dataclasses
from datetime import date

import pandas as pd
from dagster import AssetExecutionContext, Failure, MetadataValue, Output, asset

from assets.common import background
from assets.common.atomic import sealed_directory
from assets.common.hashing import file_sha256
from assets.common.output_lock import output_lock, restricted_root
from assets.common.release_folders import CANDIDATE_DIR, MANIFEST_NAME, QA_DIR, ReleasePaths
from assets.ingest.inventory import inputs_sha256
from assets.publication.candidate_record import changed_inputs
from assets.publication.qa_pack import finish_qa_pack, plausibility_of, write_qa_reports
from assets.publication.release_info import third_thursday_of_november
from pipelines.constants import CANDIDATE_RELEASE, OWNERS, PUBLICATION
from pipelines.resources import ReleaseSettings
from validation.plausibility import flagged_lines


def release_info(settings: ReleaseSettings, release: str, *, first_year: int, cut_off_year: int):
    """The release's public metadata from the settings; never from the clock."""
    from assets.publication.release_info import ReleaseInfo

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


def settings_record(settings: ReleaseSettings) -> dict:
    """The run's settings as recorded in the QA pack (what the reviewer approves under)."""
    return {k: v for k, v in sorted(settings.model_dump().items())}


def _qa_reports_then_changed_inputs(qa, *, landing, **reports) -> list[str]:
    """The QA reports that need only the run's inputs, then the landing files whose bytes
    changed since the inventory. The bytes validated must be the bytes pinned: a return
    replaced while the run read it would publish figures from one version under the hash
    of another. Every read of the landing (validation) has finished before this step."""
    write_qa_reports(qa, **reports)
    return changed_inputs(reports["inventory"], landing)


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
    reentry_measures,
) -> Output:
    from assets.publication.candidate import build_candidate
    from assets.publication.notes import contextual_notes
    from assets.publication.privacy import PrivateIdentifiers

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
    restricted_root(settings.output_path)
    with (
        output_lock(settings.output_path, f"build of candidate release {release}"),
        sealed_directory(paths.restricted) as sealed,
    ):
        # Candidate and QA pack are written side by side in one staging folder and made
        # visible together by one atomic rename, replacing the release's previous
        # candidate, QA pack and approval as a whole: they can never be from two runs.
        qa, candidate = sealed / QA_DIR, sealed / CANDIDATE_DIR
        qa.mkdir()
        # The QA reports need only this run's inputs: a second process writes them, then
        # re-hashes the landing files, while this one builds the candidate (all of it
        # single-threaded pandas work or file reading).
        with background.start(
            _qa_reports_then_changed_inputs,
            qa,
            landing=settings.landing_path,
            history=episode_history,
            controlled=controlled,
            inventory=landing_inventory,
            release=release,
            measures=reentry_measures,
        ) as reports:
            notes = contextual_notes(
                controlled.published,
                episode_history.la_year_status,
                previous_release_dir=previous,
                release=info,
            )
            manifest = build_candidate(
                candidate,
                published=controlled.published,
                notes=notes,
                la_year_status=episode_history.la_year_status,
                audit=controlled.audit,
                inventory=landing_inventory,
                release=info,
                private_identifiers=PrivateIdentifiers.from_history(
                    episode_history.episode_history
                ),
                upn_matching=reentry_measures.upn_matching,
            )
            changed = reports.wait()
        checks = finish_qa_pack(
            qa,
            history=episode_history,
            controlled=controlled,
            inventory=landing_inventory,
            candidate=candidate,
            previous=previous,
            landing=settings.landing_path,
            settings=settings_record(settings),
            upn_matching=reentry_measures.upn_matching,
        )
        if changed:
            raise Failure(
                description=f"{len(changed)} landing file(s) changed while the run was reading "
                f"them, so the figures may not match the recorded inputs: "
                f"{'; '.join(changed[:5])}. Nothing was written; run again once uploads "
                "have finished"
            )
    # The flags are a warning check on the history asset (validation/plausibility.py);
    # here only their number, beside the pack that lists them.
    implausible = flagged_lines(plausibility_of(episode_history))
    manifest_sha = file_sha256(paths.candidate / MANIFEST_NAME)
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
            "plausibility_warnings": len(implausible),
            "next_step": f"reentry approve {release} --reviewer NAME",
        },
    )
