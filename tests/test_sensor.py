"""The landing-folder sensor: a new or changed return triggers exactly one run."""

from __future__ import annotations

import os
from pathlib import Path

from dagster import RunRequest, SkipReason, build_sensor_context

from pipelines.resources import ReleaseSettings
from pipelines.sensors import landing_folder_sensor


def _write(landing: Path, rel: str, text: str) -> Path:
    path = landing / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _tick(landing: Path, cursor: str | None = None):
    context = build_sensor_context(
        cursor=cursor, resources={"settings": ReleaseSettings(landing=str(landing))}
    )
    return landing_folder_sensor(context)


def test_new_return_file_requests_one_run_for_its_collection_year(tmp_path):
    _write(tmp_path, "2024/201/header.csv", "CHILD,SEX\n1,1\n")
    _write(tmp_path, "2024/201/episodes.csv", "CHILD,DECOM\n1,01/05/2023\n")
    result = _tick(tmp_path)
    assert len(result.run_requests) == 1
    request = result.run_requests[0]
    assert isinstance(request, RunRequest)
    assert request.partition_key == "2024"
    assert request.tags["reentry/changed_files"] == "2"


def test_same_file_never_triggers_twice(tmp_path):
    _write(tmp_path, "2024/201/header.csv", "CHILD,SEX\n1,1\n")
    first = _tick(tmp_path)
    second = _tick(tmp_path, first.cursor)
    assert second.run_requests == []
    assert isinstance(second.skip_reason, SkipReason)
    assert "no new or changed" in second.skip_reason.skip_message


def test_touched_but_identical_file_does_not_trigger(tmp_path):
    path = _write(tmp_path, "2024/201/header.csv", "CHILD,SEX\n1,1\n")
    first = _tick(tmp_path)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    assert _tick(tmp_path, first.cursor).run_requests == []


def test_resubmitted_return_triggers_once_with_a_new_run_key(tmp_path):
    path = _write(tmp_path, "2024/201/episodes.csv", "CHILD,DECOM\n1,01/05/2023\n")
    _write(tmp_path, "2025/201/episodes.csv", "CHILD,DECOM\n1,01/05/2024\n")
    first = _tick(tmp_path)
    path.write_text("CHILD,DECOM\n1,02/05/2023\n")
    second = _tick(tmp_path, first.cursor)
    assert [r.partition_key for r in second.run_requests] == ["2024"]
    assert second.run_requests[0].run_key != first.run_requests[0].run_key
    assert _tick(tmp_path, second.cursor).run_requests == []


def test_reverting_a_file_is_a_new_change_not_a_repeat(tmp_path):
    path = _write(tmp_path, "2024/201/episodes.csv", "version A\n")
    first = _tick(tmp_path)
    path.write_text("version B\n")
    second = _tick(tmp_path, first.cursor)
    path.write_text("version A\n")
    third = _tick(tmp_path, second.cursor)
    keys = {r.run_key for r in first.run_requests + second.run_requests + third.run_requests}
    assert len(keys) == 3


def test_changes_in_several_years_request_one_run_over_their_span(tmp_path):
    _write(tmp_path, "2017/201/header.csv", "x\n")
    _write(tmp_path, "2019/202/header.csv", "y\n")
    result = _tick(tmp_path)
    assert len(result.run_requests) == 1
    tags = result.run_requests[0].tags
    assert tags["dagster/asset_partition_range_start"] == "2017"
    assert tags["dagster/asset_partition_range_end"] == "2019"


def test_malformed_folder_names_are_reported_not_fatal(tmp_path):
    _write(tmp_path, "20x5/201/header.csv", "x\n")
    _write(tmp_path, "2024/Narnia/header.csv", "x\n")
    _write(tmp_path, "stray.csv", "x\n")
    result = _tick(tmp_path)
    assert result.run_requests == []
    message = result.skip_reason.skip_message
    assert "3 problem(s)" in message
    assert "20x5/: not a collection year" in message
    assert "2024/Narnia: not an LA folder" in message
    _write(tmp_path, "2024/201/header.csv", "x\n")
    assert [r.partition_key for r in _tick(tmp_path, result.cursor).run_requests] == ["2024"]


def test_collection_year_outside_the_partitions_is_not_run(tmp_path):
    _write(tmp_path, "2009/201/header.csv", "x\n")
    assert _tick(tmp_path).run_requests == []
