"""Is each LA-year plausible against the same LA's previous year?

Every row of a return can pass every DfE rule while the return as a whole is wrong: a
resubmission that halves an LA's children (a file cut short, one team's cases left out)
passed as ``accepted``. Year-on-year change in an LA's children and returns home is small
in the published DfE children-looked-after statistics (a few per cent a year for most
LAs), so a halving or doubling is worth a reviewer's look. This is a warning for the QA
pack, never a rejection: real changes (a boundary change, a new service) happen.
"""

from __future__ import annotations

import pandas as pd

# Ratios of this year to last outside [LOW, HIGH] are flagged (a fall of 40% or more, or
# the matching rise), when last year had at least MIN_PREVIOUS (smaller counts swing by
# chance: 4 to 9 is no signal). On the national synthetic data: 13 of 2,724 LA-year
# measures flagged, all returns home in small LAs.
LOW, HIGH = 0.6, 1 / 0.6
MIN_PREVIOUS = 20
RETURN_HOME_REASONS = ("E4A", "E4B")  # SSDA903 REC: returned home to parents or relatives

PLAUSIBILITY_COLUMNS = [
    "collection_year",
    "la_code",
    "measure",
    "previous",
    "current",
    "ratio",
    "flagged",
    "reason",
]


def _children(ledger: pd.DataFrame) -> pd.DataFrame:
    """Children in each LA-year's return: the header rows the LA submitted."""
    header = ledger[ledger["table"].astype("string") == "header"]
    counts = header.groupby(["collection_year", "la_code"], as_index=False)["rows_read"].sum()
    return counts.rename(columns={"rows_read": "count"}).assign(measure="children")


def _returns_home(episodes: pd.DataFrame) -> pd.DataFrame:
    """Episodes ending in a return home, by the collection year the episode ended in."""
    if not {"rec", "dec", "la_code"} <= set(episodes.columns):
        return pd.DataFrame(columns=["collection_year", "la_code", "count", "measure"])
    ended = episodes[episodes["rec"].astype("string").isin(RETURN_HOME_REASONS)]
    dec = pd.to_datetime(ended["dec"])
    year = dec.dt.year + (dec.dt.month >= 4).astype(int)
    counts = (
        pd.DataFrame({"collection_year": year, "la_code": ended["la_code"]})
        .dropna()
        .groupby(["collection_year", "la_code"], as_index=False)
        .size()
        .rename(columns={"size": "count"})
    )
    return counts.assign(measure="returns_home")


def plausibility_table(
    ledger: pd.DataFrame,
    episodes: pd.DataFrame,
    *,
    low: float = LOW,
    high: float = HIGH,
    min_previous: int = MIN_PREVIOUS,
) -> pd.DataFrame:
    """One row per LA, year and measure (children, returns home) with last year's count,
    this year's, their ratio and whether the change is implausible (``flagged``)."""
    counts = pd.concat([_children(ledger), _returns_home(episodes)], ignore_index=True)
    counts["collection_year"] = counts["collection_year"].astype(int)
    counts["la_code"] = counts["la_code"].astype("string")
    counts["count"] = counts["count"].astype(int)
    previous = counts.assign(collection_year=counts["collection_year"] + 1).rename(
        columns={"count": "previous"}
    )
    table = counts.rename(columns={"count": "current"}).merge(
        previous, on=["collection_year", "la_code", "measure"], how="inner"
    )
    table["ratio"] = (table["current"] / table["previous"].where(table["previous"] > 0)).round(3)
    big_enough = table["previous"] >= min_previous
    falls = big_enough & (table["ratio"] < low)
    rises = big_enough & (table["ratio"] > high)
    table["flagged"] = falls | rises
    table["reason"] = ""
    table.loc[falls, "reason"] = f"fell below {low:.2f} times the previous year"
    table.loc[rises, "reason"] = f"rose above {high:.2f} times the previous year"
    return (
        table[PLAUSIBILITY_COLUMNS]
        .sort_values(["collection_year", "la_code", "measure"], kind="mergesort")
        .reset_index(drop=True)
    )
