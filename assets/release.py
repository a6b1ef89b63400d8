"""The candidate release: what it is called, what goes in it, and the checks before it exists.

``build_candidate`` writes every public file (EES CSVs, spreadsheet, HTML site) into a
staging folder, validates them, scans them for child identifiers, writes ``manifest.json``
and only then renames the folder into place (``assets.atomic.atomic_directory``), so an
interrupted or failed build never leaves a partial release and never touches an earlier one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class ReleaseInfo:
    """Facts about a release that come from configuration, never from the clock."""

    name: str  # slug used in paths and file names, e.g. "2025"
    title: str
    release_date: date
    next_update: str  # e.g. "November 2027" (AF guidance: month and year is enough)
    contact_email: str
    contact_name: str
    producer: str
    cut_off_year: int  # latest collection year loaded (year ending 31 March)
    first_year: int  # first collection year loaded
    geography: str = "England"
    status: str = "Official statistics in development"
    provisional: bool = False

    @property
    def period_text(self) -> str:
        return f"years ending 31 March {self.first_year} to {self.cut_off_year}"
