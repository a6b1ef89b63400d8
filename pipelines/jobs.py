"""Jobs: build a candidate release (scheduled, sensor-triggered or on demand) and publish an
approved one. Publishing is a separate job so no run that builds figures can publish them."""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job

from pipelines.constants import BUILD_JOB, PUBLISH_JOB, PUBLISHED_RELEASE
from pipelines.partitions import collection_year_partitions

build_candidate_job = define_asset_job(
    BUILD_JOB,
    selection=AssetSelection.all() - AssetSelection.assets(PUBLISHED_RELEASE),
    partitions_def=collection_year_partitions,
    description="Validate the selected collection year(s) and rebuild the history, measures, "
    "disclosure-controlled tables and the candidate release with its QA pack. Never publishes.",
)

publish_job = define_asset_job(
    PUBLISH_JOB,
    selection=AssetSelection.assets(PUBLISHED_RELEASE),
    description="Publish the approved candidate (optionally recording the approval: set "
    "ops.published_release.config.reviewer). Refuses unapproved or stale candidates.",
)
