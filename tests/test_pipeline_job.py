"""The whole Dagster job on tiny synthetic data, run the way `reentry run` runs it.

One module-scoped build (scale 0.01, collection years 2023-2024) is shared by the tests:
it must produce a candidate and QA pack under restricted/, publish nothing, keep child-level
intermediates under restricted/.storage, and only an approval may publish it.

The build takes about a minute on two cores, most of it secondary suppression (its cost
grows with LAs x breakdowns x windows, not with children); it runs in CI.
"""

from __future__ import annotations

import json
import shutil

import pytest
from dagster import DagsterInstance

from assets.approval.gate import record_approval
from assets.common.hashing import file_sha256
from assets.common.release_folders import ReleasePaths
from pipelines import constants as c
from pipelines.resources import ReleaseSettings
from pipelines.runner import execute_build, execute_publish

RELEASE = "test-release"


@pytest.fixture(scope="module")
def built(tmp_path_factory, dagster_home):
    from synthetic.generator import generate

    root = tmp_path_factory.mktemp("pipeline")
    landing = root / "landing"
    generate(out=landing, first_year=2023, last_year=2024, scale=0.01, seed=3)
    settings = ReleaseSettings(landing=str(landing), output=str(root / "out"), release=RELEASE)
    result = execute_build(settings, [2023, 2024])
    return settings, result


def _materializations(result) -> dict[str, dict]:
    return {
        e.asset_key.to_user_string(): e.materialization.metadata
        for e in result.get_asset_materialization_events()
    } | {
        e.event_specific_data.materialization.asset_key.to_user_string(): (
            e.event_specific_data.materialization.metadata
        )
        for e in result.all_events
        if e.event_type_value == "ASSET_MATERIALIZATION"
    }


def _check_results(result) -> dict[str, bool]:
    return {
        e.event_specific_data.check_name: (e.event_specific_data.passed)
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }


def test_full_job_builds_candidate_and_qa_pack_and_publishes_nothing(built):
    settings, result = built
    assert result.success, [e.message for e in result.all_events if "FAILURE" in e.event_type_value]
    paths = ReleasePaths(settings.output_path, RELEASE)
    assert (paths.candidate / "manifest.json").is_file()
    for name in [
        "ledger.csv",
        "la_year_status.csv",
        "inventory.csv",
        "disclosure/suppression_log.csv",
        "disclosure/information_loss.csv",
        "disclosure_audit.json",
        "differences_from_previous_release.csv",
        "inputs.json",
        "checks.json",
    ]:
        assert (paths.qa / name).is_file(), name
    assert any((paths.qa / "validation").iterdir())
    assert json.loads((paths.qa / "checks.json").read_text()) == {
        "disclosure_audit": True,
        "every_year_has_usable_returns": True,
        "ledger_balances": True,
    }
    assert not (settings.output_path / "publications").exists()
    checks = _check_results(result)
    assert checks[c.VALIDATION_CHECK] is True
    assert checks[c.DISCLOSURE_AUDIT_CHECK] is True


def test_child_level_intermediates_are_stored_under_restricted(built):
    settings, _ = built
    storage = settings.output_path / "restricted" / ".storage" / settings.release_name()
    stored = {p.parent.relative_to(storage).as_posix() for p in storage.rglob("value.json")}
    assert {
        f"{c.VALIDATED_RETURNS}/2023",
        f"{c.VALIDATED_RETURNS}/2024",
        f"{c.EPISODE_HISTORY}/value",
        f"{c.REENTRY_MEASURES}/value",
    } <= stored
    assert not list(storage.rglob("*.pickle")), "intermediates must not be pickles"
    assert (settings.output_path / "restricted").stat().st_mode & 0o777 == 0o700


def test_materializations_carry_counts_for_reviewers(built):
    _, result = built
    meta = _materializations(result)
    history = meta[c.EPISODE_HISTORY]
    assert history["dagster/row_count"].value > 0
    assert history["las_accepted"].value > 100  # ~150 LAs each year at any scale
    assert history["collection_years"].value == "2023, 2024"
    assert meta[c.DISCLOSURE_CONTROLLED_TABLES]["audit_passed"].value is True
    assert meta[c.CANDIDATE_RELEASE]["release"].value == RELEASE


