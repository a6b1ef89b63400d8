"""build_measures end to end on a hand-made (seeded) multi-LA history: the relations that
disclosure control relies on hold exactly, unavailable figures are null with a reason,
and the output is deterministic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from assets.common.contracts import ReentryMeasures
from assets.common.reference import las_in_year, load_statistical_neighbours
from assets.measures.breakdowns import GROUPS, LA_GROUPS
from assets.measures.tables import MeasureTables, build_measures

FIRST, LAST = 2016, 2025
LAS = ["201", "202", "203", "330", "340", "390"]  # London x3, West Midlands, North West, North East
REJECTED = ("203", 2021)  # needed by cohort 2021 (all windows) and 2020 (6/12 months)


def random_history(seed: int = 7, children: int = 500) -> pd.DataFrame:
    """Periods of 1-2 X1-chained episodes, returns home, re-entries, short breaks and a few
    children moving LA with the same UPN. Loops are fine here: this is a test fixture."""
    rng = np.random.default_rng(seed)
    rows = []
    day = pd.Timedelta(days=1)
    cut = pd.Timestamp("2025-03-31")
    for i in range(children):
        la = LAS[i % len(LAS)]
        dob = pd.Timestamp("2003-01-01") + int(rng.integers(0, 365 * 19)) * day
        upn = f"A{i:012d}" if rng.random() < 0.7 else None
        start = pd.Timestamp("2015-04-01") + int(rng.integers(0, 365 * 9)) * day
        start = max(start, dob + 10 * day)
        child = f"C{i:05d}"
        for _period in range(int(rng.integers(1, 4))):
            if start > cut:
                break
            length = int(rng.integers(1, 900))
            end = start + length * day
            split = start + int(rng.integers(1, length + 1)) * day if rng.random() < 0.4 else None
            rec = str(rng.choice(["E4A", "E4B", "E4A", "E11", "E8", "E13", "E45"]))
            if end > cut:
                end, rec = None, None
            base = dict(
                la_code=la,
                child=child,
                cin=str(rng.choice(["N1", "N2", "N4", "N8"])),
                place="U1",
                sex=str(rng.choice(["M", "F"])),
                dob=dob,
                upn=upn,
            )
            if split is not None and split <= cut and (end is None or split < end):
                rows.append(dict(base, decom=start, dec=split, rne="S", ls="C1", rec="X1"))
                rows.append(dict(base, decom=split, dec=end, rne="L", ls="C2", rec=rec))
            else:
                rows.append(
                    dict(
                        base,
                        decom=start,
                        dec=end,
                        rne="S",
                        ls=str(rng.choice(["V2", "C2", "E1", "J2"])),
                        rec=rec,
                    )
                )
            if end is None or rec not in ("E4A", "E4B"):
                break
            if rng.random() < 0.25:  # a short break after going home: never a re-entry
                sb = end + int(rng.integers(0, 60)) * day
                if sb + 2 * day <= cut:
                    rows.append(dict(base, decom=sb, dec=sb + 2 * day, rne="S", ls="V3", rec="E8"))
            gap = rng.integers(0, 200) if rng.random() < 0.6 else rng.integers(0, 1500)
            start = end + int(gap) * day
            if upn and rng.random() < 0.15:  # moves to another LA, same UPN
                la = LAS[(LAS.index(la) + 1) % len(LAS)]
                child = f"M{i:05d}"
    eh = pd.DataFrame(rows)
    last = eh["dec"].fillna(cut)
    eh["collection_year"] = (last.dt.year + (last.dt.month >= 4)).astype("int64")
    eh = eh.sort_values(["la_code", "child", "decom"]).reset_index(drop=True)
    return eh


def status_table(rejected=(REJECTED,), not_received=()) -> pd.DataFrame:
    parts = []
    for y in range(FIRST, LAST + 1):
        las = las_in_year(y)[["old_la_code"]].rename(columns={"old_la_code": "la_code"})
        las["collection_year"] = y
        parts.append(las)
    st = pd.concat(parts, ignore_index=True)
    st["status"] = "accepted"
    for la, y in rejected:
        st.loc[(st["la_code"] == la) & (st["collection_year"] == y), "status"] = "rejected"
    for la, y in not_received:
        st.loc[(st["la_code"] == la) & (st["collection_year"] == y), "status"] = "not_received"
    st["children"] = 0
    st["children_quarantined"] = 0
    st["message"] = None
    return st


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    return random_history()


@pytest.fixture(scope="module")
def measures(history) -> MeasureTables:
    return build_measures(history, status_table())


def single(r: pd.DataFrame) -> pd.DataFrame:
    return r[r["cohort_span"].eq("Single year")]


def test_reentry_table_meets_contract_and_has_every_la_every_year(measures):
    r = measures.reentry
    ReentryMeasures.validate(r)
    la = single(r)[single(r)["geographic_level"].eq("Local authority")]
    for y in (FIRST, 2021, LAST):
        expected = set(las_in_year(y)["old_la_code"])
        assert set(la.loc[la["time_period"].eq(y), "old_la_code"]) == expected
    assert set(la["characteristic_group"]) == set(LA_GROUPS)
    nat = single(r)[single(r)["geographic_level"].eq("National")]
    assert set(nat["characteristic_group"]) == set(GROUPS)
    assert not r.duplicated(
        [
            "time_period",
            "cohort_span",
            "geographic_level",
            "region_code",
            "old_la_code",
            "follow_up_months",
            "characteristic_group",
            "characteristic",
        ]
    ).any()


def test_breakdown_categories_sum_to_total(measures):
    r = measures.reentry
    keys = [
        "time_period",
        "cohort_span",
        "geographic_level",
        "region_code",
        "old_la_code",
        "follow_up_months",
    ]
    counts = ["returned_home", "re_entered", "re_entered_any_la", "turned_18_in_window"]
    total = r[r["characteristic_group"].eq("Total")].set_index(keys)[counts]
    parts = r[r["characteristic_group"].ne("Total")]
    sums = parts.groupby([*keys, "characteristic_group"], dropna=False)[counts].sum(min_count=1)
    joined = sums.reset_index().merge(total.reset_index(), on=keys, suffixes=("", "_total"))
    assert len(joined) > 0
    for c in counts:
        pd.testing.assert_series_equal(joined[c], joined[f"{c}_total"], check_names=False)
    assert total["returned_home"].fillna(0).sum() > 0


def test_national_and_regional_sum_usable_las(measures):
    r = single(measures.reentry)
    r = r[r["characteristic_group"].eq("Total")]
    keys = ["time_period", "follow_up_months"]
    la = r[r["geographic_level"].eq("Local authority")]
    nat = r[r["geographic_level"].eq("National")].set_index(keys)
    la_sum = la.groupby(keys)[["returned_home", "re_entered"]].sum(min_count=1)
    complete = nat["unavailable_reason"].isna()
    pd.testing.assert_frame_equal(
        la_sum[complete.reindex(la_sum.index).to_numpy()],
        nat.loc[complete, ["returned_home", "re_entered"]],
        check_dtype=False,
    )
    reg = r[r["geographic_level"].eq("Regional")]
    reg_sum = reg.groupby(keys)["re_entered"].sum(min_count=1)
    assert (reg_sum[complete] == nat.loc[complete, "re_entered"]).all()


def test_rejected_return_makes_la_figure_unavailable_and_excluded_from_aggregates(measures):
    r = single(measures.reentry)
    tot = r[r["characteristic_group"].eq("Total")]
    la203 = tot[tot["old_la_code"].eq("203")].set_index(["time_period", "follow_up_months"])
    # Cohort 2021 needs the rejected 2021 return for every window.
    assert la203.loc[(2021, 6), "unavailable_reason"] == "Return rejected"
    assert pd.isna(la203.loc[(2021, 6), "returned_home"])
    # Cohort 2020's 6-month follow-up runs into 2020-21, so it needs the 2021 return too...
    assert la203.loc[(2020, 6), "unavailable_reason"] == "Return rejected"
    # ...and cohort 2019's 6 months do not.
    assert pd.isna(la203.loc[(2019, 6), "unavailable_reason"])
    assert la203.loc[(2019, 60), "unavailable_reason"] == "Return rejected"
    london = tot[tot["region_code"].eq("E12000007") & tot["geographic_level"].eq("Regional")]
    london = london.set_index(["time_period", "follow_up_months"])
    assert london.loc[(2021, 6), "las_excluded"] == 1
    assert london.loc[(2019, 6), "las_excluded"] == 0
    la = tot[tot["geographic_level"].eq("Local authority") & tot["region_code"].eq("E12000007")]
    usable = la[la["time_period"].eq(2021) & la["follow_up_months"].eq(6)]
    assert london.loc[(2021, 6), "returned_home"] == usable["returned_home"].sum()


def test_incomplete_follow_up_is_null_at_every_level(measures):
    r = measures.reentry
    # Cut-off 2025: 60 months complete only for cohorts up to 2020; 24 up to 2023.
    incomplete = r[
        (r["follow_up_months"].eq(60) & r["time_period"].gt(2020))
        | (r["follow_up_months"].eq(24) & r["time_period"].gt(2023))
        | r["time_period"].eq(2025)
    ]
    incomplete = incomplete[incomplete["cohort_span"].eq("Single year")]
    assert len(incomplete) > 0
    assert incomplete["unavailable_reason"].eq("Follow-up incomplete").all()
    for col in (
        "returned_home",
        "re_entered",
        "not_re_entered",
        "re_entered_any_la",
        "turned_18_in_window",
        "re_entry_rate",
    ):
        assert incomplete[col].isna().all(), col
    complete = r[
        r["follow_up_months"].eq(60)
        & r["time_period"].eq(2020)
        & r["geographic_level"].eq("National")
    ]
    assert complete["returned_home"].notna().all()


def test_windows_nest_and_rates_are_consistent(measures):
    r = single(measures.reentry)
    la = r[r["geographic_level"].eq("Local authority") & r["characteristic_group"].eq("Total")]
    wide = la.pivot(
        index=["time_period", "old_la_code"], columns="follow_up_months", values="re_entered"
    )
    for a, b in ((6, 12), (12, 24), (24, 60)):
        both = wide[[a, b]].dropna()
        assert len(both) > 10 and (both[a] <= both[b]).all()
    r = r[r["geographic_level"].eq("National") & r["characteristic_group"].eq("Total")]
    ok = r["returned_home"].notna() & r["returned_home"].gt(0)
    rate = r.loc[ok, "re_entered"].astype(float) / r.loc[ok, "returned_home"].astype(float) * 100
    np.testing.assert_allclose(r.loc[ok, "re_entry_rate"], rate)
    assert (r.loc[ok, "re_entry_rate_lower_ci"] <= r.loc[ok, "re_entry_rate"]).all()
    assert (r.loc[ok, "re_entry_rate_upper_ci"] >= r.loc[ok, "re_entry_rate"]).all()
    assert (
        r.loc[ok, "not_re_entered"] == r.loc[ok, "returned_home"] - r.loc[ok, "re_entered"]
    ).all()
    assert (r.loc[ok, "re_entered_any_la"] >= r.loc[ok, "re_entered"]).all()


def test_pooled_figures_are_exact_sums_of_three_single_years(measures):
    r = measures.reentry
    pooled = r[r["cohort_span"].ne("Single year")]
    assert set(pooled["cohort_span"]) == {"2022 to 2024", "2021 to 2023", "2018 to 2020"}
    keys = [
        "geographic_level",
        "region_code",
        "old_la_code",
        "follow_up_months",
        "characteristic_group",
        "characteristic",
    ]
    checked = 0
    for span, part in pooled.groupby("cohort_span"):
        first, last = (int(x) for x in span.split(" to "))
        singles = r[r["cohort_span"].eq("Single year") & r["time_period"].between(first, last)]
        assert (part["time_period"] == last).all()
        sums = singles.groupby(keys, dropna=False)[["returned_home", "re_entered"]].sum(min_count=3)
        n = singles.groupby(keys, dropna=False)["returned_home"].count()
        sums[n < 3] = pd.NA
        merged = part.merge(sums.reset_index(), on=keys, suffixes=("", "_sum"))
        assert len(merged) == len(part)
        for c in ("returned_home", "re_entered"):
            pd.testing.assert_series_equal(
                merged[c], merged[f"{c}_sum"].astype("Int64"), check_names=False
            )
        checked += int(merged["returned_home"].notna().sum())
    assert checked > 0
    # 203 is unavailable for cohort 2021 so its 2021-2023 pooled figure is too.
    p203 = pooled[pooled["old_la_code"].eq("203") & pooled["cohort_span"].eq("2021 to 2023")]
    assert (
        p203["returned_home"].isna().all()
        and p203["unavailable_reason"].eq("Return rejected").all()
    )


def test_time_to_reentry_total_equals_60_month_reentries(measures):
    t = measures.time_to_reentry
    r = single(measures.reentry)
    r = r[r["characteristic_group"].eq("Total") & r["geographic_level"].ne("Local authority")]
    assert set(t["time_period"]) == {2016, 2017, 2018, 2019, 2020}
    keys = ["time_period", "geographic_level", "region_code"]
    total = t[t["time_band"].eq("Total")].merge(
        r[r["follow_up_months"].eq(60)][[*keys, "re_entered"]], on=keys, suffixes=("", "_60")
    )
    assert len(total) == len(t[t["time_band"].eq("Total")])
    pd.testing.assert_series_equal(total["re_entered"], total["re_entered_60"], check_names=False)
    bands = t[t["time_band"].ne("Total")].groupby(keys, dropna=False)["re_entered"].sum()
    assert (bands.to_numpy() == t[t["time_band"].eq("Total")]["re_entered"].to_numpy()).all()
    # Bands include their upper boundary, so they accumulate to the 6 and 12 month counts
    # wherever the same LAs are usable for both windows (here: every region except London,
    # where 203's rejected 2021 return removes it from the 60-month figures only).
    bands = t.set_index(["time_period", "region_code", "time_band"])["re_entered"]
    reg = r[r["geographic_level"].eq("Regional")]
    reg = reg.set_index(["time_period", "region_code", "follow_up_months"])
    compared = 0
    for (y, region, w), row in reg.iterrows():
        if (
            w not in (6, 12)
            or y > 2020
            or row["las_excluded"] != reg.loc[(y, region, 60), "las_excluded"]
        ):
            continue
        names = ["Under 1 month", "1 to 3 months", "3 to 6 months"]
        if w == 12:
            names.append("6 to 12 months")
        assert sum(bands[(y, region, b)] for b in names) == row["re_entered"]
        compared += int(row["re_entered"] > 0)
    assert compared > 5


def test_ceased_by_reason_sums_and_marks_unusable_years(measures):
    c = measures.ceased_by_reason
    keys = ["time_period", "geographic_level", "region_code", "old_la_code"]
    total = c[c["reason_group"].eq("Total")].set_index(keys)["ceased"]
    parts = c[c["reason_group"].ne("Total")].groupby(keys, dropna=False)["ceased"].sum(min_count=1)
    pd.testing.assert_series_equal(
        parts.reindex(total.index), total, check_names=False, check_dtype=False
    )
    row = c[c["old_la_code"].eq("203") & c["time_period"].eq(2021)]
    assert row["ceased"].isna().all() and row["unavailable_reason"].eq("Return rejected").all()
    assert c[c["geographic_level"].eq("National")]["ceased"].sum() > 0


def test_comparison_columns_on_la_rows(measures):
    r = single(measures.reentry)
    la = r[
        r["geographic_level"].eq("Local authority")
        & r["returned_home"].gt(0).fillna(False)
        & r["characteristic_group"].eq("Total")
    ]
    assert la["england_re_entry_rate"].notna().all()
    # Limits exist wherever England's rate is strictly between 0% and 100%.
    defined = la["england_re_entry_rate"].between(0, 100, inclusive="neither")
    assert defined.sum() > 20
    assert la.loc[defined, "funnel_position"].notna().all()
    assert la.loc[~defined, "funnel_position"].isna().all()
    non_la = r[r["geographic_level"].ne("Local authority")]
    assert non_la["funnel_position"].isna().all()
    # Statistical neighbours: recompute one LA's pooled figure by hand.
    sn = load_statistical_neighbours()
    row = la[
        la["old_la_code"].eq("330") & la["time_period"].eq(2019) & la["follow_up_months"].eq(12)
    ].iloc[0]
    peers = r[
        r["geographic_level"].eq("Local authority")
        & r["characteristic_group"].eq("Total")
        & r["time_period"].eq(2019)
        & r["follow_up_months"].eq(12)
        & r["old_la_code"].isin(sn.loc[sn["old_la_code"].eq("330"), "neighbour_old_la_code"])
    ]
    assert row["sn_returned_home"] == peers["returned_home"].sum()
    assert row["sn_re_entered"] == peers["re_entered"].sum()
    assert row["sn_neighbours_included"] == 10


def test_index_returns_table_agrees_with_la_counts(measures):
    ir = measures.index_returns
    assert {"la_code", "child", "upn", "return_date", "cohort_year", "re_entered_12"} <= set(
        ir.columns
    )
    r = single(measures.reentry)
    row = r[
        r["old_la_code"].eq("330")
        & r["time_period"].eq(2019)
        & r["follow_up_months"].eq(12)
        & r["characteristic_group"].eq("Total")
    ].iloc[0]
    mine = ir[ir["la_code"].eq("330") & ir["cohort_year"].eq(2019)]
    assert row["returned_home"] == len(mine)
    assert row["re_entered"] == int(mine["re_entered_12"].sum())


def test_same_inputs_give_identical_outputs_in_any_row_order(history, measures):
    shuffled = history.sample(frac=1.0, random_state=3).reset_index(drop=True)
    again = build_measures(shuffled, status_table().sample(frac=1.0, random_state=4))
    for name in ("reentry", "ceased_by_reason", "time_to_reentry", "index_returns"):
        pd.testing.assert_frame_equal(getattr(again, name), getattr(measures, name))


def test_cut_off_year_earlier_than_data_limits_follow_up(history):
    m = build_measures(history, status_table(), windows=(12,), cut_off_year=2022)
    r = m.reentry
    assert set(r["follow_up_months"]) == {12}
    assert r["time_period"].max() == 2022
    nat = r[
        r["geographic_level"].eq("National")
        & r["characteristic_group"].eq("Total")
        & r["cohort_span"].eq("Single year")
    ].set_index("time_period")
    assert nat.loc[2022, "unavailable_reason"] == "Follow-up incomplete"
    assert pd.notna(nat.loc[2021, "re_entered"])


def test_index_return_in_an_la_code_that_did_not_exist_is_reported(history):
    stray = history[history["la_code"].eq("201")].assign(la_code="928")  # Northamptonshire
    stray = stray[stray["collection_year"].ge(2023)]  # abolished 31 March 2021
    with pytest.warns(UserWarning, match="did not exist in their cohort year"):
        build_measures(pd.concat([history, stray], ignore_index=True), status_table(), windows=(6,))


def test_unknown_window_is_refused(history):
    with pytest.raises(ValueError, match="windows must be among"):
        build_measures(history, status_table(), windows=(3,))
