"""The whole Dagster graph resolves, and what the UI shows comes from the contracts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dagster import AssetKey

from assets.common.contracts import EpisodeHistory, ReentryMeasures
from pipelines import constants as c
from pipelines.definitions import defs
from pipelines.schema_metadata import table_schema_from_model

ROOT = Path(__file__).resolve().parents[1]


def test_dagster_definitions_validate_passes_on_the_workspace(tmp_path):
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    dagster = Path(sys.executable).parent / "dagster"
    proc = subprocess.run(
        [str(dagster), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "All code locations passed validation" in proc.stderr + proc.stdout


def test_every_stage_is_an_asset_in_its_group_with_owner_and_description():
    graph = defs.resolve_asset_graph()
    expected = {
        c.LANDING_INVENTORY: c.INGEST,
        c.VALIDATED_RETURNS: c.INGEST,
        c.EPISODE_HISTORY: c.HISTORY,
        c.REENTRY_MEASURES: c.MEASURES,
        c.DISCLOSURE_CONTROLLED_TABLES: c.DISCLOSURE,
        c.CANDIDATE_RELEASE: c.PUBLICATION,
        c.PUBLISHED_RELEASE: c.APPROVAL,
    }
    assert {k.to_user_string() for k in graph.get_all_asset_keys()} == set(expected)
    for name, group in expected.items():
        node = graph.get(AssetKey(name))
        assert node.group_name == group, name
        assert node.owners, name
        assert len(node.description or "") > 40, name


def test_blocking_checks_guard_validation_and_disclosure():
    specs = {}
    graph = defs.resolve_asset_graph()
    for key in graph.asset_check_keys:
        specs[key.name] = graph.get_check_spec(key)
    assert specs[c.VALIDATION_CHECK].blocking
    assert specs[c.DISCLOSURE_AUDIT_CHECK].blocking
    assert not specs[c.LA_ACCEPTANCE_CHECK].blocking
    assert specs[c.DISCLOSURE_AUDIT_CHECK].asset_key == AssetKey(c.DISCLOSURE_CONTROLLED_TABLES)


def test_only_collection_year_validation_is_partitioned():
    graph = defs.resolve_asset_graph()
    partitioned = {
        k.to_user_string() for k in graph.get_all_asset_keys() if graph.get(k).partitions_def
    }
    assert partitioned == {c.VALIDATED_RETURNS}


def test_build_job_never_publishes_and_publish_job_only_publishes():
    build = defs.resolve_job_def(c.BUILD_JOB)
    publish = defs.resolve_job_def(c.PUBLISH_JOB)
    build_keys = {k.to_user_string() for k in build.asset_layer.selected_asset_keys}
    assert c.PUBLISHED_RELEASE not in build_keys
    assert c.CANDIDATE_RELEASE in build_keys
    assert {k.to_user_string() for k in publish.asset_layer.selected_asset_keys} == {
        c.PUBLISHED_RELEASE
    }


def test_column_schema_metadata_is_generated_from_the_pandera_contract():
    node = defs.resolve_asset_graph().get(AssetKey(c.EPISODE_HISTORY))
    schema = node.metadata["dagster/column_schema"]
    assert [col.name for col in schema.columns] == list(EpisodeHistory.to_schema().columns)
    upn = next(col for col in schema.columns if col.name == "upn")
    assert upn.constraints.nullable
    measures = table_schema_from_model(ReentryMeasures)
    level = next(col for col in measures.columns if col.name == "geographic_level")
    assert "National" in level.constraints.other[0]


def test_schedule_and_sensor_target_the_build_job():
    assert defs.resolve_schedule_def(c.ANNUAL_SCHEDULE).job_name == c.BUILD_JOB
    assert defs.resolve_sensor_def(c.LANDING_SENSOR).job_name == c.BUILD_JOB