def test_run_is_recorded_in_the_dagster_instance(built, dagster_home):
    _, result = built
    with DagsterInstance.get() as instance:
        run = instance.get_run_by_id(result.run_id)
        assert run is not None and run.job_name == c.BUILD_JOB
        assert run.tags["dagster/asset_partition_range_start"] == "2023"
        assert run.tags["reentry/release"] == RELEASE


def test_only_a_current_approval_publishes_the_candidate(built):
    settings, _ = built
    paths = ReleasePaths(settings.output_path, RELEASE)

    unapproved = execute_publish(settings, RELEASE, reviewer="")
    assert not unapproved.success
    assert not paths.published.exists()

    from assets.ingest.inventory import inputs_sha256, inventory_landing

    current = inputs_sha256(inventory_landing(settings.landing_path))
    record_approval(paths, reviewer="A. Reviewer", current_inputs_sha256=current)

    # An LA resubmits after approval: the old approval must not publish.
    episodes = next(settings.landing_path.glob("2024/*/episodes.csv"))
    original = episodes.read_bytes()
    shutil.copyfile(episodes, episodes.with_suffix(".bak"))
    episodes.write_bytes(original + original.splitlines(keepends=True)[-1])
    try:
        stale = execute_publish(settings, RELEASE, reviewer="")
        assert not stale.success
        assert not paths.published.exists()
    finally:
        episodes.write_bytes(original)
        episodes.with_suffix(".bak").unlink()

    published = execute_publish(settings, RELEASE, reviewer="")
    assert published.success
    assert file_sha256(paths.published / "manifest.json") == file_sha256(
        paths.candidate / "manifest.json"
    )
    assert not any(p.name == "approval.json" for p in paths.published.rglob("*"))


def test_failing_validation_check_stops_the_run_before_any_candidate(tmp_path, dagster_home):
    landing = tmp_path / "landing"
    (landing / "2024" / "201").mkdir(parents=True)
    (landing / "2024" / "201" / "header.csv").write_text("not,an,ssda903,header\n")
    settings = ReleaseSettings(landing=str(landing), output=str(tmp_path / "out"), release="bad")
    result = execute_build(settings, [2024])
    assert not result.success
    assert _check_results(result)[c.VALIDATION_CHECK] is False
    executed = {e.step_key for e in result.all_events if e.event_type_value == "STEP_START"}
    assert c.EPISODE_HISTORY not in executed
    assert c.CANDIDATE_RELEASE not in executed
    assert not (tmp_path / "out" / "restricted" / "bad" / "candidate").exists()
    assert not (tmp_path / "out" / "publications").exists()


def test_history_refuses_a_year_whose_returns_changed_after_validation(tmp_path):
    from dagster import materialize

    from pipelines.definitions import build_definitions
    from pipelines.resources import RestrictedIOManager, storage_dir
    from synthetic.generator import generate

    landing = tmp_path / "landing"
    generate(out=landing, first_year=2024, last_year=2024, scale=0.01, seed=5)
    settings = ReleaseSettings(landing=str(landing), output=str(tmp_path / "out"))
    assets = list(build_definitions(settings).assets)
    resources = {
        "settings": settings,
        "io_manager": RestrictedIOManager(
            base_dir=str(storage_dir(settings.output_path, settings.release_name()))
        ),
    }
    instance = DagsterInstance.ephemeral()
    first = materialize(
        assets,
        selection=[c.LANDING_INVENTORY, c.VALIDATED_RETURNS],
        partition_key="2024",
        resources=resources,
        instance=instance,
    )
    assert first.success
    # An LA resubmits; only the inventory and history are rebuilt, not the validation.
    episodes = next(landing.glob("2024/*/episodes.csv"))
    episodes.write_bytes(episodes.read_bytes() + b"\n")
    second = materialize(
        assets,
        selection=[c.LANDING_INVENTORY, c.EPISODE_HISTORY],
        resources=resources,
        instance=instance,
        raise_on_error=False,
    )
    assert not second.success
    failure = next(e for e in second.all_events if e.event_type_value == "STEP_FAILURE")
    assert failure.step_key == c.EPISODE_HISTORY
    description = failure.step_failure_data.user_failure_data.description
    assert "collection year(s) [2024] changed after they were validated" in description
    assert "reentry run --years 2024" in description
