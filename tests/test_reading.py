"""Finding and reading returns: inventory of odd landing folders, tolerated variations
recorded, nothing guessed (tests/data/bad_inputs covers the full corpus of broken files)."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from assets.ingest.inventory import INVENTORY_COLUMNS, inventory_landing
from assets.ingest.reading import read_return_table

FIXTURE = Path(__file__).parent / "data" / "returns" / "two_years"
EPISODES = (FIXTURE / "2024" / "201" / "episodes.csv").read_text()
HEADER = (FIXTURE / "2024" / "201" / "header.csv").read_text()


@pytest.fixture
def landing(tmp_path) -> Path:
    root = tmp_path / "landing"
    shutil.copytree(FIXTURE, root)
    return root


def test_inventory_lists_every_file_with_hash_size_and_time(landing):
    inv = inventory_landing(landing)
    assert list(inv.columns) == INVENTORY_COLUMNS
    assert len(inv) == 8 and inv["problem"].isna().all()
    assert inv["path"].tolist() == sorted(inv["path"])
    row = inv[inv["path"].eq("2024/201/episodes.csv")].iloc[0]
    data = (landing / row["path"]).read_bytes()
    assert row["sha256"] == hashlib.sha256(data).hexdigest()
    assert row["size_bytes"] == len(data)
    assert row["collection_year"] == 2024 and row["la_code"] == "201"
    assert row["table"] == "episodes"
    assert pd.Timestamp(row["modified"]).tzinfo is not None  # ISO 8601 UTC
    assert str(inv["collection_year"].dtype) == "Int64"


def test_inventory_reports_odd_names_without_crashing(landing, tmp_path):
    (landing / "20x4" / "201").mkdir(parents=True)
    (landing / "20x4" / "201" / "header.csv").write_text(HEADER)
    (landing / "2024" / "999").mkdir()
    (landing / "2024" / "999" / "episodes.csv").write_text(EPISODES)
    (landing / "2024" / "201" / "notes.txt").write_text("call back")
    (landing / "2024" / "README.md").write_text("x")
    (landing / "2024" / "202; rm -rf ~").mkdir()
    outside = tmp_path / "secret.csv"
    outside.write_text("CHILD\n1\n")
    os.symlink(outside, landing / "2023" / "202" / "link.csv")
    os.symlink(tmp_path, landing / "2023" / "203")
    inv = inventory_landing(landing).set_index("path")
    assert "is not a collection year" in inv.loc["20x4/201/header.csv", "problem"]
    assert pd.isna(inv.loc["20x4/201/header.csv", "collection_year"])
    assert "not a known 3-digit DfE LA code" in inv.loc["2024/999/episodes.csv", "problem"]
    assert pd.isna(inv.loc["2024/999/episodes.csv", "la_code"])
    assert "not a recognised SSDA903 table" in inv.loc["2024/201/notes.txt", "problem"]
    assert "does not identify an LA" in inv.loc["2024/README.md", "problem"]
    assert "outside the landing folder" in inv.loc["2023/202/link.csv", "problem"]
    assert "outside the landing folder" in inv.loc["2023/203", "problem"]
    assert pd.isna(inv.loc["2023/202/link.csv", "sha256"])  # never opened
    # the linked folder was not walked into
    assert not any(p.startswith("2023/203/") for p in inv.index)


def test_size_limit_is_checked_before_reading(landing):
    inv = inventory_landing(landing, max_bytes=50)
    assert inv["problem"].str.contains("size limit").all()
    result = read_return_table(landing / "2024/201/episodes.csv", "episodes", max_bytes=50)
    assert result.table is None and result.problem_rule == "file_too_large"


def _read(tmp_path: Path, data: bytes, table: str = "episodes"):
    path = tmp_path / f"{table}.csv"
    path.write_bytes(data)
    return read_return_table(path, table)


def test_child_keeps_leading_zeros_and_values_stay_strings(tmp_path):
    result = _read(tmp_path, EPISODES.encode())
    frame = result.frame
    assert frame["CHILD"].tolist()[:2] == ["0101", "0102"]
    assert frame["source_row"].tolist() == [1, 2, 3, 4]
    assert frame["DEC"].isna().tolist() == [False, True, False, False]
    assert result.notes == [] and result.problem is None


@pytest.mark.parametrize(
    ("variant", "note"),
    [
        (lambda t: b"\xef\xbb\xbf" + t.encode(), "byte-order mark"),
        (lambda t: t.replace("CARPL", "CARPL£").encode("cp1252"), "Windows-1252"),
        (lambda t: t.replace("\n", "\r\n").encode(), "CRLF"),
        (lambda t: t.replace("CHILD,DECOM", " child , Decom").encode(), "column names"),
        (lambda t: (t + ",,,,,,,,,,,,\n\n  \n").encode(), "3 blank row(s)"),
        (lambda t: ("\n,,,,\n" + t).encode(), "above the header line"),
        (
            lambda t: t.replace("URN\n", "URN,SOCIAL_WORKER\n").replace(",\n", ",,Ann\n").encode(),
            "extra columns",
        ),
    ],
    ids=[
        "bom",
        "cp1252",
        "crlf",
        "header_case",
        "blank_trailing_rows",
        "blank_leading_rows",
        "extra_column",
    ],  # fmt: skip
)
def test_tolerated_variations_are_recorded_and_read_identically(tmp_path, variant, note):
    clean = _read(tmp_path, EPISODES.encode()).frame
    result = _read(tmp_path, variant(EPISODES))
    assert any(note in n for n in result.notes), result.notes
    got = result.frame
    if note == "Windows-1252":
        assert got.loc[0, "REASON_PLACE_CHANGE"] == "CARPL£"
        got.loc[0, "REASON_PLACE_CHANGE"] = "CARPL"
    pd.testing.assert_frame_equal(got, clean)


def test_blank_rows_in_the_middle_keep_file_row_numbers(tmp_path):
    lines = EPISODES.splitlines()
    text = "\n".join([lines[0], lines[1], "", ",,,,", lines[2]]) + "\n"
    result = _read(tmp_path, text.encode())
    assert result.frame["source_row"].tolist() == [1, 4]
    assert result.blank_rows == 2


def test_unusable_files_are_file_level_problems_not_exceptions(tmp_path):
    cases = {
        b"": "file_empty",
        EPISODES.splitlines()[0].encode() + b"\n": "file_empty",
        HEADER.encode(): "file_wrong_table",
        EPISODES.replace("DECOM,", "").encode(): "file_missing_column",
        EPISODES.encode("utf-16"): "file_unreadable",
        EPISODES.replace(",", ";").encode(): "file_missing_column",
    }
    for data, rule in cases.items():
        result = _read(tmp_path, data)
        assert result.table is None and result.problem_rule == rule, (data[:30], result)
        assert result.problem


def test_xlsx_return_reads_like_the_csv(tmp_path):
    from openpyxl import Workbook

    clean = _read(tmp_path, EPISODES.encode()).frame
    wb = Workbook()
    ws = wb.active
    ws.title = "Episodes"
    for line in EPISODES.splitlines():
        ws.append([v if v else None for v in line.split(",")])
    path = tmp_path / "episodes.xlsx"
    wb.save(path)
    result = read_return_table(path, "episodes")
    pd.testing.assert_frame_equal(result.frame, clean)
    assert "Excel" in result.notes[0]


def test_two_files_for_one_table_reject_the_la_year_naming_both(landing):
    from validation.collection_year import validate_collection_year

    shutil.copy(landing / "2024/201/header.csv", landing / "2024/201/HEADER.csv")
    result = validate_collection_year(landing, 2024)
    status = result.la_year_status.set_index("la_code").loc["201"]
    assert status["status"] == "rejected"
    dup = result.failures[result.failures["rule_code"].eq("file_duplicate")]
    assert set(dup["file"]) == {"2024/201/HEADER.csv", "2024/201/header.csv"}
    assert dup["message"].str.contains("HEADER.csv").all()
    assert not result.episodes["la_code"].eq("201").any()


def _same_result(a, b) -> None:
    assert (a.problem, a.problem_rule, a.encoding, a.notes) == (
        b.problem,
        b.problem_rule,
        b.encoding,
        b.notes,
    )
    assert (a.blank_rows, a.bad_rows, a.extra_columns) == (
        b.blank_rows,
        b.bad_rows,
        b.extra_columns,
    )
    if a.frame is None or b.frame is None:
        assert a.frame is None and b.frame is None
    else:
        pd.testing.assert_frame_equal(a.frame, b.frame)


def test_reading_many_files_together_gives_each_file_its_own_result(tmp_path):
    """read_return_tables batches well-formed files into one Arrow parse; every file's
    result (rows, row numbers, notes, problems) must be exactly read_return_table's."""
    from assets.ingest.reading import read_return_tables

    lines = EPISODES.splitlines()
    variants = {
        "plain": EPISODES,
        "no_final_newline": EPISODES.rstrip("\n"),
        "ragged": "\n".join([*lines, lines[-1] + ",extra"]) + "\n",
        "quoted": EPISODES.replace("E4B", '"E4B"'),
        "crlf": EPISODES.replace("\n", "\r\n"),
        "blank_middle": "\n".join([*lines[:2], "", *lines[2:]]) + "\n",
        "extra_column": "\n".join([lines[0] + ",NOTE", *[line + ",x" for line in lines[1:]]])
        + "\n",
        "header_only": lines[0] + "\n",
        "lower_case": EPISODES.replace("S,C2", "s,c2"),
    }
    items = []
    for name, text in variants.items():
        path = tmp_path / f"{name}.csv"
        path.write_text(text)
        items.append((path, "episodes"))
    header = tmp_path / "header.csv"
    header.write_text(HEADER)
    items.append((header, "header"))
    items.append((tmp_path / "missing.csv", "episodes"))
    together = read_return_tables(items, threads=2)
    for (path, table), result in zip(items, together, strict=True):
        _same_result(result, read_return_table(path, table))
    # A batch holding a ragged file falls back to per-file parsing for its other files.
    only_fast = [i for i in items if i[0].stem in ("plain", "ragged", "no_final_newline")]
    for (path, table), result in zip(only_fast, read_return_tables(only_fast), strict=True):
        _same_result(result, read_return_table(path, table))


