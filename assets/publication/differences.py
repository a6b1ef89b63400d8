"""What changed since the previous published release, file by file, for the reviewer."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from assets.common.hashing import file_sha256


def release_differences(candidate: Path, previous: Path | None) -> pd.DataFrame:
    """What changed between the previous published release and this candidate, file by file.

    For each file: added, removed, changed or unchanged (by SHA-256); for changed CSV
    tables, how many rows are new and how many of the previous rows are gone (comparing
    whole rows as text), so a reviewer sees the size of every revision before approving.
    """
    columns = ["file", "change", "rows_previous", "rows_candidate", "rows_added", "rows_removed"]
    if previous is None or not previous.is_dir():
        return pd.DataFrame(columns=columns)

    def files(root: Path) -> dict[str, Path]:
        return {
            p.relative_to(root).as_posix(): p
            for p in root.rglob("*")
            if p.is_file() and not p.name.startswith(".")
        }

    new, old = files(candidate), files(previous)
    rows = []
    for name in sorted(set(new) | set(old)):
        row = dict.fromkeys(columns)
        row["file"] = name
        if name not in old:
            row["change"] = "added"
        elif name not in new:
            row["change"] = "removed"
        elif file_sha256(new[name]) == file_sha256(old[name]):
            row["change"] = "unchanged"
        else:
            row["change"] = "changed"
            if name.endswith(".csv"):
                a = pd.read_csv(old[name], dtype=str, keep_default_na=False)
                b = pd.read_csv(new[name], dtype=str, keep_default_na=False)
                if list(a.columns) == list(b.columns):
                    merged = a.merge(b, how="outer", indicator=True)
                    row["rows_added"] = int((merged["_merge"] == "right_only").sum())
                    row["rows_removed"] = int((merged["_merge"] == "left_only").sum())
                row["rows_previous"], row["rows_candidate"] = len(a), len(b)
        rows.append(row)
    out = pd.DataFrame(rows, columns=columns)
    for col in columns[2:]:
        out[col] = out[col].astype("Int64")
    return out
