"""Code lists per collection year and strict dates (DfE SSDA903 guidance)."""

from __future__ import annotations

import pandas as pd
import pytest

from validation.schemas import parse_903_dates, schema_failures


def _header(**values) -> pd.DataFrame:
    row = {"CHILD": "1", "SEX": "1", "DOB": "01/01/2012", "ETHNIC": "WBRI", "UPN": None}
    return pd.DataFrame([row | values], dtype="str")


def _episode(**values) -> pd.DataFrame:
    row = {
        "CHILD": "1", "DECOM": "01/05/2023", "RNE": "S", "LS": "C2", "CIN": "N1",
        "PLACE": "U1", "DEC": None, "REC": None,
    }  # fmt: skip
    return pd.DataFrame([row | values], dtype="str")


@pytest.mark.parametrize(
    ("year", "sex", "valid"),
    [(2024, "1", True), (2024, "2", True), (2024, "M", False), (2025, "F", True),
     (2025, "1", False), (2016, "2", True), (2025, "U", True), (2024, "U", False),
     (2027, "M", True)],
)  # fmt: skip
def test_sex_codes_are_1_2_up_to_2024_and_m_f_u_from_2025(year, sex, valid):
    failures = schema_failures(_header(SEX=sex), "header", year)
    assert failures.empty == valid
    if not valid:
        assert failures["rule_code"].tolist() == ["101"]


@pytest.mark.parametrize(
    ("year", "place", "valid"),
    [(2025, "Z1", True), (2025, "Z11", False), (2026, "Z11", True), (2026, "Z14", True),
     (2026, "Z1", False), (2026, "H5", False), (2026, "P2", False), (2025, "H5", True),
     (2026, "K3", True), (2027, "U1", True)],
)  # fmt: skip
def test_placement_codes_follow_each_years_guide(year, place, valid):
    """2025-26 (collection year 2026) withdrew H5, P2 and Z1 and added Z11-Z14."""
    failures = schema_failures(_episode(PLACE=place), "episodes", year)
    assert failures.empty == valid
    if not valid:
        assert failures["rule_code"].tolist() == ["146"]


def test_placement_k3_only_from_2025_and_reason_e17_only_from_2021():
    assert schema_failures(_episode(PLACE="K3"), "episodes", 2024)["rule_code"].tolist() == ["146"]
    assert schema_failures(_episode(PLACE="K3"), "episodes", 2025).empty
    closed = {"DEC": "01/06/2019", "DECOM": "01/05/2019"}
    assert schema_failures(_episode(REC="E17", **closed), "episodes", 2020)[
        "rule_code"
    ].tolist() == ["149"]
    assert schema_failures(_episode(REC="E17", **closed), "episodes", 2021).empty


@pytest.mark.parametrize(
    ("column", "value", "rule"),
    [("RNE", "X", "143"), ("LS", "V5", "144"), ("CIN", "N0", "145"), ("PLACE", "U7", "146"),
     ("REC", "E4C", "149"), ("DECOM", "2023-05-01", "141"), ("DEC", "31/04/2023", "147"),
     ("RNE", None, "143"), ("DECOM", None, "141"), ("CHILD", None, "missing_child_id")],
)  # fmt: skip
def test_each_episode_check_maps_to_its_dfe_rule(column, value, rule):
    failures = schema_failures(_episode(**{column: value}), "episodes", 2024)
    assert failures[["column", "rule_code"]].values.tolist() == [[column, rule]]


def test_lazy_validation_collects_every_failure():
    frame = pd.concat([_episode(RNE="X"), _episode(LS="Q", CIN="N9")], ignore_index=True)
    failures = schema_failures(frame, "episodes", 2024)
    assert sorted(failures["rule_code"]) == ["143", "144", "145"]
    assert sorted(failures["index"]) == [0, 1, 1]


def test_dates_are_dd_mm_yyyy_only_and_never_guessed():
    values = pd.Series(
        ["29/02/2024", "29/02/2023", "31/02/2024", "2024-01-31", "1/2/2024", "01/13/2024",
         "01/01/0001", "15/06/2023 ", None]
    )  # fmt: skip
    parsed = parse_903_dates(values)
    assert str(parsed.dtype) == "datetime64[ns]"
    assert parsed.iloc[0] == pd.Timestamp("2024-02-29")
    assert parsed.iloc[1:].isna().all()
