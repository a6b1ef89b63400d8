"""The words every table shares: geography levels, the Total category, cohort spans and
follow-up windows. Stated once here; every stage imports them.

Geography levels and "Total" follow the DfE explore education statistics (EES) open-data
standards; the follow-up windows are those of DfE's 2013 re-entry data pack (6, 12, 24
and 60 months after the return home).
"""

from __future__ import annotations

NATIONAL = "National"
REGIONAL = "Regional"
LOCAL = "Local authority"
GEOGRAPHIC_LEVELS = [NATIONAL, REGIONAL, LOCAL]
LEVEL_ORDER = {level: i for i, level in enumerate(GEOGRAPHIC_LEVELS)}

ENGLAND_CODE = "E92000001"
ENGLAND_NAME = "England"

# The category (and characteristic group) that is the whole population of a table row.
TOTAL = "Total"
# ``cohort_span`` of a cohort of one collection year; pooled cohorts are "2022 to 2024".
SINGLE_YEAR = "Single year"
POOLED_YEARS = 3

FOLLOW_UP_MONTHS = [6, 12, 24, 60]
# The headline window: re-entry within 12 months of the return home.
HEADLINE_FOLLOW_UP_MONTHS = 12


def follow_up_label(months: int) -> str:
    """The published label of a follow-up window, e.g. ``12 months``."""
    return f"{months} months"
