"""Explore Education Statistics (EES) open-data rules, checked on every file we write.

EES imports a data CSV plus a ``.meta.csv`` describing its filters and indicators. The
rules below are the DfE "Open data standards" for EES (Explore education statistics
guidance: "Data files: open data standards") and the checks made by the DfE data screener
(dfe-analytical-services/dfe-published-data-qa): mandatory time and geography columns,
geography columns filled according to ``geographic_level``, snake_case column names of at
most 50 characters, meta labels of at most 80 characters, the allowed indicator units,
GSS/EES symbols in place of numbers, no blank rows and a ``Total`` in every filter.

Files are validated as read back from disk (all strings), so what is checked is exactly
what a user downloads. Failures raise :class:`EesValidationError` naming the file, the
rule, the column and the first failing rows.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from assets.common.vocabulary import TOTAL

MANDATORY_COLUMNS = [
    "time_period",
    "time_identifier",
    "geographic_level",
    "country_code",
    "country_name",
]
# Columns each geographic level must fill (EES open data standards, "geography").
LEVEL_COLUMNS = {
    "National": [],
    "Regional": ["region_code", "region_name"],
    "Local authority": ["region_code", "region_name", "old_la_code", "new_la_code", "la_name"],
}
# Observational units: time and geography. EES derives them; they must not be in the meta.
OBSERVATIONAL_UNITS = [
    *MANDATORY_COLUMNS,
    "region_code",
    "region_name",
    "old_la_code",
    "new_la_code",
    "la_name",
]
TIME_IDENTIFIERS = ["Reporting year", "Calendar year", "Financial year", "Academic year"]
# EES/GSS symbols for values that are not numbers: c confidential (suppressed), x not
# available, z not applicable, k rounds to zero but is not zero, low (older form of k),
# u low reliability.
ALLOWED_SYMBOLS = ["c", "x", "z", "k", "low", "u"]
# Units the EES table tool renders (blank = plain number).
ALLOWED_UNITS = ["", "%", "£", "£m", "pp"]
META_COLUMNS = [
    "col_name",
    "col_type",
    "label",
    "indicator_grouping",
    "indicator_unit",
    "indicator_dp",
    "filter_hint",
    "filter_grouping_column",
]
MAX_NAME = 50
MAX_LABEL = 80
SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
NUMBER = r"^-?\d+(\.\d+)?$"


class EesValidationError(ValueError):
    """An EES rule failed; the message names file, rule, column and failing rows."""


def _blank(s: pd.Series) -> pd.Series:
    return s.isna() | (s.astype(str).str.strip() == "")


def _geography_filled(df: pd.DataFrame) -> pd.Series:
    ok = pd.Series(True, index=df.index)
    for level, needed in LEVEL_COLUMNS.items():
        rows = df["geographic_level"] == level
        for col in needed:
            if col not in df:
                return pd.Series(False, index=df.index)
            ok &= ~(rows & _blank(df[col]))
    return ok


def _geography_blank_below_level(df: pd.DataFrame) -> pd.Series:
    """National rows carry no region or LA; regional rows carry no LA (EES standards)."""
    ok = pd.Series(True, index=df.index)
    below = {
        "National": ["region_code", "region_name", "old_la_code", "new_la_code", "la_name"],
        "Regional": ["old_la_code", "new_la_code", "la_name"],
    }
    for level, cols in below.items():
        rows = df["geographic_level"] == level
        for col in cols:
            if col in df:
                ok &= ~(rows & ~_blank(df[col]))
    return ok


def data_schema(
    indicators: list[str],
    filters: list[str],
    *,
    filter_groups: tuple[str, ...] = (),
    filters_without_total: tuple[str, ...] = (),
) -> pa.DataFrameSchema:
    """The schema for one EES data file, given its meta's indicators and filters."""
    value = pa.Check(
        lambda s: s.str.fullmatch(NUMBER) | s.isin(ALLOWED_SYMBOLS),
        element_wise=False,
        error=f"indicator values must be numbers or one of the symbols {ALLOWED_SYMBOLS}",
    )
    columns: dict[str, pa.Column] = {
        "time_period": pa.Column(str, pa.Check.str_matches(r"^\d{4}(\d{2})?$"), nullable=False),
        "time_identifier": pa.Column(str, pa.Check.isin(TIME_IDENTIFIERS)),
        "geographic_level": pa.Column(str, pa.Check.isin(list(LEVEL_COLUMNS))),
        "country_code": pa.Column(str, pa.Check.str_matches(r"^[EKNSW]\d{8}$")),
        "country_name": pa.Column(str, pa.Check.str_length(min_value=1)),
        "region_code": pa.Column(str, pa.Check.str_matches(r"^(E12\d{6})?$"), required=False),
        "region_name": pa.Column(str, required=False),
        "la_name": pa.Column(str, required=False),
        "old_la_code": pa.Column(str, pa.Check.str_matches(r"^(\d{3})?$"), required=False),
        "new_la_code": pa.Column(
            str, pa.Check.str_matches(r"^(E0[6-9]\d{6}|E10\d{6})?$"), required=False
        ),
    }
    for col in indicators:
        columns[col] = pa.Column(str, value, nullable=False)
    for col in filters:
        checks = [pa.Check(lambda s: ~_blank(s), error="filter values must not be blank")]
        if col not in filters_without_total:
            checks.append(
                pa.Check(lambda s: (s == TOTAL).any(), error="every filter needs a 'Total' value")
            )
        columns[col] = pa.Column(str, checks, nullable=False)
    for col in filter_groups:
        columns[col] = pa.Column(
            str, pa.Check(lambda s: ~_blank(s), error="filter groups must not be blank")
        )
    return pa.DataFrameSchema(
        columns,
        checks=[
            pa.Check(
                lambda df: pd.Series(
                    [all(SNAKE_CASE.match(c) and len(c) <= MAX_NAME for c in df.columns)]
                ),
                error=f"column names must be snake_case and at most {MAX_NAME} characters",
            ),
            pa.Check(lambda df: ~df.apply(_blank).all(axis=1), error="no blank rows"),
            pa.Check(
                _geography_filled, error="geography columns required by geographic_level are blank"
            ),
            pa.Check(
                _geography_blank_below_level,
                error="National rows must not carry region/LA values; Regional rows no LA values",
            ),
            pa.Check(
                lambda df: pd.Series([set(MANDATORY_COLUMNS) <= set(df.columns)]),
                error=f"mandatory columns {MANDATORY_COLUMNS} must all be present",
            ),
        ],
        strict=True,
        coerce=False,
    )


