"""Breakdown categories for each index return (docs/methodology.md, "Breakdowns").

Every group has a fixed, ordered list of categories that covers every child, so the
categories of a group always add up to the group's Total: an 'Other legal status' category
catches the legal statuses outside the named ones, and sex and category of need are
validated code lists, so a value outside them stops the run rather than vanish. Category
order here is the order of rows in the published tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from assets.common.vocabulary import TOTAL

AGE_BANDS = ["Under 1", "1 to 4", "5 to 9", "10 to 15", "16 and over"]
# SEX U (not known or indeterminate) is valid from the 2024-25 return (DfE SSDA903 guidance
# 2024-25); earlier years report 1/2, normalised to M/F by validation.
SEXES = {"M": "Male", "F": "Female", "U": "Not known"}
PLANNED = {"E4A": "Planned (E4A)", "E4B": "Not planned (E4B)"}
# DfE SSDA903 guidance 2024-25, legal status codes. D1 (freeing order, replaced by
# placement orders in 2005) and the L, J codes fall in 'Other'.
LEGAL_STATUS = {
    "C1": "Interim care order",
    "C2": "Full care order",
    "E1": "Placement order",
    "V2": "Section 20 accommodation",
}
LEGAL_STATUS_OTHER = "Other legal status"
TIME_IN_CARE = [
    "Under 1 month",
    "1 to under 6 months",
    "6 to under 12 months",
    "1 to under 2 years",
    "2 years and over",
]
TIME_IN_CARE_MONTHS = [1, 6, 12, 24]
PREVIOUS_RETURNS = ["None", "1", "2 or more"]
# DfE SSDA903 guidance 2024-25, category of need (CIN) codes.
CATEGORY_OF_NEED = {
    "N1": "N1 Abuse or neglect",
    "N2": "N2 Child's disability",
    "N3": "N3 Parental illness or disability",
    "N4": "N4 Family in acute stress",
    "N5": "N5 Family dysfunction",
    "N6": "N6 Socially unacceptable behaviour",
    "N7": "N7 Low income",
    "N8": "N8 Absent parenting",
}

GROUPS: dict[str, list[str]] = {
    TOTAL: [TOTAL],
    "Age at return": AGE_BANDS,
    "Sex": list(SEXES.values()),
    "Planned return": list(PLANNED.values()),
    "Legal status at return": [*LEGAL_STATUS.values(), LEGAL_STATUS_OTHER],
    "Time in care before return": TIME_IN_CARE,
    "Previous returns home": PREVIOUS_RETURNS,
    "Category of need at return": list(CATEGORY_OF_NEED.values()),
}
# At LA level cohorts are small, so only these groups are produced.
LA_GROUPS = [TOTAL, "Planned return", "Previous returns home"]


def age_in_years(dob: pd.Series, on: pd.Series) -> pd.Series:
    """Completed years of age on a date (birthday on the date counts)."""
    years = on.dt.year - dob.dt.year
    before_birthday = (on.dt.month < dob.dt.month) | (
        (on.dt.month == dob.dt.month) & (on.dt.day < dob.dt.day)
    )
    return years - before_birthday.astype(int)


def age_band(age: pd.Series) -> pd.Series:
    """Age at return bands as in the DfE CLA tables (under 1, 1-4, 5-9, 10-15, 16+)."""
    codes = np.searchsorted([1, 5, 10, 16], age.to_numpy(), side="right")
    return pd.Series(np.asarray(AGE_BANDS, dtype=object)[codes], index=age.index)


def time_in_care_band(start: pd.Series, return_date: pd.Series) -> pd.Series:
    """Calendar-month bands of time from the start of the period to the return home."""
    band = np.full(len(start), len(TIME_IN_CARE_MONTHS), dtype=int)
    # Walk bands from the longest down so each child lands in the shortest band it fits.
    for i, months in reversed(list(enumerate(TIME_IN_CARE_MONTHS))):
        band[(return_date < start + pd.DateOffset(months=months)).to_numpy()] = i
    return pd.Series(np.asarray(TIME_IN_CARE, dtype=object)[band], index=start.index)


def previous_returns_band(previous: pd.Series) -> pd.Series:
    codes = np.minimum(previous.to_numpy(), 2)
    return pd.Series(np.asarray(PREVIOUS_RETURNS, dtype=object)[codes], index=previous.index)


def characteristics(index: pd.DataFrame) -> pd.DataFrame:
    """One column per breakdown group (named as the group) giving each child's category."""
    age = age_in_years(index["dob"], index["return_date"])
    out = pd.DataFrame(index=index.index)
    out[TOTAL] = TOTAL
    out["Age at return"] = age_band(age)
    out["Sex"] = index["sex"].map(SEXES)
    out["Planned return"] = index["rec"].map(PLANNED)
    out["Legal status at return"] = (
        index["ls_at_return"].map(LEGAL_STATUS).fillna(LEGAL_STATUS_OTHER)
    )
    out["Time in care before return"] = time_in_care_band(
        index["period_start"], index["return_date"]
    )
    out["Previous returns home"] = previous_returns_band(index["previous_returns"])
    out["Category of need at return"] = index["cin_at_return"].map(CATEGORY_OF_NEED)
    for group, categories in GROUPS.items():
        unknown = ~out[group].isin(categories)  # includes unmapped (NaN) values
        if unknown.any():  # a code outside the list would break "categories sum to Total"
            raise ValueError(
                f"breakdown '{group}': {int(unknown.sum())} index returns have a value "
                "outside the group's categories (sex must be M/F/U, category of need N1-N8); "
                "the validated episode history should not contain these"
            )
    return out


def category_order() -> pd.DataFrame:
    """characteristic_group, characteristic, group_order, category_order: the row order."""
    rows = [
        (group, category, g, c)
        for g, (group, categories) in enumerate(GROUPS.items())
        for c, category in enumerate(categories)
    ]
    return pd.DataFrame(
        rows, columns=["characteristic_group", "characteristic", "group_order", "category_order"]
    )
