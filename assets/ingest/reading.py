"""Find SSDA903 returns in the landing folder and read them without losing or guessing.

Landing layout: ``LANDING/<collection_year>/<old_la_code>/header.csv`` and
``episodes.csv`` (as exported from the 903 system; ``.xlsx`` with the same columns is
accepted too). Returns arrive from 150 LA systems, so the reader tolerates the harmless
variations (byte-order mark, Windows-1252, CRLF, header case and spacing, blank rows,
extra columns) and *records* each one; anything it cannot read unambiguously becomes a
file-level problem with a plain-English message, never a traceback and never a guess.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from assets.ingest.dates import blank_or_ddmmyyyy
from assets.ingest.layout import DEFAULT_MAX_BYTES

# SSDA903 CSV columns (DfE "Children looked after return: technical specification").
HEADER_COLUMNS = ["CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"]
EPISODE_COLUMNS = [
    "CHILD",
    "DECOM",
    "RNE",
    "LS",
    "CIN",
    "PLACE",
    "PLACE_PROVIDER",
    "DEC",
    "REC",
    "REASON_PLACE_CHANGE",
    "HOME_POST",
    "PL_POST",
    "URN",
]
TABLE_COLUMNS = {"header": HEADER_COLUMNS, "episodes": EPISODE_COLUMNS}
_ALL_COLUMNS = set(HEADER_COLUMNS) | set(EPISODE_COLUMNS)
# Columns without which the table cannot be used at all (file-level failure if absent).
REQUIRED_COLUMNS = {
    "header": ["CHILD", "SEX", "DOB"],
    "episodes": ["CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "DEC", "REC"],
}
# Columns that only one table has: finding them tells us the file holds the wrong table.
_DISTINCTIVE = {"header": {"SEX", "DOB", "ETHNIC"}, "episodes": {"DECOM", "RNE", "LS"}}

CODED_COLUMNS = {"SEX", "ETHNIC", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "REC", "UPN"}

SUFFIXES = (".csv", ".xlsx", ".xml")
# Pooled files (the regional-hub layout, e.g. liiatools' output) name each row's LA and
# collection year; they are split on these columns and each part credited to its LA.
POOL_COLUMNS = ("LA", "YEAR")
# The other SSDA903 tables (DfE technical specification; column names as in the DfE
# return and csc-validator-be-903), identified by a column only they have. This
# pipeline reads header and episodes only; the others are noted and ignored.
OTHER_TABLES = {
    "UASC": {"DUC"},
    "reviews": {"REVIEW", "REVIEW_CODE"},
    "OC2 (outcomes for looked-after children)": {"SDQ_SCORE", "CONVICTED", "HEALTH_CHECK"},
    "OC3 (care leavers)": {"IN_TOUCH", "ACTIV", "ACCOM"},
    "AD1 (adoptions)": {"DATE_INT", "DATE_MATCH", "NB_ADOPTR"},
    "placed for adoption": {"DATE_PLACED", "DATE_PLACED_CEASED", "REASON_PLACED_CEASED"},
    "previous permanence": {"PREV_PERM", "LA_PERM", "DATE_PERM"},
    "missing": {"MISSING", "MIS_START", "MIS_END"},
    "social-worker episodes": {"SW_ID", "SW_DECOM", "SW_DEC", "SW_REASON"},
    "DoLo (deprivation of liberty)": {"DOLO_START", "DOLO_END", "DOLO_STATUS"},
}
# Columns scored to tell header from episodes when the file name does not say.
_SCORED = {
    "header": {"SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"},
    "episodes": {"DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC", "REC"},
}
# Title rows above the header line (report name, LA, run date) are skipped, up to this many.
MAX_TITLE_ROWS = 20


def table_of_columns(columns: list[str]) -> str | None:
    """The SSDA903 table a header line names: ``header``, ``episodes``, ``other:<table>``
    for another 903 table, or None. Linear in the number of columns."""
    present = {str(c).strip().upper() for c in columns}
    if "CHILD" not in present and "CHILDID" not in present:
        return None
    header = len(_SCORED["header"] & present)
    episodes = len(_SCORED["episodes"] & present)
    if episodes >= 2 and episodes > header:
        return "episodes"
    for name, distinctive in OTHER_TABLES.items():
        if distinctive & present:
            return f"other:{name}"
    if header >= 2:
        return "header"
    return None


def table_of_name(name: str) -> str | None:
    """The table a file name says it holds (``header``/``episodes``), or None."""
    lower = name.lower()
    if "episode" in lower and "sw" not in re.split(r"[^a-z]+", lower):
        return "episodes"
    if "header" in lower:
        return "header"
    return None


def header_line_of(text: str) -> tuple[int, list[str]] | None:
    """(line index, fields) of the first line naming CHILD within the first title rows."""
    for i, line in enumerate(text.split("\n", MAX_TITLE_ROWS + 1)[: MAX_TITLE_ROWS + 1]):
        if "CHILD" not in line.upper():
            continue
        fields = [f.strip().upper() for f in next(csv.reader([line]), [])]
        if "CHILD" in fields or "CHILDID" in fields:
            return i, fields
    return None


# The first bytes of a Compound File Binary file ([MS-CFB] section 2.2), the container of
# legacy Excel 97-2003 .xls workbooks: those are not read (no reader for them is added),
# and are told apart from a CSV or .xlsx whatever their name.
OLE2_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")
# How much of a file's start is searched for its header line (title rows may come first).
HEAD_BYTES = 64 * 1024


def columns_of_head(head: bytes) -> list[str] | None:
    """The header-line columns in the first bytes of a CSV (None if not found).

    The header line is nearly always the first, so the first 8 KB (cut at a line end)
    are decoded first and the rest only if no header line is found there."""
    cut = head.rfind(b"\n", 0, 8 * 1024)
    windows = (head[: cut + 1], head) if 0 < cut < len(head) - 1 else (head,)
    for window in windows:
        for encoding in ("utf-8-sig", "cp1252"):
            try:
                text = window.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            return None
        found = header_line_of(text.replace("\r\n", "\n"))
        if found is not None:
            return found[1]
    return None


def sniff_columns(path: Path) -> list[str] | None:
    """The header-line columns of a CSV, from its first 64 KB (None if not found)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(HEAD_BYTES)
    except OSError:
        return None
    return columns_of_head(head)


