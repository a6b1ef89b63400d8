"""History asset: every child's episodes across all validated collection years, a thin
wrapper round ``assets.history.history``.
"""

from collections.abc import Iterator

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    Failure,
    MetadataValue,
    Output,
    asset,
)

from assets.common.contracts import EpisodeHistory, LaYearStatus
from assets.ingest.inventory import year_inputs_sha256
from pipelines.constants import (
    EPISODE_HISTORY,
    HISTORY,
    OWNERS,
    PLAUSIBILITY_CHECK,
    VALIDATED_RETURNS,
)
from pipelines.resources import ReleaseSettings
from pipelines.schema_metadata import column_schema_metadata, table_schema_from_model
from validation.assessment import (
    assess_validated_years,
    ledger_imbalance,
    markdown_table,
)


@asset(
    name=EPISODE_HISTORY,
    group_name=HISTORY,
    owners=OWNERS[HISTORY],
    description="Every accepted episode of every child across all validated collection years "
    "(assets/history/history.py): overlapping returns de-duplicated, the later return winning; plus "
    "each LA-year's status. Child-level: stored under OUTPUT/restricted/.storage only.",
    metadata={
        **column_schema_metadata(EpisodeHistory),
        "la_year_status_schema": table_schema_from_model(LaYearStatus),
        "contains_child_level_data": True,
    },
    check_specs=[
        AssetCheckSpec(
            PLAUSIBILITY_CHECK,
            asset=EPISODE_HISTORY,
            blocking=False,
            description="Warns (does not block) when an LA's children or returns home change "
            "by more than 30% and at least 20 from its previous year "
            "(validation/plausibility.py); the QA summary lists the same flags.",
        )
    ],
)
def episode_history(
    context: AssetExecutionContext,
    settings: ReleaseSettings,
    landing_inventory: pd.DataFrame,
    validated_returns: dict,
) -> Iterator:
    from assets.history.history import build_episode_history
    from validation.plausibility import flagged_lines

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
    plausibility = history.plausibility
    implausible = flagged_lines(plausibility)
    if implausible:  # one event, not one per LA-year (each event is a database write)
        context.log.warning(
            f"{len(implausible)} LA-year count(s) changed implausibly from the year before "
            "(qa/plausibility.csv):\n" + "\n".join(implausible)
        )
    yield Output(
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
    yield AssetCheckResult(
        check_name=PLAUSIBILITY_CHECK,
        passed=not implausible,
        severity=AssetCheckSeverity.WARN,
        description=f"{len(implausible)} LA-year count(s) changed implausibly from the year "
        "before; ask the LA before approving (qa/summary.html)"
        if implausible
        else "no LA-year changed implausibly from the year before",
        metadata={
            "la_years_flagged": len(implausible),
            "flagged": MetadataValue.md(
                markdown_table(plausibility[plausibility["flagged"]], max_rows=50)
            ),
        },
    )
