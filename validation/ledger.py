"""The ledger: every row read from a return is accounted for, per LA-year and file.

rows_read = rows_accepted + rows_quarantined + rows_rejected, where rows_rejected are
the rows of a file whose LA-year was rejected at file level. Quarantined rows are counted
by reason (the child's first child-level rule, so each row is counted once). A ledger
that does not balance means the pipeline lost or invented rows, and blocks publication.
"""

from __future__ import annotations

import numpy as np
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


def read_ledger(
    read_counts: dict[str, tuple[str, str, int, bool]],
    quarantined: pd.DataFrame,
    *,
    year: int,
) -> pd.DataFrame:
    """Ledger lines for files that were read and had at least one row.

    ``read_counts``: file -> (la_code, table, rows read including malformed rows, whether
    the LA-year was rejected); ``quarantined``: one row per quarantined row (file, reason).
    Built from per-file counts, not from one row per data row: at national scale the
    per-row frame cost more than the rules.
    """
    rows = [(f, *v) for f, v in read_counts.items() if v[2] > 0]
    if not rows:
        return empty_ledger()
    files, las, tables, read, rejected = (list(c) for c in zip(*rows, strict=True))
    n_read = np.asarray(read, dtype=np.int64)
    is_rejected = np.asarray(rejected, dtype=bool)
    q = quarantined[
        ~quarantined["file"].isin([f for f, r in zip(files, rejected, strict=True) if r])
    ]
    by = q.groupby(["file", "reason"]).size() if not q.empty else pd.Series(dtype="int64")
    per_file = by.groupby(level=0).sum() if not q.empty else pd.Series(dtype="int64")
    n_q = per_file.reindex(files).fillna(0).to_numpy(dtype=np.int64)
    text = {f: format_reasons(s.droplevel(0)) for f, s in by.groupby(level=0)} if len(by) else {}
    n_rej = np.where(is_rejected, n_read, 0)
    out = pd.DataFrame(
        {
            "la_code": las,
            "table": tables,
            "file": files,
            "rows_read": n_read,
            "rows_rejected": n_rej,
            "rows_quarantined": n_q,
            "rows_accepted": n_read - n_rej - n_q,
            "quarantined_by_reason": [text.get(f, "") for f in files],
        }
    )
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


def add_file_counts(ledger: pd.DataFrame, column: str, counts: pd.Series) -> pd.DataFrame:
    """``ledger`` with a per-file count column (``counts``: file -> n; 0 for other files),
    e.g. rows superseded by a later return, or header records starting a new identity."""
    out = ledger.copy()
    out[column] = out["file"].map(counts).fillna(0).astype("int64")
    return out


def unbalanced(ledger: pd.DataFrame) -> pd.DataFrame:
    """Ledger lines that do not balance (read vs accepted + quarantined + rejected, and
    quarantined vs the sum of its reasons). Empty when every row is accounted for."""
    total = ledger["rows_accepted"] + ledger["rows_quarantined"] + ledger["rows_rejected"]
    by_reason = ledger["quarantined_by_reason"].map(lambda t: sum(parse_reasons(t).values()))
    bad = (ledger["rows_read"] != total) | (by_reason != ledger["rows_quarantined"])
    bad |= (ledger[_COUNTS] < 0).any(axis=1)
    return ledger[bad]
