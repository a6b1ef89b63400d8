"""Work in a second process: results and errors come back exactly as inline, large
results through the memory file, and the years validated in two processes are the years
validated one by one."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from assets.common import background
from validation.collection_year import validate_collection_year, validate_collection_years


def _frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "child": pd.array([f"C{i:07d}" for i in range(rows)], dtype="str"),
            "value": rng.random(rows),
            "count": pd.array(rng.integers(0, 9, rows), dtype="Int64"),
        }
    )


def _child_pid(_: int) -> int:
    return os.getpid()


def _fails() -> None:
    raise ValueError("bad return in LA 202")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_large_result_comes_back_whole_from_the_child():
    frame = _frame(300_000)  # about 10 MB pickled: travels through the memory file
    with background.start(lambda: {"frame": frame, "n": len(frame)}) as task:
        got = task.wait()
    pd.testing.assert_frame_equal(got["frame"], frame)
    assert got["n"] == 300_000


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_work_runs_in_another_process_and_none_is_returned_as_none():
    with background.start(_child_pid, 1) as task:
        assert task.wait() != os.getpid()
    with background.start(lambda: None) as task:
        assert task.wait() is None


def test_a_childs_exception_is_raised_in_the_caller():
    with background.start(_fails) as task, pytest.raises(ValueError, match="LA 202"):
        task.wait()


def test_serial_setting_runs_inline(monkeypatch):
    monkeypatch.setenv("REENTRY_SERIAL", "1")
    with background.start(_child_pid, 1) as task:
        assert task.wait() == os.getpid()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_no_more_workers_than_cores_run_at_once():
    cores = os.cpu_count() or 1
    tasks = [background.start(_child_pid, i) for i in range(cores + 1)]
    try:
        pids = [t.wait() for t in tasks]
    finally:
        for t in tasks:
            t.cancel()
    assert pids[-1] == os.getpid()  # every worker was busy: the last ran inline
    assert os.getpid() not in pids[:cores]


def test_years_validated_in_two_processes_equal_years_validated_one_by_one(small_landing):
    years = [2023, 2021, 2024]  # the order asked for is the order returned
    together = validate_collection_years(small_landing.landing, years)
    assert list(together) == years
    for year in years:
        alone = validate_collection_year(small_landing.landing, year)
        for name in ("header", "episodes", "failures", "ledger", "la_year_status"):
            got, want = getattr(together[year], name), getattr(alone, name)
            pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_years_are_validated_in_one_process_when_memory_is_short(small_landing, monkeypatch):
    """Ten times the national volume needs 12 GB in one process: no second process is
    started where twice the need would not fit."""
    import validation.collection_year as collection_year

    def no_second_process(*_a, **_k):
        raise AssertionError("a second process was started")

    monkeypatch.setattr(collection_year.background, "memory_to_spare", lambda needed: False)
    monkeypatch.setattr(collection_year.background, "start", no_second_process)
    years = validate_collection_years(small_landing.landing, [2024, 2025])
    assert list(years) == [2024, 2025]


def test_memory_to_spare_reads_what_the_system_has_available():
    assert background.memory_to_spare(1)
    assert not background.memory_to_spare(1 << 60)
