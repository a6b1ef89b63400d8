"""pandera schemas for the raw SSDA903 header and episodes tables, per collection year.

The schemas run on the strings exactly as read (see ``assets.ingest.reading``), so a value that
is not a valid code or a strict ``dd/mm/yyyy`` date is reported, never coerced. Every
check is named after the DfE validation rule that covers it (codes and messages from
``reference/ssda903_rule_info_2024_25.csv``), so a pandera failure case becomes a
failure row quoting the official message. Validation is lazy: every failure is collected.

Code lists: DfE "Children looked after return: guide" and "technical specification"
(data dictionary code sets: gender/sex, ethnicity, reason for new episode, legal status,
category of need, placement type, placement provider, reason episode ceased), checked
against the 2022-23 and 2024-25 lists in the open-source DfE-rule implementation
data-to-insight/csc-validator-be-903 (rules 101, 103, 143-146, 149, 178).
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_arrow
import pyarrow.compute as pc

from assets.common.reference import read_reference_csv
from assets.ingest.dates import calendar_dates, ddmmyyyy_parts

# SEX was collected as 1 (male) / 2 (female) up to the 2023-24 return; from 2024-25 the
# return records M / F / U (DfE "Children looked after return 2024 to 2025: guide", "Sex"
# code set). The per-year lists are in reference/ssda903_code_lists.csv.
SEX_NORMALISED = {"1": "M", "2": "F", "M": "M", "F": "F", "U": "U"}

# ETHNIC: DfE ethnicity code set (18+2 codes, incl. REFU refused and NOBT not obtained).
ETHNIC_CODES = [
    "WBRI", "WIRI", "WIRT", "WOTH", "WROM", "MWBC", "MWBA", "MWAS", "MOTH", "AIND",
    "APKN", "ABAN", "AOTH", "BCRB", "BAFR", "BOTH", "CHNE", "OOTH", "REFU", "NOBT",
]  # fmt: skip
# RNE: S started to be looked after; L legal status change only; P placement change only;
# T both; U both, same carer; B placement change, same carer (DfE code set "RNE").
RNE_CODES = ["S", "L", "P", "T", "U", "B"]
CONTINUATION_RNE = ["L", "P", "T", "U", "B"]
# LS: care orders C1/C2, D1, E1, youth justice J1-J3, police/emergency L1-L3, s20 V2,
# short breaks V3/V4 (DfE code set "Legal status").
LS_CODES = ["C1", "C2", "D1", "E1", "J1", "J2", "J3", "L1", "L2", "L3", "V2", "V3", "V4"]
SHORT_BREAK_LS = ["V3", "V4"]
CIN_CODES = [f"N{i}" for i in range(1, 9)]
# PLACE: DfE placement type code set, per collection year in
# reference/ssda903_code_lists.csv: K3 added from 2024-25; H5, P2 and Z1 withdrawn and
# Z11-Z14 (which split "other placement" Z1) added from 2025-26.
# Temporary placements (T0-T4) and "other" placements (Z1, and Z11-Z14 that replace it)
# have no placement provider.
TEMPORARY_PLACE = ["T0", "T1", "T2", "T3", "T4"]
NO_PROVIDER_PLACE = [*TEMPORARY_PLACE, "Z1", "Z11", "Z12", "Z13", "Z14"]
PLACE_PROVIDER_CODES = ["PR0", "PR1", "PR2", "PR3", "PR4", "PR5"]
# REC: DfE "Reason episode ceased" code set. X1 = episode ceases and a new one begins;
# E4A/E4B = returned home to parents (planned / not planned); E2 died; E15 age 18+.
REC_CODES = [
    "E11", "E12", "E13", "E14", "E15", "E16", "E17", "E2", "E3", "E41", "E45", "E46",
    "E47", "E48", "E4A", "E4B", "E5", "E6", "E7", "E8", "E9", "X1",
]  # fmt: skip
CONTINUING_REC = "X1"
# E17 (aged 18, remained with current carers) is "z" (not applicable) in the published
# EES "children who ceased to be looked after" table for 2020 and present from 2021.
E17_FROM = 2021


def rec_codes(year: int) -> list[str]:
    return [c for c in REC_CODES if c != "E17" or year >= E17_FROM]


DATE_PATTERN = r"^\d{2}/\d{2}/\d{4}$"


@cache
def _code_lists() -> pd.DataFrame:
    lists = read_reference_csv("ssda903_code_lists.csv")
    for col in ("first_collection_year", "last_collection_year"):
        lists[col] = lists[col].astype(int)
    return lists


def code_list_years() -> range:
    """The collection years the shipped code lists cover (a return for any other year
    is rejected: its codes cannot be checked)."""
    lists = _code_lists()
    return range(
        int(lists["first_collection_year"].min()), int(lists["last_collection_year"].max()) + 1
    )


def codes_in_year(field: str, year: int) -> list[str]:
    """The codes ``field`` may take in collection ``year``'s return (sorted)."""
    lists = _code_lists()
    live = (
        lists["field"].eq(field)
        & lists["first_collection_year"].le(year)
        & lists["last_collection_year"].ge(year)
    )
    return sorted(lists.loc[live, "code"])