def identify_file(path: Path, head: bytes | None = None) -> tuple[str, bool]:
    """(table, pooled) for a landing file, by its columns first and its name second.

    ``table`` is ``header``, ``episodes``, ``workbook`` (an .xlsx, read sheet by sheet),
    ``xml`` (the DfE XML return), ``xls`` (a legacy Excel workbook, not read),
    ``other:<table>`` or ``unknown``. A name saying header
    or episodes wins over the columns, so a file whose content is the other table is
    reported as the wrong table rather than silently swapped. ``head``: the file's first
    bytes when the caller has already read them (the inventory reads each file once, for
    its hash and this), so the file is not opened again.
    """
    suffix = path.suffix.lower()
    if suffix == ".xls" or (head or b"").startswith(OLE2_SIGNATURE):
        return "xls", False
    if suffix == ".xlsx":
        return "workbook", False
    if suffix == ".xml":
        return "xml", False
    if suffix not in (".csv", ".txt"):
        return "unknown", False
    if head is not None:
        columns = columns_of_head(head)
    else:
        columns = sniff_columns(path) if path.is_file() and not path.is_symlink() else None
    by_columns = table_of_columns(columns) if columns else None
    by_name = table_of_name(path.name)
    pooled = bool(columns) and "LA" in columns
    if by_columns and by_columns.startswith("other:"):
        return by_columns, pooled
    if by_name and (suffix == ".csv"):
        return by_name, pooled
    return by_columns or "unknown", pooled


@dataclass
class ReadResult:
    """A table read from one file: all values as stripped strings, or why it could not be.

    ``frame`` has the canonical upper-case SSDA903 columns (missing optional columns
    added as null) plus ``source_row`` (1-based data row in the file, header excluded).
    ``notes`` record every tolerated irregularity; ``problem`` is a file-level failure
    (the file is unusable and the LA-year is rejected); ``bad_rows`` are rows whose field
    count does not match the header (row number, raw text, CHILD if recoverable).
    """

    table: pa.Table | None
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)
    problem: str | None = None
    problem_rule: str | None = None
    problem_column: str | None = None
    blank_rows: int = 0
    bad_rows: list[tuple[int, str, str | None]] = field(default_factory=list)
    # Data rows in a file that could not be used (so the ledger counts them as rejected).
    rows_seen: int = 0
    # (rule code, column, message): tolerated irregularities the reviewer must see.
    warnings: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def frame(self) -> pd.DataFrame | None:
        """The table as tidy pandas strings (see :func:`tidy_table`), or None if unusable."""
        return None if self.table is None else tidy_table(self.table).to_pandas()


def _decode(data: bytes, notes: list[str]) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        notes.append("UTF-8 byte-order mark removed")
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        # Exports from older 903 systems on Windows use the Windows-1252 code page.
        text = data.decode("cp1252", errors="strict")
        notes.append("file is Windows-1252 encoded, not UTF-8; converted")
        return text, "cp1252"


def _canonical_header(
    names: list[str], table: str, notes: list[str]
) -> tuple[list[str], list[str]]:
    canonical = [n.strip().upper() for n in names]
    if canonical != names:
        notes.append("column names normalised (case and surrounding spaces)")
    # The DfE XML names CHILD and PLACE as CHILDID and PL.
    canonical = [{"CHILDID": "CHILD", "PL": "PLACE"}.get(n, n) for n in canonical]
    expected = set(TABLE_COLUMNS[table]) | set(POOL_COLUMNS)
    extra = [n for n in canonical if n not in expected]
    return canonical, extra


def read_return_table(
    path: Path, table: str, max_bytes: int = DEFAULT_MAX_BYTES, keep: tuple[str, ...] = ()
) -> ReadResult:
    """Read one SSDA903 table file (CSV or XLSX) as strings, recording every tolerance.

    The size limit is checked before a single byte is read. CHILD and every other value
    stay strings (leading zeros in IDs matter); blank values become null. A fast pyarrow
    reader handles well-formed files; files with blank lines or ragged rows fall back to
    Python's csv module so row numbers stay exactly those a reviewer sees in the file.
    """
    result = _read_return_table(path, table, max_bytes, defer=False, keep=keep)
    assert isinstance(result, ReadResult)
    return result


