"""The spreadsheet read back with openpyxl, one test per Analysis Function checklist rule
("Releasing statistics in spreadsheets", GSS Analysis Function)."""

from __future__ import annotations

import re
import zipfile
from datetime import datetime

import pytest
from openpyxl import load_workbook
from publication_fixtures import small_inputs

from assets.publication.open_data import write_open_data
from assets.publication.spreadsheet import safe_text, write_workbook

SHORTHANDS = ["[c]", "[x]", "[z]", "[low]"]


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    inputs = small_inputs()
    folder = tmp_path_factory.mktemp("xlsx")
    data = write_open_data(inputs["published"], inputs["notes"], folder / "data")
    path = folder / "reentry-to-care-2025.xlsx"
    kwargs = dict(
        release=inputs["release"],
        reentry_ees=data["reentry"],
        ceased_ees=data["ceased"],
        ttr_ees=data["time_to_reentry"],
        notes=inputs["notes"],
    )
    write_workbook(path, **kwargs)
    return {"path": path, "wb": load_workbook(path), "kwargs": kwargs, "inputs": inputs}


def _table_sheets(wb):
    return [ws for ws in wb.worksheets if ws.title not in ("Cover_sheet",)]


def _only_table(ws):
    ((name, ref),) = ws.tables.items()
    return ws.tables[name], ref


def _bounds(ref):
    m = re.fullmatch(r"([A-Z]+)(\d+):([A-Z]+)(\d+)", ref)
    return m.group(1), int(m.group(2)), m.group(3), int(m.group(4))


def test_cover_contents_and_notes_come_first(book):
    assert book["wb"].sheetnames[:3] == ["Cover_sheet", "Contents", "Notes"]
    assert book["wb"].active.title == "Cover_sheet"


def test_cover_sheet_has_title_period_geography_source_dates_status_contact_caveats(book):
    ws = book["wb"]["Cover_sheet"]
    release = book["inputs"]["release"]
    text = "\n".join(str(c.value) for c in ws["A"] if c.value)
    assert "England" in ws["A1"].value and "2016 to 2025" in ws["A1"].value
    for expected in [
        "Source:",
        "Released: 27 November 2025",
        "Next update: November 2026",
        release.status,
        release.contact_email,
        "Key caveats",
        "[note 3]",
    ]:
        assert expected in text, expected
    assert ws.max_column == 1


def test_contents_links_to_every_sheet(book):
    wb = book["wb"]
    ws = wb["Contents"]
    table, ref = _only_table(ws)
    _, first, _, last = _bounds(ref)
    links = {}
    for row in range(first + 1, last + 1):
        cell = ws.cell(row=row, column=1)
        links[cell.value] = cell.hyperlink.location
    assert set(links) == set(wb.sheetnames) - {"Cover_sheet", "Contents"}
    for sheet, location in links.items():
        assert location == f"'{sheet}'!A1"


def test_notes_sheet_explains_every_note_referenced(book):
    wb = book["wb"]
    ws = wb["Notes"]
    _, ref = _only_table(ws)
    _, first, _, last = _bounds(ref)
    listed = {ws.cell(row=r, column=1).value for r in range(first + 1, last + 1)}
    referenced = set()
    for sheet in wb.worksheets:
        if sheet.title == "Notes":
            continue
        for row in sheet.iter_rows(values_only=True):
            for v in row:
                if isinstance(v, str):
                    referenced |= set(re.findall(r"\[note \d+\]", v))
    assert referenced and referenced <= listed
    assert {"[note 3]", "[note 4]", "[note 5]", "[note 6]"} <= referenced


def test_each_table_sheet_has_exactly_one_named_table_with_a_meaningful_name(book):
    names = []
    for ws in _table_sheets(book["wb"]):
        table, _ = _only_table(ws)
        names.append(table.displayName)
        assert not re.fullmatch(r"[A-Za-z]{1,3}\d+|R\d*C\d*", table.displayName)
        assert len(table.displayName) > 8 and "_" in table.displayName
    assert len(set(names)) == len(names)


def test_title_in_a1_explanatory_lines_in_column_a_and_nothing_below_the_table(book):
    for ws in _table_sheets(book["wb"]):
        _, ref = _only_table(ws)
        start_col, header_row, end_col, last_row = _bounds(ref)
        assert start_col == "A"
        assert ws["A1"].value and ws["A1"].style == "Headline 1"
        for row in range(2, header_row):
            assert ws.cell(row=row, column=1).value, (ws.title, row)
            for col in range(2, ws.max_column + 1):
                assert ws.cell(row=row, column=col).value is None
        assert ws.max_row == last_row, ws.title
        assert ws.max_column == ws[f"{end_col}1"].column


