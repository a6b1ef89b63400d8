"""The ledger: every row read from a return is accounted for, per LA-year and file.

rows_read = rows_accepted + rows_quarantined + rows_rejected, where rows_rejected are
the rows of a file whose LA-year was rejected at file level. Quarantined rows are counted
by reason (the child's first child-level rule, so each row is counted once). A ledger
that does not balance means the pipeline lost or invented rows, and blocks publication.
"""

from __future__ import annotations

import pandas as pd

LEDGER_COLUMNS = [
    "collection_year",
    "la_code",
    "table",
    "file",
    "rows_read",
    "rows_accepted",
    "rows_quarantined",
    "rows_rejected",
    "blank_rows_skipped",
    "quarantined_by_reason",
]
_COUNTS = ["rows_read", "rows_accepted", "rows_quarantined", "rows_rejected", "blank_rows_skipped"]


def empty_ledger() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="str") for c in LEDGER_COLUMNS})
    return frame.astype({"collection_year": "int64", **{c: "int64" for c in _COUNTS}})


def format_reasons(reasons: pd.Series) -> str:
    """``{rule: rows}`` as ``"142: 3; 501: 2"`` (sorted), or "" when none."""
    reasons = reasons[reasons > 0].sort_index()
    return "; ".join(f"{code}: {int(n)}" for code, n in reasons.items())


def parse_reasons(text: str) -> dict[str, int]:
    """Inverse of :func:`format_reasons`."""
    if not isinstance(text, str) or not text:
        return {}
    pairs = (part.rsplit(": ", 1) for part in text.split("; "))
    return {code: int(n) for code, n in pairs}


def file_ledger(
    rows: pd.DataFrame,
    *,
    year: int,
    quarantined: pd.Series,
    reason: pd.Series,
    rejected_files: set[str],
) -> pd.DataFrame:
    """Ledger lines for rows read from files that were validated.

    ``rows``: one row per data row read (la_code, table, source_file); ``quarantined``:
    bool per row; ``reason``: quarantine reason per row (null if kept).
    """
    if rows.empty:
        return empty_ledger()
    work = pd.DataFrame(
        {
            "la_code": rows["la_code"].to_numpy(),
            "table": rows["table"].to_numpy(),
            "file": rows["source_file"].to_numpy(),
            "quarantined": quarantined.to_numpy(),
            "reason": reason.to_numpy(),
        }
    )
    work["rejected"] = work["file"].isin(rejected_files)
    work["quarantined"] = work["quarantined"] & ~work["rejected"]
    keys = ["la_code", "table", "file"]
    grouped = work.groupby(keys, sort=True)
    out = grouped.size().rename("rows_read").to_frame()
    out["rows_rejected"] = grouped["rejected"].sum()
    out["rows_quarantined"] = grouped["quarantined"].sum()
    out["rows_accepted"] = out["rows_read"] - out["rows_rejected"] - out["rows_quarantined"]
    q = work[work["quarantined"]]
    if q.empty:
        out["quarantined_by_reason"] = ""
    else:
        by = q.groupby([*keys, "reason"]).size()
        text = by.groupby(level=[0, 1, 2]).apply(lambda s: format_reasons(s.droplevel([0, 1, 2])))
        out["quarantined_by_reason"] = text.reindex(out.index).fillna("")
    out = out.reset_index()
    out["collection_year"] = year
    out["blank_rows_skipped"] = 0
    return normalise(out)


def normalise(ledger: pd.DataFrame) -> pd.DataFrame:
    """Fixed columns and types, sorted by year, LA, table, file."""
    out = ledger.copy()
    for col in LEDGER_COLUMNS:
        if col not in out.columns:
            out[col] = 0 if col in _COUNTS else ""
    out = out[LEDGER_COLUMNS + [c for c in out.columns if c not in LEDGER_COLUMNS]]
    out[_COUNTS] = out[_COUNTS].fillna(0)
    out = out.astype({"collection_year": "int64", **{c: "int64" for c in _COUNTS}})
    out["quarantined_by_reason"] = out["quarantined_by_reason"].fillna("").astype("str")
    keys = ["collection_year", "la_code", "table", "file"]
    return out.sort_values(keys, kind="mergesort").reset_index(drop=True)


def unbalanced(ledger: pd.DataFrame) -> pd.DataFrame:
    """Ledger lines that do not balance (read vs accepted + quarantined + rejected, and
    quarantined vs the sum of its reasons). Empty when every row is accounted for."""
    total = ledger["rows_accepted"] + ledger["rows_quarantined"] + ledger["rows_rejected"]
    by_reason = ledger["quarantined_by_reason"].map(lambda t: sum(parse_reasons(t).values()))
    bad = (ledger["rows_read"] != total) | (by_reason != ledger["rows_quarantined"])
    bad |= (ledger[_COUNTS] < 0).any(axis=1)
    return ledger[bad]