def meta_schema(data_columns: list[str]) -> pa.DataFrameSchema:
    """The schema for a ``.meta.csv`` describing a data file with ``data_columns``."""
    listable = [c for c in data_columns if c not in OBSERVATIONAL_UNITS]
    # A filter's grouping column (e.g. characteristic_group) is named by its filter's
    # filter_grouping_column and is not listed as a row of its own.
    return pa.DataFrameSchema(
        {
            "col_name": pa.Column(
                str,
                [
                    pa.Check.isin(
                        listable, error="col_name must be a non-observational data column"
                    ),
                    pa.Check(lambda s: ~s.duplicated(), error="col_name must be unique"),
                ],
            ),
            "col_type": pa.Column(str, pa.Check.isin(["Filter", "Indicator"])),
            "label": pa.Column(str, pa.Check.str_length(1, MAX_LABEL)),
            "indicator_grouping": pa.Column(str),
            "indicator_unit": pa.Column(str, pa.Check.isin(ALLOWED_UNITS)),
            "indicator_dp": pa.Column(str, pa.Check.str_matches(r"^(\d)?$")),
            "filter_hint": pa.Column(str),
            "filter_grouping_column": pa.Column(str, pa.Check.isin(["", *data_columns])),
        },
        checks=[
            pa.Check(
                lambda m: pd.Series(
                    [set(m["col_name"]) | set(m["filter_grouping_column"]) - {""} == set(listable)]
                ),
                error="every non-observational data column must be listed in the meta exactly once",
            ),
            pa.Check(
                lambda m: (
                    (m["col_type"] == "Indicator")
                    | ((m["indicator_unit"] == "") & (m["indicator_dp"] == ""))
                ),
                error="filters carry no indicator_unit or indicator_dp",
            ),
            pa.Check(
                lambda m: (
                    (m["col_type"] == "Filter")
                    | ((m["filter_hint"] == "") & (m["filter_grouping_column"] == ""))
                ),
                error="indicators carry no filter_hint or filter_grouping_column",
            ),
        ],
        strict=True,
        ordered=True,
    )


def _raise(path: Path | str, err: pa.errors.SchemaErrors, where=None) -> None:
    cases = err.failure_cases
    lines = []
    for row in cases.head(10).itertuples(index=False):
        if pd.notna(row.index):
            i = int(row.index)
            loc = where(i) if where else f"{path} row {i + 2}"
        else:
            loc = f"{path} (whole file)"
        lines.append(f"  {loc}, column {row.column}: {row.check} (value {row.failure_case!r})")
    more = f"\n  ... {len(cases) - 10} more" if len(cases) > 10 else ""
    raise EesValidationError(
        f"{path}: breaks the EES open data standards ({len(cases)} failures):\n"
        + "\n".join(lines)
        + more
    ) from err