@dataclass
class _Pending:
    """A well-formed CSV whose rows are parsed later, together with other files'."""

    result: ReadResult
    rows_text: str
    names: list[str]
    table: str
    trailing: int
    keep: tuple[str, ...] = ()


# Text parsed in one Arrow call when files are read together (bounds the extra memory).
_BATCH_CHARS = 32 * 1024 * 1024


def read_return_tables(
    items: list[tuple[Path, str]],
    max_bytes: int = DEFAULT_MAX_BYTES,
    threads: int = 1,
    sha256: list[str | None] | None = None,
) -> list[ReadResult]:
    """:func:`read_return_table` for many files at once, with identical results.

    Files are decoded and checked in ``threads`` threads. Well-formed CSVs with the same
    header and no quotes or carriage returns (nearly every return) are then parsed by one
    multi-threaded Arrow call per batch and split back per file: at 150 LAs the per-file
    set-up of the Arrow reader cost more than parsing. Without quotes a row is exactly a
    line, so the split is exact; if a batch does not parse (a ragged row somewhere), each
    of its files is parsed on its own as :func:`read_return_table` does.

    ``sha256``: each file's hash in the landing inventory. The bytes read are hashed and
    a file whose bytes differ (replaced since the inventory) is rejected, so the bytes
    validated are always the bytes the release's inputs hash pins.
    """
    hashes = sha256 if sha256 is not None else [None] * len(items)
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        prepared = list(
            pool.map(
                lambda item: _read_return_table(
                    item[0][0], item[0][1], max_bytes, True, (), item[1]
                ),
                zip(items, hashes, strict=True),
            )
        )
    results: list[ReadResult | None] = [p if isinstance(p, ReadResult) else None for p in prepared]
    groups: dict[tuple[str, tuple[str, ...]], list[int]] = {}
    for i, p in enumerate(prepared):
        if isinstance(p, _Pending):
            groups.setdefault((p.table, tuple(p.names)), []).append(i)
    for (_, names), members in groups.items():
        batch: list[int] = []
        size = 0
        for i in [*members, None]:
            pending = prepared[i] if i is not None else None
            if batch and (i is None or size + len(pending.rows_text) > _BATCH_CHARS):
                texts = [prepared[j].rows_text for j in batch]
                arrows, plain = _parse_fast_many(texts, list(names))
                for j, arrow in zip(batch, arrows or [None] * len(batch), strict=True):
                    item = prepared[j]
                    if arrow is None:
                        arrow = _parse_fast(item.rows_text, item.names)
                    results[j] = _finish_csv(item, arrow, plain=plain)
                batch, size = [], 0
            if i is not None:
                batch.append(i)
                size += len(pending.rows_text)
    return results  # type: ignore[return-value]


def _read_return_table(
    path: Path,
    table: str,
    max_bytes: int,
    defer: bool,
    keep: tuple[str, ...] = (),
    sha256: str | None = None,
) -> ReadResult | _Pending:
    path = Path(path)
    if table not in TABLE_COLUMNS:
        return ReadResult(
            None,
            problem=f"'{path.name}' is not a header or episodes table",
            problem_rule="file_wrong_table",
        )
    try:
        size = path.stat().st_size
    except OSError as exc:
        return ReadResult(
            None, problem=f"file cannot be opened: {exc.strerror}", problem_rule="file_unreadable"
        )
    if size > max_bytes:
        return ReadResult(
            None,
            problem=f"file is {size:,} bytes, over the size limit of {max_bytes:,} bytes; not read",
            problem_rule="file_too_large",
        )
    if path.suffix.lower() == ".xlsx":
        return _read_xlsx(path, table)
    notes: list[str] = []
    try:
        data = path.read_bytes()
    except OSError as exc:
        return ReadResult(
            None, problem=f"file cannot be read: {exc.strerror}", problem_rule="file_unreadable"
        )
    if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
        return ReadResult(
            None,
            problem="file changed after the landing inventory was taken (its SHA-256 is "
            "no longer the one recorded); not read: re-run once the landing folder is settled",
            problem_rule="file_changed",
        )
    try:
        text, encoding = _decode(data, notes)
    except UnicodeDecodeError:
        return ReadResult(
            None,
            problem="file is neither UTF-8 nor Windows-1252 text; re-export it as CSV (UTF-8)",
            problem_rule="file_unreadable",
        )
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or text.count("\x00") > len(text) // 100:
        return ReadResult(
            None,
            encoding=encoding,
            problem="file looks like UTF-16 or binary data, not a CSV export; re-export it as CSV (UTF-8)",
            problem_rule="file_unreadable",
        )
    if "\r\n" in text:
        notes.append("Windows line endings (CRLF)")
        text = text.replace("\r\n", "\n")
    return _parse_csv_text(text, table, encoding, notes, defer=defer, keep=keep)


