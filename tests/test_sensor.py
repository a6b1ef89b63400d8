"""The landing-folder sensor: a new or changed return triggers exactly one run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
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


def _settle(landing: Path, cursor: str | None = None):
    """Two ticks with the files unchanged between them: the second sees them settled."""
    first = _tick(landing, cursor)
    assert first.run_requests == [], "a file must settle before it requests a run"
    return _tick(landing, first.cursor)


def test_new_return_file_requests_one_run_for_its_collection_year(tmp_path):
    _write(tmp_path, "2024/201/header.csv", "CHILD,SEX\n1,1\n")
    _write(tmp_path, "2024/201/episodes.csv", "CHILD,DECOM\n1,01/05/2023\n")
    result = _settle(tmp_path)
    assert len(result.run_requests) == 1
    request = result.run_requests[0]
    assert isinstance(request, RunRequest)
    assert request.partition_key == "2024"
    assert request.tags["reentry/changed_files"] == "2"


def test_same_file_never_triggers_twice(tmp_path):
    _write(tmp_path, "2024/201/header.csv", "CHILD,SEX\n1,1\n")
    first = _settle(tmp_path)
    second = _tick(tmp_path, first.cursor)
    assert second.run_requests == []
    assert isinstance(second.skip_reason, SkipReason)
    assert "no new or changed" in second.skip_reason.skip_message


def test_touched_but_identical_file_does_not_trigger(tmp_path):
    path = _write(tmp_path, "2024/201/header.csv", "CHILD,SEX\n1,1\n")
    first = _settle(tmp_path)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    assert _settle(tmp_path, first.cursor).run_requests == []


def test_resubmitted_return_triggers_once_with_a_new_run_key(tmp_path):
    path = _write(tmp_path, "2024/201/episodes.csv", "CHILD,DECOM\n1,01/05/2023\n")
    _write(tmp_path, "2025/201/episodes.csv", "CHILD,DECOM\n1,01/05/2024\n")
    first = _settle(tmp_path)
    path.write_text("CHILD,DECOM\n1,02/05/2023\n")
    second = _settle(tmp_path, first.cursor)
    assert [r.partition_key for r in second.run_requests] == ["2024"]
    assert second.run_requests[0].run_key != first.run_requests[0].run_key
    assert _tick(tmp_path, second.cursor).run_requests == []


def test_reverting_a_file_is_a_new_change_not_a_repeat(tmp_path):
    path = _write(tmp_path, "2024/201/episodes.csv", "version A\n")
    first = _settle(tmp_path)
    path.write_text("version B\n")
    second = _settle(tmp_path, first.cursor)
    path.write_text("version A\n")
    third = _settle(tmp_path, second.cursor)
    keys = {r.run_key for r in first.run_requests + second.run_requests + third.run_requests}
    assert len(keys) == 3


def test_changes_in_several_years_request_one_run_over_their_span(tmp_path):
    _write(tmp_path, "2017/201/header.csv", "x\n")
    _write(tmp_path, "2019/202/header.csv", "y\n")
    result = _settle(tmp_path)
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
    assert [r.partition_key for r in _settle(tmp_path, result.cursor).run_requests] == ["2024"]


def test_collection_year_outside_the_partitions_is_not_run(tmp_path):
    _write(tmp_path, "2009/201/header.csv", "x\n")
    assert _settle(tmp_path).run_requests == []


def test_a_file_still_being_written_never_requests_a_run_until_it_settles(tmp_path):
    """An upload that grows at every tick (226 runs were requested for one churning
    upload) requests nothing; once it stops changing for one tick, exactly one run."""
    path = _write(tmp_path, "2024/201/episodes.csv", "CHILD,DECOM\n")
    cursor = None
    for i in range(5):
        with path.open("a") as fh:
            fh.write(f"{i},01/05/2023\n")
        result = _tick(tmp_path, cursor)
        assert result.run_requests == [], f"tick {i}: requested a run for a changing file"
        cursor = result.cursor
    settled = _tick(tmp_path, cursor)
    assert [r.partition_key for r in settled.run_requests] == ["2024"]
    assert _tick(tmp_path, settled.cursor).run_requests == []


def test_partial_upload_names_are_ignored(tmp_path):
    part = _write(tmp_path, "2024/201/episodes.csv.part", "CHILD,DECOM\n")
    cursor = None
    for i in range(3):
        part.write_text("CHILD,DECOM\n" + "1,01/05/2023\n" * (i + 1))
        result = _tick(tmp_path, cursor)
        assert result.run_requests == []
        cursor = result.cursor
    part.rename(part.with_name("episodes.csv"))
    assert [r.partition_key for r in _settle(tmp_path, cursor).run_requests] == ["2024"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_entry_is_skipped_with_a_warning_and_others_still_run(tmp_path):
    _write(tmp_path, "2024/201/header.csv", "x\n")
    locked = _write(tmp_path, "2024/202/header.csv", "y\n")
    first = _tick(tmp_path)
    locked.chmod(0)
    locked.parent.chmod(0)
    try:
        result = _tick(tmp_path, first.cursor)
    finally:
        locked.parent.chmod(0o755)
        locked.chmod(0o644)
    assert [r.partition_key for r in result.run_requests] == ["2024"]
    assert result.run_requests[0].tags["reentry/changed_files"] == "1"


def test_unreadable_entry_is_reported_not_fatal(tmp_path, monkeypatch):
    """Even as root (where permissions do not bite): a file whose hashing raises is a
    reported problem, the sensor tick completes, and the readable file still runs."""
    import assets.ingest.watch as watch

    _write(tmp_path, "2024/201/header.csv", "x\n")
    bad = _write(tmp_path, "2024/202/header.csv", "y\n")
    real = watch.file_sha256

    def failing(path):
        if Path(path) == bad:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(watch, "file_sha256", failing)
    result = _settle(tmp_path)
    assert [r.partition_key for r in result.run_requests] == ["2024"]
    assert result.run_requests[0].tags["reentry/changed_files"] == "1"


def test_cursor_written_before_settling_was_tracked_still_loads(tmp_path):
    """Upgrading must not fail the sensor: the old cursor (a flat map of files) is read."""
    import json

    _write(tmp_path, "2024/201/header.csv", "x\n")
    result = _tick(tmp_path, json.dumps({}))
    assert result.run_requests == []
