"""The release spreadsheet, following the Analysis Function's "Releasing statistics in
spreadsheets" guidance (GSS, 2021, updated 2024) and its accessibility checklist.

What the guidance asks and where it is done here:
- cover sheet first (title with period and geography, summary, source, dates, status,
  contact, key caveats), then a contents sheet with links, then a notes sheet;
- one table per worksheet, marked up as a named Excel table with a meaningful name, one
  header row, units in brackets in the headers, no merged cells, no blank rows or columns,
  nothing below the table, no freeze panes and no filter buttons;
- title in A1 and explanatory lines in column A above the table, including the meaning of
  every shorthand used ([c], [x], [z], [low]) and the notes that apply to the whole table;
- numbers stored as numbers; shorthand as text in the same column; notes as ``[note n]``;
- document title and language (en-GB) in the file properties; cursor in A1 on every sheet.

Determinism: openpyxl's own ``save`` stamps the current time into docProps/core.xml, so
the package is written with the release date as created/modified time, and the zip is
rewritten with a fixed entry date and order. Table bodies (up to ~1 million cells) are
serialised straight to SpreadsheetML rows: openpyxl's per-cell objects take about 10 s per
million cells on this machine, half the whole release budget; the structure around them
(sheets, tables, styles, links, properties) is still written by openpyxl.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.table import Table, TableStyleInfo
from openpyxl.writer.excel import ExcelWriter

from assets.common.vocabulary import LOCAL, NATIONAL, TOTAL
from assets.publication.notes import global_notes, note_references, notes_sheet

# EES symbol -> spreadsheet shorthand (Analysis Function: "Symbols, shorthand and notes").
SHORTHAND = {"c": "[c]", "x": "[x]", "z": "[z]", "k": "[low]"}
SHORTHAND_TEXT = (
    "Some cells contain shorthand instead of a number: [c] = not published to protect "
    "confidentiality; [x] = not available (follow-up window not yet complete, the local "
    "authority's return was not usable, a rate on fewer than 10 children, or fewer than 7 "
    "statistical neighbours published); [z] = not applicable; [low] = rounds to 0% but "
    "is not zero."
)
ROUNDING_TEXT = (
    "Counts for England and regions are rounded to the nearest 10. Rates and confidence "
    "limits are calculated from unrounded counts and shown as whole percentages."
)
FORMULA_START = ("=", "+", "-", "@")
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass
class Column:
    source: str  # column of the EES frame
    header: str  # header text, units in brackets
    kind: str = "text"  # "text" or "number"
    width: float = 14


@dataclass
class SheetTable:
    sheet: str
    table_name: str
    title: str
    lines: list[str]
    columns: list[Column]
    frame: pd.DataFrame  # EES-format strings, plus a "notes" column
    source_rows: np.ndarray = field(default_factory=lambda: np.array([], dtype=int))


COUNT_COLUMNS = [
    Column("returned_home", "Children who returned home (number)", "number"),
    Column("re_entered", "Re-entered care, same local authority (number)", "number"),
    Column("not_re_entered", "Did not re-enter care, same local authority (number)", "number"),
    Column("re_entered_any_la", "Re-entered care, any local authority (number)", "number"),
    Column("turned_18_in_window", "Turned 18 within the window (number)", "number"),
    Column("re_entry_rate", "Re-entry rate (%)", "number"),
    Column("re_entry_rate_lower_ci", "Re-entry rate lower 95% confidence limit (%)", "number"),
    Column("re_entry_rate_upper_ci", "Re-entry rate upper 95% confidence limit (%)", "number"),
]
KEY_COLUMNS = [
    Column("time_period", "Cohort year (ending 31 March)", "number", 12),
    Column("cohort_span", "Cohort years", "text", 14),
]
BREAKDOWN_COLUMNS = [
    Column("characteristic_group", "Breakdown", "text", 22),
    Column("characteristic", "Category", "text", 20),
    Column("follow_up_months", "Follow-up window (months)", "number", 11),
]
AREA_COLUMNS = [
    Column("geographic_level", "Geographic level", "text", 12),
    Column("area_code", "Area code", "text", 12),
    Column("area_name", "Area name", "text", 24),
]
LA_COLUMNS = [
    Column("region_name", "Region", "text", 22),
    Column("old_la_code", "Old LA code", "text", 8),
    Column("new_la_code", "New LA code", "text", 12),
    Column("la_name", "Local authority", "text", 28),
]
COMPARISON_COLUMNS = [
    Column("funnel_position", "Position on funnel plot against England", "text", 26),
    Column("sn_re_entry_rate", "Statistical neighbours' re-entry rate (%)", "number"),
    Column("england_re_entry_rate", "England re-entry rate (%)", "number"),
]
NOTES_COLUMN = Column("notes", "Notes", "text", 18)
OPTIONAL_COLUMNS = [
    Column("re_entry_rate_any_la", "Re-entry rate, any local authority (%)", "number"),
    Column("region_re_entry_rate", "Region's re-entry rate (%)", "number"),
    Column("standardised_ratio", "Standardised re-entry ratio (ratio)", "number"),
    Column(
        "standardised_ratio_lower_ci",
        "Standardised ratio lower 95% confidence limit (ratio)",
        "number",
    ),
    Column(
        "standardised_ratio_upper_ci",
        "Standardised ratio upper 95% confidence limit (ratio)",
        "number",
    ),
    Column(
        "sn_neighbours_included", "Statistical neighbours in the neighbour rate (number)", "number"
    ),
    Column("las_excluded", "Local authorities left out of the total (number)", "number"),
]


def safe_text(value: str) -> str:
    """Text that a spreadsheet cannot mistake for a formula (OWASP CSV injection advice):
    a leading = + - or @ gets an apostrophe in front."""
    return "'" + value if value.startswith(FORMULA_START) else value


def _xml_text(s: pd.Series) -> pd.Series:
    s = s.astype(str)
    if s.str.contains(_ILLEGAL_XML.pattern, regex=True).any():
        s = s.str.replace(_ILLEGAL_XML, "", regex=True)
    if s.str.contains("[&<>]", regex=True).any():
        s = s.str.replace("&", "&amp;").str.replace("<", "&lt;").str.replace(">", "&gt;")
    return s


def _cell_values(col: Column, values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(is_number, text) for one column: numbers as numbers, shorthand or text as text."""
    v = values.fillna("").astype(str)
    if col.kind == "number":
        is_num = v.str.fullmatch(r"-?\d+(\.\d+)?")
        mapped = v.replace(SHORTHAND)
        bad = ~is_num & ~v.isin(list(SHORTHAND))
        if bad.any():
            raise ValueError(
                f"column {col.source}: value {v[bad].iloc[0]!r} is neither a number nor a "
                f"symbol {sorted(SHORTHAND)}"
            )
        return is_num, mapped
    risky = v.str.startswith(FORMULA_START)
    return pd.Series(False, index=v.index), v.where(~risky, "'" + v)


