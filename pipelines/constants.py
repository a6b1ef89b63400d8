"""Names shared across the Dagster wiring: asset groups, owners, asset and job names.

Stated once so the UI, the command line and the tests agree on them.
"""

from __future__ import annotations

# Asset groups, in the order data flows through them: one per stage package of assets/.
INGEST = "ingest"
HISTORY = "history"
MEASURES = "measures"
DISCLOSURE = "disclosure"
PUBLICATION = "publication"
APPROVAL = "approval"
GROUPS = [INGEST, HISTORY, MEASURES, DISCLOSURE, PUBLICATION, APPROVAL]

# Who answers for each stage (shown in the Dagster UI).
OWNERS = {
    INGEST: ["team:cla-statistics"],
    HISTORY: ["team:cla-statistics"],
    MEASURES: ["team:cla-statistics"],
    DISCLOSURE: ["team:statistical-disclosure-control"],
    PUBLICATION: ["team:cla-statistics"],
    APPROVAL: ["team:cla-statistics"],
}

# Asset names.
LANDING_INVENTORY = "landing_inventory"
VALIDATED_RETURNS = "validated_returns"
EPISODE_HISTORY = "episode_history"
REENTRY_MEASURES = "reentry_measures"
DISCLOSURE_CONTROLLED_TABLES = "disclosure_controlled_tables"
CANDIDATE_RELEASE = "candidate_release"
PUBLISHED_RELEASE = "published_release"

# Asset check names.
VALIDATION_CHECK = "returns_ledger_balances_and_some_la_accepted"
LA_ACCEPTANCE_CHECK = "every_la_return_accepted"
DISCLOSURE_AUDIT_CHECK = "disclosure_audit_passes"
PLAUSIBILITY_CHECK = "la_returns_plausible_year_on_year"

# Jobs, schedule and sensor.
BUILD_JOB = "build_candidate_release"
PUBLISH_JOB = "publish_approved_release"
ANNUAL_SCHEDULE = "annual_publication_schedule"
LANDING_SENSOR = "landing_folder_sensor"

# Stage labels the command line prints as progress, per asset.
STAGE_OF_ASSET = {
    LANDING_INVENTORY: "ingest: inventory of landing files",
    VALIDATED_RETURNS: "validation: returns checked against DfE rules",
    EPISODE_HISTORY: "history: multi-year episode history",
    REENTRY_MEASURES: "measures: returns home and re-entries",
    DISCLOSURE_CONTROLLED_TABLES: "disclosure: suppression and audit",
    CANDIDATE_RELEASE: "publication: candidate release and QA pack",
    PUBLISHED_RELEASE: "approval: published release",
}
