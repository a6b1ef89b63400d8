"""Injected errors: every recorded fault is really in the file, and nothing else changed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from synthetic.codes import code_lists
from synthetic.errors import KINDS
from synthetic.generator import generate

YEARS = (2024, 2025)


@dataclass(frozen=True)
class Pair:
    clean: Path
    faulty: Path
    errors: pd.DataFrame


@pytest.fixture(scope="module")
def pair(tmp_path_factory) -> Pair:
    root = tmp_path_factory.mktemp("synth_errors")
    generate(root / "clean", YEARS[0], YEARS[1], scale=0.02, seed=11)
    generate(root / "faulty", YEARS[0], YEARS[1], scale=0.02, seed=11, error_rate=0.05,
             truth=root / "truth")  # fmt: skip
    errors = pd.read_csv(root / "truth" / "errors.csv", dtype=str, keep_default_na=False)
    return Pair(root / "clean", root / "faulty", errors)


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _is_date(s: str) -> bool:
    return not pd.isna(pd.to_datetime(s, format="%d/%m/%Y", errors="coerce"))


def test_every_kind_of_fault_is_injected_and_recorded(pair):
    kinds = set(pair.errors["kind"])
    assert kinds >= set(KINDS) | {"missing_file"}
    assert pair.errors["error_id"].astype(int).is_unique
    assert (pair.errors["expected_rules"] != "").all()


def test_each_recorded_fault_is_visible_at_its_file_row_and_column(pair):
    for e in pair.errors.itertuples(index=False):
        path = pair.faulty / e.collection_year / e.la_code / e.file
        if e.kind == "missing_file":
            assert not path.exists(), e
            assert e.expected_rules == "file"
            continue
        df = _read(path)
        row = df.iloc[int(e.row) - 1]
        assert row["CHILD"] == e.child, e
        value = row[e.column] if e.column else None
        year = int(e.collection_year)
        if e.kind == "overlapping_episodes":
            prev = df.iloc[int(e.row) - 2]
            assert prev["CHILD"] == e.child
            assert pd.to_datetime(row["DECOM"], dayfirst=True) < pd.to_datetime(
                prev["DEC"], dayfirst=True
            )
        elif e.kind == "dec_without_rec":
            assert row["DEC"] != "" and row["REC"] == ""
        elif e.kind == "rec_without_dec":
            assert row["DEC"] == "" and row["REC"] != ""
        elif e.kind == "invalid_code":
            assert value not in code_lists(year)[e.column], e
        elif e.kind == "dob_after_decom":
            eps = _read(path.parent / "episodes.csv")
            first = pd.to_datetime(
                eps.loc[eps["CHILD"] == e.child, "DECOM"], format="%d/%m/%Y", errors="coerce"
            ).min()
            assert pd.to_datetime(value, format="%d/%m/%Y") > first
        elif e.kind == "duplicate_row":
            assert row.equals(df.iloc[int(e.row) - 2].rename(row.name))
        elif e.kind == "unparseable_date":
            assert not _is_date(value), e
        else:
            raise AssertionError(f"unexpected kind {e.kind}")


def test_children_without_recorded_faults_are_byte_for_byte_unchanged(pair):
    affected = pair.errors[pair.errors["child"] != ""]
    missing = pair.errors[pair.errors["kind"] == "missing_file"]
    skip_files = set(
        zip(missing["collection_year"], missing["la_code"], missing["file"], strict=True)
    )
    hit = set(zip(affected["collection_year"], affected["la_code"], affected["child"], strict=True))
    compared = 0
    for path in sorted(pair.clean.glob("2025/*/*.csv")):
        year, la, name = path.parent.parent.name, path.parent.name, path.name
        if (year, la, name) in skip_files:
            continue
        clean, faulty = _read(path), _read(pair.faulty / year / la / name)
        keep_c = ~clean["CHILD"].map(lambda c, y=year, la=la: (y, la, c) in hit)
        keep_f = ~faulty["CHILD"].map(lambda c, y=year, la=la: (y, la, c) in hit)
        pd.testing.assert_frame_equal(
            clean[keep_c].reset_index(drop=True), faulty[keep_f].reset_index(drop=True)
        )
        compared += 1
    assert compared > 250


def test_no_errors_recorded_at_rate_zero(small_landing):
    errors = pd.read_csv(small_landing.truth / "errors.csv", dtype=str)
    assert len(errors) == 0
    assert list(errors.columns) == [
        "error_id", "kind", "collection_year", "la_code", "file", "child", "row", "column",
        "detail", "expected_rules",
    ]  # fmt: skip
