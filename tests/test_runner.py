"""The in-process runner's one use of Dagster's private API, checked against the pin.

``pipelines.runner.execute_job_in_process`` calls ``core_execute_in_process`` directly so
step outputs are not kept in memory. That entry point is not public: when the Dagster pin
in pyproject.toml moves, this test fails first and names what to re-check.
"""

from __future__ import annotations

import inspect
import tomllib
from pathlib import Path

import dagster

from pipelines.runner import PINNED_DAGSTER

ROOT = Path(__file__).resolve().parents[1]


def test_installed_dagster_is_the_release_the_runner_was_written_for():
    assert dagster.__version__ == PINNED_DAGSTER, (
        f"dagster {dagster.__version__} is installed but pipelines/runner.py was written "
        f"against {PINNED_DAGSTER}: re-check execute_job_in_process against the new "
        "release's JobDefinition.execute_in_process, then update PINNED_DAGSTER"
    )


def test_pyproject_pins_the_same_release():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert f"dagster=={PINNED_DAGSTER}" in deps
    assert f"dagster-webserver=={PINNED_DAGSTER}" in deps


def test_the_private_entry_point_still_has_the_arguments_the_runner_passes():
    from dagster._core.definitions.job_base import InMemoryJob
    from dagster._core.execution.execute_in_process import (
        core_execute_in_process,
        merge_run_tags,
        type_check_and_normalize_args,
    )

    params = set(inspect.signature(core_execute_in_process).parameters)
    assert {
        "job",
        "run_config",
        "instance",
        "output_capturing_enabled",
        "raise_on_error",
        "run_tags",
        "run_id",
        "asset_selection",
    } <= params
    assert {"job_def", "partition_key", "tags", "asset_selection", "instance", "run_config"} <= set(
        inspect.signature(merge_run_tags).parameters
    )
    assert "run_config" in inspect.signature(type_check_and_normalize_args).parameters
    assert "job_def" in inspect.signature(InMemoryJob).parameters
