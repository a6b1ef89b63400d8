"""The inventory of the landing folder: every file, its place, size and SHA-256, and the
one hash that pins a release's inputs. Nothing is opened beyond hashing."""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from assets.common.hashing import file_sha256
from assets.common.reference import load_las
from assets.ingest.layout import DEFAULT_MAX_BYTES, is_la_folder, is_year_folder, table_of

_HASH_THREADS = max(1, min(4, os.cpu_count() or 1))


INVENTORY_COLUMNS = [
    "collection_year",
    "la_code",
    "table",
    "path",
    "size_bytes",
    "sha256",
    "modified",
    "problem",
]


def inventory_landing(landing: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> pd.DataFrame:
    """One row per file under ``landing``: where it is, what it claims to be, and any problem.

    Walks without following symbolic links (a link could point anywhere on the machine),
    never opens a file larger than ``max_bytes`` beyond hashing it in chunks, and turns
    odd names into a ``problem`` message rather than an exception. Sorted by path so the
    inventory is byte-identical between runs.
    """
    landing = Path(landing)
    root = landing.resolve()
    known_las = set(load_las()["old_la_code"])
    if not root.is_dir():
        return pd.DataFrame({c: pd.Series(dtype=_INVENTORY_DTYPES[c]) for c in INVENTORY_COLUMNS})
    paths: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        # Directory symlinks are listed in dirnames but not descended; report them as files.
        linked_dirs = [d for d in dirnames if (here / d).is_symlink()]
        paths.extend(here / name for name in sorted(filenames) + sorted(linked_dirs))
    # Hashing dominates and hashlib releases the GIL, so files are hashed in threads.
    with ThreadPoolExecutor(max_workers=_HASH_THREADS) as pool:
        rows = list(pool.map(lambda p: _inventory_row(root, p, known_las, max_bytes), paths))
    frame = pd.DataFrame(rows, columns=INVENTORY_COLUMNS)
    frame = frame.astype(_INVENTORY_DTYPES)
    return frame.sort_values("path", kind="mergesort").reset_index(drop=True)


_INVENTORY_DTYPES = {
    "collection_year": "Int64",
    "la_code": "str",
    "table": "str",
    "path": "str",
    "size_bytes": "Int64",
    "sha256": "str",
    "modified": "str",
    "problem": "str",
}


def _inventory_row(root: Path, path: Path, known_las: set[str], max_bytes: int) -> dict:
    rel = path.relative_to(root)
    parts = rel.parts
    problems: list[str] = []
    year = None
    la_code = None
    if len(parts) != 3:
        problems.append(
            f"'{rel.as_posix()}' is not in the expected layout <collection_year>/<LA code>/<file>"
        )
    if len(parts) >= 2:
        if is_year_folder(parts[0]):
            year = int(parts[0])
        else:
            problems.append(
                f"folder '{parts[0]}' is not a 4-digit collection year (e.g. 2024 for 2023-24)"
            )
    if len(parts) >= 3:
        if is_la_folder(parts[1]) and parts[1] in known_las:
            la_code = parts[1]
        else:
            problems.append(f"folder '{parts[1]}' is not a known 3-digit DfE LA code")
    table = table_of(path.name)
    if table == "unknown":
        problems.append(
            f"file '{path.name}' is not a recognised SSDA903 table "
            "(expected header.csv or episodes.csv, or .xlsx)"
        )
    size = sha = modified = None
    if path.is_symlink():
        target = os.path.realpath(path)
        if os.path.commonpath([target, str(root)]) != str(root):
            problems.append("symbolic link (symlink) pointing outside the landing folder; not read")
        else:
            problems.append(
                "symbolic link (symlink); returns must be real files, so it was not read"
            )
    elif not path.is_file():
        problems.append("not a regular file; not read")
    else:
        stat = path.stat()
        size = stat.st_size
        modified = datetime.fromtimestamp(stat.st_mtime, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        sha = file_sha256(path)
        if size > max_bytes:
            problems.append(
                f"file is {size:,} bytes, over the size limit of {max_bytes:,} bytes; not read"
            )
    return {
        "collection_year": year,
        "la_code": la_code,
        "table": table,
        "path": rel.as_posix(),
        "size_bytes": size,
        "sha256": sha,
        "modified": modified,
        "problem": "; ".join(problems) if problems else None,
    }


# The inventory columns that identify an input file's content. Paths are made relative
# to the landing folder, so moving the whole landing folder does not invalidate approval.
INPUT_KEY = ["collection_year", "la_code", "table", "sha256"]


def inputs_sha256(inventory: pd.DataFrame) -> str:
    """One hash for the whole set of landing files: their identity and content, sorted.

    Built from (collection year, LA, table, file SHA-256) so it changes when any return is
    added, removed or resubmitted, and not when files are merely touched or moved.
    """
    if inventory.empty:
        return hashlib.sha256(b"").hexdigest()
    keys = inventory.reindex(columns=INPUT_KEY).astype("string").fillna("")
    lines = (
        keys["collection_year"] + "/" + keys["la_code"] + "/" + keys["table"] + "/" + keys["sha256"]
    )
    payload = "\n".join(sorted(lines.tolist())).encode()
    return hashlib.sha256(payload).hexdigest()


def year_inputs_sha256(inventory: pd.DataFrame, year: int) -> str:
    """Hash of one collection year's landing files (identity and content)."""
    years = pd.to_numeric(inventory["collection_year"], errors="coerce")
    return inputs_sha256(inventory[years == year])