def sex_codes(year: int) -> list[str]:
    return codes_in_year("SEX", year)


def place_codes(year: int) -> list[str]:
    return codes_in_year("PLACE", year)


def parse_903_dates(values: pd.Series) -> pd.Series:
    """Strict ``dd/mm/yyyy`` to datetime64[ns]; anything else (31/02, ISO, 1/2/2020) is NaT.

    Shape and digits come from the column's bytes (assets.ingest.dates): a value is a
    date exactly when its day and month name a real day of that month. Years outside
    the whole years datetime64[ns] holds (e.g. 0001) are left to Arrow's strptime,
    which makes them NaT. Nothing is guessed.
    """
    # The column's own Arrow strings (large_string), not a converted copy.
    arr = pa_arrow.array(values.astype("str"), from_pandas=True)
    shaped, day, month, year = ddmmyyyy_parts(arr)
    out, settled = calendar_dates(shaped, day, month, year)
    rest = np.flatnonzero(shaped & ~settled)
    if len(rest):
        out[rest] = _strptime_exact(arr.take(pa_arrow.array(rest)))
    return pd.Series(out, index=values.index, name=values.name).astype("datetime64[ns]")


def _strptime_exact(arr: pa_arrow.Array) -> np.ndarray:
    """Arrow's strptime of dd/mm/yyyy values, NaT where it rolled an impossible day over
    (31/02 -> 02/03) or the date does not fit datetime64[ns]."""
    parsed = pc.strptime(arr, format="%d/%m/%Y", unit="ns", error_is_null=True)
    day = pc.cast(pc.utf8_slice_codeunits(arr, 0, 2), pa_arrow.int64())
    month = pc.cast(pc.utf8_slice_codeunits(arr, 3, 5), pa_arrow.int64())
    same = pc.and_(pc.equal(pc.day(parsed), day), pc.equal(pc.month(parsed), month))
    exact = pc.if_else(pc.fill_null(same, False), parsed, pa_arrow.scalar(None, parsed.type))
    return exact.to_numpy(zero_copy_only=False).astype("datetime64[ns]")


def _valid_date(values: pd.Series) -> pd.Series:
    return parse_903_dates(values).notna()


def _date_check(code: str) -> pa.Check:
    return pa.Check(_valid_date, name=code)


def _codes(codes: list[str], code: str) -> pa.Check:
    allowed = frozenset(codes)
    return pa.Check(lambda s: s.isin(allowed), name=code)


# Which DfE rule a missing (null) mandatory value breaks, per column.
NULL_RULE = {
    "header": {"CHILD": "missing_child_id", "SEX": "101", "DOB": "102", "ETHNIC": "103"},
    "episodes": {
        "CHILD": "missing_child_id",
        "DECOM": "141",
        "RNE": "143",
        "LS": "144",
        "CIN": "145",
        "PLACE": "146",
    },
}


