"""The inventory of the landing folder: every file, its place, size and SHA-256, the
table it holds (by its columns), and the one hash that pins a release's inputs. Beyond
hashing, only a CSV's first 64 KB is looked at, to find its header line: both come
from one read of the file."""

from __future__ import annotations

import hashlib
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from assets.common.reference import load_las
from assets.ingest.layout import (
    DEFAULT_MAX_BYTES,
    PREVIOUS_YEAR_FOLDER,
    collection_year_of,
    la_in_file_name,
    resolve_la,
)
from assets.ingest.reading import HEAD_BYTES, identify_file

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
    "problem_rule",
    "pooled",
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
    unreadable: list[OSError] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False, onerror=unreadable.append):
        here = Path(dirpath)
        # Directory symlinks are listed in dirnames but not descended; report them as files.
        linked_dirs = [d for d in dirnames if (here / d).is_symlink()]
        paths.extend(here / name for name in sorted(filenames) + sorted(linked_dirs))
    # Hashing dominates and hashlib releases the GIL, so files are hashed in threads.
    with ThreadPoolExecutor(max_workers=_HASH_THREADS) as pool:
        rows = list(pool.map(lambda p: _inventory_row(root, p, known_las, max_bytes), paths))
    for exc in unreadable:  # a folder that cannot be listed is reported, never skipped
        rel = Path(exc.filename).resolve().relative_to(root) if exc.filename else Path(".")
        problem = [("file_not_usable", f"folder cannot be read ({exc.strerror}); not read")]
        year, la_code, _ = _place((*rel.parts, "?"), False)
        rows.append(
            _row(year, la_code, "unknown", rel.as_posix(), None, None, None, problem, False)
        )
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
    "problem_rule": "str",
    "pooled": "bool",
}


def _place(parts: tuple[str, ...], pooled: bool) -> tuple[int | None, str | None, list[tuple]]:
    """Collection year and LA a file's place names, and (rule, message) problems."""
    problems: list[tuple[str, str]] = []
    year = la = None
    if len(parts) == 1:
        if not pooled:
            problems.append(
                ("file_misplaced", f"'{parts[0]}' is not inside a collection-year folder")
            )
        return None, None, problems
    year = collection_year_of(parts[0])
    if year is None:
        problems.append(
            (
                "file_misplaced",
                f"folder '{parts[0]}' is not a collection year (accepted: 2024, 2023-24, "
                "202324, 2023_24)",
            )
        )
    if len(parts) == 2:
        la = la_in_file_name(parts[1], year)
        if la is None and not pooled:
            problems.append(
                (
                    "file_misplaced",
                    f"file '{parts[1]}' is in a year folder but its name does not identify an "
                    "LA (name, ONS code or 3-digit code) and it has no LA column",
                )
            )
        return year, la, problems
    la, why = resolve_la(parts[1], year)
    if why:
        problems.append(("file_misplaced", f"folder '{parts[1]}': {why}"))
    if len(parts) == 4 and PREVIOUS_YEAR_FOLDER.fullmatch(parts[2]):
        problems.append(
            (
                "previous_year_skipped",
                f"'{parts[2]}/' holds last year's return; last year is read from its own "
                "year folder, so this file was skipped",
            )
        )
    elif len(parts) > 3:
        problems.append(
            (
                "file_misplaced",
                f"'{'/'.join(parts)}' is nested deeper than <collection year>/<LA>/<file>",
            )
        )
    return year, la, problems


def _inventory_row(root: Path, path: Path, known_las: set[str], max_bytes: int) -> dict:
    rel = path.relative_to(root)
    parts = rel.parts
    shown = rel.as_posix()
    try:
        shown.encode("utf-8")
    except UnicodeEncodeError:
        # A name that is not valid UTF-8 cannot be reported or written as it is; it is
        # shown with replacement characters and not read.
        shown = shown.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        year, la_code, _ = _place(tuple(Path(shown).parts), False)
        problem = [("file_not_usable", "the file name is not valid UTF-8; rename it")]
        return _row(year, la_code, "unknown", shown, None, None, None, problem, False)
    # One lstat and one read per file: the bytes hashed are the bytes whose first 64 KB
    # name the table (a second open for the header sniff cost 12% of ingest CPU).
    try:
        st = os.lstat(path)
    except OSError:
        st = None
    is_link = st is not None and stat.S_ISLNK(st.st_mode)
    regular = st is not None and stat.S_ISREG(st.st_mode)
    size = sha = modified = head = None
    unreadable = None
    if regular:
        size = st.st_size
        modified = datetime.fromtimestamp(st.st_mtime, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        try:
            sha, head = _sha256_and_head(path)
        except OSError as exc:
            unreadable, head = exc.strerror, b""
    table, pooled = identify_file(path, head) if regular else ("unknown", False)
    year, la_code, problems = _place(parts, pooled)
    if la_code is not None and la_code not in known_las:
        la_code = None
    if table == "xls":
        problems.append(
            (
                "file_unreadable",
                f"file '{path.name}' is a legacy Excel 97-2003 workbook (.xls), which is not "
                "read; open it in Excel and save it as an Excel Workbook (.xlsx) or as "
                "CSV UTF-8 (one file per table), then re-run",
            )
        )
    elif table == "unknown":
        problems.append(
            (
                "unexpected_file",
                f"file '{path.name}' is not a recognised SSDA903 table (no header line with "
                "the header or episodes columns found in a .csv, .xlsx or .xml file)",
            )
        )
    elif table.startswith("other:"):
        problems.append(
            (
                "table_ignored",
                f"file '{path.name}' holds the SSDA903 {table[6:]} table, which these "
                "statistics do not use; ignored",
            )
        )
    if is_link:
        target = os.path.realpath(path)
        if os.path.commonpath([target, str(root)]) != str(root):
            problems.append(
                (
                    "file_not_usable",
                    "symbolic link (symlink) pointing outside the landing folder; not read",
                )
            )
        else:
            problems.append(
                (
                    "file_not_usable",
                    "symbolic link (symlink); returns must be real files, so it was not read",
                )
            )
    elif not regular:
        problems.append(("file_not_usable", "not a regular file; not read"))
    else:
        if unreadable is not None:
            problems.append(("file_unreadable", f"file cannot be read: {unreadable}"))
        if size > max_bytes:
            problems.append(
                (
                    "file_too_large",
                    f"file is {size:,} bytes, over the size limit of {max_bytes:,} bytes; not read",
                )
            )
    return _row(year, la_code, table, shown, size, sha, modified, problems, pooled)


def _sha256_and_head(path: Path) -> tuple[str, bytes]:
    """SHA-256 of a file's bytes and its first :data:`HEAD_BYTES`, from one open; streamed
    in chunks, so a file over the size limit costs time, not memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        head = fh.read(HEAD_BYTES)
        digest.update(head)
        while chunk := fh.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest(), head


_CHUNK_BYTES = 1024 * 1024


def _row(year, la_code, table, path, size, sha, modified, problems, pooled) -> dict:
    # The most serious problem names the rule: file-level before warnings.
    order = {"file_": 0, "previous_year_skipped": 1, "table_ignored": 2, "unexpected_file": 3}
    rules = sorted(
        (r for r, _ in problems), key=lambda r: order.get(r[:5] if r.startswith("file_") else r, 4)
    )
    return {
        "collection_year": year,
        "la_code": la_code,
        "table": table,
        "path": path,
        "size_bytes": size,
        "sha256": sha,
        "modified": modified,
        "problem": "; ".join(m for _, m in problems) if problems else None,
        "problem_rule": rules[0] if rules else None,
        "pooled": pooled,
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
