"""The Dagster ``Definitions`` object, loaded through workspace.yaml.

``build_definitions(settings)`` lets the command line run the same graph against other
folders; ``defs`` uses the defaults (the embedded synthetic demo, or the REENTRY_*
environment variables).
"""

from __future__ import annotations

from dagster import Definitions, load_asset_checks_from_modules, load_assets_from_modules

from assets.approval import assets as approval_assets
from assets.disclosure import assets as disclosure_assets
from assets.history import assets as history_assets
from assets.ingest import assets as ingest_assets
from assets.measures import assets as measures_assets
from assets.publication import assets as publication_assets
from pipelines.jobs import build_candidate_job, publish_job
from pipelines.resources import ReleaseSettings, RestrictedIOManager, storage_dir, storage_release
from pipelines.schedules import annual_publication_schedule
from pipelines.sensors import landing_folder_sensor

# One asset module per stage, in flow order (docs/architecture.md).
STAGE_ASSET_MODULES = [
    ingest_assets,
    history_assets,
    measures_assets,
    disclosure_assets,
    publication_assets,
    approval_assets,
]


def build_definitions(settings: ReleaseSettings | None = None) -> Definitions:
    """The whole graph with its jobs, schedule and sensor, bound to ``settings``."""
    settings = settings or ReleaseSettings()
    return Definitions(
        assets=load_assets_from_modules(STAGE_ASSET_MODULES),
        asset_checks=load_asset_checks_from_modules(STAGE_ASSET_MODULES),
        jobs=[build_candidate_job, publish_job],
        schedules=[annual_publication_schedule],
        sensors=[landing_folder_sensor],
        resources={
            "settings": settings,
            "io_manager": RestrictedIOManager(
                base_dir=str(storage_dir(settings.output_path, storage_release(settings)))
            ),
        },
    )


defs = build_definitions()
