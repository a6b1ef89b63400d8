"""The annual publication schedule.

The children-looked-after collection for the year ending 31 March closes in the summer
and the statistics are published in the autumn (DfE "Children looked after in England"
release timetable). By default the schedule builds the candidate for the latest ended
collection year at 06:00 on 1 October, London time, leaving weeks for review; set
``REENTRY_SCHEDULE_CRON`` to change the date.
"""

import os

from dagster import RunRequest, ScheduleEvaluationContext, SkipReason, schedule

from assets.ingest.layout import landing_years
from pipelines.constants import ANNUAL_SCHEDULE
from pipelines.jobs import build_candidate_job
from pipelines.partitions import collection_year_partitions, latest_ended_collection_year
from pipelines.resources import ReleaseSettings

DEFAULT_CRON = "0 6 1 10 *"
TIMEZONE = "Europe/London"


def scheduled_collection_year(context: ScheduleEvaluationContext) -> int:
    """The collection year a tick builds: the latest one that has ended by the tick."""
    return latest_ended_collection_year(context.scheduled_execution_time)


@schedule(
    name=ANNUAL_SCHEDULE,
    job=build_candidate_job,
    cron_schedule=os.environ.get("REENTRY_SCHEDULE_CRON", DEFAULT_CRON),
    execution_timezone=TIMEZONE,
    description="Once a year: validate the latest ended collection year and rebuild the "
    "candidate release for review.",
)
def annual_publication_schedule(context: ScheduleEvaluationContext, settings: ReleaseSettings):
    year = scheduled_collection_year(context)
    key = str(year)
    if key not in collection_year_partitions.get_partition_keys():
        return SkipReason(f"collection year {year} is not a partition yet")
    if year not in landing_years(settings.landing_path):
        return SkipReason(
            f"no returns for collection year {year} in {settings.landing_path}/{year}/ yet"
        )
    return RunRequest(
        run_key=f"annual-{key}",
        partition_key=key,
        tags={"reentry/trigger": "annual schedule", "reentry/collection_year": key},
    )
