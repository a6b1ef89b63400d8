"""Returns home, index returns and re-entry to care within 6, 12, 24 and 60 months.

Definitions are those of docs/methodology.md; in short:

* a *return home* is a period of care ending with REC E4A or E4B (DfE SSDA903 guidance
  2024-25: returned home to live with parents, relatives or others with parental
  responsibility, as part of the care plan / not as part of it);
* a child's *index return* for cohort year Y is their first return home in that LA in the
  collection year ending 31 March Y;
* a *re-entry within W months* is the first later period of full-time care in the same LA
  that starts on or after the return date (whatever its first RNE: a short break that turns
  into full-time care starts it with RNE L or P) and on or before the return date plus W
  calendar months (``pd.DateOffset(months=W)``: 31 August + 6
  months is 28/29 February);
* the *any-LA* indicator also counts a new period starting in another LA's history linked
  by a valid UPN, attributed to the LA the child returned home from;
* a child whose 18th birthday falls after the return date, on or before the window end
  and before any re-entry *turned 18 in the window*: they stay in the denominator as not
  re-entered and are counted separately.

A W-month figure exists only when follow-up is complete for the whole cohort: 31 March Y
plus W months on or before 31 March of the cut-off year. Otherwise the flags are <NA>.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from assets.common.contracts import USABLE_STATUSES
from assets.measures.periods import collection_year_of, in_order

RETURN_HOME_RECS = ("E4A", "E4B")
# Sensitivity definitions (published for England and regions, docs/methodology.md): the
# DfE 2006-07 baseline predates the E4A/E4B split and counted living with relatives or
# others (E13) and residence / child arrangement orders (E41) as returns home; the US
# federal re-entry indicator leaves out stays in care of under 8 days.
BROAD_RETURN_HOME_RECS = ("E4A", "E4B", "E13", "E41")
SHORT_STAY_DAYS = 8
ADULT_AGE_YEARS = 18

INDEX_RETURN_COLUMNS = [
    "la_code",
    "child",
    "upn",
    "sex",
    "dob",
    "cohort_year",
    "return_date",
    "rec",
    "period_start",
    "ls_at_return",
    "cin_at_return",
    "previous_returns",
    "reentry_date",
    "reentry_date_any_la",
]


def cohort_year_end(cohort_year: int) -> pd.Timestamp:
    """31 March of the cohort year: the latest possible return date in the cohort."""
    return pd.Timestamp(year=cohort_year, month=3, day=31)


def follow_up_end(cohort_year: int, months: int) -> pd.Timestamp:
    """Window end for the cohort's last possible return (31 March Y + W months)."""
    return cohort_year_end(cohort_year) + pd.DateOffset(months=months)


def follow_up_complete(cohort_year: int, months: int, cut_off_year: int) -> bool:
    """True when every child in the cohort has been followed for the full W months."""
    return follow_up_end(cohort_year, months) <= cohort_year_end(cut_off_year)


def returns_home(
    periods: pd.DataFrame, recs: Sequence[str] = RETURN_HOME_RECS, min_stay_days: int = 0
) -> pd.DataFrame:
    """Periods of care ending in a return home (E4A/E4B, or ``recs``), with each child's
    count of earlier returns home in the same LA in the loaded history
    (``previous_returns``). ``min_stay_days``: leave out periods shorter than this."""
    keep = periods["end_rec"].isin(list(recs))
    if min_stay_days:
        stay = (periods["period_end"] - periods["period_start"]).dt.days
        keep &= stay.ge(min_stay_days).fillna(False)
    rh = periods[keep].copy()
    rh = in_order(rh, ["la_code", "child", "period_seq"])
    rh["previous_returns"] = rh.groupby(_child_id(rh), sort=False).cumcount().to_numpy()
    rh["cohort_year"] = collection_year_of(rh["period_end"]).astype("int64")
    return rh.rename(
        columns={
            "period_end": "return_date",
            "end_rec": "rec",
            "ls_at_end": "ls_at_return",
            "cin_at_end": "cin_at_return",
        }
    )


