"""Text cells a spreadsheet would run as a formula, made inert, for every CSV anyone opens.

The public CSVs and the reviewers' CSVs (failures, inventory, ledger) both carry text from
the inputs: an LA's file name or a CHILD id of ``=HYPERLINK(...)`` would run when a
reviewer opens the file in a spreadsheet.
"""

from __future__ import annotations

import pandas as pd

FORMULA_START = ("=", "+", "-", "@")


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Text a spreadsheet could run as a formula gets a leading apostrophe (OWASP "CSV
    injection" advice, as the spreadsheet writer does); numbers, negative ones included,
    are left alone."""
    out = df
    for col in df.columns:
        values = df[col]
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            continue
        text = values.astype("str")
        risky = (
            values.notna()
            & text.str.startswith(FORMULA_START)
            & ~text.str.fullmatch(r"-?\d+(\.\d+)?")
        )
        if risky.any():
            out = out.copy() if out is df else out
            out[col] = values.where(~risky, "'" + text)
    return out
