"""Hand-built inputs for the methodology and disclosure tests, written once."""

from __future__ import annotations

import pandas as pd

REGION = "E12000001"


def episode(child, decom, dec=None, rne="S", ls="C2", rec=None, la="201", **extra) -> dict:
    """One EpisodeHistory row with plain defaults; tests override only what they test."""
    row = {
        "la_code": la,
        "child": child,
        "collection_year": 2020,
        "decom": pd.Timestamp(decom),
        "dec": pd.Timestamp(dec) if dec else pd.NaT,
        "rne": rne,
        "ls": ls,
        "cin": "N1",
        "place": "U1",
        "rec": rec,
        "sex": "F",
        "dob": pd.Timestamp("2012-06-01"),
        "upn": None,
    }
    row.update(extra)
    return row


def ceased_rows(la_values: dict[str, dict[str, int]], year: int = 2024) -> pd.DataFrame:
    """A ceased-by-reason table for LAs of one region: LA rows with their Total, and the
    region and England rows as exact sums. Column ``true`` holds the counts."""
    rows = []
    reasons = list(next(iter(la_values.values())))
    for la, vals in la_values.items():
        for reason in reasons:
            rows.append(("Local authority", REGION, la, reason, vals[reason]))
        rows.append(("Local authority", REGION, la, "Total", sum(vals.values())))
    for level, region in (("Regional", REGION), ("National", None)):
        for reason in [*reasons, "Total"]:
            v = sum(r[4] for r in rows if r[0] == "Local authority" and r[3] == reason)
            rows.append((level, region, None, reason, v))
    df = pd.DataFrame(
        rows, columns=["geographic_level", "region_code", "old_la_code", "reason_group", "true"]
    )
    df.insert(0, "time_period", year)
    return df