def _first_period_on_or_after_return(periods: pd.DataFrame, child: np.ndarray) -> pd.Series:
    """For each period, the start of the child's first *later* period in the same LA that
    starts on or after this period's end (NaT if none, or if this period is open).

    Any first RNE counts: once short breaks are removed, a child whose short break turns
    into full-time care (X1, then RNE L or P) starts full-time care on that day. And it is
    the first such period, not merely the next one: a period that starts before the return
    (an overlap left by a corrected resubmission) must not hide a later re-entry.
    ``periods`` are in (la, child, seq) order, so starts rise within each child.
    """
    day = np.int64(86_400 * 10**9)
    start = periods["period_start"].to_numpy(dtype="datetime64[ns]").view("int64") // day
    end_ts = periods["period_end"]
    end = end_ts.to_numpy(dtype="datetime64[ns]").view("int64") // day
    # One sortable key per (child, day): child numbers times a span longer than any date.
    span = np.int64(10**6)
    key = child.astype(np.int64) * span + start
    wanted = child.astype(np.int64) * span + end
    at = np.searchsorted(key, wanted, side="left")
    at = np.maximum(at, np.arange(len(key)) + 1)  # never the period itself
    inside = at < len(key)
    at = np.minimum(at, len(key) - 1)
    found = inside & (child[at] == child) & end_ts.notna().to_numpy()
    starts = periods["period_start"].to_numpy(dtype="datetime64[ns]")
    out = np.where(found, starts[at], np.datetime64("NaT"))
    return pd.Series(out, index=periods.index, dtype=periods["period_start"].dtype)


def _child_id(frame: pd.DataFrame) -> np.ndarray:
    """An integer per (la_code, child) for a frame already in (la_code, child) order:
    integer group keys are much faster than grouping on two text columns."""
    la = pd.factorize(frame["la_code"])[0]
    child = pd.factorize(frame["child"])[0]
    new = np.ones(len(frame), dtype=bool)
    new[1:] = (la[1:] != la[:-1]) | (child[1:] != child[:-1])
    return np.cumsum(new)


def _first_new_period_elsewhere(index: pd.DataFrame, periods: pd.DataFrame) -> pd.Series:
    """Earliest period start in *another* LA, linked by UPN, on or after the return date
    (NaT if none), whatever its first RNE, as in the same LA. The join is on UPN, so it
    stays small: a handful of periods per linked child."""
    starts = periods.loc[periods["upn"].notna(), ["upn", "la_code", "period_start"]]
    starts = starts.rename(columns={"la_code": "other_la"})
    left = index.loc[index["upn"].notna(), ["upn", "la_code", "return_date"]].reset_index()
    pairs = left.merge(starts, on="upn", how="inner")
    pairs = pairs[
        pairs["other_la"].ne(pairs["la_code"]) & (pairs["period_start"] >= pairs["return_date"])
    ]
    first = pairs.groupby("index")["period_start"].min()
    return first.reindex(index.index)


def order_periods(periods: pd.DataFrame) -> pd.DataFrame:
    """Periods in (LA, child, sequence) order with ``next_period_start``: the part of
    ``index_returns`` that does not depend on the definition of a return home, done once
    when several definitions are counted (the sensitivity table)."""
    periods = in_order(periods, ["la_code", "child", "period_seq"])
    periods = periods.reset_index(drop=True)
    periods["next_period_start"] = _first_period_on_or_after_return(periods, _child_id(periods))
    return periods


def index_returns(
    periods: pd.DataFrame,
    recs: Sequence[str] = RETURN_HOME_RECS,
    min_stay_days: int = 0,
    *,
    ordered: bool = False,
) -> pd.DataFrame:
    """Each child's first return home per LA per collection year, with the date of their
    first re-entry in the same LA and in any LA (NaT if none in the loaded history).
    ``recs`` and ``min_stay_days`` give the sensitivity definitions (``returns_home``);
    ``ordered``: ``periods`` already come from ``order_periods``."""
    if not ordered:
        periods = order_periods(periods)
    rh = returns_home(periods, recs, min_stay_days)
    index = rh.drop_duplicates(["la_code", "child", "cohort_year"], keep="first").copy()
    same_la = index["next_period_start"]
    index["reentry_date"] = same_la
    elsewhere = _first_new_period_elsewhere(index, periods)
    index["reentry_date_any_la"] = pd.concat([same_la, elsewhere], axis=1).min(axis=1)
    index["reentry_date_any_la"] = index["reentry_date_any_la"].astype(same_la.dtype)
    index = in_order(index, ["cohort_year", "la_code", "child"])
    return index[INDEX_RETURN_COLUMNS].reset_index(drop=True)


