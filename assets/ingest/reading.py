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

SUFFIXES = (".csv", ".xlsx")


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
    expected = TABLE_COLUMNS[table]
    extra = [n for n in canonical if n not in expected]
    return canonical, extra


def read_return_table(path: Path, table: str, max_bytes: int = DEFAULT_MAX_BYTES) -> ReadResult:
    """Read one SSDA903 table file (CSV or XLSX) as strings, recording every tolerance.

    The size limit is checked before a single byte is read. CHILD and every other value
    stay strings (leading zeros in IDs matter); blank values become null. A fast pyarrow
    reader handles well-formed files; files with blank lines or ragged rows fall back to
    Python's csv module so row numbers stay exactly those a reviewer sees in the file.
    """
    result = _read_return_table(path, table, max_bytes, defer=False)
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


# Text parsed in one Arrow call when files are read together (bounds the extra memory).
_BATCH_CHARS = 32 * 1024 * 1024


def read_return_tables(
    items: list[tuple[Path, str]], max_bytes: int = DEFAULT_MAX_BYTES, threads: int = 1
) -> list[ReadResult]:
    """:func:`read_return_table` for many files at once, with identical results.

    Files are decoded and checked in ``threads`` threads. Well-formed CSVs with the same
    header and no quotes or carriage returns (nearly every return) are then parsed by one
    multi-threaded Arrow call per batch and split back per file: at 150 LAs the per-file
    set-up of the Arrow reader cost more than parsing. Without quotes a row is exactly a
    line, so the split is exact; if a batch does not parse (a ragged row somewhere), each
    of its files is parsed on its own as :func:`read_return_table` does.
    """
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        prepared = list(
            pool.map(lambda item: _read_return_table(item[0], item[1], max_bytes, True), items)
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
                arrows = _parse_fast_many(texts, list(names))
                for j, arrow in zip(batch, arrows or [None] * len(batch), strict=True):
                    item = prepared[j]
                    if arrow is None:
                        arrow = _parse_fast(item.rows_text, item.names)
                    results[j] = _finish_csv(item, arrow)
                batch, size = [], 0
            if i is not None:
                batch.append(i)
                size += len(pending.rows_text)
    return results  # type: ignore[return-value]


def _read_return_table(
    path: Path, table: str, max_bytes: int, defer: bool
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
    return _parse_csv_text(text, table, encoding, notes, defer=defer)


def _parse_csv_text(
    text: str, table: str, encoding: str, notes: list[str], defer: bool = False
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
    pending = _Pending(result, rows_text, canonical, table, trailing)
    if _may_have_blank_rows(rows_text):
        return _finish_csv(pending, None)
    if defer and '"' not in rows_text and "\r" not in rows_text:
        return pending
    return _finish_csv(pending, _parse_fast(rows_text, canonical))


def _finish_csv(pending: _Pending, arrow: pa.Table | None) -> ReadResult:
    """The file's ReadResult from its fast-parsed rows, or the row-by-row reader's."""
    result = pending.result
    if arrow is None:
        arrow = _parse_slow(pending.rows_text, pending.names, result)
    result.blank_rows += max(pending.trailing, 0)
    if result.blank_rows:
        result.notes.append(f"{result.blank_rows} blank row(s) skipped")
    result.table = _known_columns(arrow, pending.table)
    return result


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
    dupes = sorted({c for c in canonical if canonical.count(c) > 1 and c})
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


def _parse_fast_many(texts: list[str], names: list[str]) -> list[pa.Table] | None:
    """Each text parsed as :func:`_parse_fast` would, by one Arrow call over all of them;
    None if the whole does not parse or its rows are not exactly the texts' lines.

    Only for texts without quotes, carriage returns or blank lines, where a row is a line.
    """
    parts = [t if t.endswith("\n") else t + "\n" for t in texts]
    counts = [t.count("\n") for t in parts]
    try:
        tbl = _arrow_rows("".join(parts), names, use_threads=True)
    except (pa.ArrowInvalid, pa.ArrowException):
        return None
    if tbl.num_rows != sum(counts):
        return None
    out, start = [], 0
    for n in counts:
        rows = np.arange(1, n + 1, dtype=np.int64)
        out.append(tbl.slice(start, n).append_column("source_row", pa.array(rows)))
        start += n
    return out


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


def _known_columns(tbl: pa.Table, table: str) -> pa.Table:
    """The SSDA903 columns in canonical order (absent optional ones as nulls) + source_row."""
    n = tbl.num_rows
    arrays = [
        tbl.column(c) if c in tbl.column_names else pa.nulls(n, pa.large_string())
        for c in TABLE_COLUMNS[table]
    ]
    return pa.table(
        [*arrays, tbl.column("source_row")], names=[*TABLE_COLUMNS[table], "source_row"]
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
    """Read the sheet named like the table (else the first sheet) with openpyxl read-only."""
    from openpyxl import load_workbook

    notes = ["read from an Excel workbook"]
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for corrupt files
        return ReadResult(
            None,
            problem=f"Excel file cannot be opened ({type(exc).__name__})",
            problem_rule="file_unreadable",
        )
    try:
        sheets = {s.strip().lower(): s for s in wb.sheetnames}
        ws = wb[sheets.get(table, wb.sheetnames[0])]
        lines = []
        for row in ws.iter_rows(values_only=True):
            lines.append(["" if v is None else _xlsx_value(v) for v in row])
    finally:
        wb.close()
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(lines)
    return _parse_csv_text(buf.getvalue(), table, "xlsx", notes)


def _xlsx_value(value: object) -> str:
    # Excel stores dates as datetimes; render them as the 903 text format so the same
    # strict dd/mm/yyyy check applies to both file types.
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
