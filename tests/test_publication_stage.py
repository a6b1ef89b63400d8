"""Publication wiring on prepared upstream values: candidate + QA pack, the approval gate
through the Dagster publish job, and `reentry check` on the result.

Upstream assets are stood in by the publication fixtures (realistic disclosure-controlled
tables for a handful of LAs), stored where the IO manager would have put them, so this
test exercises the real candidate_release and published_release assets quickly.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest
from dagster import DagsterInstance, materialize

sys.path.insert(0, str(Path(__file__).parent))
from publication_fixtures import small_inputs  # noqa: E402

from assets.common.hashing import file_sha256  # noqa: E402
from assets.common.release_folders import ReleasePaths
from pipelines import constants as c  # noqa: E402
from pipelines.cli import main  # noqa: E402
from pipelines.definitions import build_definitions  # noqa: E402
from pipelines.resources import ReleaseSettings, RestrictedIOManager, storage_dir  # noqa: E402

RELEASE = "stage-test"


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    return _prepare(tmp_path_factory.mktemp("stage"))


def _prepare(root: Path, *, before_build=None):
    """Store the stage's inputs as the pipeline would, then materialize the candidate;
    ``before_build(landing)`` runs after the inputs were inventoried (mid-run)."""
    from assets.common.intermediates import write_intermediate
    from assets.disclosure.assets import ControlledTables
    from assets.disclosure.audit import AuditResult
    from assets.disclosure.config import DisclosureConfig
    from assets.disclosure.published import PublishedTables
    from assets.history.history import HistoryResult
    from assets.ingest.inventory import inventory_landing
    from validation.ledger import empty_ledger
    from validation.rules import FAILURE_COLUMNS

    landing = root / "landing"
    for la in ("201", "330"):
        for table in ("header", "episodes"):
            path = landing / "2025" / la / f"{table}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"{table} for {la}\n")
    inputs = small_inputs()
    failures = pd.DataFrame({col: pd.Series(dtype="str") for col in FAILURE_COLUMNS})
    failures["collection_year"] = failures["collection_year"].astype("Int64")
    failures["row"] = failures["row"].astype("Int64")
    history = HistoryResult(
        episode_history=pd.DataFrame(
            {"la_code": ["330"], "child": ["00000001"], "upn": [None], "collection_year": [2025]}
        ),
        la_year_status=inputs["la_year_status"],
        failures=failures,
        ledger=empty_ledger(),
    )
    # The real audit type: intermediates rebuild only the project's own dataclasses.
    fake = inputs["audit"]
    audit = AuditResult(
        passed=fake.passed,
        cells_checked=fake.cells_checked,
        narrowest_width=fake.narrowest_width,
        cells_by_reason=dict(fake.cells_by_reason),
        failures=pd.DataFrame(),
        components=0,
        seconds=0.0,
    )
    fixture = inputs["published"]
    published = PublishedTables(
        **{f: getattr(fixture, f) for f in ("reentry", "ceased_by_reason", "time_to_reentry")},
        suppression_log=fixture.suppression_log,
        information_loss=fixture.information_loss,
    )
    from assets.measures.tables import MeasureTables

    controlled = ControlledTables(published=published, audit=audit, config=DisclosureConfig())
    settings = ReleaseSettings(
        landing=str(landing), output=str(root / "out"), release=RELEASE, release_date="2025-11-27"
    )
    store = storage_dir(settings.output_path, RELEASE)
    for name, value in {
        c.LANDING_INVENTORY: inventory_landing(landing),
        c.EPISODE_HISTORY: history,
        c.DISCLOSURE_CONTROLLED_TABLES: controlled,
        # The candidate reads only the UPN match rates from the measures.
        c.REENTRY_MEASURES: MeasureTables(
            reentry=pd.DataFrame(),
            ceased_by_reason=pd.DataFrame(),
            time_to_reentry=pd.DataFrame(),
            index_returns=pd.DataFrame(),
            upn_matching=inputs["upn_matching"],
        ),
    }.items():
        write_intermediate(store / name / "value", value)
    if before_build is not None:
        before_build(landing)
    defs = build_definitions(settings)
    instance = DagsterInstance.ephemeral()
    assets = list(defs.assets)
    result = materialize(
        assets,
        selection=[c.CANDIDATE_RELEASE],
        instance=instance,
        resources={
            "settings": settings,
            "io_manager": RestrictedIOManager(base_dir=str(store)),
        },
        raise_on_error=before_build is None,
    )
    return settings, result, defs, instance


def test_a_return_swapped_mid_run_fails_the_run_and_seals_nothing(tmp_path):
    """The reported failure: figures from one version of a file published under the hash
    of another. The inputs are re-hashed before sealing; any change fails the run."""

    def swap(landing):
        (landing / "2025" / "330" / "episodes.csv").write_text("a different return\n")

    settings, result, _, _ = _prepare(tmp_path, before_build=swap)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    message = failure.step_failure_data.user_failure_data.description
    assert "2025/330/episodes.csv: content changed" in message
    paths = ReleasePaths(settings.output_path, RELEASE)
    assert not paths.restricted.exists()
    assert [p.name for p in paths.restricted.parent.iterdir() if p.name != ".lock"] == [".storage"]


def test_qa_pack_pins_the_candidate_manifest_and_the_settings(prepared):
    settings, _, _, _ = prepared
    paths = ReleasePaths(settings.output_path, RELEASE)
    record = json.loads((paths.qa / "inputs.json").read_text())
    assert record["manifest_sha256"] == file_sha256(paths.candidate / "manifest.json")
    assert record["settings"]["release"] == RELEASE
    assert record["settings"]["threshold_high"] == settings.threshold_high


def test_candidate_and_qa_pack_are_restricted_and_nothing_is_public(prepared):
    settings, result, _, _ = prepared
    assert result.success
    paths = ReleasePaths(settings.output_path, RELEASE)
    assert (paths.candidate / "manifest.json").is_file()
    assert (paths.candidate / "index.html").is_file()
    for name in [
        "validation/index.html",
        "ledger.csv",
        "la_year_status.csv",
        "inventory.csv",
        "disclosure/suppression_log.csv",
        "disclosure/reentry.csv",
        "disclosure_audit.json",
        "differences_from_previous_release.csv",
        "inputs.json",
        "checks.json",
    ]:
        assert (paths.qa / name).is_file(), name
    assert not (settings.output_path / "publications").exists()
    meta = result.asset_materializations_for_node(c.CANDIDATE_RELEASE)[0].metadata
    assert meta["manifest_sha256"].value == file_sha256(paths.candidate / "manifest.json")
    assert meta["next_step"].value == f"reentry approve {RELEASE} --reviewer NAME"


def test_publish_job_refuses_an_unapproved_candidate(prepared):
    settings, _, defs, instance = prepared
    job = defs.resolve_job_def(c.PUBLISH_JOB)
    result = job.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "has not been approved" in failure.step_failure_data.user_failure_data.description
    assert not ReleasePaths(settings.output_path, RELEASE).published.exists()


def test_publish_job_with_reviewer_records_approval_and_publishes(prepared):
    settings, _, defs, instance = prepared
    paths = ReleasePaths(settings.output_path, RELEASE)
    job = defs.resolve_job_def(c.PUBLISH_JOB)
    result = job.execute_in_process(
        instance=instance,
        run_config={"ops": {c.PUBLISHED_RELEASE: {"config": {"reviewer": "B. Reviewer"}}}},
    )
    assert result.success
    approval = json.loads(paths.approval.read_text())
    assert approval["reviewer"] == "B. Reviewer"
    assert approval["manifest_sha256"] == file_sha256(paths.candidate / "manifest.json")
    assert file_sha256(paths.published / "manifest.json") == approval["manifest_sha256"]
    meta = result.asset_materializations_for_node(c.PUBLISHED_RELEASE)[0].metadata
    assert meta["release_path"].value == str(paths.published)
    # A second publication of the same release is refused: never overwritten.
    again = job.execute_in_process(instance=instance, raise_on_error=False)
    assert not again.success


def test_check_reports_each_release_check(prepared, capsys):
    settings, _, _, _ = prepared
    folder = ReleasePaths(settings.output_path, RELEASE).candidate
    code = main(["check", str(folder)])
    out = capsys.readouterr().out
    assert "PASS  manifest hashes" in out
    assert "PASS  EES open data rules" in out
    assert "PASS  spreadsheet checklist" in out
    # The fixtures' simplified suppression log is not the real one, so only that the audit
    # is attempted and reported is asserted here (tests/test_pipeline_job.py runs it for real).
    assert "disclosure audit:" in out
    assert code == (0 if "FAIL" not in out else 1)
    # Tampering with a public file is caught by the manifest check and fails the command.
    csv = next(folder.glob("data/*.csv"))
    csv.write_text(csv.read_text() + "\n")
    try:
        assert main(["check", str(folder)]) == 1
        assert "FAIL  manifest hashes" in capsys.readouterr().out
    finally:
        csv.write_text(csv.read_text()[:-1])
