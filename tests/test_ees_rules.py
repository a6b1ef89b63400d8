"""Every EES open-data rule in assets/publication/ees_rules.py rejects a file that breaks it."""

from __future__ import annotations

import pandas as pd
import pytest

from assets.publication.ees_rules import EesValidationError, validate_ees_file, validate_ees_files
from assets.publication.open_data import REENTRY_META, write_csv

GOOD = pd.DataFrame(
    {
        "time_period": ["2024", "2024", "2024", "2024"],
        "time_identifier": ["Reporting year"] * 4,
        "geographic_level": ["National", "Regional", "Local authority", "Local authority"],
        "country_code": ["E92000001"] * 4,
        "country_name": ["England"] * 4,
        "region_code": ["", "E12000001", "E12000001", "E12000001"],
        "region_name": ["", "North East", "North East", "North East"],
        "old_la_code": ["", "", "805", "805"],
        "new_la_code": ["", "", "E06000001", "E06000001"],
        "la_name": ["", "", "Hartlepool", "Hartlepool"],
        "characteristic_group": ["Total", "Total", "Total", "Planned return"],
        "characteristic": ["Total", "Total", "Total", "Planned (E4A)"],
        "follow_up": ["12 months"] * 4,
        "re_entered": ["1230", "90", "c", "4"],
        "re_entry_rate": ["16", "17", "c", "k"],
    }
)
META = pd.DataFrame(
    {
        "col_name": ["characteristic", "follow_up", "re_entered", "re_entry_rate"],
        "col_type": ["Filter", "Filter", "Indicator", "Indicator"],
        "label": ["Characteristic", "Follow-up window", "Re-entered care", "Re-entry rate"],
        "indicator_grouping": ["", "", "", ""],
        "indicator_unit": ["", "", "", "%"],
        "indicator_dp": ["", "", "0", "0"],
        "filter_hint": ["", "", "", ""],
        "filter_grouping_column": ["characteristic_group", "", "", ""],
    }
)


def _check(tmp_path, data=GOOD, meta=META, non_additive=("follow_up",)):
    d = write_csv(data, tmp_path / "d.csv")
    m = write_csv(meta, tmp_path / "d.meta.csv")
    validate_ees_file(d, m, filters_without_total=non_additive)


def test_valid_file_passes(tmp_path):
    _check(tmp_path)


def test_release_meta_passes_its_own_schema():
    assert set(REENTRY_META["col_type"]) == {"Filter", "Indicator"}
    assert REENTRY_META["label"].str.len().max() <= 80


@pytest.mark.parametrize(
    "column", ["time_period", "time_identifier", "geographic_level", "country_code", "country_name"]
)
def test_mandatory_column_missing_fails(tmp_path, column):
    with pytest.raises(EesValidationError, match="d.csv"):
        _check(tmp_path, GOOD.drop(columns=column))


def test_la_row_without_la_name_fails(tmp_path):
    bad = GOOD.copy()
    bad.loc[2, "la_name"] = ""
    with pytest.raises(EesValidationError, match="required by geographic_level"):
        _check(tmp_path, bad)


def test_regional_row_without_region_code_fails(tmp_path):
    bad = GOOD.copy()
    bad.loc[1, "region_code"] = ""
    with pytest.raises(EesValidationError, match="row 3"):
        _check(tmp_path, bad)


def test_national_row_with_region_fails(tmp_path):
    bad = GOOD.copy()
    bad.loc[0, "region_code"] = "E12000001"
    with pytest.raises(EesValidationError, match="must not carry region"):
        _check(tmp_path, bad)


def test_column_name_not_snake_case_fails(tmp_path):
    bad = GOOD.rename(columns={"re_entered": "ReEntered"})
    meta = META.replace({"re_entered": "ReEntered"})
    with pytest.raises(EesValidationError, match="snake_case"):
        _check(tmp_path, bad, meta)


def test_column_name_over_50_characters_fails(tmp_path):
    long = "re_entered_" + "x" * 45
    bad = GOOD.rename(columns={"re_entered": long})
    meta = META.replace({"re_entered": long})
    with pytest.raises(EesValidationError, match="at most 50"):
        _check(tmp_path, bad, meta)


