"""Sensor on the landing folder: a new or resubmitted return triggers a rebuild.

The cursor stores each settled file's size, modification time and SHA-256 from the last
tick, and the size and modification time of files still changing. A file is settled when
both are unchanged across two ticks, so a run is never requested for an upload still being
written. A tick requests one run covering the collection year(s) whose files changed in
content, with a ``run_key`` derived from those file versions, so the same file never
triggers twice. Entries that cannot be read are skipped with a warning.
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


def _load_cursor(cursor: str | None) -> tuple[dict[str, FileState], dict[str, tuple[int, int]]]:
    """Settled files and files still changing; a cursor from before settling was tracked
    (a flat map of files) has none still changing."""
    if not cursor:
        return {}, {}
    data = json.loads(cursor)
    if "files" not in data or not isinstance(data.get("files"), dict):
        data = {"files": data, "unsettled": {}}
    files = {rel: FileState(*state) for rel, state in data["files"].items()}
    unsettled = {rel: (int(a), int(b)) for rel, (a, b) in data.get("unsettled", {}).items()}
    return files, unsettled


def _dump_cursor(files: dict[str, FileState], unsettled: dict[str, tuple[int, int]]) -> str:
    return json.dumps(
        {
            "files": {rel: [s.size, s.mtime_ns, s.sha256] for rel, s in sorted(files.items())},
            "unsettled": {rel: list(v) for rel, v in sorted(unsettled.items())},
        },
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
    previous, unsettled = _load_cursor(context.cursor)
    scan = scan_landing(settings.landing_path, previous, unsettled)
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
    cursor = _dump_cursor(scan.files, scan.unsettled)
    if scan.unsettled:
        context.log.info(
            f"{len(scan.unsettled)} file(s) still changing; waiting for them to settle: "
            + ", ".join(sorted(scan.unsettled)[:5])
        )
    if not changes:
        reason = "no new or changed return files"
        if scan.unsettled:
            reason += f"; {len(scan.unsettled)} file(s) still being written"
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