def _rows_xml(table: SheetTable, first_row: int) -> tuple[str, int]:
    """SpreadsheetML <row> elements for the table body, starting at ``first_row``.

    Numbers are written as values, text as inline strings (never formulas); an empty
    text (e.g. no row-specific note) writes no cell at all.
    """
    n = len(table.frame)
    rownums = [str(r) for r in range(first_row, first_row + n)]
    columns = []
    for j, col in enumerate(table.columns):
        letter = get_column_letter(j + 1)
        is_num, text = _cell_values(col, table.frame[col.source].reset_index(drop=True))
        esc = _xml_text(text).tolist()
        columns.append(
            [
                ""
                if not t
                else f'<c r="{letter}{r}"><v>{t}</v></c>'
                if num
                else f'<c r="{letter}{r}" t="inlineStr"><is><t>{t}</t></is></c>'
                for r, num, t in zip(rownums, is_num.tolist(), esc, strict=True)
            ]
        )
    rows = [
        f'<row r="{r}">' + "".join(cells) + "</row>"
        for r, cells in zip(rownums, zip(*columns, strict=True), strict=True)
    ]
    return "".join(rows), first_row + n - 1


def _write_lines(ws, title: str, lines: list[str]) -> int:
    ws["A1"] = safe_text(title)
    ws["A1"].style = "Headline 1"
    for i, line in enumerate(lines, start=2):
        ws.cell(row=i, column=1, value=safe_text(line))
    return len(lines) + 2