def test_one_header_row_with_units_in_brackets_for_numeric_columns(book):
    for ws in _table_sheets(book["wb"]):
        _, ref = _only_table(ws)
        _, header_row, _, last_row = _bounds(ref)
        headers = [c.value for c in ws[header_row]]
        assert all(isinstance(h, str) and h for h in headers)
        assert len(set(headers)) == len(headers)
        columns = list(ws.iter_cols(min_row=header_row + 1, max_row=last_row, values_only=True))
        for header, values in zip(headers, columns, strict=True):
            if any(isinstance(v, int | float) for v in values):
                assert re.search(r"\([^)]+\)$", header), (ws.title, header)


def test_no_merged_cells_freeze_panes_or_filters(book):
    for ws in book["wb"].worksheets:
        assert not ws.merged_cells.ranges, ws.title
        assert ws.freeze_panes is None, ws.title
        assert ws.auto_filter.ref is None, ws.title
        for table in ws.tables.values():
            assert table.autoFilter is None, (ws.title, table.displayName)
    with zipfile.ZipFile(book["path"]) as z:
        for name in z.namelist():
            if name.startswith("xl/tables/"):
                assert b"autoFilter" not in z.read(name), name


def test_no_blank_rows_or_columns_inside_tables(book):
    for ws in _table_sheets(book["wb"]):
        _, ref = _only_table(ws)
        _, header_row, _, last_row = _bounds(ref)
        rows = list(ws.iter_rows(min_row=header_row + 1, max_row=last_row, values_only=True))
        assert rows, ws.title
        assert all(any(v not in (None, "") for v in r) for r in rows), ws.title
        for col in zip(*rows, strict=True):
            assert any(v not in (None, "") for v in col), ws.title


def test_shorthand_used_in_a_table_is_explained_above_it(book):
    seen = set()
    for ws in _table_sheets(book["wb"]):
        _, ref = _only_table(ws)
        _, header_row, _, last_row = _bounds(ref)
        above = " ".join(str(ws.cell(row=r, column=1).value) for r in range(1, header_row))
        for row in ws.iter_rows(min_row=header_row + 1, max_row=last_row, values_only=True):
            for v in row:
                if v in SHORTHANDS:
                    seen.add(v)
                    assert f"{v} =" in above, (ws.title, v)
    assert {"[c]", "[x]", "[z]"} <= seen


def test_numbers_are_stored_as_numbers(book):
    for ws in _table_sheets(book["wb"]):
        _, ref = _only_table(ws)
        _, header_row, _, last_row = _bounds(ref)
        headers = [c.value for c in ws[header_row]]
        for row in ws.iter_rows(min_row=header_row + 1, max_row=last_row):
            for header, cell in zip(headers, row, strict=True):
                # Columns with a unit hold numbers (or shorthand); category labels such as
                # "1" (previous returns home) and LA codes are text by nature.
                if re.search(r"\((number|%|months|ending 31 March)\)$", header):
                    assert isinstance(cell.value, int) or cell.value in SHORTHANDS, (
                        ws.title,
                        header,
                        cell.value,
                    )


def test_no_formulas_and_text_that_looks_like_a_formula_is_neutralised(book):
    assert safe_text("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert safe_text("-5 to 5") == "'-5 to 5"
    assert safe_text("Total") == "Total"
    for ws in book["wb"].worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(("=", "+", "-", "@")), cell.coordinate


def test_meaning_is_never_carried_by_colour_alone(book):
    for ws in book["wb"].worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.fill.fill_type in (None, "none"), (ws.title, cell.coordinate)


def test_document_title_language_and_fixed_dates(book):
    props = book["wb"].properties
    assert props.language == "en-GB"
    assert props.title.startswith("Re-entry to care after a return home")
    assert props.created == datetime(2025, 11, 27) and props.modified == datetime(2025, 11, 27)


def test_cursor_in_a1_on_every_sheet(book):
    for ws in book["wb"].worksheets:
        selection = ws.sheet_view.selection[0]
        assert selection.activeCell == "A1" and selection.sqref == "A1", ws.title


def test_rewriting_gives_identical_bytes_and_fixed_zip_dates(book, tmp_path):
    again = tmp_path / "again.xlsx"
    write_workbook(again, **book["kwargs"])
    assert again.read_bytes() == book["path"].read_bytes()
    with zipfile.ZipFile(again) as z:
        assert {i.date_time for i in z.infolist()} == {(2025, 11, 27, 0, 0, 0)}
        assert z.namelist()[0] == "[Content_Types].xml"