def _parse_csv_text(
    text: str,
    table: str,
    encoding: str,
    notes: list[str],
    defer: bool = False,
    keep: tuple[str, ...] = (),
) -> ReadResult | _Pending:
    # Blank trailing rows (empty lines or ",,,," as spreadsheets export them) are dropped
    # and counted; a row's own trailing empty fields are kept.
    body = _strip_blank_tail(text)
    removed = text[len(body) :]
    trailing = removed.count("\n") - (1 if removed.endswith("\n") else 0)
    # Blank rows above the header line (some exports start with one) are skipped too;
    # data rows are still numbered from the header line.
    leading = 0
    while body and "\n" in body and not body[: body.index("\n")].strip(" \t,\r"):
        body = body[body.index("\n") + 1 :]
        leading += 1
    if leading:
        notes.append(f"{leading} blank row(s) above the header line skipped")
    # Title rows (report name, LA, date) above the header line: skipped when a later line
    # within the first MAX_TITLE_ROWS names CHILD and the first does not.
    found = header_line_of(body[: 64 * 1024])
    if found is not None and found[0] > 0:
        title = found[0]
        for _ in range(title):
            body = body[body.index("\n") + 1 :]
        notes.append(f"{title} title row(s) above the header line skipped")
    body, footers = _strip_footer(body)
    if footers:
        trailing += len(footers)
        notes.append(
            "footer/summary line(s) at the end skipped (not data): "
            + "; ".join(repr(f[:60]) for f in footers)
        )
    if not body or body.isspace():  # as `not body.strip()`, without copying the file
        return ReadResult(
            None,
            encoding=encoding,
            notes=notes,
            problem="file is empty (no header line and no rows)",
            problem_rule="file_empty",
        )
    first_nl = body.find("\n")
    header_line = body if first_nl < 0 else body[:first_nl]
    names = next(csv.reader([header_line]))
    canonical, extra = _canonical_header(names, table, notes)
    problem, columns = _header_problem(canonical, table)
    if problem:
        rule = "file_wrong_table" if "looks like" in problem else "file_missing_column"
        return ReadResult(
            None,
            encoding=encoding,
            notes=notes,
            problem=problem,
            problem_rule=rule,
            problem_column=", ".join(columns),
            rows_seen=_count_data_lines(body, first_nl),
        )
    rows_text = "" if first_nl < 0 else body[first_nl + 1 :]
    if not rows_text or rows_text.isspace():
        return ReadResult(
            None,
            encoding=encoding,
            notes=notes,
            extra_columns=extra,
            problem="file has a header line but no rows of data",
            problem_rule="file_empty",
        )
    result = ReadResult(None, encoding=encoding, notes=notes, extra_columns=extra)
    if extra:
        notes.append("extra columns ignored: " + ", ".join(extra))
    pending = _Pending(result, rows_text, canonical, table, trailing, keep)
    if _may_have_blank_rows(rows_text):
        return _finish_csv(pending, None)
    if defer and '"' not in rows_text and "\r" not in rows_text:
        return pending
    return _finish_csv(pending, _parse_fast(rows_text, canonical))


def _finish_csv(pending: _Pending, arrow: pa.Table | None, plain: bool = False) -> ReadResult:
    """The file's ReadResult from its fast-parsed rows, or the row-by-row reader's.

    ``plain``: the rows are known to need no date or CHILD conversion (checked once for
    a whole batch of files, which costs far less than per file)."""
    result = pending.result
    if arrow is None:
        arrow = _parse_slow(pending.rows_text, pending.names, result)
    result.blank_rows += max(pending.trailing, 0)
    if result.blank_rows:
        result.notes.append(f"{result.blank_rows} blank row(s) skipped")
    if not plain:
        arrow = _normalise_forms(arrow, result)
    result.table = _known_columns(arrow, pending.table, pending.keep)
    return result


DATE_COLUMNS = ("DOB", "MC_DOB", "DECOM", "DEC")
_DDMMYYYY = r"^\d{2}/\d{2}/\d{4}$"
_DDMMYYYY_TIME = r"^\d{2}/\d{2}/\d{4}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$"
_ISO = r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$"
# Excel serial day numbers 10000-80000 are 1927-05-18 to 2119-01-10: every plausible
# DOB and episode date, and no CHILD-like number of another width is taken for one.
_SERIAL = r"^\d{5}(\.0+)?$"
_EXCEL_EPOCH = np.datetime64("1899-12-30")
_FLOAT_ID = r"^\d+\.0+$"


def _is_plain(tbl: pa.Table) -> bool:
    """Every date is blank or dd/mm/yyyy-shaped and no CHILD looks like ``123.0``: then
    :func:`_normalise_forms` would change nothing (strict date checks come later)."""
    # Checked on the columns' bytes (assets.ingest.dates), not by a regex per value.
    for name in DATE_COLUMNS:
        if name in tbl.column_names and not blank_or_ddmmyyyy(tbl.column(name)):
            return False
    if "CHILD" not in tbl.column_names:
        return True
    child = tbl.column("CHILD")
    if not pc.any(pc.fill_null(pc.match_substring(child, "."), False)).as_py():
        return True  # no value holds a dot, so none is written as 123.0
    return not pc.any(pc.fill_null(pc.match_substring_regex(child, _FLOAT_ID), False)).as_py()


def _all_match(col: pa.ChunkedArray | pa.Array, pattern: str) -> bool:
    """Every non-blank value matches ``pattern`` (and there is at least one)."""
    text = pc.utf8_trim_whitespace(col)
    given = pc.fill_null(pc.not_equal(text, ""), False)
    n = pc.sum(pc.cast(given, pa.int64())).as_py() or 0
    if n == 0:
        return False
    hits = pc.and_(given, pc.fill_null(pc.match_substring_regex(text, pattern), False))
    return (pc.sum(pc.cast(hits, pa.int64())).as_py() or 0) == n


