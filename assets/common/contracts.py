"""The tables that pass between pipeline stages, stated once.

Each model is the contract between the stage that writes the table and the stages that
read it; the writer validates its output against it, and the Dagster column-schema
metadata is generated from it. Raw-return schemas (per collection year) live in
``validation/schemas.py``; these are the cleaned, typed tables downstream of them.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from assets.common.vocabulary import FOLLOW_UP_MONTHS, GEOGRAPHIC_LEVELS

LA_YEAR_STATUSES = ["accepted", "accepted_with_quarantine", "rejected", "not_received"]
# An LA-year whose accepted records are used in the figures.
USABLE_STATUSES = ("accepted", "accepted_with_quarantine")


class EpisodeHistory(pa.DataFrameModel):
    """Every accepted episode of every child, one row per episode, all loaded years.

    Built by ingest/validation from the annual returns: the overlap between consecutive
    returns is de-duplicated (the later return's version wins) and quarantined children's
    records are already removed. ``child`` is unique within ``la_code`` only; children are
    linked across LAs by ``upn`` (null when absent or invalid). Header fields are repeated
    on each episode so later stages need no join. Sorted by la_code, child, decom.
    """

    la_code: Series[str] = pa.Field(str_matches=r"^\d{3}$", description="DfE old LA code")
    child: Series[str] = pa.Field(
        description="CHILD as supplied (string; leading zeros kept); a later identity of the "
        "same CHILD is CHILD#2, ... (assets/history/identity.py)"
    )
    collection_year: Series[int] = pa.Field(
        ge=2000, description="Collection year (ending 31 March) of the return this row came from"
    )
    decom: Series[pd.Timestamp] = pa.Field(description="Episode start (DECOM)")
    dec: Series[pd.Timestamp] = pa.Field(
        nullable=True, description="Episode end (DEC); NaT if open"
    )
    rne: Series[str] = pa.Field(description="Reason for new episode (RNE)")
    ls: Series[str] = pa.Field(description="Legal status (LS)")
    cin: Series[str] = pa.Field(description="Category of need (CIN), N1-N8")
    place: Series[str] = pa.Field(description="Placement type (PLACE)")
    rec: Series[str] = pa.Field(
        nullable=True, description="Reason episode ceased (REC); null if open"
    )
    sex: Series[str] = pa.Field(isin=["M", "F"], description="SEX normalised: 1/M -> M, 2/F -> F")
    dob: Series[pd.Timestamp] = pa.Field(description="Date of birth (DOB)")
    upn: Series[str] = pa.Field(nullable=True, description="Valid UPN, else null")

    class Config:
        strict = False  # ingest may carry extra columns (e.g. place_provider, source_row)
        coerce = False


class LaYearStatus(pa.DataFrameModel):
    """Whether each LA's return for each collection year was usable.

    One row for every LA that existed in the collection year (reference/las.csv) for every
    loaded year, including LAs with no return (``not_received``). Measures for an LA-year
    that is ``rejected`` or ``not_received`` are published as ``x``, never as zero.
    """

    la_code: Series[str] = pa.Field(str_matches=r"^\d{3}$")
    collection_year: Series[int] = pa.Field(ge=2000)
    status: Series[str] = pa.Field(isin=LA_YEAR_STATUSES)
    children: Series[int] = pa.Field(ge=0, description="Children in the header file")
    children_quarantined: Series[int] = pa.Field(ge=0)
    message: Series[str] = pa.Field(
        nullable=True, description="Plain-English reason if not accepted"
    )


class ReentryMeasures(pa.DataFrameModel):
    """All unsuppressed re-entry figures in one long table (not disclosure-controlled).

    One row per cohort year x cohort span x follow-up window x geography x breakdown
    group x category. Counts are null where the figure is not available (incomplete
    follow-up, or an LA-year rejected/not received); ``unavailable_reason`` says why.
    Rates are unrounded percentages from unrounded counts.
    """

    time_period: Series[int] = pa.Field(
        ge=2000, description="Cohort year Y: returns home in year ending 31 March Y"
    )
    cohort_span: Series[str] = pa.Field(
        description="'Single year' or pooled span e.g. '2021 to 2023'"
    )
    geographic_level: Series[str] = pa.Field(isin=GEOGRAPHIC_LEVELS)
    region_code: Series[str] = pa.Field(nullable=True, description="E12 code; null for National")
    old_la_code: Series[str] = pa.Field(nullable=True, description="null unless Local authority")
    follow_up_months: Series[int] = pa.Field(isin=FOLLOW_UP_MONTHS)
    characteristic_group: Series[str] = pa.Field(description="'Total' or the breakdown name")
    characteristic: Series[str] = pa.Field(description="'Total' or the category")
    returned_home: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)
    re_entered: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)
    not_re_entered: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)
    re_entered_any_la: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)
    turned_18_in_window: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)
    unavailable_reason: Series[str] = pa.Field(nullable=True)
    re_entry_rate: Series[float] = pa.Field(nullable=True, ge=0, le=100)
    re_entry_rate_lower_ci: Series[float] = pa.Field(nullable=True, ge=0, le=100)
    re_entry_rate_upper_ci: Series[float] = pa.Field(nullable=True, ge=0, le=100)

    class Config:
        strict = False  # comparison columns (funnel, neighbours, England rate) are added later
        coerce = False


# Keys and counts of the tables that disclosure control protects and publication
# writes. Measures produce them, disclosure and the audit read them by these names.
TABLE_KEYS: dict[str, list[str]] = {
    "reentry": [
        "time_period",
        "cohort_span",
        "geographic_level",
        "region_code",
        "old_la_code",
        "follow_up_months",
        "characteristic_group",
        "characteristic",
    ],
    "ceased_by_reason": [
        "time_period",
        "geographic_level",
        "region_code",
        "old_la_code",
        "reason_group",
    ],
    "time_to_reentry": ["time_period", "geographic_level", "region_code", "time_band"],
    # England and regional re-entry under the sensitivity definitions (no LA rows).
    "sensitivity": [
        "time_period",
        "geographic_level",
        "region_code",
        "follow_up_months",
        "definition",
    ],
}
TABLE_COUNTS: dict[str, list[str]] = {
    "reentry": [
        "returned_home",
        "re_entered",
        "not_re_entered",
        "re_entered_any_la",
        "turned_18_in_window",
    ],
    "ceased_by_reason": ["ceased"],
    "time_to_reentry": ["re_entered"],
    "sensitivity": ["returned_home", "re_entered"],
}

# Every key column of any published table, in first-seen order: the long cell layout of
# the disclosure stage and its suppression log.
ALL_TABLE_KEYS: list[str] = list(dict.fromkeys(k for keys in TABLE_KEYS.values() for k in keys))
