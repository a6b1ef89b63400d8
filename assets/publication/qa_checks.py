"""Checks a reviewer must make before approving a release, computed from the candidate's
open data files (restricted QA pack only).

- Plausibility: an LA whose number of children returning home, or ceasing care, jumps
  from one year to the next by more than ``JUMP_SHARE`` and by at least ``JUMP_MIN``
  children. Such jumps are usually a recording change or a resubmission, sometimes real.
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
from assets.common.vocabulary import LOCAL, NATIONAL, SINGLE_YEAR, TOTAL

JUMP_SHARE = 0.30
JUMP_MIN = 20
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


def year_on_year_jumps(
    series: pd.DataFrame, value: str, what: str, *, keys=("old_la_code", "la_name")
) -> pd.DataFrame:
    """LA-years whose ``value`` moved by more than JUMP_SHARE and JUMP_MIN from the year
    before. Columns: old_la_code, la_name, measure, year, previous, current, change, flag."""
    df = series.assign(_v=_counts(series[value]), _y=series["time_period"].astype(int))
    df = df.dropna(subset=["_v"]).sort_values([*keys, "_y"])
    prev = df.groupby(list(keys))[["_y", "_v"]].shift(1)
    df = df.assign(previous=prev["_v"], prev_year=prev["_y"])
    df = df[df["prev_year"] == df["_y"] - 1]
    change = (df["_v"] - df["previous"]) / df["previous"].where(df["previous"] > 0)
    flag = (change.abs() > JUMP_SHARE) & ((df["_v"] - df["previous"]).abs() >= JUMP_MIN)
    out = pd.DataFrame(
        {
            "old_la_code": df["old_la_code"],
            "la_name": df["la_name"],
            "measure": what,
            "year": df["_y"],
            "previous": df["previous"].astype("int64"),
            "current": df["_v"].astype("int64"),
            "change": (100 * change).round(0),
            "flag": flag.fillna(False),
        }
    )
    return out.reset_index(drop=True)


def plausibility(reentry_ees: pd.DataFrame, ceased_ees: pd.DataFrame) -> pd.DataFrame:
    """Year-on-year jumps by LA in children returning home and children ceasing care."""
    la = reentry_ees[
        (reentry_ees["geographic_level"] == LOCAL)
        & (reentry_ees["cohort_span"] == SINGLE_YEAR)
        & (reentry_ees["characteristic_group"] == TOTAL)
    ]
    # The number returning home is the same at every window; the shortest has most years.
    shortest = la["follow_up"].str.extract(r"^(\d+)", expand=False).astype(int).min()
    la = la[la["follow_up"] == f"{shortest} months"]
    ceased = ceased_ees[
        (ceased_ees["geographic_level"] == LOCAL) & (ceased_ees["reason_group"] == TOTAL)
    ]
    out = pd.concat(
        [
            year_on_year_jumps(la, "returned_home", "Children who returned home"),
            year_on_year_jumps(ceased, "ceased", "Children who ceased to be looked after"),
        ],
        ignore_index=True,
    )
    return out.sort_values(
        ["flag", "old_la_code", "measure", "year"], ascending=[False, True, True, True]
    ).reset_index(drop=True)


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