def _dates_by_python(values: list[str | None]) -> list[pd.Timestamp | None]:
    """The SSDA903 date rule stated plainly: exactly dd/mm/yyyy, and a real calendar day."""
    import re
    from datetime import datetime

    out = []
    for v in values:
        if v is None or not re.fullmatch(r"[0-9]{2}/[0-9]{2}/[0-9]{4}", v):
            out.append(None)
            continue
        try:
            day = datetime.strptime(v, "%d/%m/%Y")
        except ValueError:
            out.append(None)
            continue
        # datetime64[ns] holds 1677-09-21 00:12 to 2262-04-11 23:47.
        fits = datetime(1677, 9, 22) <= day <= datetime(2262, 4, 11)
        out.append(pd.Timestamp(day) if fits else None)
    return out


def test_903_dates_are_read_from_the_bytes_exactly_as_the_date_rule_says():
    """The byte-level date reader (assets/ingest/dates.py) against Python's own strptime:
    impossible days, leap years, other layouts, non-ASCII digits, padding, nulls and years
    datetime64[ns] cannot hold."""
    import random

    from assets.ingest.dates import blank_or_ddmmyyyy
    from validation.schemas import parse_903_dates

    rng = random.Random(7)
    values: list[str | None] = [
        f"{rng.randint(0, 35):02d}/{rng.randint(0, 14):02d}/"
        f"{rng.choice([rng.randint(0, 9999), rng.randint(1670, 2270)]):04d}"
        for _ in range(20_000)
    ]
    values += ["29/02/2000", "29/02/1900", "29/02/2024", "31/04/2020", "01/01/0001"]
    values += ["12/04/2262", "22/09/1677", "1/2/2020", "2020-01-02", " 01/02/2020"]
    values += ["01/02/2020 ", "01-02-2020", "0a/02/2020", "\u0660\u0661/02/2020", "", None]
    got = parse_903_dates(pd.Series(values, dtype="str"))
    expected = pd.Series(_dates_by_python(values), dtype="datetime64[ns]")
    assert got.dtype == "datetime64[ns]"
    pd.testing.assert_series_equal(got, expected, check_names=False)
    assert got.notna().sum() > 5_000  # the sample holds real dates as well as bad ones

    import pyarrow as pa

    assert blank_or_ddmmyyyy(pa.array(["01/02/2020", "", None, "31/02/2020"]))
    for odd in ("1/2/2020", "2020-01-02", "01/02/2020 ", "\u0660\u0661/02/2020", "01-02-2020"):
        assert not blank_or_ddmmyyyy(pa.array(["01/02/2020", odd]))


def test_a_file_replaced_after_the_inventory_is_rejected_not_validated(landing):
    """The bytes validated are the bytes the inventory hashed: a return overwritten
    between the two is a file-level rejection of its LA-year, naming the file; the other
    LA beside it is read as usual."""
    from validation.collection_year import validate_collection_year

    inventory = inventory_landing(landing)
    path = landing / "2024" / "201" / "episodes.csv"
    path.write_text(path.read_text().replace("E4B", "E4A", 1))
    result = validate_collection_year(landing, 2024, inventory=inventory)
    hit = result.failures[result.failures["rule_code"].eq("file_changed")]
    assert hit["file"].tolist() == ["2024/201/episodes.csv"]
    assert hit["severity"].eq("file").all() and "SHA-256" in hit["message"].iloc[0]
    status = result.la_year_status.set_index("la_code")["status"]
    assert (status["201"], status["202"]) == ("rejected", "accepted")
    # With a fresh inventory the same bytes are read as usual.
    fresh = validate_collection_year(landing, 2024)
    assert fresh.failures["rule_code"].ne("file_changed").all()
