"""Lookups the pipeline needs: LAs and regions, statistical neighbours, DfE rule messages.

Everything is read from the project's own ``reference`` package (provenance in its README)
through ``importlib.resources``, never from outside the package, so a run is reproducible
from a checkout or an installed wheel alike.
"""

from __future__ import annotations

import ast
from functools import cache
from importlib import resources

import pandas as pd

from assets.common.calendar import collection_year_bounds

REFERENCE = resources.files("reference")


def read_reference_csv(name: str) -> pd.DataFrame:
    """A reference table as strings, exactly as shipped (no value parsed as missing)."""
    # utf-8-sig: some source files carry a byte-order mark.
    with REFERENCE.joinpath(name).open("rb") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False, encoding="utf-8-sig")


@cache
def load_las() -> pd.DataFrame:
    """One row per LA (live and terminated), with its region.

    The source lists combined rows such as ``940 / 941`` for LAs that publish jointly in
    some tables; those are not reporting units in SSDA903 and are dropped.
    Columns: old_la_code, new_la_code, la_name, region_code, region_name,
    date_of_operation, date_of_termination (NaT when live), status.
    """
    las = read_reference_csv("las.csv")
    las = las[~las["old_la_code"].str.contains("/")].copy()
    regions = read_reference_csv("regions.csv").set_index("region_code")["region_name"]
    las = las.rename(columns={"parent_geography_code": "region_code"})
    las["region_name"] = las["region_code"].map(regions)
    for col in ("date_of_operation", "date_of_termination"):
        las[col] = pd.to_datetime(las[col].replace("", None), format="%d/%m/%Y")
    cols = [
        "old_la_code",
        "new_la_code",
        "la_name",
        "region_code",
        "region_name",
        "date_of_operation",
        "date_of_termination",
        "status",
    ]
    return las[cols].sort_values("old_la_code").reset_index(drop=True)


def las_in_year(year: int) -> pd.DataFrame:
    """LAs that existed for the whole of collection year ``year``.

    Boundary changes take effect on 1 April (e.g. Northamptonshire 928 ended 31/03/2021,
    North/West Northamptonshire 940/941 began 01/04/2021), so each collection year has
    exactly one set of reporting LAs.
    """
    start, end = collection_year_bounds(year)
    las = load_las()
    live = (las["date_of_operation"] <= start) & (
        las["date_of_termination"].isna() | (las["date_of_termination"] >= end)
    )
    return las[live].reset_index(drop=True)


@cache
def load_regions() -> pd.DataFrame:
    """The nine English regions (E12 codes); Inner/Outer London (E13) are not used."""
    regions = read_reference_csv("regions.csv")
    return regions[regions["region_code"].str.startswith("E12")].reset_index(drop=True)


@cache
def load_statistical_neighbours() -> pd.DataFrame:
    """DfE 2025 statistical neighbours in long form.

    Columns: old_la_code, rank (1 = closest), neighbour_old_la_code, closeness.
    """
    wide = read_reference_csv("statistical_neighbours_2025.csv")
    parts = []
    for rank in range(1, 11):
        part = wide[["old_la_code", f"SN_{rank}", f"SN_{rank}P"]].copy()
        part.columns = ["old_la_code", "neighbour_old_la_code", "closeness"]
        part["rank"] = rank
        parts.append(part)
    long = pd.concat(parts, ignore_index=True)
    long["closeness"] = long["closeness"].str.strip()
    long = long[["old_la_code", "rank", "neighbour_old_la_code", "closeness"]]
    return long.sort_values(["old_la_code", "rank"]).reset_index(drop=True)


@cache
def load_rules() -> pd.DataFrame:
    """DfE SSDA903 2024-25 validation rules: code (str), message, fields (tuple), tables."""
    rules = read_reference_csv("ssda903_rule_info_2024_25.csv")
    rules.columns = ["code", "message", "fields", "tables"]
    rules["fields"] = rules["fields"].map(lambda s: tuple(ast.literal_eval(s)) if s else ())
    rules["tables"] = rules["tables"].map(lambda s: tuple(ast.literal_eval(s)) if s else ())
    return rules


def rule_message(code: str) -> str:
    """The DfE message for a rule code, so every failure quotes the official wording."""
    rules = load_rules().set_index("code")["message"]
    return rules[str(code)]
