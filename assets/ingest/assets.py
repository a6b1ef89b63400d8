"""Ingest assets: the landing inventory and each collection year read and validated, thin
wrappers round ``assets.ingest`` (finding and reading files) and ``validation`` (schemas,
DfE rules, ledger). Domain modules are imported inside the bodies so the definitions load
(and the UI starts) quickly."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    BackfillPolicy,
    Failure,
    MetadataValue,
    Output,
    asset,
)

from assets.ingest.inventory import year_inputs_sha256
from pipelines.constants import (
    INGEST,
    LA_ACCEPTANCE_CHECK,
    LANDING_INVENTORY,
    OWNERS,
    VALIDATED_RETURNS,
    VALIDATION_CHECK,
)
from pipelines.partitions import collection_year_partitions
from pipelines.resources import ReleaseSettings
from validation.assessment import (
    assess_validated_years,
    failures_for_metadata,
    markdown_table,
    rejected_la_years,
)


@dataclass(frozen=True)
class ValidatedPartition:
    """One collection year's validation result with the hash of the files it was run on,
    so a later run can tell a year validated from out-of-date returns."""

    inputs_sha256: str
    result: Any


@asset(
    name=LANDING_INVENTORY,
    group_name=INGEST,
    owners=OWNERS[INGEST],
    description="Every file in the landing folder with its size, SHA-256 and modification "
    "time, and any problem with its name or place (assets/ingest/inventory.py). The SHA-256 column "
    "pins the exact inputs of a release; approval is tied to it.",
)
def landing_inventory(context: AssetExecutionContext, settings: ReleaseSettings) -> Output:
    from assets.ingest.inventory import inventory_landing

    landing = settings.landing_path
    if not landing.is_dir():
        raise Failure(
            description=f"landing folder {landing} does not exist; generate demo data with "
            "`reentry synth --out DIR` or set the landing folder"
        )
    inventory = inventory_landing(landing)
    problems = inventory[inventory["problem"].notna()] if "problem" in inventory else inventory[:0]
    years = sorted(inventory["collection_year"].dropna().astype(int).unique().tolist())
    return Output(
        inventory,
        metadata={
            "dagster/row_count": len(inventory),
            "landing": MetadataValue.path(str(landing)),
            "collection_years": ", ".join(map(str, years)) or "(none)",
            "las": int(inventory["la_code"].nunique()),
            "bytes": int(inventory["size_bytes"].sum()),
            "files_with_problems": len(problems),
            "problems": MetadataValue.md(
                markdown_table(problems.drop(columns=["sha256"], errors="ignore"))
            ),
        },
    )


@asset(
    name=VALIDATED_RETURNS,
    group_name=INGEST,
    owners=OWNERS[INGEST],
    partitions_def=collection_year_partitions,
    # All LAs of a collection year are validated together; a multi-year run (reentry run,
    # a backfill) validates each selected year in the same run.
    backfill_policy=BackfillPolicy.single_run(),
    description="Each LA's SSDA903 return for the collection year, read and checked against "
    "the pandera schema and the DfE validation rules (validation/collection_year.py). Partition key = "
    "collection year ending 31 March. Failing records are quarantined and reported by file, "
    "row, column and rule; an LA whose return is unusable is rejected (published as x).",
    metadata={"contains_child_level_data": True},
    check_specs=[
        AssetCheckSpec(
            VALIDATION_CHECK,
            asset=VALIDATED_RETURNS,
            blocking=True,
            description="Blocks the release if the ledger does not balance (rows read != "
            "accepted + quarantined) or if no LA return in a year is usable.",
        ),
        AssetCheckSpec(
            LA_ACCEPTANCE_CHECK,
            asset=VALIDATED_RETURNS,
            blocking=False,
            description="Warns (does not block) when an LA return is rejected or missing: its "
            "figures are published as x with a note.",
        ),
    ],
)
def validated_returns(
    context: AssetExecutionContext, settings: ReleaseSettings, landing_inventory: pd.DataFrame
) -> Iterator:
    from validation.collection_year import validate_collection_years

    landing = settings.landing_path
    keys = list(context.partition_keys)
    context.log.info(f"validating collection year(s) {', '.join(keys)}")
    by_year = validate_collection_years(landing, [int(k) for k in keys], landing_inventory)
    results = {key: by_year[int(key)] for key in keys}
    assessment = assess_validated_years(list(results.values()))
    stopped_report = None
    if not assessment.passed and results:
        stopped_report = _write_stopped_report(settings, list(results.values()), landing_inventory)
        context.log.error(f"validation stopped the run; report and ledger in {stopped_report}")
    stored = {
        key: ValidatedPartition(
            inputs_sha256=year_inputs_sha256(landing_inventory, int(key)), result=result
        )
        for key, result in results.items()
    }
    tables = assessment.tables
    failures = tables["failures"]
    by_rule = tables.get("failures_by_rule", pd.DataFrame())
    yield Output(
        stored,
        metadata={
            "collection_years": ", ".join(context.partition_keys),
            "episodes_accepted": sum(len(v.episodes) for v in results.values()),
            **assessment.figures,
        },
    )
    yield AssetCheckResult(
        check_name=VALIDATION_CHECK,
        passed=assessment.passed,
        severity=AssetCheckSeverity.ERROR,
        description="; ".join(assessment.problems)
        + (f". Validation report and ledger: {stopped_report}" if stopped_report else "")
        or "ledger balances and LA returns are usable",
        metadata={
            **assessment.figures,
            "problems": MetadataValue.md(
                "\n".join(f"- {p}" for p in assessment.problems) or "(none)"
            ),
            "ledger_rows_not_balancing": MetadataValue.md(
                markdown_table(tables["ledger_imbalance"])
            ),
            "failures_by_rule": MetadataValue.md(markdown_table(by_rule, max_rows=50)),
            "first_failing_rows": MetadataValue.md(markdown_table(failures_for_metadata(failures))),
        },
    )
    rejected = rejected_la_years(tables["la_year_status"])
    yield AssetCheckResult(
        check_name=LA_ACCEPTANCE_CHECK,
        passed=rejected.empty,
        severity=AssetCheckSeverity.WARN,
        description=f"{len(rejected)} LA-year return(s) rejected or not received; their "
        "figures are published as x with a note"
        if len(rejected)
        else "every LA return was accepted",
        metadata={
            "la_years_rejected_or_missing": len(rejected),
            "la_years": MetadataValue.md(markdown_table(rejected, max_rows=50)),
        },
    )


def _write_stopped_report(settings: ReleaseSettings, years: list, inventory: pd.DataFrame):
    """Write the validation report and ledger into the release's QA folder
    (``restricted/<release>/qa/validation_stopped_run``) when the validation check stops
    the run; a later complete run replaces the whole QA folder."""
    from assets.common.atomic import atomic_directory
    from assets.common.release_folders import ReleasePaths
    from validation.report import write_stopped_run_report

    release = settings.release_name()
    folder = ReleasePaths(settings.output_path, release).qa / "validation_stopped_run"
    with atomic_directory(folder, replace=True) as staging:
        write_stopped_run_report(staging, years, inventory, release)
    return folder