def _normalise_forms(tbl: pa.Table, result: ReadResult) -> pa.Table:
    """Dates written as ISO text or Excel serial numbers, and CHILD ids turned into
    floats (``123.0``), converted when a whole column is unambiguously in that form;
    each conversion is a warning naming the column. A date column in no recognisable
    form is one file-level problem, not one failure per row."""
    for name in DATE_COLUMNS:
        if name not in tbl.column_names:
            continue
        col = tbl.column(name)
        if _all_match(col, _DDMMYYYY):
            continue
        text = pc.utf8_trim_whitespace(col)
        blank = pc.fill_null(pc.equal(text, ""), True)
        converted = None
        if _all_match(col, _DDMMYYYY_TIME):
            converted, form = pc.utf8_slice_codeunits(text, 0, 10), "dd/mm/yyyy with a time"
        elif _all_match(col, _ISO):
            iso = pc.cast(pc.utf8_slice_codeunits(text, 0, 10), pa.large_string())
            converted = pc.binary_join_element_wise(
                pc.utf8_slice_codeunits(iso, 8, 10),
                pc.utf8_slice_codeunits(iso, 5, 7),
                pc.utf8_slice_codeunits(iso, 0, 4),
                pa.scalar("/", pa.large_string()),
            )
            form = "ISO yyyy-mm-dd"
        elif _all_match(col, _SERIAL):
            days = pc.cast(
                pc.cast(pc.if_else(blank, pa.scalar("0"), text), pa.float64()), pa.int64()
            ).to_numpy(zero_copy_only=False)
            dates = (_EXCEL_EPOCH + days.astype("timedelta64[D]")).astype("datetime64[D]")
            strings = pd.Series(dates).dt.strftime("%d/%m/%Y").to_numpy(dtype=object)
            converted, form = pa.array(strings, pa.large_string()), "Excel serial day numbers"
        if converted is not None:
            converted = pc.if_else(blank, col, pc.cast(converted, col.type))
            tbl = tbl.set_column(tbl.column_names.index(name), name, converted)
            result.warnings.append(
                (
                    "date_format_converted",
                    name,
                    f"every {name} date is written as {form}; converted to dd/mm/yyyy",
                )
            )
            continue
        valid = pc.fill_null(pc.match_substring_regex(text, _DDMMYYYY), False)
        if not pc.any(valid).as_py() and not pc.all(blank).as_py():
            sample = pc.drop_null(pc.if_else(blank, pa.scalar(None, col.type), col))[0]
            problem = (
                f"no {name} date is in the dd/mm/yyyy form the SSDA903 return uses (for "
                f"example '{sample.as_py()}'); re-export with dates as dd/mm/yyyy"
            )
            result.problem = f"{result.problem}; {problem}" if result.problem else problem
            result.problem_rule = "file_date_format"
            result.problem_column = (
                f"{result.problem_column}, {name}" if result.problem_column else name
            )
    if "CHILD" in tbl.column_names:
        col = tbl.column("CHILD")
        floats = pc.fill_null(pc.match_substring_regex(col, _FLOAT_ID), False)
        n = pc.sum(pc.cast(floats, pa.int64())).as_py() or 0
        if n:
            fixed = pc.replace_substring_regex(col, r"\.0+$", "")
            tbl = tbl.set_column(
                tbl.column_names.index("CHILD"), "CHILD", pc.if_else(floats, fixed, col)
            )
            result.warnings.append(
                (
                    "child_id_normalised",
                    "CHILD",
                    f"{n:,} CHILD value(s) written as decimal numbers (e.g. 123.0, as a "
                    "spreadsheet saves them) read as whole numbers (123); check that the "
                    "IDs match last year's, leading zeros included",
                )
            )
    return tbl


_FOOTER = re.compile(
    r"^(total|totals|count|number of|no\.? of|records|rows|end of|summary|report|generated|"
    r"extracted|produced|run on|printed)\b",
    re.IGNORECASE,
)


def _strip_footer(body: str) -> tuple[str, list[str]]:
    """``body`` without footer/summary lines at its end (``Total records: 804``), and them.

    A footer is a last line with at most one non-blank field that reads as a summary
    (starts with Total, Count, Records, End of ... or holds ``word: number``); data rows
    always have more than one field filled.
    """
    footers: list[str] = []
    while body and len(footers) < 5:
        start = body.rfind("\n") + 1
        line = body[start:]
        fields = [f.strip() for f in line.split(",") if f.strip()]
        text = " ".join(fields).strip('"')
        is_footer = len(fields) <= 1 and bool(
            text and (_FOOTER.match(text) or re.search(r"[A-Za-z][^:]*:\s*\d", text))
        )
        if not is_footer or start == 0:
            break
        footers.insert(0, line.strip())
        body = _strip_blank_tail(body[: max(start - 1, 0)])
    return body, footers


def _count_data_lines(body: str, first_nl: int) -> int:
    """Non-blank lines after the header line (the rows of a file that cannot be used)."""
    if first_nl < 0:
        return 0
    return sum(1 for line in body[first_nl + 1 :].split("\n") if line.strip(" \t,\r"))


