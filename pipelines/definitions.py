"""The Dagster ``Definitions`` object, loaded through workspace.yaml.

``build_definitions(settings)`` lets the command line run the same graph against other
folders; ``defs`` uses the defaults (the embedded synthetic demo, or the REENTRY_*
environment variables).
"""

from __future__ import annotations

from dagster import Definitions, load_asset_checks_from_modules, load_assets_from_modules

from pipelines import assets_disclosure, assets_measures, assets_publication, assets_validation
from pipelines.jobs import build_candidate_job, publish_job
from pipelines.resources import ReleaseSettings, RestrictedPickleIOManager, storage_dir
from pipelines.schedules import annual_publication_schedule
from pipelines.sensors import landing_folder_sensor

_STAGE_MODULES = [assets_validation, assets_measures, assets_disclosure, assets_publication]


def build_definitions(settings: ReleaseSettings | None = None) -> Definitions:
    """The whole graph with its jobs, schedule and sensor, bound to ``settings``."""
    settings = settings or ReleaseSettings()
    return Definitions(
        assets=load_assets_from_modules(_STAGE_MODULES),
        asset_checks=load_asset_checks_from_modules(_STAGE_MODULES),
        jobs=[build_candidate_job, publish_job],
        schedules=[annual_publication_schedule],
        sensors=[landing_folder_sensor],
        resources={
            "settings": settings,
            "io_manager": RestrictedPickleIOManager(
                base_dir=str(storage_dir(settings.output_path))
            ),
        },
    )


defs = build_definitions()