def _add_table(ws, name: str, header_row: int, columns: list[Column], last_row: int) -> None:
    for j, col in enumerate(columns, start=1):
        cell = ws.cell(row=header_row, column=j, value=col.header)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.column_dimensions[get_column_letter(j)].width = col.width
    ref = f"A{header_row}:{get_column_letter(len(columns))}{max(last_row, header_row + 1)}"
    table = Table(displayName=name, ref=ref)
    # Name the columns here: left to openpyxl it reads every cell of the range to find them.
    table._initialise_columns()
    for tc, col in zip(table.tableColumns, columns, strict=True):
        tc.name = col.header
    table.tableStyleInfo = TableStyleInfo(name="TableStyleLight1", showRowStripes=True)
    # openpyxl adds filter buttons to every table; the AF checklist says no filters.
    table.autoFilter = None
    ws.add_table(table)


def _small_table(ws, name: str, title: str, lines: list[str], columns, frame) -> None:
    header_row = _write_lines(ws, title, lines)
    for i, row in enumerate(frame.itertuples(index=False), start=header_row + 1):
        for j, value in enumerate(row, start=1):
            cell = ws.cell(row=i, column=j, value=safe_text(str(value)))
            cell.data_type = "s"  # never a formula
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    _add_table(ws, name, header_row, columns, header_row + len(frame))


