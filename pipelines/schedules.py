"""The annual publication schedule.

The children-looked-after collection for the year ending 31 March closes in the summer
and the statistics are published in the autumn (DfE "Children looked after in England"
release timetable). By default the schedule builds the candidate for the latest ended
collection year at 06:00 on 1 October, London time, leaving weeks for review; set
``REENTRY_SCHEDULE_CRON`` to change the date. A value that is not a five-field cron
expression is reported (in the schedule's description and a warning) and the default is
used: one mistyped variable must not stop the whole code location from loading.
"""

import os
import re
import warnings

from dagster import RunRequest, ScheduleEvaluationContext, SkipReason, schedule

from assets.ingest.layout import landing_years
from pipelines.constants import ANNUAL_SCHEDULE
from pipelines.jobs import build_candidate_job
from pipelines.partitions import collection_year_partitions, latest_ended_collection_year
from pipelines.resources import ReleaseSettings

DEFAULT_CRON = "0 6 1 10 *"
TIMEZONE = "Europe/London"

# One cron field: *, a number or name, a range, a list, each with an optional /step.
_NAMES = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|sun|mon|tue|wed|thu|fri|sat"
_ITEM = rf"(\*|(\d+|{_NAMES})(-(\d+|{_NAMES}))?)(/\d+)?"
_FIELD = re.compile(rf"{_ITEM}(,{_ITEM})*", re.IGNORECASE)
# Allowed range of each field: minute, hour, day of month, month, day of week.
_RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]


def cron_problem(expression: str) -> str | None:
    """Why ``expression`` is not a usable five-field cron expression, or None if it is."""
    fields = expression.split()
    if len(fields) != 5:
        return f"expected 5 fields (minute hour day month weekday), got {len(fields)}"
    for text, (low, high), name in zip(
        fields, _RANGES, ["minute", "hour", "day of month", "month", "day of week"], strict=True
    ):
        if not _FIELD.fullmatch(text):
            return f"{name} field {text!r} is not cron syntax"
        numbers = [int(n) for n in re.findall(r"(?<![/\d])\d+", text)]
        if any(not low <= n <= high for n in numbers):
            return f"{name} field {text!r} is outside {low}-{high}"
    return None


def configured_cron(environ=os.environ) -> tuple[str, str | None]:
    """The cron expression to use and, if ``REENTRY_SCHEDULE_CRON`` was rejected, why."""
    value = environ.get("REENTRY_SCHEDULE_CRON", "").strip()
    if not value:
        return DEFAULT_CRON, None
    problem = cron_problem(value)
    if problem is None:
        return value, None
    return DEFAULT_CRON, (
        f"REENTRY_SCHEDULE_CRON={value!r} is not a valid cron expression ({problem}); "
        f"the default {DEFAULT_CRON!r} is used instead"
    )


CRON, CRON_PROBLEM = configured_cron()
if CRON_PROBLEM:
    warnings.warn(CRON_PROBLEM, stacklevel=1)


def scheduled_collection_year(context: ScheduleEvaluationContext) -> int:
    """The collection year a tick builds: the latest one that has ended by the tick."""
    return latest_ended_collection_year(context.scheduled_execution_time)


@schedule(
    name=ANNUAL_SCHEDULE,
    job=build_candidate_job,
    cron_schedule=CRON,
    execution_timezone=TIMEZONE,
    description="Once a year: validate the latest ended collection year and rebuild the "
    "candidate release for review." + (f" WARNING: {CRON_PROBLEM}" if CRON_PROBLEM else ""),
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
