"""The annual schedule builds the latest ended collection year, in London time."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from dagster import RunRequest, SkipReason, build_schedule_context

from pipelines.partitions import collection_year_keys, latest_ended_collection_year
from pipelines.resources import ReleaseSettings
from pipelines.schedules import annual_publication_schedule

LONDON = ZoneInfo("Europe/London")


def _evaluate(landing, when: datetime):
    context = build_schedule_context(
        scheduled_execution_time=when, resources={"settings": ReleaseSettings(landing=str(landing))}
    )
    return annual_publication_schedule(context)


def test_collection_year_ends_on_31_march():
    assert latest_ended_collection_year(date(2025, 3, 31)) == 2024
    assert latest_ended_collection_year(date(2025, 4, 1)) == 2025
    assert latest_ended_collection_year(datetime(2025, 10, 1, 6, tzinfo=LONDON)) == 2025


def test_partition_keys_are_collection_years_from_2016():
    assert collection_year_keys(2025) == [str(y) for y in range(2016, 2026)]


def test_schedule_runs_in_london_time_on_1_october():
    assert annual_publication_schedule.execution_timezone == "Europe/London"
    assert annual_publication_schedule.cron_schedule == "0 6 1 10 *"


def test_october_tick_targets_the_collection_year_ended_that_march(tmp_path):
    (tmp_path / "2024" / "201").mkdir(parents=True)
    (tmp_path / "2025" / "201").mkdir(parents=True)
    request = _evaluate(tmp_path, datetime(2025, 10, 1, 6, tzinfo=LONDON))
    assert isinstance(request, RunRequest)
    assert request.partition_key == "2025"
    assert request.run_key == "annual-2025"


def test_tick_before_returns_arrive_is_skipped_with_reason(tmp_path):
    (tmp_path / "2024" / "201").mkdir(parents=True)
    result = _evaluate(tmp_path, datetime(2025, 10, 1, 6, tzinfo=LONDON))
    assert isinstance(result, SkipReason)
    assert "no returns for collection year 2025" in result.skip_message
