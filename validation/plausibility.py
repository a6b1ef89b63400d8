"""Is each LA-year plausible against the same LA's previous year?

Every row of a return can pass every DfE rule while the return as a whole is wrong: a
resubmission that halves an LA's children (a file cut short, one team's cases left out)
passed as ``accepted``. Year-on-year change in an LA's children and returns home is small
in the published DfE children-looked-after statistics (a few per cent a year for most
LAs), so a change of more than 30% is worth a reviewer's look. This is a warning for the QA
pack, never a rejection: real changes (a boundary change, a new service) happen.

This module is the one place the rule lives: the history asset raises its flags as a
warning check in the run, and the QA pack's summary page lists them
(``assets.publication.qa_summary``).
"""

from __future__ import annotations

import pandas as pd

# An LA-year measure is flagged when it moved by more than JUMP_SHARE of last year's count
# *and* by at least JUMP_MIN (smaller counts swing by chance: 4 to 9 is no signal). Kent's
# returns home, 188 to 284 in a year, is the kind of change a reviewer should see.
JUMP_SHARE = 0.30
JUMP_MIN = 20
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
    jump_share: float = JUMP_SHARE,
    jump_min: int = JUMP_MIN,
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
    change = table["current"] - table["previous"]
    big_enough = change.abs() >= jump_min
    falls = big_enough & (table["ratio"] < 1 - jump_share)
    rises = big_enough & ((table["ratio"] > 1 + jump_share) | table["ratio"].isna())
    table["flagged"] = falls | rises
    table["reason"] = ""
    table.loc[falls, "reason"] = f"fell below {1 - jump_share:.2f} times the previous year"
    table.loc[rises, "reason"] = f"rose above {1 + jump_share:.2f} times the previous year"
    return (
        table[PLAUSIBILITY_COLUMNS]
        .sort_values(["collection_year", "la_code", "measure"], kind="mergesort")
        .reset_index(drop=True)
    )


def flagged_lines(table: pd.DataFrame) -> list[str]:
    """The flagged rows as sentences for the run's log and the check's metadata."""
    return [
        f"LA {r.la_code} {r.collection_year}: {r.measure.replace('_', ' ')} {r.current} "
        f"against {r.previous} the year before ({r.reason})"
        for r in table[table["flagged"]].itertuples()
    ]
