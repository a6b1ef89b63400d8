"""The Dagster ``Definitions`` object, loaded through workspace.yaml."""

from dagster import Definitions

defs = Definitions(assets=[])
