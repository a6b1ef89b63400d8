"""Inject realistic faults into rendered returns and record each one (filled in below)."""

from __future__ import annotations

import pandas as pd

ERROR_COLUMNS = [
    "error_id", "kind", "collection_year", "la_code", "file", "child", "row", "column",
    "detail", "expected_rules",
]  # fmt: skip


def inject_errors(header, episodes, year, rate, rng, next_id):
    return header, episodes, pd.DataFrame(columns=ERROR_COLUMNS), set()
