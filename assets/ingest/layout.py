"""Where returns sit in the landing folder: the one statement of the landing layout.

``LANDING/<collection_year>/<old_la_code>/<table>.csv`` (or ``.xlsx``): a 4-digit
collection year (2024 for 2023-24), the DfE 3-digit LA code, and one file per SSDA903
table. The inventory, the landing sensor and the settings' year list all read the layout
through these functions, so a change of layout is made here once.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

TABLES = ("header", "episodes")
SUFFIXES = (".csv", ".xlsx")
YEAR_FOLDER = re.compile(r"^\d{4}$")
LA_FOLDER = re.compile(r"^\d{3}$")


def is_year_folder(name: str) -> bool:
    """A collection-year folder name: four digits, e.g. 2025 for 2024-25."""
    return bool(YEAR_FOLDER.fullmatch(name))


def is_la_folder(name: str) -> bool:
    """An LA folder name: a DfE 3-digit old LA code, e.g. 201."""
    return bool(LA_FOLDER.fullmatch(name))


def table_of(name: str) -> str:
    """The SSDA903 table a file name holds (``header``, ``episodes``) or ``unknown``."""
    lower = name.lower()
    for table in TABLES:
        if lower in (f"{table}{suffix}" for suffix in SUFFIXES):
            return table
    return "unknown"


def landing_years(landing: Path) -> list[int]:
    """Collection years that have a folder in the landing area (malformed names ignored)."""
    landing = Path(landing)
    if not landing.is_dir():
        return []
    return sorted(int(p.name) for p in landing.iterdir() if p.is_dir() and is_year_folder(p.name))


# A national return is a few MB per LA; anything far larger is a mistake (or an attack) and
# must not be loaded into memory by accident. Override with REENTRY_MAX_RETURN_BYTES.
DEFAULT_MAX_BYTES = int(os.environ.get("REENTRY_MAX_RETURN_BYTES", 200 * 1024 * 1024))
