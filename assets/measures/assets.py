"""Measures asset: a thin wrapper round assets/measures/tables.py (periods, cohorts, breakdowns)."""

from dagster import AssetExecutionContext, Output, asset

from assets.common.contracts import ReentryMeasures
from pipelines.constants import MEASURES, OWNERS, REENTRY_MEASURES
from pipelines.resources import ReleaseSettings
from pipelines.schema_metadata import column_schema_metadata


@asset(
    name=REENTRY_MEASURES,
    group_name=MEASURES,
    owners=OWNERS[MEASURES],
    description="Unsuppressed re-entry figures for every cohort year, follow-up window, "
    "geography and breakdown, plus children ceasing by reason and time to re-entry "
    "(assets/measures/tables.py). Not disclosure-controlled: restricted. The child-level index "
    "returns are kept alongside for QA and never published.",
    metadata={**column_schema_metadata(ReentryMeasures), "contains_child_level_data": True},
)
def reentry_measures(
    context: AssetExecutionContext, settings: ReleaseSettings, episode_history
) -> Output:
    from assets.measures.tables import build_measures

    tables = build_measures(
        episode_history.episode_history,
        episode_history.la_year_status,
        windows=tuple(settings.windows),
        quarantined=episode_history.quarantined,
    )
    reentry = tables.reentry
    return Output(
        tables,
        metadata={
            "dagster/row_count": len(reentry),
            "cohort_years": ", ".join(map(str, sorted(reentry["time_period"].unique().tolist()))),
            "index_returns": len(tables.index_returns),
            "ceased_by_reason_rows": len(tables.ceased_by_reason),
            "time_to_reentry_rows": len(tables.time_to_reentry),
            "figures_not_available": int(reentry["re_entered"].isna().sum()),
            "children_excluded_quarantined_follow_up": int(
                tables.follow_up_exclusions["children_excluded"].sum()
            ),
        },
    )