def _strip_blank_tail(text: str) -> str:
    """``text`` without trailing blank lines (empty, spaces or only commas)."""
    end = len(text)
    while end > 0:
        start = text.rfind("\n", 0, end) + 1
        if text[start:end].strip(" \t,\r"):
            break
        end = max(start - 1, 0)
    return text[:end]


_BLANK_LINE = re.compile(r"^[ \t,]*$", re.MULTILINE)


def _may_have_blank_rows(rows_text: str) -> bool:
    # Cheap substring tests first: a real row starts with CHILD, so a line starting with
    # a comma, a space or nothing is rare, and only then is the regex needed.
    if not any(m in rows_text for m in ("\n\n", "\n,", "\n ", "\n\t")) and rows_text[:1] not in (
        ",",
        " ",
        "\t",
        "\n",
    ):
        return False
    return _BLANK_LINE.search(rows_text) is not None


def _header_problem(canonical: list[str], table: str) -> tuple[str | None, list[str]]:
    """Why the header line makes the file unusable (and the columns concerned), if it does."""
    from collections import Counter

    from assets.ingest.layout import MAX_COLUMNS

    if len(canonical) > MAX_COLUMNS:
        return (
            f"the header line has {len(canonical):,} columns, over the limit of {MAX_COLUMNS}",
            [],
        )
    seen = Counter(canonical)  # linear in the number of columns, however many there are
    dupes = sorted(c for c, n in seen.items() if n > 1 and c)
    if dupes:
        return f"column(s) {', '.join(dupes)} appear more than once in the header line", dupes
    present = set(canonical)
    other = "episodes" if table == "header" else "header"
    missing = [c for c in REQUIRED_COLUMNS[table] if c not in present]
    if _DISTINCTIVE[other] & present and not _DISTINCTIVE[table] & present:
        return (
            f"this file looks like the {other} table, not the {table} table "
            f"(required column(s) missing: {', '.join(missing)})"
        ), missing
    if missing:
        hint = ""
        if len(canonical) == 1 and any(sep in canonical[0] for sep in ";\t|"):
            hint = " (the file seems to use a separator other than a comma)"
        return f"required column(s) missing: {', '.join(missing)}{hint}", missing
    return None, []


