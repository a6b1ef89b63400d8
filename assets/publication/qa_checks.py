"""Checks a reviewer must make before approving a release, computed from the candidate's
open data files (restricted QA pack only). Year-on-year plausibility by LA is
``validation.plausibility``'s (one rule, raised in the run and listed in the pack).

- Break in series: a national ceased-by-reason count that appears from zero, drops to
  zero, or moves by more than ``BREAK_RATIO`` times in a year (for example reason E17,
  recorded only from 2021).
- Reconciliation: the national ceased-by-reason counts against the DfE published table
  (reference/ees_la_children_who_ceased_during_the_year.csv, the calibration targets of
  the synthetic data). A difference above ``RECONCILE_SHARE`` is flagged.

Each check returns a table with a ``flag`` column, so the summary page can show what was
checked and what needs a decision.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from assets.common.reference import read_reference_csv
from assets.common.vocabulary import NATIONAL, TOTAL

BREAK_RATIO = 3.0
RECONCILE_SHARE = 0.10

# The pipeline's reason groups and the DfE published characteristics they correspond to
# (DfE "Children looked after in England including adoptions", reason episode ceased).
REASON_MAP = {
    "Returned home as part of the care plan (E4A)": [
        "Returned home to live with parents or other person with parental responsibility "
        "which was part of the care planning process"
    ],
    "Returned home not as part of the care plan (E4B)": [
        "Returned home to live with parents or other person with parental responsibility "
        "which was not part of the care planning process"
    ],
    "Aged 18 and stayed with carers (E17)": ["Aged 18 (or over) and remained with current carers"],
    "Residence or child arrangement order (E41)": [
        "Residence order or child arrangement order granted"
    ],
    "Left to live with parents or relatives without parental responsibility (E13)": [
        "Left care to live with parents, relatives or other person with no parental responsibility"
    ],
    "Adopted (E11, E12)": ["Adopted"],
    "Special guardianship order (E43 to E48)": ["Special guardianship orders"],
    "Moved to independent living (E5, E6)": [
        "Moved into independent living (with supportive accommodation)",
        "Moved into independent living (with no formalised support)",
    ],
    TOTAL: [TOTAL],
}


def _counts(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s.where(s.astype(str).str.fullmatch(r"\d+")), errors="coerce")


def breaks_in_series(ceased_ees: pd.DataFrame) -> pd.DataFrame:
    """National ceased-by-reason counts that start, stop or jump between years.
    Columns: reason_group, year, previous, current, flag."""
    nat = ceased_ees[ceased_ees["geographic_level"] == NATIONAL].assign(
        _v=lambda d: _counts(d["ceased"]), _y=lambda d: d["time_period"].astype(int)
    )
    nat = nat.dropna(subset=["_v"]).sort_values(["reason_group", "_y"])
    prev = nat.groupby("reason_group")["_v"].shift(1)
    nat = nat.assign(previous=prev).dropna(subset=["previous"])
    a, b = nat["previous"], nat["_v"]
    ratio = np.maximum(a, b) / np.minimum(a, b).where(np.minimum(a, b) > 0)
    flag = ((a == 0) != (b == 0)) | (ratio > BREAK_RATIO)
    return pd.DataFrame(
        {
            "reason_group": nat["reason_group"],
            "year": nat["_y"],
            "previous": a.astype("int64"),
            "current": b.astype("int64"),
            "flag": flag.fillna(False),
        }
    ).reset_index(drop=True)


def reconciliation(ceased_ees: pd.DataFrame) -> pd.DataFrame:
    """National ceased-by-reason counts against the DfE published table, for the years
    both cover. Columns: reason_group, year, pipeline, published, difference_pct, flag."""
    ref = read_reference_csv("ees_la_children_who_ceased_during_the_year.csv")
    ref = ref[
        (ref["geographic_level"] == NATIONAL) & (ref["cla_group"].isin(["Reason episode ceased"]))
    ].assign(number=lambda d: _counts(d["number"]))
    nat = ceased_ees[ceased_ees["geographic_level"] == NATIONAL].assign(
        pipeline=lambda d: _counts(d["ceased"])
    )
    rows = []
    for group, labels in REASON_MAP.items():
        pub = (
            ref[ref["characteristic"].isin(labels)]
            .groupby("time_period")["number"]
            .sum(min_count=1)
        )
        ours = nat[nat["reason_group"] == group].set_index("time_period")["pipeline"]
        for year in sorted(set(pub.index) & set(ours.index)):
            p, o = pub[year], ours[year]
            if pd.isna(p) or pd.isna(o):
                continue
            diff = (o - p) / p if p else np.nan
            rows.append(
                {
                    "reason_group": group,
                    "year": int(year),
                    "pipeline": int(o),
                    "published": int(p),
                    "difference_pct": round(100 * diff, 1) if not pd.isna(diff) else np.nan,
                    "flag": bool(p and abs(diff) > RECONCILE_SHARE),
                }
            )
    return pd.DataFrame(
        rows, columns=["reason_group", "year", "pipeline", "published", "difference_pct", "flag"]
    )