def add_window_flags(
    index: pd.DataFrame,
    windows: Sequence[int],
    cut_off_year: int,
    quarantined: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Add, per window W, ``re_entered_W``, ``re_entered_any_la_W`` and
    ``turned_18_W`` (nullable booleans; <NA> for cohorts whose follow-up is incomplete
    and for children excluded from the window), ``excluded_W`` and ``window_end_W``.

    ``quarantined`` (la_code, collection_year, child): LA-years in which a child's records
    were quarantined. A child who has not been seen to re-enter before such a year, and
    whose window reaches into it, cannot be followed: their re-entry, if any, is in the
    records set aside. They are ``excluded_W`` (left out of the W-month figure and
    counted), never counted as not re-entered.
    """
    out = index.copy()
    birthday_18 = eighteenth_birthday(out["dob"])
    reentry = out["reentry_date"]
    for w in windows:
        end = out["return_date"] + pd.DateOffset(months=w)
        complete = pd.Series(
            {y: follow_up_complete(int(y), w, cut_off_year) for y in out["cohort_year"].unique()},
            dtype=bool,
        )
        complete = out["cohort_year"].map(complete).fillna(False).astype(bool)
        excluded = unfollowable(out, end, quarantined) & complete
        re_entered = reentry.notna() & (reentry <= end)
        any_la = out["reentry_date_any_la"].notna() & (out["reentry_date_any_la"] <= end)
        turned_18 = (
            (birthday_18 > out["return_date"])
            & (birthday_18 <= end)
            & (reentry.isna() | (birthday_18 < reentry))
        )
        out[f"window_end_{w}"] = end
        out[f"excluded_{w}"] = excluded.to_numpy()
        for name, flag in (
            (f"re_entered_{w}", re_entered),
            (f"re_entered_any_la_{w}", any_la),
            (f"turned_18_{w}", turned_18),
        ):
            out[name] = flag.astype("boolean").where(complete & ~excluded, pd.NA)
    return out


def eighteenth_birthday(dob: pd.Series) -> pd.Series:
    """The day a child turns 18. A child born on 29 February turns 18 on 1 March in a
    common year, as rule 352 and the age bands count completed years (``age_in_years``):
    one convention everywhere (docs/methodology.md)."""
    plain = dob + pd.DateOffset(years=ADULT_AGE_YEARS)
    leap_day = dob.dt.month.eq(2) & dob.dt.day.eq(29) & plain.dt.day.eq(28)
    return plain.where(~leap_day, plain + pd.Timedelta(days=1))


def unfollowable(
    index: pd.DataFrame, window_end: pd.Series, quarantined: pd.DataFrame | None
) -> pd.Series:
    """Whether each index return's window needs a collection year in which the child's
    records in that LA were quarantined, with no re-entry seen before that year and none
    seen inside the window at all (a re-entry seen after the quarantined year but within
    the window settles the question: an earlier one hidden in the quarantined records
    would only make it earlier)."""
    none = pd.Series(False, index=index.index)
    if quarantined is None or quarantined.empty or index.empty:
        return none
    q = quarantined[["la_code", "child", "collection_year"]].rename(
        columns={"collection_year": "q_year"}
    )
    rows = pd.DataFrame(
        {
            "row": np.arange(len(index)),
            "la_code": index["la_code"].to_numpy(),
            "child": index["child"].to_numpy(),
            "first": index["cohort_year"].to_numpy(dtype=np.int64),
            "last": collection_year_of(window_end).to_numpy(dtype=np.int64),
            "seen": collection_year_of(index["reentry_date"]).fillna(10_000).to_numpy(),
        }
    )
    pairs = rows.merge(q, on=["la_code", "child"], how="inner")
    needed = (
        (pairs["q_year"] >= pairs["first"])
        & (pairs["q_year"] <= pairs["last"])
        & (pairs["seen"] >= pairs["q_year"])
    )
    hit = np.zeros(len(index), dtype=bool)
    hit[pairs.loc[needed, "row"].to_numpy(dtype=np.int64)] = True
    seen_inside = (index["reentry_date"].notna() & (index["reentry_date"] <= window_end)).to_numpy()
    return pd.Series(hit & ~seen_inside, index=index.index)


UNAVAILABLE_FOLLOW_UP = "Follow-up incomplete"
UNAVAILABLE_REJECTED = "Return rejected"
UNAVAILABLE_NOT_RECEIVED = "Return not received"


def years_needed(cohort_year: int, months: int) -> range:
    """Collection years whose returns can hold a cohort's returns and re-entries: from Y
    to the year containing 31 March Y + W months (e.g. W=6 needs Y and Y+1)."""
    end = follow_up_end(cohort_year, months)
    last = end.year + (1 if end.month >= 4 else 0)
    return range(cohort_year, last + 1)


def la_availability(
    la_grid: pd.DataFrame,
    la_year_status: pd.DataFrame,
    windows: Sequence[int],
    cut_off_year: int,
    las_by_year: pd.DataFrame,
) -> pd.DataFrame:
    """Whether each LA's figure for each cohort year and window can be produced.

    ``la_grid``: cohort_year, old_la_code (the LAs that existed in the cohort year).
    ``las_by_year``: collection_year, old_la_code for every LA that existed in each year.
    A figure needs complete follow-up and a usable return (accepted, or accepted with
    quarantined children) for every collection year the window touches while the LA
    existed; after a boundary change the abolished LA has no later returns to need (its
    children's re-entries in the successor count only in the any-LA indicator).
    Returns cohort_year, old_la_code, follow_up_months, unavailable_reason (null if usable).
    """
    rows = []
    for w in windows:
        for y in sorted(la_grid["cohort_year"].unique()):
            rows.append(
                (int(y), w, follow_up_complete(int(y), w, cut_off_year), list(years_needed(y, w)))
            )
    plan = pd.DataFrame(rows, columns=["cohort_year", "follow_up_months", "complete", "year"])
    grid = la_grid[["cohort_year", "old_la_code"]].merge(plan, on="cohort_year")
    needed = grid.explode("year").astype({"year": "int64"})
    needed = needed.merge(
        las_by_year.rename(columns={"collection_year": "year"})[["year", "old_la_code"]],
        on=["year", "old_la_code"],
        how="inner",
    )
    status = la_year_status[["la_code", "collection_year", "status"]].rename(
        columns={"la_code": "old_la_code", "collection_year": "year"}
    )
    needed = needed.merge(status, on=["old_la_code", "year"], how="left")
    needed["reason"] = np.select(
        [needed["status"].isin(USABLE_STATUSES), needed["status"].eq("rejected")],
        [None, UNAVAILABLE_REJECTED],
        default=UNAVAILABLE_NOT_RECEIVED,
    )
    needed = needed[needed["reason"].notna()].sort_values("year", kind="stable")
    first_bad = needed.drop_duplicates(["cohort_year", "old_la_code", "follow_up_months"])
    out = grid[["cohort_year", "old_la_code", "follow_up_months", "complete"]].merge(
        first_bad[["cohort_year", "old_la_code", "follow_up_months", "reason"]],
        on=["cohort_year", "old_la_code", "follow_up_months"],
        how="left",
    )
    reason = out["reason"].where(out["complete"], UNAVAILABLE_FOLLOW_UP)
    out["unavailable_reason"] = reason.astype("str")
    return out[["cohort_year", "old_la_code", "follow_up_months", "unavailable_reason"]]


def upn_match_rates(index: pd.DataFrame) -> pd.DataFrame:
    """Per LA and cohort year, the share of index returns whose child has a UPN that the
    any-LA linkage can use (``_first_new_period_elsewhere`` joins on it): well-formed, with
    a correct check letter where it has one (``validation.collection_year.valid_upn``).

    A child without one can only be seen to re-enter in the same LA, so an LA with a low
    rate has an any-LA figure too close to its same-LA one. Columns: la_code,
    cohort_year, index_returns, with_upn, upn_match_rate (%, one decimal place)."""
    has_upn = index["upn"].notna()
    out = (
        pd.DataFrame(
            {
                "la_code": index["la_code"].astype("str"),
                "cohort_year": index["cohort_year"].astype("int64"),
                "with_upn": has_upn.astype("int64"),
            }
        )
        .groupby(["la_code", "cohort_year"], as_index=False, sort=True)
        .agg(index_returns=("with_upn", "size"), with_upn=("with_upn", "sum"))
    )
    out["index_returns"] = out["index_returns"].astype("int64")
    out["with_upn"] = out["with_upn"].astype("int64")
    out["upn_match_rate"] = (100 * out["with_upn"] / out["index_returns"]).round(1)
    return out
