"""Running the jobs in this process: the command line's engine.

``execute_job_in_process`` is the one place that uses Dagster's private API (the pinned
1.13.27's ``core_execute_in_process``), so that step outputs are not captured in memory;
``tests/test_runner.py`` fails loudly when the pin moves. Everything else here is public
Dagster API.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
from pathlib import Path

from pipelines.constants import BUILD_JOB, PUBLISH_JOB, PUBLISHED_RELEASE, STAGE_OF_ASSET

# The Dagster release whose private entry point execute_job_in_process calls.
PINNED_DAGSTER = "1.13.27"


def project_root() -> Path:
    return Path(__file__).resolve().parents[1]


def ensure_dagster_home() -> Path:
    """Use $DAGSTER_HOME, else ``<project>/dagster_home``, creating it with dagster.yaml."""
    home = Path(os.environ.get("DAGSTER_HOME") or project_root() / "dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    template = project_root() / "dagster.yaml"
    if not config.exists() and template.exists():
        shutil.copyfile(template, config)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


class _StageProgress:
    """Prints each stage as it starts and finishes, by polling the run's event log."""

    def __init__(self, instance, run_id: str, out=None):
        self.instance, self.run_id, self.out = instance, run_id, out or sys.stdout
        self._stop = threading.Event()
        self._cursor = None
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._poll()

    def _loop(self):
        while not self._stop.wait(0.5):
            self._poll()

    def _poll(self):
        # Only the events since the last poll: re-reading the whole log twice a second
        # cost seconds of the run's CPU (and the GIL) by the end of a long run.
        try:
            page = self.instance.get_records_for_run(self.run_id, cursor=self._cursor)
        except Exception:  # the run may not be stored yet
            return
        self._cursor = page.cursor
        for record in page.records:
            de = record.event_log_entry.dagster_event
            if de is None:
                continue
            step = de.step_key or ""
            label = STAGE_OF_ASSET.get(step, step)
            kind = de.event_type_value
            if kind == "STEP_START":
                print(f"  ... {label}", file=self.out, flush=True)
            elif kind == "STEP_SUCCESS":
                print(f"  ok  {label}", file=self.out, flush=True)
            elif kind == "STEP_FAILURE":
                print(f"  FAILED {label}", file=self.out, flush=True)
            elif kind == "ASSET_CHECK_EVALUATION":
                data = de.event_specific_data
                warn = data.severity.value == "WARN"
                verdict = "passed" if data.passed else ("warning" if warn else "FAILED")
                print(f"      check {data.check_name}: {verdict}", file=self.out, flush=True)
        if page.has_more:
            self._poll()


def _root_cause(error) -> str:
    """The innermost error of a chain: Dagster wraps the user's exception in its own, and
    the wrapper's message ("Error occurred while executing op ...") says nothing useful."""
    while error.cause is not None:
        error = error.cause
    return f"{error.cls_name}: {error.message.strip()}" if error.cls_name else error.message.strip()


def failure_messages(result) -> list[str]:
    """Plain messages from failed steps and failed checks of a finished run."""
    messages = []
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            data = event.step_failure_data
            if data.user_failure_data and data.user_failure_data.description:
                messages.append(f"{event.step_key}: {data.user_failure_data.description}")
            elif data.error and "DagsterAssetCheckFailedError" not in data.error.cls_name:
                messages.append(f"{event.step_key}: {_root_cause(data.error)}")
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            if not data.passed:
                kind = "warning" if data.severity.value == "WARN" else "blocking check failed"
                desc = data.description or ""
                messages.append(f"{kind}: {data.check_name}. {desc}".strip())
    return messages


def execute_job_in_process(
    job, *, instance, run_config, tags, run_id: str | None = None, raise_on_error: bool = False
):
    """``job.execute_in_process`` without keeping every step's output in memory.

    ``JobDefinition.execute_in_process`` always captures each step's output value in a
    dict for the result object (dagster 1.13: ``output_capturing_enabled=True``), so in one
    process every validated year, the history and the measures stayed alive until the run
    ended and the run's peak memory was their sum. Our IO manager stores every output
    under restricted/ and nothing reads values from the result, so they are not captured.
    Same private entry point ``execute_in_process`` uses (dagster is pinned in
    pyproject.toml)."""
    from dagster._core.definitions.job_base import InMemoryJob
    from dagster._core.execution.execute_in_process import (
        core_execute_in_process,
        merge_run_tags,
        type_check_and_normalize_args,
    )

    run_config, _ops, selection, resource_defs, _key, input_values = type_check_and_normalize_args(
        run_config=run_config
    )
    ephemeral = job.as_ephemeral_job(resource_defs=resource_defs, input_values=input_values)
    return core_execute_in_process(
        job=InMemoryJob(job_def=ephemeral),
        run_config=run_config,
        instance=instance,
        output_capturing_enabled=False,
        raise_on_error=raise_on_error,
        run_tags=merge_run_tags(
            job_def=job,
            partition_key=None,
            tags=tags,
            asset_selection=selection,
            instance=instance,
            run_config=run_config,
        ),
        run_id=run_id,
        asset_selection=frozenset(selection),
    )


def execute_build(settings, years: list[int], *, out=None):
    """Run the build job in-process against the Dagster instance; returns the result."""
    from dagster import DagsterInstance
    from dagster._core.utils import make_new_run_id

    from pipelines.definitions import build_definitions

    ensure_dagster_home()
    job = build_definitions(settings).resolve_job_def(BUILD_JOB)
    run_id = make_new_run_id()
    tags = {
        "reentry/trigger": "command line",
        "reentry/landing": str(settings.landing_path),
        "reentry/output": str(settings.output_path),
        "reentry/release": settings.release_name(),
        "dagster/asset_partition_range_start": str(years[0]),
        "dagster/asset_partition_range_end": str(years[-1]),
    }
    instance = DagsterInstance.get()
    with _StageProgress(instance, run_id, out):
        result = execute_job_in_process(
            job,
            instance=instance,
            run_id=run_id,
            tags=tags,
            run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
        )
    return result


def execute_publish(settings, release: str, reviewer: str, landing: Path | None = None):
    """Run the publish job in-process (so the approval appears in the UI's run history)."""
    from dagster import DagsterInstance

    from pipelines.definitions import build_definitions

    ensure_dagster_home()
    job = build_definitions(settings).resolve_job_def(PUBLISH_JOB)
    return execute_job_in_process(
        job,
        instance=DagsterInstance.get(),
        tags={
            "reentry/trigger": "approve",
            "reentry/release": release,
            "reentry/reviewer": reviewer,
        },
        run_config={
            "ops": {
                PUBLISHED_RELEASE: {
                    "config": {
                        "reviewer": reviewer,
                        "release": release,
                        "landing": str(landing or settings.landing_path),
                    }
                }
            },
            "loggers": {"console": {"config": {"log_level": "CRITICAL"}}},
        },
    )
