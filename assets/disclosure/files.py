"""The disclosure stage's restricted files on disk: the published tables before the
release is built, and the suppression log that holds every cell's true value and reason.
Written by the suppression step, read by the audit and by the next release's audit."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from assets.common.contracts import ALL_TABLE_KEYS
from assets.common.fast_csv import write_csv
from assets.disclosure.attacker import INT_KEYS
from assets.disclosure.published import PublishedTables

PUBLISHED_FILES = {
    "reentry": "reentry.csv",
    "ceased_by_reason": "ceased_by_reason.csv",
    "time_to_reentry": "time_to_reentry.csv",
    "sensitivity": "sensitivity.csv",
}
# Tables a release made before they existed lacks (read as absent, not an error).
OPTIONAL_FILES = ("sensitivity",)
LOG_FILE = "suppression_log.csv"


def read_published_dir(folder: Path) -> dict[str, pd.DataFrame]:
    """The published tables as written by ``assets.disclosure.files.write_published``
    (every column read as text, so symbols and numbers come back exactly)."""
    folder = Path(folder)
    out = {}
    for name, fname in PUBLISHED_FILES.items():
        path = folder / fname
        if not path.exists() and name in OPTIONAL_FILES:
            continue
        if not path.exists():
            raise FileNotFoundError(f"{path}: published table '{name}' is missing")
        df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
        for k in INT_KEYS:
            if k in df:
                df[k] = pd.to_numeric(df[k]).astype("int64")
        out[name] = df
    return out


def read_log(path: Path) -> pd.DataFrame:
    """A suppression log written by ``write_published``: key and text columns as text
    (codes keep their leading zeros; a mostly empty column is not guessed; only an empty
    field is missing)."""
    text = [k for k in ALL_TABLE_KEYS if k not in INT_KEYS] + [
        "table",
        "column",
        "published",
        "reason",
    ]
    # "None" is a category (no previous returns home), not a missing value.
    return pd.read_csv(
        path,
        dtype={k: str for k in text},
        keep_default_na=False,
        na_values={k: [""] for k in text},
        low_memory=False,
    )


def write_published(published: PublishedTables, folder: Path) -> None:
    """Write the published tables (and, alongside, the restricted log) as CSV, sorted and
    without timestamps, in the layout ``assets.disclosure.audit.audit_release_dir`` reads."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    # Byte for byte what pandas' to_csv writes, in under half the time (the log holds
    # every cell of every table).
    write_csv(published.reentry, folder / "reentry.csv")
    write_csv(published.ceased_by_reason, folder / "ceased_by_reason.csv")
    write_csv(published.time_to_reentry, folder / "time_to_reentry.csv")
    if len(published.sensitivity):
        write_csv(published.sensitivity, folder / "sensitivity.csv")
    write_csv(published.suppression_log, folder / LOG_FILE)
    write_csv(published.information_loss, folder / "information_loss.csv")