@cache
def header_schema(year: int) -> pa.DataFrameSchema:
    """Raw header table for collection year ``year`` (strings as read)."""
    return pa.DataFrameSchema(
        {
            "CHILD": pa.Column(str, nullable=False),
            "SEX": pa.Column(str, _codes(sex_codes(year), "101"), nullable=False),
            "DOB": pa.Column(str, _date_check("102"), nullable=False),
            "ETHNIC": pa.Column(str, _codes(ETHNIC_CODES, "103"), nullable=False),
            "UPN": pa.Column(str, nullable=True),
        },
        strict=False,
        coerce=False,
        name=f"SSDA903 header {year}",
    )


@cache
def episodes_schema(year: int) -> pa.DataFrameSchema:
    """Raw episodes table for collection year ``year`` (strings as read)."""
    return pa.DataFrameSchema(
        {
            "CHILD": pa.Column(str, nullable=False),
            "DECOM": pa.Column(str, _date_check("141"), nullable=False),
            "RNE": pa.Column(str, _codes(RNE_CODES, "143"), nullable=False),
            "LS": pa.Column(str, _codes(LS_CODES, "144"), nullable=False),
            "CIN": pa.Column(str, _codes(CIN_CODES, "145"), nullable=False),
            "PLACE": pa.Column(str, _codes(place_codes(year), "146"), nullable=False),
            "DEC": pa.Column(str, _date_check("147"), nullable=True),
            "REC": pa.Column(str, _codes(rec_codes(year), "149"), nullable=True),
        },
        strict=False,
        coerce=False,
        name=f"SSDA903 episodes {year}",
    )


def _suspect_rows(frame: pd.DataFrame, schema: pa.DataFrameSchema) -> np.ndarray:
    """Rows that might fail ``schema``: a superset of pandera's failing rows, found with
    the schema's own check functions in one vectorised pass.

    pandera's per-check bookkeeping costs seconds per year at national scale while nearly
    every row passes, so it only sees these rows. A date column already parsed by
    validation (``<COL>_DT``) is reused: a value is a valid date exactly when it parsed.
    """
    suspect = np.zeros(len(frame), dtype=bool)
    for name, column in schema.columns.items():
        values = frame[name]
        null = values.isna().to_numpy(dtype=bool)
        if not column.nullable:
            suspect |= null
        for check in column.checks:
            fn = getattr(check, "_check_fn", None)
            if fn is _valid_date and f"{name}_DT" in frame.columns:
                passed = frame[f"{name}_DT"].notna().to_numpy(dtype=bool)
            elif fn is not None:
                passed = np.asarray(fn(values), dtype=bool)
            else:
                return np.ones(len(frame), dtype=bool)
            # Checks ignore nulls (pandera's ignore_na); nulls are the nullable check's.
            suspect |= ~passed & ~null
    return suspect


def schema_failures(frame: pd.DataFrame, table: str, year: int) -> pd.DataFrame:
    """Validate lazily and return one row per failing cell: index, column, rule_code, value.

    ``index`` is the row label in ``frame``; the caller maps it back to file and row.
    """
    schema = header_schema(year) if table == "header" else episodes_schema(year)
    columns = ["index", "column", "rule_code", "value"]
    suspect = _suspect_rows(frame, schema)
    if not suspect.any():
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    subset = frame.loc[suspect, list(schema.columns)] if not suspect.all() else frame
    try:
        schema.validate(subset[list(schema.columns)], lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    else:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    cases = cases[cases["index"].notna() & cases["column"].notna()].copy()
    null_rule = pd.Series(NULL_RULE[table])
    is_null_check = cases["check"].astype(str).eq("not_nullable")
    cases["rule_code"] = cases["check"].astype(str)
    cases.loc[is_null_check, "rule_code"] = cases.loc[is_null_check, "column"].map(null_rule)
    cases = cases[cases["rule_code"].notna()]
    cases["value"] = cases["failure_case"].where(~is_null_check, None)
    cases["index"] = cases["index"].astype("int64")
    return cases[columns].reset_index(drop=True)