def test_label_over_80_characters_fails(tmp_path):
    meta = META.copy()
    meta.loc[2, "label"] = "L" * 81
    with pytest.raises(EesValidationError, match="d.meta.csv"):
        _check(tmp_path, meta=meta)


def test_unknown_unit_fails(tmp_path):
    meta = META.copy()
    meta.loc[3, "indicator_unit"] = "percent"
    with pytest.raises(EesValidationError, match="indicator_unit"):
        _check(tmp_path, meta=meta)


@pytest.mark.parametrize("value", ["*", "", "n/a", "-", "5%", "[c]"])
def test_indicator_that_is_not_a_number_or_symbol_fails(tmp_path, value):
    bad = GOOD.copy()
    bad.loc[2, "re_entered"] = value
    with pytest.raises(EesValidationError, match="re_entered"):
        _check(tmp_path, bad)


@pytest.mark.parametrize("symbol", ["c", "x", "z", "k"])
def test_ees_symbols_are_allowed(tmp_path, symbol):
    good = GOOD.copy()
    good.loc[3, "re_entry_rate"] = symbol
    _check(tmp_path, good)


def test_blank_row_fails(tmp_path):
    d = write_csv(GOOD, tmp_path / "d.csv")
    m = write_csv(META, tmp_path / "d.meta.csv")
    d.write_text(d.read_text() + "\n" + ",".join([""] * GOOD.shape[1]) + "\n")
    with pytest.raises(EesValidationError):
        validate_ees_file(d, m, filters_without_total=("follow_up",))


def test_filter_without_total_fails(tmp_path):
    with pytest.raises(EesValidationError, match="Total"):
        _check(tmp_path, non_additive=())


def test_observational_unit_listed_in_meta_fails(tmp_path):
    meta = pd.concat([META, META.iloc[[0]].assign(col_name="la_name")], ignore_index=True)
    with pytest.raises(EesValidationError, match="col_name"):
        _check(tmp_path, meta=meta)


def test_data_column_missing_from_meta_fails(tmp_path):
    with pytest.raises(EesValidationError, match="listed in the meta"):
        _check(tmp_path, meta=META.iloc[:3])


def test_byte_order_mark_fails(tmp_path):
    d = write_csv(GOOD, tmp_path / "d.csv")
    m = write_csv(META, tmp_path / "d.meta.csv")
    d.write_bytes(b"\xef\xbb\xbf" + d.read_bytes())
    with pytest.raises(EesValidationError, match="byte-order mark"):
        validate_ees_file(d, m, filters_without_total=("follow_up",))


def test_errors_in_one_of_many_files_name_that_file_and_row(tmp_path):
    m = write_csv(META, tmp_path / "d.meta.csv")
    a = write_csv(GOOD, tmp_path / "a.csv")
    bad = GOOD.copy()
    bad.loc[1, "re_entry_rate"] = "??"
    b = write_csv(bad, tmp_path / "b.csv")
    with pytest.raises(EesValidationError, match=r"b\.csv row 3"):
        validate_ees_files([a, b], m, filters_without_total=("follow_up",))


def test_extract_with_a_row_not_in_its_source_fails(tmp_path):
    from assets.publication.ees_rules import validate_ees_extracts

    m = write_csv(META, tmp_path / "d.meta.csv")
    src = write_csv(GOOD, tmp_path / "src.csv")
    ok = write_csv(GOOD.iloc[[2, 3]], tmp_path / "ok.csv")
    validate_ees_extracts([ok], src, m, filters_without_total=("follow_up",))
    forged = GOOD.iloc[[2, 3]].copy()
    forged.loc[3, "re_entered"] = "40"
    bad = write_csv(forged, tmp_path / "bad.csv")
    with pytest.raises(EesValidationError, match=r"bad\.csv row 3: not a row of"):
        validate_ees_extracts([bad], src, m, filters_without_total=("follow_up",))
    no_total = write_csv(GOOD.iloc[[3]], tmp_path / "no_total.csv")
    with pytest.raises(EesValidationError, match="Total"):
        validate_ees_extracts([no_total], src, m, filters_without_total=("follow_up",))