def _arrow_rows(text: str, names: list[str], use_threads: bool) -> pa.Table:
    """Header-less CSV rows as text columns, in one Arrow call (raises if they don't parse)."""
    return pacsv.read_csv(
        io.BytesIO(text.encode("utf-8")),
        read_options=pacsv.ReadOptions(column_names=names, use_threads=use_threads),
        parse_options=pacsv.ParseOptions(newlines_in_values=False),
        convert_options=pacsv.ConvertOptions(
            # large_string: what pandas' str dtype holds, so no cast later.
            column_types={n: pa.large_string() for n in names},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )


def _parse_fast(rows_text: str, names: list[str]) -> pa.Table | None:
    try:
        tbl = _arrow_rows(rows_text, names, use_threads=False)
    except (pa.ArrowInvalid, pa.ArrowException):
        return None  # ragged rows etc.: the slow path reports them row by row
    return tbl.append_column("source_row", pa.array(np.arange(1, tbl.num_rows + 1, dtype=np.int64)))


def _parse_fast_many(texts: list[str], names: list[str]) -> tuple[list[pa.Table] | None, bool]:
    """Each text parsed as :func:`_parse_fast` would, by one Arrow call over all of them;
    None if the whole does not parse or its rows are not exactly the texts' lines; and
    whether every date and CHILD is already in the return's own form (see _is_plain).

    Only for texts without quotes, carriage returns or blank lines, where a row is a line.
    """
    parts = [t if t.endswith("\n") else t + "\n" for t in texts]
    counts = [t.count("\n") for t in parts]
    try:
        tbl = _arrow_rows("".join(parts), names, use_threads=True)
    except (pa.ArrowInvalid, pa.ArrowException):
        return None, False
    if tbl.num_rows != sum(counts):
        return None, False
    out, start = [], 0
    for n in counts:
        rows = np.arange(1, n + 1, dtype=np.int64)
        out.append(tbl.slice(start, n).append_column("source_row", pa.array(rows)))
        start += n
    return out, _is_plain(tbl)


def _parse_slow(rows_text: str, names: list[str], result: ReadResult) -> pa.Table:
    # The file is already under the size limit; a single huge field is data to report
    # (it fails its code list), not a reason to crash.
    csv.field_size_limit(max(csv.field_size_limit(), DEFAULT_MAX_BYTES))
    width = len(names)
    records: list[list[str]] = []
    numbers: list[int] = []
    for number, fields in enumerate(csv.reader(io.StringIO(rows_text)), start=1):
        if not fields or all(not f.strip() for f in fields):
            result.blank_rows += 1
            continue
        if len(fields) != width:
            # Excel sometimes pads rows with empty trailing cells; those are harmless.
            if len(fields) > width and not any(f.strip() for f in fields[width:]):
                fields = fields[:width]
            else:
                child = fields[0].strip() if names[0] == "CHILD" and fields[0].strip() else None
                result.bad_rows.append((number, ",".join(fields), child))
                continue
        records.append(fields)
        numbers.append(number)
    columns = list(zip(*records, strict=True)) if records else [()] * width
    arrays = {n: pa.array(col, pa.large_string()) for n, col in zip(names, columns, strict=True)}
    arrays["source_row"] = pa.array(numbers, pa.int64())
    return pa.table(arrays)


def _known_columns(tbl: pa.Table, table: str, keep: tuple[str, ...] = ()) -> pa.Table:
    """The SSDA903 columns in canonical order (absent optional ones as nulls) + source_row,
    and the ``keep`` columns the file has (a pooled file's LA and YEAR)."""
    n = tbl.num_rows
    arrays = [
        tbl.column(c) if c in tbl.column_names else pa.nulls(n, pa.large_string())
        for c in TABLE_COLUMNS[table]
    ]
    kept = [c for c in keep if c in tbl.column_names]
    return pa.table(
        [*arrays, tbl.column("source_row"), *(tbl.column(c) for c in kept)],
        names=[*TABLE_COLUMNS[table], "source_row", *kept],
    )


def tidy_table(tbl: pa.Table, threads: int = 1) -> pa.Table:
    """Strip surrounding spaces, upper-case codes, and make blank values null.

    Works on any table holding SSDA903 columns (one file or a whole year's files at once,
    which is how validation calls it: per-column Arrow kernels, no per-file overhead).
    Columns come back as one contiguous chunk each. ``threads`` > 1 tidies columns in
    parallel (Arrow kernels release the GIL); the result does not depend on it.
    """

    def tidy(name: str) -> pa.Array | pa.ChunkedArray:
        col = tbl.column(name).combine_chunks()
        is_text = pa.types.is_string(col.type) or pa.types.is_large_string(col.type)
        if is_text and name in _ALL_COLUMNS:
            col = pc.utf8_trim_whitespace(col)
            if name in CODED_COLUMNS:
                # Codes are upper-case in the DfE code sets; "e4b" means E4B.
                col = pc.utf8_upper(col)
            col = pc.if_else(pc.equal(col, ""), pa.scalar(None, col.type), col)
        return col

    names = tbl.column_names
    if threads > 1 and len(names) > 1:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            columns = list(pool.map(tidy, names))
    else:
        columns = [tidy(name) for name in names]
    return pa.table(columns, names=names)


def _read_xlsx(path: Path, table: str) -> ReadResult:
    """One table from a workbook: the sheet holding ``table`` by its columns."""
    parts = read_workbook(path)
    if len(parts) == 1 and parts[0].table is None:
        return parts[0].result
    for part in parts:
        if part.table == table:
            return part.result
    return ReadResult(
        None,
        notes=["read from an Excel workbook"],
        problem=f"no sheet of the workbook holds the {table} table",
        problem_rule="file_missing_column",
    )


@dataclass
class TablePart:
    """One table found inside a file that can hold several (a workbook, the DfE XML)."""

    where: str  # "sheet Header", "XML" ...
    table: str | None  # header, episodes, other:<name>, or None (nothing readable)
    result: ReadResult


def _xlsx_problem(problem: str, rule: str = "file_unreadable") -> list[TablePart]:
    return [TablePart("workbook", None, ReadResult(None, problem=problem, problem_rule=rule))]


def read_workbook(path: Path) -> list[TablePart]:
    """Every sheet of an .xlsx that holds an SSDA903 table, found by its header row
    (title rows above it are skipped), each read as strings like a CSV.

    Before opening, the archive's declared uncompressed size is checked (a zip bomb is
    small on disk); sheets over the row limit and rows over the column limit are
    rejected rather than read.
    """
    import zipfile

    from openpyxl import load_workbook

    from assets.ingest.layout import MAX_COLUMNS, MAX_SHEET_ROWS, MAX_XLSX_UNCOMPRESSED_BYTES

    try:
        with zipfile.ZipFile(path) as archive:
            expanded = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        return _xlsx_problem(f"Excel file cannot be opened ({type(exc).__name__})")
    if expanded > MAX_XLSX_UNCOMPRESSED_BYTES:
        return _xlsx_problem(
            f"Excel file expands to {expanded:,} bytes, over the limit of "
            f"{MAX_XLSX_UNCOMPRESSED_BYTES:,} (REENTRY_MAX_XLSX_UNCOMPRESSED_BYTES); not read: "
            "send the tables as CSV",
            "file_too_large",
        )
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for corrupt files
        return _xlsx_problem(f"Excel file cannot be opened ({type(exc).__name__})")
    parts: list[TablePart] = []
    try:
        for sheet in wb.sheetnames:
            lines: list[list[str]] = []
            problem = None
            try:
                for row in wb[sheet].iter_rows(values_only=True):
                    if len(row) > MAX_COLUMNS:
                        problem = f"sheet '{sheet}' has {len(row):,} columns, over {MAX_COLUMNS}"
                        break
                    lines.append(["" if v is None else _xlsx_value(v) for v in row])
                    if len(lines) > MAX_SHEET_ROWS:
                        problem = (
                            f"sheet '{sheet}' has more than {MAX_SHEET_ROWS:,} rows, the "
                            "sheet-row limit (REENTRY_MAX_SHEET_ROWS); not read: send the "
                            "table as CSV"
                        )
                        break
            except Exception as exc:  # a corrupt sheet is that sheet's problem only
                problem = f"sheet '{sheet}' cannot be read ({type(exc).__name__})"
            where = f"sheet {sheet}"
            if problem:
                result = ReadResult(None, problem=problem, problem_rule="file_too_large")
                parts.append(TablePart(where, None, result))
                continue
            width = max((i + 1 for line in lines for i, v in enumerate(line) if v), default=0)
            lines = [line[:width] for line in lines]
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\n").writerows(lines)
            text = buf.getvalue()
            found = header_line_of(text)
            table = table_of_columns(found[1]) if found else None
            if table is None and table_of_name(sheet) and found:
                table = table_of_name(sheet)
            if table is None:
                if any(any(v.strip() for v in line) for line in lines):
                    parts.append(TablePart(where, None, ReadResult(None, rows_seen=len(lines))))
                continue
            if table.startswith("other:"):
                parts.append(TablePart(where, table, ReadResult(None)))
                continue
            if "LA" in found[1]:
                # A pooled (multi-LA) sheet is split by LA only when it comes as CSV; read
                # here it would all be credited to the folder's LA, so it is refused.
                pooled = ReadResult(
                    None,
                    problem=f"sheet '{sheet}' is a pooled table of several LAs (it has an LA "
                    "column); pooled returns are read from CSV only, so it was not read: "
                    "save the sheet as CSV UTF-8",
                    problem_rule="file_unreadable",
                    rows_seen=sum(1 for line in lines[found[0] + 1 :] if any(line)),
                )
                parts.append(TablePart(where, None, pooled))
                continue
            notes = [f"read from sheet '{sheet}' of an Excel workbook"]
            parts.append(TablePart(where, table, _parse_csv_text(text, table, "xlsx", notes)))
    finally:
        wb.close()
    return parts


_XML_TABLES = {
    "AREVIEW": "reviews",
    "AMISSING": "missing",
    "OC2": "OC2 (outcomes for looked-after children)",
    "PERMANENCE": "previous permanence",
    "AD_PLACED": "placed for adoption",
}


def read_xml(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> list[TablePart]:
    """The header and episodes tables from the DfE SSDA903 XML (root ``EXPSSDA903``, one
    ``CHILD`` element per child with its ``HEADER`` and ``EPISODE`` elements; ``CHILDID``
    and ``PL`` stand for CHILD and PLACE).

    Parsed with defusedxml: no entity expansion, no external entities or DTDs, so a
    hostile file is rejected, never expanded. Values become the rows of a CSV in the
    return's own column order and are read exactly as a CSV would be.
    """
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import parse

    try:
        if path.stat().st_size > max_bytes:
            raise ValueError("over the size limit")
        root = parse(str(path), forbid_dtd=True).getroot()
    except (DefusedXmlException, SyntaxError, ValueError, OSError) as exc:
        detail = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        return [
            TablePart(
                "XML",
                None,
                ReadResult(
                    None,
                    problem=f"XML file cannot be read safely ({type(exc).__name__}: {detail})",
                    problem_rule="file_unreadable",
                ),
            )
        ]
    if root.tag != "EXPSSDA903":
        return [
            TablePart(
                "XML",
                None,
                ReadResult(
                    None,
                    problem=f"XML root element is <{root.tag}>, not the DfE <EXPSSDA903>",
                    problem_rule="file_unreadable",
                ),
            )
        ]
    rename = {"CHILDID": "CHILD", "PL": "PLACE"}
    headers: list[list[str]] = []
    episodes: list[list[str]] = []
    others: dict[str, int] = {}

    def leaves(element) -> dict[str, str]:
        return {rename.get(e.tag, e.tag): (e.text or "").strip() for e in element if len(e) == 0}

    for child in root:
        if child.tag != "CHILD":
            continue
        fields: dict[str, str] = leaves(child)
        for sub in child:
            if sub.tag == "HEADER":
                fields.update(leaves(sub))
                for nested in sub:
                    if len(nested) and nested.tag in _XML_TABLES:
                        others[_XML_TABLES[nested.tag]] = others.get(_XML_TABLES[nested.tag], 0) + 1
        headers.append([fields.get(c, "") for c in HEADER_COLUMNS])
        for sub in child:
            if sub.tag == "EPISODE":
                ep = {**fields, **leaves(sub)}
                episodes.append([ep.get(c, "") for c in EPISODE_COLUMNS])
            elif sub.tag in _XML_TABLES:
                others[_XML_TABLES[sub.tag]] = others.get(_XML_TABLES[sub.tag], 0) + 1
    parts = []
    for table, rows, columns in (
        ("header", headers, HEADER_COLUMNS),
        ("episodes", episodes, EPISODE_COLUMNS),
    ):
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
        notes = ["read from the DfE SSDA903 XML"]
        parts.append(TablePart("XML", table, _parse_csv_text(buf.getvalue(), table, "xml", notes)))
    for name in sorted(others):
        parts.append(TablePart("XML", f"other:{name}", ReadResult(None, rows_seen=others[name])))
    return parts


def _xlsx_value(value: object) -> str:
    # Excel stores dates as datetimes; render them as the 903 text format so the same
    # strict dd/mm/yyyy check applies to both file types.
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
