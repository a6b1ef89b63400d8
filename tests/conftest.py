"""Shared pytest fixtures."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class SyntheticLanding:
    """A generated landing folder and the ground truth written alongside it."""

    landing: Path
    truth: Path


@pytest.fixture(scope="session")
def small_landing(tmp_path_factory: pytest.TempPathFactory) -> SyntheticLanding:
    """Synthetic returns for collection years 2019-2025 at scale 0.02 (seed 7, no errors).

    ``landing/<year>/<la>/header.csv, episodes.csv``; ``truth/periods.csv``,
    ``returns_home.csv``, ``errors.csv``, ``summary.json`` (see docs/synthetic-data.md).
    """
    from synthetic.generator import generate

    root = tmp_path_factory.mktemp("small_landing")
    landing, truth = root / "landing", root / "truth"
    generate(landing, first_year=2019, last_year=2025, scale=0.02, seed=7, truth=truth)
    return SyntheticLanding(landing=landing, truth=truth)


@pytest.fixture(scope="module")
def dagster_home(tmp_path_factory: pytest.TempPathFactory):
    """A fresh DAGSTER_HOME for one module's in-process runs (run history kept apart from
    the user's and from other modules'), restored afterwards."""
    home = tmp_path_factory.mktemp("dagster_home")
    saved = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(home)
    yield home
    if saved is None:
        os.environ.pop("DAGSTER_HOME", None)
    else:
        os.environ["DAGSTER_HOME"] = saved
