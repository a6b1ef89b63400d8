"""Collection-year partitions.

A partition key is a **collection year** written as the year in which it ends: key
``"2025"`` is the SSDA903 collection year 1 April 2024 to 31 March 2025 (DfE SSDA903
guidance 2024-25), the same number used for the landing folder ``landing/2025/`` and in
published tables. We use static keys rather than a yearly ``TimeWindowPartitionsDefinition``
on purpose: a window starting 1 April 2024 formats as ``"2024"`` although it is collection
year 2025, an off-by-one that would mislabel every run.

Keys run from the first year with returns (2016) to the latest collection year that has
ended, so a new key appears each 1 April, as a time-window partition would.
"""

from __future__ import annotations

import os
from datetime import date, datetime

from dagster import StaticPartitionsDefinition

FIRST_COLLECTION_YEAR = 2016


def latest_ended_collection_year(on: date | datetime) -> int:
    """The latest collection year (ending 31 March) that has ended on the given date."""
    day = on.date() if isinstance(on, datetime) else on
    return day.year if (day.month, day.day) >= (4, 1) else day.year - 1


def collection_year_keys(last_year: int | None = None) -> list[str]:
    """Partition keys ``FIRST_COLLECTION_YEAR``..``last_year`` as strings.

    ``REENTRY_LAST_COLLECTION_YEAR`` overrides the end (useful to pin a reproducible
    partition set); by default it is the latest collection year that has ended today.
    """
    if last_year is None:
        env = os.environ.get("REENTRY_LAST_COLLECTION_YEAR")
        last_year = int(env) if env else latest_ended_collection_year(date.today())
    return [str(y) for y in range(FIRST_COLLECTION_YEAR, last_year + 1)]


collection_year_partitions = StaticPartitionsDefinition(collection_year_keys())
