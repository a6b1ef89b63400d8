"""The disclosure design that publishes the benchmark: England and regional figures are
never complements, the neighbours' rate is pooled over published neighbours only, every
LA row carries its region's rate, withheld rows are not written, and a resubmission
cannot be differenced against the previous release."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_disclosure import VALUES, ceased_measures, run

from assets.common.reference import load_statistical_neighbours
from assets.disclosure.audit import audit_release
from assets.disclosure.control import apply_disclosure_control
from assets.disclosure.coverage import headline_coverage
from assets.disclosure.published import (
    SN_MIN_NEIGHBOURS,
    neighbour_rate_strings,
    region_rate_strings,
)
from assets.disclosure.redesign import REDESIGN_REASONS
from assets.publication.lookups import neighbours_lookup
from assets.publication.open_data import ees_reentry

KEYS = {
    "time_period": 2024,
    "cohort_span": "2022 to 2024",
    "follow_up_months": 12,
    "characteristic_group": "Total",
    "characteristic": "Total",
}


def _bench():
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_disclosure.py"
    spec = importlib.util.spec_from_file_location("bench_disclosure", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_england_and_regional_figures_are_never_complements():
    pub = run(ceased_measures(VALUES))
    t = pub.ceased_by_reason
    assert not t.loc[t["geographic_level"].ne("Local authority"), "ceased"].eq("c").any()
    log = pub.suppression_log
    hidden = log[log["reason"].isin(["primary", "secondary"])]
    assert hidden["geographic_level"].eq("Local authority").all()
    assert audit_release(pub).passed


def _la_rows(codes, rh, re, region="E12000001") -> pd.DataFrame:
    return pd.DataFrame(
        {
            **{k: [v] * len(codes) for k, v in KEYS.items()},
            "geographic_level": "Local authority",
            "region_code": region,
            "old_la_code": [str(c) for c in codes],
            "returned_home": [str(v) for v in rh],
            "re_entered": [str(v) for v in re],
        }
    )


def test_neighbour_rate_is_pooled_over_published_neighbours_only():
    nb = load_statistical_neighbours()
    la = str(nb["old_la_code"].iloc[0])
    mine = nb[nb["old_la_code"].astype(str).eq(la)].sort_values("rank")
    neighbours = mine["neighbour_old_la_code"].astype(str).tolist()
    rh = [40 + i for i in range(10)]
    re = [5 + i for i in range(10)]
    re_shown = [str(v) for v in re]
    re_shown[0] = re_shown[1] = "c"  # two neighbours withheld: eight included
    out = pd.concat(
        [_la_rows([la], ["50"], ["c"]), _la_rows(neighbours, rh, re)], ignore_index=True
    )
    out.loc[1:, "re_entered"] = re_shown
    rate, included = neighbour_rate_strings(out, 10)
    assert included[0] == "8"
    expected = round(100 * sum(re[2:]) / sum(rh[2:]))
    assert rate[0] == str(expected)
    # Four withheld: six included, fewer than the seven the comparison needs.
    out.loc[3:4, "re_entered"] = "c"
    rate, included = neighbour_rate_strings(out, 10)
    assert included[0] == "6" and SN_MIN_NEIGHBOURS == 7
    assert rate[0] == "x"


def test_region_rate_is_on_every_la_row_and_england_has_none():
    la = _la_rows(["841", "840"], ["50", "60"], ["5", "6"])
    la["re_entry_rate"] = ["10", "10"]
    reg = la.iloc[:1].assign(
        geographic_level="Regional", old_la_code=None, re_entry_rate="23", returned_home="500"
    )
    nat = reg.assign(geographic_level="National", region_code=None, re_entry_rate="21")
    out = pd.concat([la, reg, nat], ignore_index=True)
    assert list(region_rate_strings(out)) == ["23", "23", "23", "z"]


def test_rows_withheld_by_design_are_not_written_to_open_data():
    pub = _tiny_release()
    r = pub.reentry
    by_design = r["unavailable_reason"].isin(REDESIGN_REASONS)
    assert by_design.any()
    ees = ees_reentry(r)
    assert len(ees) == int((~by_design).sum())
    assert "region_re_entry_rate" in ees


def test_neighbour_lookup_lists_ten_neighbours_per_la():
    lookup = neighbours_lookup()
    per_la = lookup.groupby("old_la_code")["neighbour_rank"].apply(list)
    assert (per_la.map(len) == 10).all()
    assert per_la.map(lambda r: r == list(range(1, 11))).all()
    assert lookup.notna().all().all()


def _tiny_release(reentry=None, previous=None):
    if reentry is None:
        reentry, ceased, ttr = _measures()
    else:
        _, ceased, ttr = _measures()
    return apply_disclosure_control(reentry, ceased, ttr, previous=previous)


_CACHE: dict = {}


def _measures():
    if "m" not in _CACHE:
        _CACHE["m"] = _bench().synthetic_measures(
            regions=["E12000001"], first_year=2021, last_year=2025, seed=5
        )
    return tuple(df.copy() for df in _CACHE["m"])


def _one_more_child(reentry: pd.DataFrame, la: str, year: int) -> pd.DataFrame:
    """The LA resubmits ``year``: one more child returned home who did not re-enter. Every
    row that counts the child (the LA's, its region's and England's, single year and
    pooled, every complete window, each breakdown's Total and first category) goes up."""
    r = reentry.copy()
    cats = (
        r[r["characteristic"].ne("Total")]
        .groupby("characteristic_group")["characteristic"]
        .min()
        .to_dict()
    )
    span = r["cohort_span"].str.extract(r"^(\d{4}) to (\d{4})$").astype(float)
    in_span = (span[0] <= year) & (year <= span[1])
    cohort = (r["cohort_span"].eq("Single year") & r["time_period"].eq(year)) | in_span
    area = (
        r["old_la_code"].astype(str).eq(la)
        | (r["geographic_level"].eq("Regional") & r["region_code"].eq("E12000001"))
        | r["geographic_level"].eq("National")
    )
    own = r["characteristic"].eq("Total") | r["characteristic"].eq(
        r["characteristic_group"].map(cats)
    )
    hit = cohort & area & own & r["returned_home"].notna()
    for col in ("returned_home", "not_re_entered"):
        r.loc[hit, col] = r.loc[hit, col] + 1
    rh = r["returned_home"].astype(float)
    r["re_entry_rate"] = np.where(rh > 0, 100 * r["re_entered"].astype(float) / rh, np.nan)
    return r


@pytest.mark.slow
def test_a_resubmission_cannot_be_differenced_against_the_previous_release():
    reentry, _, _ = _measures()
    first = _tiny_release(reentry)
    la = str(reentry.loc[reentry["geographic_level"].eq("Local authority"), "old_la_code"].iloc[0])
    revised = _one_more_child(reentry, la, 2023)
    second = _tiny_release(revised, previous=first)
    joint = audit_release(second, previous=first)
    assert joint.passed, joint.failures
    assert joint.relations_not_holding == 0
    assert joint.narrowest_width >= 4
    # England and the region are published in both releases, and they differ by the child.
    for pub in (first, second):
        r = pub.reentry
        agg = r[r["geographic_level"].ne("Local authority")]
        assert not agg[["returned_home", "re_entered", "not_re_entered"]].eq("c").any().any()


def test_headline_coverage_counts_withheld_not_unavailable():
    pub = _tiny_release()
    las = sorted(pub.reentry["old_la_code"].dropna().astype(str).unique())
    cov = headline_coverage(pub.reentry, las)
    assert cov.aggregate_total_rows_withheld == 0
    assert cov.current_las == len(las)
    assert 0 <= cov.pooled_published[12] <= cov.pooled_available[12] <= len(las)


def test_withheld_page_names_each_headline_la_withheld_and_why():
    from assets.publication.qa_disclosure import withheld_page

    pub = _tiny_release()
    page = withheld_page(pub)
    assert "0 England or regional count cells withheld." in page
    log = pub.suppression_log
    head = log[
        log["geographic_level"].eq("Local authority")
        & log["cohort_span"].eq("2022 to 2024")
        & log["follow_up_months"].eq(12)
        & log["characteristic"].eq("Total")
        & log["characteristic_group"].eq("Total")
        & log["column"].eq("re_entered")
        & log["reason"].isin(["primary", "secondary"])
    ]
    for la in head["old_la_code"].astype(str):
        assert f"| {la} |" in page


def test_withheld_page_compares_with_the_previous_release():
    from assets.disclosure.coverage import headline_coverage
    from assets.publication.qa_disclosure import withheld_page

    pub = _tiny_release()
    assert "No previous approved release." in withheld_page(pub)
    # The previous release withheld three more LAs' pooled 12-month rates, and twice
    # the secondary cells.
    previous = pub.reentry.copy()
    r = previous
    head = (
        r["geographic_level"].eq("Local authority")
        & r["cohort_span"].eq("2022 to 2024")
        & r["follow_up_months"].astype(int).eq(12)
        & r["characteristic_group"].eq("Total")
        & r["characteristic"].eq("Total")
        & ~r["re_entry_rate"].isin(["c", "x", "z"])
    )
    hidden = r[head].drop_duplicates("old_la_code").index[:3]
    assert len(hidden) == 3
    previous.loc[hidden, ["re_entered", "not_re_entered", "re_entry_rate"]] = "c"
    loss = pub.information_loss
    previous_loss = loss.assign(secondary=loss["secondary"] * 2)
    page = withheld_page(pub, previous_reentry=previous, previous_loss=previous_loss)
    section = page.split("## Against the previous release", 1)[1]
    las = sorted(pub.reentry["old_la_code"].dropna().astype(str).unique())
    now = headline_coverage(pub.reentry, las)
    n, d = now.pooled_published[12], now.pooled_available[12]
    row = next(line for line in section.splitlines() if "pooled 12-month" in line)
    assert f"| {n - 3} of {d} (" in row and f"| {n} of {d} (" in row
    total = loss.loc[loss["table"].eq("all")].iloc[0]
    all_row = next(line for line in section.splitlines() if line.startswith("| all |"))
    cells = [c.strip() for c in all_row.strip("|").split("|")]
    assert cells == [
        "all",
        str(int(total["primary"])),
        str(int(total["secondary"]) * 2),
        str(int(total["primary"])),
        str(int(total["secondary"])),
    ]


def test_rounded_aggregates_need_rates_from_the_rounded_counts():
    """Frontier option ``aggregates_exact=False``: the attacker gets only the rounding
    interval of England and regional counts, which is sound only if their rates and
    Wilson bounds are computed from the rounded counts. Bounds from the unrounded counts
    are caught as exposing them; recomputed from the published counts they are not."""
    from assets.disclosure.attacker import build_attacker_system
    from assets.disclosure.published import aggregate_figures_from_published

    pub = _tiny_release()
    tables = {
        "reentry": pub.reentry,
        "ceased_by_reason": pub.ceased_by_reason,
        "time_to_reentry": pub.time_to_reentry,
    }

    def exposed(reentry):
        system = build_attacker_system(
            {**tables, "reentry": reentry}, pub.suppression_log, exact_aggregates=False
        )
        cells = system.cells.iloc[system.nonlinear["cid"].to_numpy()]
        return cells[cells["geographic_level"].ne("Local authority")]

    unrounded = exposed(pub.reentry)
    assert len(unrounded) > 0
    assert set(unrounded["column"]) <= {"re_entered", "returned_home"}
    r = pub.reentry.copy()
    agg = r["geographic_level"].ne("Local authority").to_numpy()
    for col, figure in aggregate_figures_from_published(r, 10).items():
        r.loc[agg, col] = figure[agg]
    assert exposed(r).empty
    # Each rate is now the published rounded counts' rate, e.g. 30 of 240 -> 13%.
    rh = pd.to_numeric(r["returned_home"], errors="coerce")
    re = pd.to_numeric(r["re_entered"], errors="coerce")
    shown = agg & (rh >= 10).to_numpy() & re.notna().to_numpy()
    assert shown.any()
    n, d = re[shown].astype("int64"), rh[shown].astype("int64")
    expected = ((200 * n + d) // (2 * d)).astype(str)
    assert (r.loc[shown, "re_entry_rate"] == expected).all()
