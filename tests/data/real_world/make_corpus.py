"""Build the real-world-shaped landing corpus: returns laid out as LAs, regional
alliances and the DfE hold them, each beside LA 201's clean return.

Every case starts from the same small valid SSDA903 return for collection year 2024 that
``tests/data/bad_inputs/make_corpus.py`` writes (six children, eight episodes, public
fake data of our own making), and changes only its *shape*: the file names, folder
names, file format (workbook, DfE XML), date and identifier forms, footer lines, pooled
multi-LA files. ``CASES`` states, for each, the expected outcome: the rows ingested for
which LA and year, or the rejection and the rule, file and column its message names.

    python tests/data/real_world/make_corpus.py --out /tmp/real_world    # every case

The XML follows the DfE SSDA903 XML schema (root ``EXPSSDA903``, one ``CHILD`` with its
``HEADER`` and ``EPISODE`` elements, ``CHILDID`` and ``PL`` for CHILD and PLACE) as
read by the open-source DfE-rule validator csc-validator-be-903 (MIT licence); pooled
files use the ``LA`` and ``YEAR`` columns of the liiatools regional layout
(SocialFinanceDigitalLabs/liia-tools, MIT licence). No file from either is copied.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import io
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

_BAD = Path(__file__).resolve().parent.parent / "bad_inputs" / "make_corpus.py"
_spec = importlib.util.spec_from_file_location("bad_inputs_corpus", _BAD)
base = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("bad_inputs_corpus", base)
_spec.loader.exec_module(base)

from assets.ingest.reading import EPISODE_COLUMNS, HEADER_COLUMNS  # noqa: E402

YEAR = base.YEAR  # 2024, i.e. 2023-24
CLEAN_LA = base.CLEAN_LA  # 201 City of London
LA = base.BAD_LA  # 202 Camden
OTHER_LA = "203"  # Greenwich, second LA of a pooled file


@dataclass(frozen=True)
class Case:
    """One landing shape and what ingest must make of it.

    outcome ``accepted``: LA ``la``'s data for ``year`` equal the clean return's (same
    children, same episodes); ``rejected``: the LA-year is rejected and a file-level
    failure names ``rule`` (a rule code) and, when given, ``column`` and ``file_part``;
    ``warnings``: rule codes that must be reported (as warnings) for the case.
    """

    id: str
    description: str
    build: Callable[[Path], None]
    outcome: str
    la: str = LA
    year: int = YEAR
    rule: str = ""
    column: str = ""
    file_part: str = ""
    warnings: tuple[str, ...] = ()
    also: dict = field(default_factory=dict)  # LA -> outcome for a second LA
    cause: str = ""  # words the rejection message must contain (what went wrong, what to do)
    # Reading limits (assets.ingest.layout, set by REENTRY_MAX_* variables) for this case.
    limits: dict = field(default_factory=dict)


def header_rows(la: str = LA) -> list[dict[str, str]]:
    return base.clean_header(la)


def episode_rows(la: str = LA) -> list[dict[str, str]]:
    return base.clean_episodes(la)


def to_csv(rows: list[dict[str, str]], columns: list[str]) -> str:
    return base.to_csv(rows, columns)


def _write(path: Path, text: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)


def _pair(folder: Path, header_name: str, episodes_name: str, la: str = LA) -> None:
    _write(folder / header_name, to_csv(header_rows(la), HEADER_COLUMNS))
    _write(folder / episodes_name, to_csv(episode_rows(la), EPISODE_COLUMNS))


def _clean(landing: Path) -> None:
    base.write_return(landing, CLEAN_LA)


def _dates(rows: list[dict[str, str]], convert: Callable[[str], str]) -> list[dict[str, str]]:
    out = []
    for row in rows:
        row = dict(row)
        for col in ("DOB", "MC_DOB", "DECOM", "DEC"):
            if row.get(col):
                row[col] = convert(row[col])
        out.append(row)
    return out


def _iso(value: str) -> str:
    return datetime.strptime(value, "%d/%m/%Y").strftime("%Y-%m-%d")


def _serial(value: str) -> str:
    return str((datetime.strptime(value, "%d/%m/%Y") - datetime(1899, 12, 30)).days)


# --- builders -----------------------------------------------------------------------------


def named(header_name: str, episodes_name: str, folder: str = f"{YEAR}/{LA}"):
    def build(landing: Path) -> None:
        _clean(landing)
        _pair(landing / folder, header_name, episodes_name)

    return build


def footer(in_header: bool, in_episodes: bool):
    def build(landing: Path) -> None:
        _clean(landing)
        folder = landing / str(YEAR) / LA
        h = to_csv(header_rows(), HEADER_COLUMNS)
        e = to_csv(episode_rows(), EPISODE_COLUMNS)
        _write(folder / "header.csv", h + ("Total records: 6\n" if in_header else ""))
        _write(folder / "episodes.csv", e + ("Total records: 8,,,,\n" if in_episodes else ""))

    return build


def date_forms(convert: Callable[[str], str]):
    def build(landing: Path) -> None:
        _clean(landing)
        folder = landing / str(YEAR) / LA
        _write(folder / "header.csv", to_csv(_dates(header_rows(), convert), HEADER_COLUMNS))
        _write(folder / "episodes.csv", to_csv(_dates(episode_rows(), convert), EPISODE_COLUMNS))

    return build


def _text_dates(landing: Path) -> None:
    _clean(landing)
    folder = landing / str(YEAR) / LA

    def spelled(value: str) -> str:
        return datetime.strptime(value, "%d/%m/%Y").strftime("%d %B %Y")

    _write(folder / "header.csv", to_csv(header_rows(), HEADER_COLUMNS))
    _write(folder / "episodes.csv", to_csv(_dates(episode_rows(), spelled), EPISODE_COLUMNS))


def _float_ids(landing: Path) -> None:
    """CHILD ids as a spreadsheet saves numbers: 7.0 for 7 (header and episodes)."""
    _clean(landing)
    folder = landing / str(YEAR) / LA
    ids = {"007": "7", "C102": "102", "C103": "103", "C104": "104", "C105": "105", "C106": "106"}

    def floats(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        return [{**r, "CHILD": ids[r["CHILD"]] + ".0"} for r in rows]

    _write(folder / "header.csv", to_csv(floats(header_rows()), HEADER_COLUMNS))
    _write(folder / "episodes.csv", to_csv(floats(episode_rows()), EPISODE_COLUMNS))


def _workbook(path: Path, sheets: dict[str, list[list[str]]]) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    # openpyxl stamps the save time into docProps; the bytes differ per run, the data do not.


def _sheet(rows: list[dict[str, str]], columns: list[str], titles: int = 0) -> list[list[str]]:
    top = [[f"SSDA903 extract, line {i + 1}"] for i in range(titles)]
    return [*top, columns, *[[r[c] for c in columns] for r in rows]]


def _one_workbook(landing: Path) -> None:
    """One workbook: title rows above each table, plus a UASC sheet and a notes sheet."""
    _clean(landing)
    _workbook(
        landing / str(YEAR) / LA / "SSDA903 return 2023-24.xlsx",
        {
            "Header": _sheet(header_rows(), HEADER_COLUMNS, titles=2),
            "Episodes": _sheet(episode_rows(), EPISODE_COLUMNS, titles=3),
            "UASC": [["CHILD", "SEX", "DOB", "DUC"], ["C102", "1", "05/07/2008", "05/07/2026"]],
            "Notes": [["Extracted by the case-management system"]],
        },
    )


def _xlsx_named(landing: Path) -> None:
    _clean(landing)
    folder = landing / str(YEAR) / LA
    _workbook(folder / "903 header.xlsx", {"Sheet1": _sheet(header_rows(), HEADER_COLUMNS)})
    _workbook(folder / "903 episodes.xlsx", {"Sheet1": _sheet(episode_rows(), EPISODE_COLUMNS)})


def xml_text(la: str = LA) -> str:
    """The return as the DfE SSDA903 XML, dates as XML dates (yyyy-mm-dd)."""
    eps: dict[str, list[dict[str, str]]] = {}
    for row in episode_rows(la):
        eps.setdefault(row["CHILD"], []).append(row)
    out = io.StringIO()
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n<EXPSSDA903>\n')

    def element(tag: str, value: str, indent: str) -> str:
        return f"{indent}<{tag}>{value}</{tag}>\n" if value else f"{indent}<{tag}/>\n"

    for head in header_rows(la):
        out.write("  <CHILD>\n    <HEADER>\n")
        for col in HEADER_COLUMNS:
            tag = "CHILDID" if col == "CHILD" else col
            value = _iso(head[col]) if col in ("DOB", "MC_DOB") and head[col] else head[col]
            out.write(element(tag, value, "      "))
        out.write("    </HEADER>\n")
        for ep in eps.get(head["CHILD"], []):
            out.write("    <EPISODE>\n")
            for col in EPISODE_COLUMNS[1:]:
                tag = "PL" if col == "PLACE" else col
                value = _iso(ep[col]) if col in ("DECOM", "DEC") and ep[col] else ep[col]
                out.write(element(tag, value, "      "))
            out.write("    </EPISODE>\n")
        out.write("  </CHILD>\n")
    out.write("</EXPSSDA903>\n")
    return out.getvalue()


def _xml(landing: Path) -> None:
    _clean(landing)
    _write(landing / str(YEAR) / LA / "SSDA903_2023-24.xml", xml_text())


def _xml_entity_bomb(landing: Path) -> None:
    _clean(landing)
    lol = '<!DOCTYPE EXPSSDA903 [<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8)
    )
    _write(
        landing / str(YEAR) / LA / "return.xml",
        f'<?xml version="1.0"?>\n{lol}]>\n<EXPSSDA903><CHILD><HEADER><CHILDID>&i;</CHILDID>'
        "</HEADER></CHILD></EXPSSDA903>\n",
    )


def _pooled(landing: Path, where: str) -> None:
    """A regional file: LA 202's and LA 203's rows with LA and YEAR columns."""
    _clean(landing)
    heads, eps = [], []
    for la, label in ((LA, "Camden"), (OTHER_LA, "203")):
        heads += [{"LA": label, "YEAR": "2023-24", **r} for r in header_rows(la)]
        eps += [{"LA": label, "YEAR": "2023-24", **r} for r in episode_rows(la)]
    folder = landing / where
    _write(folder / "header.csv", to_csv(heads, ["LA", "YEAR", *HEADER_COLUMNS]))
    _write(folder / "episodes.csv", to_csv(eps, ["LA", "YEAR", *EPISODE_COLUMNS]))


def _pooled_workbook(landing: Path) -> None:
    """A regional workbook (LA and YEAR columns, LA 202's and 203's rows) in LA 202's
    folder: pooled files are split by LA from CSV only, so it must be refused rather
    than credited to LA 202."""
    _clean(landing)
    sheets = {}
    for table, rows_of, columns in (
        ("Header", header_rows, HEADER_COLUMNS),
        ("Episodes", episode_rows, EPISODE_COLUMNS),
    ):
        rows = [["LA", "YEAR", *columns]]
        for la in (LA, OTHER_LA):
            rows += [[la, "2023-24", *[r[c] for c in columns]] for r in rows_of(la)]
        sheets[table] = rows
    _workbook(landing / str(YEAR) / LA / "regional 903 2023-24.xlsx", sheets)


def _previous_year(landing: Path) -> None:
    _clean(landing)
    folder = landing / str(YEAR) / LA
    _pair(folder, "header.csv", "episodes.csv")
    _pair(folder / "previous_year", "header.csv", "episodes.csv")


def _missing_column(landing: Path) -> None:
    _clean(landing)
    folder = landing / str(YEAR) / LA
    rows = [{k: v for k, v in r.items() if k != "DECOM"} for r in episode_rows()]
    _write(folder / "header.csv", to_csv(header_rows(), HEADER_COLUMNS))
    _write(folder / "episodes.csv", to_csv(rows, [c for c in EPISODE_COLUMNS if c != "DECOM"]))


def _other_tables(landing: Path) -> None:
    _clean(landing)
    folder = landing / str(YEAR) / LA
    _pair(folder, "header.csv", "episodes.csv")
    _write(folder / "SSDA903_2024_uasc.csv", "CHILD,SEX,DOB,DUC\nC102,1,05/07/2008,05/07/2026\n")
    _write(folder / "reviews.csv", "CHILD,DOB,REVIEW,REVIEW_CODE\nC102,05/07/2008,01/09/2023,PN1\n")
    _write(folder / "missing.csv", "CHILD,DOB,MISSING,MIS_START,MIS_END\nC102,05/07/2008,M,,\n")


def _broken_beside(landing: Path) -> None:
    """A broken LA (unreadable workbook) beside the clean one and a clean LA 202."""
    _clean(landing)
    _pair(landing / str(YEAR) / LA, "header.csv", "episodes.csv")
    _write(landing / str(YEAR) / OTHER_LA / "903.xlsx", b"PK\x03\x04 not really a workbook")


def _workbook_bomb(landing: Path) -> None:
    """LA 202's return as a small .xlsx (about 0.5 MB) whose sheet expands to 520 MB of
    XML, over the 500 MB uncompressed-size limit: it must be refused unopened."""
    import zipfile

    _clean(landing)
    path = landing / str(YEAR) / LA / "903 return.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            block = b" " * (4 * 1024 * 1024)
            for _ in range(130):
                sheet.write(block)


SHEET_ROW_LIMIT = 40  # the case below sets REENTRY_MAX_SHEET_ROWS to this


def _sheet_over_row_limit(landing: Path) -> None:
    """LA 202's episodes as a workbook sheet with more rows than the configured limit
    (REENTRY_MAX_SHEET_ROWS; 1,000,000 by default, 40 for this case)."""
    _clean(landing)
    folder = landing / str(YEAR) / LA
    _write(folder / "header.csv", to_csv(header_rows(), HEADER_COLUMNS))
    rows = _sheet(episode_rows(), EPISODE_COLUMNS)
    padding = [[f"note {i}"] for i in range(SHEET_ROW_LIMIT)]
    _workbook(folder / "903 episodes.xlsx", {"Episodes": [*rows, *padding]})


def _legacy_xls(landing: Path) -> None:
    """LA 202's return saved from Excel as a legacy 97-2003 workbook (.xls): a Compound
    File Binary container, whose 512-byte header ([MS-CFB] section 2.2) is written here."""
    import struct

    _clean(landing)
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        bytes.fromhex("D0CF11E0A1B11AE1"),  # signature
        b"\0" * 16,  # CLSID
        0x003E,
        0x0003,
        0xFFFE,  # minor version, major version 3, little-endian
        0x0009,
        0x0006,  # 512-byte sectors, 64-byte mini sectors
        b"\0" * 6,
        0,
        1,
        0xFFFFFFFE,
        0,  # directory sectors, FAT sectors, first directory sector
        0x1000,
        0xFFFFFFFE,
        0,
        0xFFFFFFFE,
        0,  # mini stream cut-off, mini FAT, DIFAT
    )
    body = header + b"\xff" * (512 - len(header)) + b"\0" * 1536
    _write(landing / str(YEAR) / LA / "SSDA903 2023-24.xls", body)
    # The same container renamed .xlsx (as users do) must be told apart as well.
    _write(landing / str(YEAR) / LA / "SSDA903 episodes 2023-24.xlsx", body)


CASES = [
    Case("footer_in_both_files", "'Total records' footer lines in header and episodes",
         footer(True, True), "accepted"),
    Case("footer_in_one_file", "a footer line in the header file only",
         footer(True, False), "accepted"),
    Case("names_ssda903_year", "SSDA903_2024_header.csv / SSDA903_2024_episodes.csv",
         named("SSDA903_2024_header.csv", "SSDA903_2024_episodes.csv"), "accepted"),
    Case("names_la_and_year", "'Camden 903 Header 2023-24.csv' and '... Episodes ...'",
         named("Camden 903 Header 2023-24.csv", "Camden 903 Episodes 2023-24.csv"), "accepted"),
    Case("xlsx_per_table", "903 header.xlsx and 903 episodes.xlsx",
         _xlsx_named, "accepted"),
    Case("one_workbook_every_table", "one workbook: Header, Episodes (title rows), UASC, Notes",
         _one_workbook, "accepted", warnings=("table_ignored",)),
    Case("dfe_xml", "the DfE XML return (EXPSSDA903), dates as yyyy-mm-dd",
         _xml, "accepted", warnings=("date_format_converted",)),
    Case("xml_entity_expansion", "an XML file declaring nested entities (billion laughs)",
         _xml_entity_bomb, "rejected", rule="file_unreadable", file_part="return.xml"),
    Case("la_folder_by_name", "LA folder named 'Camden'",
         named("header.csv", "episodes.csv", f"{YEAR}/Camden"), "accepted"),
    Case("la_folder_by_ons_code", "LA folder named by ONS code E09000007",
         named("header.csv", "episodes.csv", f"{YEAR}/E09000007"), "accepted"),
    Case("year_folder_2023-24", "year folder '2023-24'",
         named("header.csv", "episodes.csv", f"2023-24/{LA}"), "accepted"),
    Case("year_folder_202324", "year folder '202324'",
         named("header.csv", "episodes.csv", f"202324/{LA}"), "accepted"),
    Case("year_folder_2023_24", "year folder '2023_24'",
         named("header.csv", "episodes.csv", f"2023_24/{LA}"), "accepted"),
    Case("files_in_year_folder", "LA 202's files directly in the year folder, named by LA",
         named("Camden_header.csv", "Camden_episodes.csv", f"{YEAR}"), "accepted"),
    Case("pooled_in_la_folder", "a regional file (LA, YEAR columns) in LA 202's folder",
         lambda landing: _pooled(landing, f"{YEAR}/{LA}"), "accepted",
         also={OTHER_LA: "accepted"}),
    Case("pooled_at_root", "a regional file (LA, YEAR columns) at the landing root",
         lambda landing: _pooled(landing, ""), "accepted", also={OTHER_LA: "accepted"}),
    Case("pooled_workbook", "a regional workbook (LA, YEAR columns) in LA 202's folder",
         _pooled_workbook, "rejected", rule="file_unreadable",
         file_part="regional 903 2023-24.xlsx", cause="pooled table of several LAs"),
    Case("previous_year_subfolder", "a previous_year/ sub-folder beside this year's files",
         _previous_year, "accepted", warnings=("previous_year_skipped",)),
    Case("iso_dates", "every date written yyyy-mm-dd",
         date_forms(_iso), "accepted", warnings=("date_format_converted",)),
    Case("iso_datetimes", "every date written yyyy-mm-dd 00:00:00",
         date_forms(lambda v: _iso(v) + " 00:00:00"), "accepted",
         warnings=("date_format_converted",)),
    Case("excel_serial_dates", "every date an Excel serial day number",
         date_forms(_serial), "accepted", warnings=("date_format_converted",)),
    Case("dates_spelled_out", "episode dates written '01 May 2023'",
         _text_dates, "rejected", rule="file_date_format", column="DECOM"),
    Case("child_ids_as_floats", "CHILD written 7.0, 102.0 ... in both files",
         _float_ids, "accepted", warnings=("child_id_normalised",)),
    Case("missing_required_column", "episodes without DECOM (rows counted as rejected)",
         _missing_column, "rejected", rule="file_missing_column", column="DECOM"),
    Case("other_903_tables", "UASC, reviews and missing tables beside the return",
         _other_tables, "accepted", warnings=("table_ignored",)),
    Case("workbook_expansion_limit", "a 0.5 MB .xlsx that expands to 520 MB (zip bomb)",
         _workbook_bomb, "rejected", rule="file_too_large", file_part="903 return.xlsx",
         cause="expands to"),
    Case("sheet_row_limit", "an episodes sheet with more rows than the sheet-row limit",
         _sheet_over_row_limit, "rejected", rule="file_too_large",
         file_part="903 episodes.xlsx", cause="rows", limits={"MAX_SHEET_ROWS": SHEET_ROW_LIMIT}),
    Case("legacy_xls", "a legacy Excel 97-2003 .xls return (and one renamed .xlsx)",
         _legacy_xls, "rejected", rule="file_unreadable", file_part="SSDA903 ",
         cause="save it as an Excel Workbook (.xlsx)"),
    Case("broken_la_beside_clean", "LA 203's unreadable workbook beside LA 202's clean return",
         _broken_beside, "accepted", also={OTHER_LA: "rejected"}),
]  # fmt: skip

# Cases whose accepted data differ from the clean return by design (re-numbered IDs).
RELABELLED = {"child_ids_as_floats"}


def build_case(case: Case, root: Path) -> Path:
    landing = root / case.id
    landing.mkdir(parents=True, exist_ok=True)
    case.build(landing)
    return landing


def build_reference(root: Path) -> Path:
    """LA 201, 202 and 203 clean, in the plain layout: what every accepted case must match."""
    return base.build_clean(root / "reference", (CLEAN_LA, LA, OTHER_LA))


def catalogue() -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["id", "description", "outcome", "la", "year", "rule", "column", "warnings"])
    for c in CASES:
        writer.writerow(
            [c.id, c.description, c.outcome, c.la, c.year, c.rule, c.column, " ".join(c.warnings)]
        )
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--catalogue", action="store_true", help="rewrite cases.csv")
    args = parser.parse_args(argv)
    if args.catalogue:
        (Path(__file__).parent / "cases.csv").write_text(catalogue())
    if args.out:
        for case in CASES:
            build_case(case, args.out)
        build_reference(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
