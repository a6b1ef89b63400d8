"""Sensor on the landing folder: a new or resubmitted return triggers a rebuild.

The cursor stores each file's size, modification time and SHA-256 from the last tick. A
tick requests one run covering the collection year(s) whose files changed in content, with
a ``run_key`` derived from those file versions, so the same file never triggers twice.
"""

import json

from dagster import (
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from assets.ingest.watch import FileState, changed_files, run_key_for, scan_landing, years_of
from pipelines.constants import LANDING_SENSOR
from pipelines.jobs import build_candidate_job
from pipelines.partitions import collection_year_partitions
from pipelines.resources import ReleaseSettings


def _load_cursor(cursor: str | None) -> dict[str, FileState]:
    if not cursor:
        return {}
    return {rel: FileState(*state) for rel, state in json.loads(cursor).items()}


def _dump_cursor(files: dict[str, FileState]) -> str:
    return json.dumps(
        {rel: [s.size, s.mtime_ns, s.sha256] for rel, s in sorted(files.items())},
        separators=(",", ":"),
    )


@sensor(
    name=LANDING_SENSOR,
    job=build_candidate_job,
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.STOPPED,
    description="Watches the landing folder; a new or changed return file (by SHA-256) "
    "requests a rebuild for its collection year. Badly named folders are reported.",
)
def landing_folder_sensor(context: SensorEvaluationContext, settings: ReleaseSettings):
    previous = _load_cursor(context.cursor)
    scan = scan_landing(settings.landing_path, previous)
    for problem in scan.problems:
        context.log.warning(f"landing folder: {problem}")
    valid_keys = set(collection_year_partitions.get_partition_keys())
    changes = changed_files(previous, scan.files)
    outside = {rel for rel in changes if rel.split("/", 1)[0] not in valid_keys}
    for rel in sorted(outside):
        context.log.warning(
            f"{rel}: collection year is outside the partitions "
            f"{min(valid_keys)}-{max(valid_keys)}; not run"
        )
    changes = {rel: v for rel, v in changes.items() if rel not in outside}
    cursor = _dump_cursor(scan.files)
    if not changes:
        reason = "no new or changed return files"
        if scan.problems:
            reason += f"; {len(scan.problems)} problem(s): " + "; ".join(scan.problems[:3])
        return SensorResult(skip_reason=SkipReason(reason), cursor=cursor)
    years = [str(y) for y in years_of(changes)]
    tags = {
        "reentry/trigger": "landing sensor",
        "reentry/changed_files": str(len(changes)),
        "reentry/collection_years": ",".join(years),
    }
    if len(years) == 1:
        request = RunRequest(run_key=run_key_for(changes), partition_key=years[0], tags=tags)
    else:
        # One run re-validates the span of changed years (single-run backfill policy), so the
        # history and release are rebuilt once rather than once per year.
        request = RunRequest(
            run_key=run_key_for(changes),
            tags={
                **tags,
                "dagster/asset_partition_range_start": years[0],
                "dagster/asset_partition_range_end": years[-1],
            },
        )
    context.log.info(
        f"{len(changes)} changed return file(s) in collection year(s) {', '.join(years)}"
    )
    return SensorResult(run_requests=[request], cursor=cursor)
