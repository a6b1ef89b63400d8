"""A release's public facts (name, title, dates, contact), taken from configuration and never
from the clock, so the same inputs and settings give the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

# A release is provisional until its figures are final (Code of Practice for Statistics, T3.9:
# provisional and revised figures are labelled as such).
STATUSES = ("provisional", "final")


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


def third_thursday_of_november(year: int) -> date:
    """Default publication date: DfE's children-looked-after statistics appear in November."""
    first = date(year, 11, 1)
    return first + timedelta(days=(3 - first.weekday()) % 7 + 14)
