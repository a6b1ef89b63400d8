"""Context measures: children ceasing to be looked after by reason, and time from a
return home to re-entry.

Ceasing follows the Explore Education Statistics (EES) convention for the children
looked after tables ("Children looked after in England including adoptions",
reference/README.md): short-break care (V3/V4) is excluded and a child who ceased more
than once in a year is counted once, at their last ceasing in the year, per LA.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from assets.common.vocabulary import TOTAL
from assets.measures.periods import collection_year_of, in_order

# REC codes from DfE SSDA903 guidance 2024-25, grouped as in the EES "reason episode
# ceased" tables. E43/E44 are the pre-2015 special guardianship codes.
REASON_GROUPS: dict[str, tuple[str, ...]] = {
    "Returned home as part of the care plan (E4A)": ("E4A",),
    "Returned home not as part of the care plan (E4B)": ("E4B",),
    "Left to live with parents or relatives without parental responsibility (E13)": ("E13",),
    "Adopted (E11, E12)": ("E11", "E12"),
    "Special guardianship order (E43 to E48)": ("E43", "E44", "E45", "E46", "E47", "E48"),
    "Residence or child arrangement order (E41)": ("E41",),
    "Aged 18 and stayed with carers (E17)": ("E17",),
    "Moved to independent living (E5, E6)": ("E5", "E6"),
}
OTHER_REASON = "Other reason"
REASON_GROUP_ORDER = [TOTAL, *REASON_GROUPS, OTHER_REASON]

TIME_BANDS = [
    "Under 1 month",
    "1 to 3 months",
    "3 to 6 months",
    "6 to 12 months",
    "12 to 24 months",
    "24 to 60 months",
]
TIME_BAND_MONTHS = [1, 3, 6, 12, 24, 60]
TIME_BAND_ORDER = [TOTAL, *TIME_BANDS]


def reason_group(rec: pd.Series) -> pd.Series:
    code_to_group = {code: group for group, codes in REASON_GROUPS.items() for code in codes}
    return rec.map(code_to_group).fillna(OTHER_REASON)


def children_ceasing(periods: pd.DataFrame) -> pd.DataFrame:
    """One row per child per LA per collection year in which a period of care ended,
    at the child's last ending in the year: la_code, child, collection_year, end_rec,
    reason_group. A period "ends" when its last episode has a REC other than X1 (an X1
    with no continuing episode is a broken chain, not a child leaving care)."""
    ended = periods[periods["end_rec"].notna() & periods["end_rec"].ne("X1")]
    ended = ended[["la_code", "child", "period_seq", "period_end", "end_rec"]].copy()
    ended["collection_year"] = collection_year_of(ended["period_end"]).astype("int64")
    ended = in_order(ended, ["la_code", "child", "collection_year", "period_seq"])
    last = ended.drop_duplicates(["la_code", "child", "collection_year"], keep="last").copy()
    last["reason_group"] = reason_group(last["end_rec"])
    return last.reset_index(drop=True)


def time_band(return_date: pd.Series, reentry_date: pd.Series) -> pd.Series:
    """Band of the time from return to re-entry in calendar months. Each band includes
    its upper boundary date, so the bands up to 6, 12, 24 and 60 months add up exactly
    to the re-entries within those windows. Null where there is no re-entry within 60
    months."""
    band = np.full(len(return_date), -1)
    for i, months in reversed(list(enumerate(TIME_BAND_MONTHS))):
        within = (reentry_date <= return_date + pd.DateOffset(months=months)).to_numpy(
            dtype=bool, na_value=False
        )
        band[within] = i
    labels = np.asarray([*TIME_BANDS, None], dtype=object)
    return pd.Series(labels[band], index=return_date.index, dtype="str")