def read_ees_csv(path: Path) -> pd.DataFrame:
    """Read an EES file exactly as written: every value a string, blanks kept as ''."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


def _check_bytes(path: Path) -> None:
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        raise EesValidationError(f"{path}: must be UTF-8 without a byte-order mark")
    if b"\n\n" in raw or b"\r\n\r\n" in raw:
        raise EesValidationError(f"{path}: contains a blank line (EES: no blank rows)")


def _validated_meta(meta_path: Path, data_columns: list[str]) -> pd.DataFrame:
    meta = read_ees_csv(meta_path)
    try:
        meta_schema(data_columns).validate(meta, lazy=True)
    except pa.errors.SchemaErrors as err:
        _raise(meta_path, err)
    return meta


def _schema_for(meta: pd.DataFrame, filters_without_total: tuple[str, ...]) -> pa.DataFrameSchema:
    indicators = meta.loc[meta["col_type"] == "Indicator", "col_name"].tolist()
    filters = meta.loc[meta["col_type"] == "Filter", "col_name"].tolist()
    groups = tuple(sorted(set(meta["filter_grouping_column"]) - {""}))
    return data_schema(
        indicators, filters, filter_groups=groups, filters_without_total=filters_without_total
    )


def validate_ees_file(
    data_path: Path, meta_path: Path, *, filters_without_total: tuple[str, ...] = ()
) -> None:
    """Check a written data file and its meta file against every EES rule above."""
    validate_ees_files([data_path], meta_path, filters_without_total=filters_without_total)


def validate_ees_files(
    data_paths: list[Path], meta_path: Path, *, filters_without_total: tuple[str, ...] = ()
) -> None:
    """Check several data files described by one meta file (e.g. the per-LA extracts).

    Per-file rules (encoding, blank lines, same columns, a Total in each additive filter)
    run on each file; the row-level schema runs once over all rows, which is what keeps
    checking 150 small files fast. Errors name the file and its row.
    """
    paths = [Path(p) for p in data_paths]
    frames = []
    for path in paths:
        _check_bytes(path)
        frames.append(read_ees_csv(path))
    columns = list(frames[0].columns)
    meta = _validated_meta(Path(meta_path), columns)
    schema = _schema_for(meta, filters_without_total)
    additive = [
        c
        for c in meta.loc[meta["col_type"] == "Filter", "col_name"]
        if c not in filters_without_total
    ]
    for path, frame in zip(paths, frames, strict=True):
        if list(frame.columns) != columns:
            raise EesValidationError(f"{path}: columns differ from {paths[0]}")
        for col in additive:
            if col in frame and len(frame) and not (frame[col] == TOTAL).any():
                raise EesValidationError(
                    f"{path}: column {col}: every filter needs a 'Total' value (EES standards)"
                )
    data = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    starts = np.cumsum([0] + [len(f) for f in frames])

    def where(i: int) -> str:
        k = int(np.searchsorted(starts, i, side="right") - 1)
        return f"{paths[k]} row {i - starts[k] + 2}"

    try:
        schema.validate(data, lazy=True)
    except pa.errors.SchemaErrors as err:
        _raise(paths[0] if len(paths) == 1 else meta_path, err, where)


def validate_ees_extracts(
    extract_paths: list[Path],
    source_path: Path,
    meta_path: Path,
    *,
    filters_without_total: tuple[str, ...] = (),
) -> None:
    """Check extracts (e.g. one file per LA) cut from an already validated data file.

    Each extract must have the source's header and only lines that appear verbatim in the
    source, so every row-level rule checked on the source holds for it; the per-file rules
    (encoding, no blank lines, a Total in each additive filter) are checked here.
    """
    source_lines = Path(source_path).read_text(encoding="utf-8").split("\n")
    header, body = source_lines[0], set(source_lines[1:-1])
    meta = read_ees_csv(meta_path)
    columns = next(csv.reader([header]))
    additive = [
        columns.index(c)
        for c in meta.loc[meta["col_type"] == "Filter", "col_name"]
        if c not in filters_without_total and c in columns
    ]
    for path in map(Path, extract_paths):
        _check_bytes(path)
        lines = path.read_text(encoding="utf-8").split("\n")
        if lines[0] != header:
            raise EesValidationError(f"{path}: header differs from {source_path}")
        if lines[-1] != "":
            raise EesValidationError(f"{path}: must end with a line break")
        rows = lines[1:-1]
        stray = [i for i, line in enumerate(rows, start=2) if line not in body]
        if stray:
            raise EesValidationError(
                f"{path} row {stray[0]}: not a row of {source_path} (extracts must be verbatim)"
            )
        parsed = list(csv.reader(rows))
        for j in additive:
            if rows and not any(r[j] == TOTAL for r in parsed):
                raise EesValidationError(
                    f"{path}: column {columns[j]}: every filter needs a 'Total' value (EES standards)"
                )
