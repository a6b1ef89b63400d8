"""Ingest and validation assets: thin wrappers round assets/landing.py, validation/ and
assets/history.py. Domain modules are imported inside the bodies so the definitions load
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

from assets.approval import inputs_sha256
from pipelines.checks import (
    assess_validated_years,
    failures_for_metadata,
    ledger_imbalance,
    markdown_table,
    rejected_la_years,
)
from pipelines.constants import (
    EPISODE_HISTORY,
    INGEST,
    LA_ACCEPTANCE_CHECK,
    LANDING_INVENTORY,
    OWNERS,
    VALIDATED_RETURNS,
    VALIDATION,
    VALIDATION_CHECK,
)
from pipelines.partitions import collection_year_partitions
from pipelines.resources import ReleaseSettings
from pipelines.schema_metadata import column_schema_metadata, table_schema_from_model
from validation.contracts import EpisodeHistory, LaYearStatus


@dataclass(frozen=True)
class ValidatedPartition:
    """One collection year's validation result with the hash of the files it was run on,
    so a later run can tell a year validated from out-of-date returns."""

    inputs_sha256: str
    result: Any


def year_inputs_sha256(inventory: pd.DataFrame, year: int) -> str:
    """Hash of one collection year's landing files (identity and content)."""
    years = pd.to_numeric(inventory["collection_year"], errors="coerce")
    return inputs_sha256(inventory[years == year])


@asset(
    name=LANDING_INVENTORY,
    group_name=INGEST,
    owners=OWNERS[INGEST],
    description="Every file in the landing folder with its size, SHA-256 and modification "
    "time, and any problem with its name or place (assets/landing.py). The SHA-256 column "
    "pins the exact inputs of a release; approval is tied to it.",
)
def landing_inventory(context: AssetExecutionContext, settings: ReleaseSettings) -> Output:
    from assets.landing import inventory_landing

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
    group_name=VALIDATION,
    owners=OWNERS[VALIDATION],
    partitions_def=collection_year_partitions,
    # All LAs of a collection year are validated together; a multi-year run (reentry run,
    # a backfill) validates each selected year in the same run.
    backfill_policy=BackfillPolicy.single_run(),
    description="Each LA's SSDA903 return for the collection year, read and checked against "
    "the pandera schema and the DfE validation rules (validation/run.py). Partition key = "
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
    from validation.run import validate_collection_year

    landing = settings.landing_path
    results = {}
    for key in context.partition_keys:
        context.log.info(f"validating collection year {key}")
        results[key] = validate_collection_year(landing, int(key), inventory=landing_inventory)
    assessment = assess_validated_years(list(results.values()))
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
        description="; ".join(assessment.problems) or "ledger balances and LA returns are usable",
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


@asset(
    name=EPISODE_HISTORY,
    group_name=VALIDATION,
    owners=OWNERS[VALIDATION],
    description="Every accepted episode of every child across all validated collection years "
    "(assets/history.py): overlapping returns de-duplicated, the later return winning; plus "
    "each LA-year's status. Child-level: stored under OUTPUT/restricted/.storage only.",
    metadata={
        **column_schema_metadata(EpisodeHistory),
        "la_year_status_schema": table_schema_from_model(LaYearStatus),
        "contains_child_level_data": True,
    },
)
def episode_history(
    context: AssetExecutionContext,
    settings: ReleaseSettings,
    landing_inventory: pd.DataFrame,
    validated_returns: dict,
) -> Output:
    from assets.history import build_episode_history

    loaded = sorted(int(k) for k in validated_returns)
    in_landing = sorted(landing_inventory["collection_year"].dropna().astype(int).unique().tolist())
    missing = [y for y in in_landing if y not in loaded]
    if missing:
        raise Failure(
            description=f"collection years {missing} have returns in the landing folder but have "
            "not been validated; run the whole job (`reentry run`) or materialize those "
            f"{VALIDATED_RETURNS} partitions first"
        )
    stale = [
        y
        for y in in_landing
        if validated_returns[str(y)].inputs_sha256 != year_inputs_sha256(landing_inventory, y)
    ]
    if stale:
        years_text = ",".join(map(str, stale))
        raise Failure(
            description=f"the landing files for collection year(s) {stale} changed after they were "
            f"validated; re-validate them (`reentry run --years {years_text}`) so the history is "
            "not built from out-of-date returns"
        )
    years = [validated_returns[str(y)].result for y in loaded if y in in_landing]
    if not years:
        raise Failure(description="no validated collection years to build a history from")
    # Defence in depth: the blocking check stops this in the same run, but an earlier
    # run's unusable year must not slip into a later run either.
    assessment = assess_validated_years(years)
    if not assessment.passed:
        raise Failure(
            description="validated returns failed the blocking check: "
            + "; ".join(assessment.problems)
        )
    history = build_episode_history(years)
    unbalanced = ledger_imbalance(history.ledger)
    if not unbalanced.empty:
        raise Failure(
            description=f"after cross-year checks the ledger does not balance on {len(unbalanced)} "
            "line(s): rows were lost or invented; nothing can be published",
            metadata={"lines": MetadataValue.md(markdown_table(unbalanced))},
        )
    status = history.la_year_status
    counts = status["status"].value_counts()
    return Output(
        history,
        metadata={
            "dagster/row_count": len(history.episode_history),
            "collection_years": ", ".join(map(str, sorted(y.year for y in years))),
            "children": int(
                history.episode_history[["la_code", "child"]].drop_duplicates().shape[0]
            ),
            "las_accepted": int(
                counts.get("accepted", 0) + counts.get("accepted_with_quarantine", 0)
            ),
            "las_rejected": int(counts.get("rejected", 0)),
            "las_not_received": int(counts.get("not_received", 0)),
            "history_failures": len(history.failures),
        },
    )