def _area_columns(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    national = df["geographic_level"] == NATIONAL
    df["area_code"] = np.where(national, df["country_code"], df["region_code"])
    df["area_name"] = np.where(national, df["country_name"], df["region_name"])
    return df


def reentry_tables(reentry_ees: pd.DataFrame, notes: pd.DataFrame) -> list[SheetTable]:
    """The four re-entry tables; together they hold every row of the EES headline file."""
    df = reentry_ees.copy()
    df["follow_up_months"] = df["follow_up"].str.extract(r"^(\d+)", expand=False)
    keyed = df.assign(
        time_period=df["time_period"].astype(int),
        follow_up_months=df["follow_up_months"].astype(int),
        region_code=df["region_code"].replace("", None),
        old_la_code=df["old_la_code"].replace("", None),
    )
    df["notes"] = note_references(keyed, notes).to_numpy()
    df = _area_columns(df)
    df["source_row"] = np.arange(len(df))
    whole = ", ".join(f"[note {n}]" for n in global_notes(notes))
    total = df["characteristic_group"] == TOTAL
    la = df["geographic_level"] == LOCAL
    common = [
        "This worksheet contains one table.",
        SHORTHAND_TEXT,
        ROUNDING_TEXT,
        f"Notes that apply to the whole table: {whole}. Notes that apply to particular "
        "rows are listed in the Notes column, which is empty when none apply. The notes "
        "are on the Notes worksheet.",
        "Source: SSDA903 children looked after returns made by local authorities.",
    ]
    specs = [
        (
            "Table_1",
            "England_and_regions_headline",
            "Re-entry to care after a return home: England and regions, all children",
            ~la & total,
            AREA_COLUMNS,
        ),
        (
            "Table_2",
            "England_and_regions_by_characteristic",
            "Re-entry to care after a return home: England and regions, by characteristic of the child",
            ~la & ~total,
            AREA_COLUMNS,
        ),
        (
            "Table_3",
            "Local_authority_headline",
            "Re-entry to care after a return home: local authorities, all children",
            la & total,
            LA_COLUMNS,
        ),
        (
            "Table_4",
            "Local_authority_by_characteristic",
            "Re-entry to care after a return home: local authorities, by characteristic of the child",
            la & ~total,
            LA_COLUMNS,
        ),
    ]
    out = []
    for sheet, name, title, mask, geo in specs:
        part = df[mask]
        cols = KEY_COLUMNS[:1] + geo + KEY_COLUMNS[1:] + BREAKDOWN_COLUMNS + COUNT_COLUMNS
        optional = [c for c in OPTIONAL_COLUMNS if c.source in df]
        cols = cols + optional + COMPARISON_COLUMNS + [NOTES_COLUMN]
        if sheet in ("Table_1", "Table_3"):
            cols = [c for c in cols if c.source not in ("characteristic_group", "characteristic")]
        if not la[mask].any():
            cols = [c for c in cols if c.source not in ("funnel_position", "sn_re_entry_rate")]
        lines = list(common)
        if (part["notes"] == "").all():
            # No row-specific note: a Notes column would be a blank column.
            cols = [c for c in cols if c is not NOTES_COLUMN]
            lines[3] = (
                f"Notes that apply to the whole table: {whole}. The notes are on the Notes "
                "worksheet."
            )
        if sheet in ("Table_3", "Table_4"):
            lines.insert(
                3,
                "Funnel plot position compares each local authority's rate with England's for "
                "the same cohort and window, allowing for its number of children (exact "
                "binomial 95% and 99.8% limits).",
            )
        out.append(SheetTable(sheet, name, title, lines, cols, part, part["source_row"].to_numpy()))
    return out


def context_tables(
    ceased_ees: pd.DataFrame, ttr_ees: pd.DataFrame, notes: pd.DataFrame
) -> list[SheetTable]:
    whole = ", ".join(f"[note {n}]" for n in global_notes(notes))
    ceased = _area_columns(ceased_ees)
    ceased["la_or_area_name"] = np.where(
        ceased["la_name"] != "", ceased["la_name"], ceased["area_name"]
    )
    ceased["la_or_area_code"] = np.where(
        ceased["old_la_code"] != "", ceased["old_la_code"], ceased["area_code"]
    )
    ttr = _area_columns(ttr_ees)
    tables = [
        SheetTable(
            "Table_5",
            "Children_ceasing_care_by_reason",
            "Children who ceased to be looked after, by reason: England, regions and local authorities",
            [
                "This worksheet contains one table.",
                SHORTHAND_TEXT,
                ROUNDING_TEXT.split(". ")[0] + ".",
                "Area code is the region or country code, or the 3-digit old LA code for a local authority.",
                f"Notes that apply to the whole table: {whole}.",
                "Source: SSDA903 children looked after returns made by local authorities.",
            ],
            [
                Column("time_period", "Year (ending 31 March)", "number", 10),
                Column("geographic_level", "Geographic level", "text", 14),
                Column("la_or_area_code", "Area code", "text", 12),
                Column("la_or_area_name", "Area name", "text", 28),
                Column("reason_group", "Reason ceased", "text", 40),
                Column("ceased", "Children who ceased to be looked after (number)", "number", 16),
            ],
            ceased,
            np.arange(len(ceased)),
        ),
        SheetTable(
            "Table_6",
            "Time_from_return_home_to_re_entry",
            "Time from return home to re-entry, children who re-entered within 60 months: England and regions",
            [
                "This worksheet contains one table.",
                SHORTHAND_TEXT,
                ROUNDING_TEXT.split(". ")[0] + ".",
                f"Notes that apply to the whole table: {whole}.",
                "Source: SSDA903 children looked after returns made by local authorities.",
            ],
            [
                Column("time_period", "Cohort year (ending 31 March)", "number", 12),
                *AREA_COLUMNS,
                Column("time_band", "Time from return home to re-entry", "text", 22),
                Column("re_entered", "Children who re-entered care (number)", "number", 16),
            ],
            ttr,
            np.arange(len(ttr)),
        ),
    ]
    # Time to re-entry needs a cohort with complete 60-month follow-up; a release built on
    # fewer than six years has none, and an empty table is not published.
    return [t for t in tables if len(t.frame) > 0]


def sensitivity_table(
    sensitivity_ees: pd.DataFrame | None, notes: pd.DataFrame
) -> list[SheetTable]:
    """England and regional re-entry under each definition of a return home: every row
    of the EES sensitivity file (none when the table was not built)."""
    if sensitivity_ees is None or len(sensitivity_ees) == 0:
        return []
    whole = ", ".join(f"[note {n}]" for n in global_notes(notes))
    df = _area_columns(sensitivity_ees)
    return [
        SheetTable(
            "Table_7",
            "Re_entry_under_other_definitions",
            "Re-entry to care under other definitions of a return home: England and regions",
            [
                "This worksheet contains one table.",
                "Headline: children whose care ended with reason E4A or E4B (the "
                "published definition). Returns home including E13 and E41: reasons E13 "
                "(left care to live with parents, relatives or other person with no "
                "parental responsibility) and E41 (residence order or child arrangement "
                "order granted) counted as well, as before reason E4 was split. Excluding "
                "stays in care under 8 days: headline returns after a period of care of "
                "7 days or fewer left out.",
                SHORTHAND_TEXT,
                ROUNDING_TEXT.split(". ")[0] + ".",
                f"Notes that apply to the whole table: {whole}.",
                "Source: SSDA903 children looked after returns made by local authorities.",
            ],
            [
                Column("time_period", "Cohort year (ending 31 March)", "number", 12),
                *AREA_COLUMNS,
                Column("definition", "Definition of a return home", "text", 36),
                Column("follow_up", "Follow-up window", "text", 12),
                Column("returned_home", "Children who returned home (number)", "number", 16),
                Column(
                    "re_entered", "Re-entered care, same local authority (number)", "number", 16
                ),
                Column("re_entry_rate", "Re-entry rate (%)", "number", 12),
                Column("las_excluded", "Local authorities not included (number)", "number", 14),
            ],
            df,
            np.arange(len(df)),
        )
    ]


def _cover(ws, release, notes: pd.DataFrame) -> None:
    caveats = notes_sheet(notes)
    lines = [
        ("About these statistics", True),
        (
            "How many children in England who returned home from care re-entered care "
            "within 6, 12, 24 and 60 months, for England, each region and each local "
            "authority, with breakdowns, uncertainty and comparisons with statistical "
            "neighbours.",
            False,
        ),
        (f"Geography: {release.geography}, regions and local authorities.", False),
        (f"Period: children who returned home in the {release.period_text}.", False),
        (
            "Source: SSDA903 children looked after returns made by local authorities to the Department for Education.",
            False,
        ),
        ("Publication dates", True),
        (f"Released: {release.release_date.strftime('%-d %B %Y')}", False),
        (f"Next update: {release.next_update}", False),
        ("Status", True),
        (release.status + (" (provisional figures)" if release.provisional else ""), False),
        ("Contact", True),
        (f"{release.contact_name}, {release.producer}", False),
        (f"Email: {release.contact_email}", False),
        ("Key caveats", True),
    ]
    lines += [(f"[note {r.number}] {r.title}.", False) for r in caveats.itertuples()]
    lines += [
        ("Tables in this workbook", True),
        ("The Contents worksheet links to every table. Notes are on the Notes worksheet.", False),
    ]
    ws["A1"] = safe_text(f"{release.title}: {release.geography}, {release.period_text}")
    ws["A1"].style = "Headline 1"
    for i, (text, heading) in enumerate(lines, start=2):
        cell = ws.cell(row=i, column=1, value=safe_text(text))
        if heading:
            cell.style = "Headline 2"
    ws.column_dimensions["A"].width = 120


def _finish_sheet(ws) -> None:
    ws.sheet_view.selection[0].activeCell = "A1"
    ws.sheet_view.selection[0].sqref = "A1"
    ws.sheet_view.tabSelected = ws.title == "Cover_sheet"


def _zip_fixed(raw: bytes, when: datetime, inject: dict[str, tuple[str, str]]) -> bytes:
    """Rewrite the package: fixed entry dates, [Content_Types].xml first then sorted names,
    table bodies injected before </sheetData> with the sheet dimension corrected."""
    src = zipfile.ZipFile(io.BytesIO(raw))
    names = sorted(src.namelist(), key=lambda n: (n != "[Content_Types].xml", n))
    out = io.BytesIO()
    stamp = (when.year, when.month, when.day, 0, 0, 0)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in names:
            data = src.read(name)
            if name in inject:
                rows, dimension = inject[name]
                text = data.decode("utf-8")
                text = re.sub(
                    r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{dimension}"/>', text, count=1
                )
                text = text.replace("</sheetData>", rows + "</sheetData>", 1)
                data = text.encode("utf-8")
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            dst.writestr(info, data, compresslevel=6)
    return out.getvalue()


def write_workbook(
    path: Path,
    *,
    release,
    reentry_ees: pd.DataFrame,
    ceased_ees: pd.DataFrame,
    ttr_ees: pd.DataFrame,
    notes: pd.DataFrame,
    sensitivity_ees: pd.DataFrame | None = None,
) -> list[SheetTable]:
    """Write the spreadsheet to ``path``; returns the tables (for the agreement tests)."""
    tables = reentry_tables(reentry_ees, notes) + context_tables(ceased_ees, ttr_ees, notes)
    tables += sensitivity_table(sensitivity_ees, notes)
    wb = Workbook()
    cover = wb.active
    cover.title = "Cover_sheet"
    _cover(cover, release, notes)

    contents = wb.create_sheet("Contents")
    rows = pd.DataFrame(
        {
            "sheet": ["Notes", *[t.sheet for t in tables]],
            "title": ["Notes used in this workbook", *[t.title for t in tables]],
        }
    )
    _small_table(
        contents,
        "Table_of_contents",
        "Contents",
        ["This worksheet contains one table. Select a sheet name to go to that worksheet."],
        [Column("sheet", "Sheet name", "text", 14), Column("title", "Table title", "text", 100)],
        rows,
    )
    header_row = 3
    for i, sheet in enumerate(rows["sheet"], start=header_row + 1):
        cell = contents.cell(row=i, column=1)
        cell.hyperlink = Hyperlink(ref=cell.coordinate, location=f"'{sheet}'!A1", display=sheet)
        cell.style = "Hyperlink"

    notes_ws = wb.create_sheet("Notes")
    ns = notes_sheet(notes)
    frame = pd.DataFrame(
        {
            "number": "[note " + ns["number"].astype(str) + "]",
            "title": ns["title"],
            "text": ns["text"],
            "where": np.where(
                ns["number"].isin(global_notes(notes)),
                "Every table",
                "Rows that list it in the Notes column",
            ),
        }
    )
    _small_table(
        notes_ws,
        "Notes_table",
        "Notes",
        [
            "This worksheet contains one table.",
            "Note numbers stay the same from one release to the next.",
        ],
        [
            Column("number", "Note number", "text", 11),
            Column("title", "Note title", "text", 40),
            Column("text", "Note text", "text", 100),
            Column("where", "Where the note applies", "text", 24),
        ],
        frame,
    )

    inject = {}
    for t in tables:
        ws = wb.create_sheet(t.sheet)
        header_row = _write_lines(ws, t.title, t.lines)
        first = header_row + 1
        rows_xml, last = _rows_xml(t, first)
        _add_table(ws, t.table_name, header_row, t.columns, last)
        index = len(wb.worksheets)
        last_col = get_column_letter(len(t.columns))
        inject[f"xl/worksheets/sheet{index}.xml"] = (
            rows_xml,
            f"A1:{last_col}{max(last, header_row)}",
        )

    for ws in wb.worksheets:
        _finish_sheet(ws)
    wb.active = 0
    when = datetime(release.release_date.year, release.release_date.month, release.release_date.day)
    props = wb.properties
    props.title = f"{release.title}: {release.geography}, {release.period_text}"
    props.subject = "Re-entry to care after a return home"
    props.creator = release.producer
    props.lastModifiedBy = release.producer
    props.language = "en-GB"
    props.keywords = "children looked after, re-entry to care, returns home, SSDA903"
    props.created = when
    props.modified = when
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        # ExcelWriter directly: openpyxl's save_workbook would overwrite `modified` with now.
        ExcelWriter(wb, archive).write_data()
    data = _zip_fixed(buf.getvalue(), when, inject)
    Path(path).write_bytes(data)
    return tables
