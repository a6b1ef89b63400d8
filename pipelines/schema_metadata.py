"""Dagster column-schema metadata generated from the pandera contracts.

One place states what a column is (assets/common/contracts.py); the UI's column schema is
derived from it, so documentation cannot drift from the checks (the pattern PUDL uses).
"""

from __future__ import annotations

import pandera.pandas as pa
from dagster import TableColumn, TableColumnConstraints, TableSchema


def _check_text(check: pa.Check) -> str:
    stats = getattr(check, "statistics", None) or {}
    name = getattr(check, "name", None) or "check"
    if not stats:
        return str(name)
    args = ", ".join(f"{k}={v!r}" for k, v in sorted(stats.items()))
    return f"{name}({args})"


def table_schema_from_model(model: type[pa.DataFrameModel]) -> TableSchema:
    """The model's columns, types, nullability and checks as a Dagster ``TableSchema``."""
    schema = model.to_schema()
    columns = []
    for name, column in schema.columns.items():
        checks = [_check_text(c) for c in column.checks]
        columns.append(
            TableColumn(
                name=name,
                type=str(column.dtype),
                description=column.description,
                constraints=TableColumnConstraints(
                    nullable=bool(column.nullable),
                    unique=bool(column.unique),
                    other=checks,
                ),
            )
        )
    return TableSchema(columns=columns)


def column_schema_metadata(model: type[pa.DataFrameModel]) -> dict[str, TableSchema]:
    """Definition metadata for an asset whose main table follows ``model``."""
    return {"dagster/column_schema": table_schema_from_model(model)}
