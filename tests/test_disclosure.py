"""Primary suppression, rounding, symbols, secondary suppression and determinism
(assets/disclosure/suppression.py), checked against the independent audit."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from histories import ceased_rows
from test_audit import REGION, empty_reentry, empty_ttr

from assets.disclosure.audit import audit_release
from assets.disclosure.config import DisclosureConfig
from assets.disclosure.control import apply_disclosure_control
from assets.disclosure.rounding import round_half_up, whole_percent


def ceased_measures(la_values: dict[str, dict[str, int]], year: int = 2024) -> pd.DataFrame:
    """Unsuppressed ceased-by-reason table (LA rows plus region and England sums)."""
    df = ceased_rows(la_values, year).rename(columns={"true": "ceased"})
    df["ceased"] = df["ceased"].astype("Int64")
    return df


def run(ceased: pd.DataFrame, **kw):
    return apply_disclosure_control(empty_reentry(), ceased, empty_ttr(), **kw)


def cell(published, la, reason) -> str:
    t = published.ceased_by_reason
    if la is None:
        sel = t["geographic_level"].eq("Regional") & t["reason_group"].eq(reason)
    else:
        sel = t["old_la_code"].eq(la) & t["reason_group"].eq(reason)
    return t.loc[sel, "ceased"].iloc[0]


def test_round_half_up_not_bankers():
    assert list(round_half_up([15, 25, 14, 5, 4, 0, 35, 1234], 10)) == [
        20,
        30,
        10,
        10,
        0,
        0,
        40,
        1230,
    ]


def test_rate_rounds_half_up_exactly():
    # 1/8 = 12.5% -> 13; 29/200 = 14.5% -> 15 (the float 0.145 * 100 is 14.4999...).
    assert list(whole_percent([1, 29, 1, 0], [8, 200, 300, 50])) == [13, 15, 0, 0]


VALUES = {
    "A": {"R1": 3, "R2": 0, "R3": 40},
    "B": {"R1": 12, "R2": 7, "R3": 30},
    "C": {"R1": 20, "R2": 9, "R3": 25},
    "D": {"R1": 6, "R2": 11, "R3": 8},
}


def test_primary_rule_la_1_to_5_suppressed_zero_published_regions_rounded():
    pub = run(ceased_measures(VALUES))
    assert cell(pub, "A", "R1") == "c"
    assert cell(pub, "A", "R2") == "0"
    assert cell(pub, "B", "R2") in ("7", "c")
    # Region R1 = 41 -> 40; R2 = 27 -> 30; rounding to 10 half up.
    assert cell(pub, None, "R1") == "40"
    assert cell(pub, None, "R2") == "30"
    log = pub.suppression_log
    primary = log[log["reason"].eq("primary")]
    assert set(primary["true_value"].astype(int)) <= {1, 2, 3, 4, 5}


def test_small_regional_count_shown_as_k():
    # Time to re-entry is published for England and regions only: no LA cell to protect.
    ttr = pd.DataFrame(
        {
            "time_period": 2020,
            "geographic_level": ["National"] * 3 + ["Regional"] * 3,
            "region_code": [None] * 3 + [REGION] * 3,
            "time_band": ["Total", "Under 1 month", "1 to 3 months"] * 2,
            "re_entered": pd.array([48, 3, 45] * 2, dtype="Int64"),
        }
    )
    pub = apply_disclosure_control(empty_reentry(), ceased_measures(VALUES).iloc[0:0], ttr)
    t = pub.time_to_reentry
    shown = dict(zip(t["geographic_level"] + "|" + t["time_band"], t["re_entered"], strict=True))
    assert shown["National|Under 1 month"] == "k"
    assert shown["Regional|Under 1 month"] == "k"
    assert shown["Regional|Total"] == "50"
    assert shown["Regional|1 to 3 months"] == "50"


def test_lone_small_la_cell_in_a_region_hides_the_regional_figure():
    # R1: A = 3 and every other LA 0, so the region figure equals A's: it must go too.
    values = {"A": {"R1": 3, "R2": 50}, "B": {"R1": 0, "R2": 60}}
    pub = run(ceased_measures(values))
    assert cell(pub, None, "R1") == "c"
    assert audit_release(pub).passed


def test_secondary_suppression_protects_and_audit_passes():
    pub = run(ceased_measures(VALUES))
    # A's single small cell would be recovered from A's Total: a partner must be hidden.
    la_a = pub.ceased_by_reason[pub.ceased_by_reason["old_la_code"].eq("A")]
    assert (la_a["ceased"] == "c").sum() >= 2
    result = audit_release(pub)
    assert result.passed, result.failures
    assert result.narrowest_width >= 4
    loss = pub.information_loss.set_index("table")
    assert loss.loc["ceased_by_reason", "primary"] == 1
    assert loss.loc["ceased_by_reason", "secondary"] >= 1


def test_secondary_never_hides_a_total_when_a_small_cell_will_do():
    pub = run(ceased_measures(VALUES))
    log = pub.suppression_log
    secondary = log[log["reason"].eq("secondary")]
    assert not secondary["reason_group"].eq("Total").any()
    assert not secondary["geographic_level"].ne("Local authority").any()


def test_same_input_same_output_even_after_shuffling_rows():
    ceased = ceased_measures(VALUES)
    first = run(ceased)
    shuffled = ceased.sample(frac=1.0, random_state=3).reset_index(drop=True)
    second = run(shuffled)
    pd.testing.assert_frame_equal(first.ceased_by_reason, second.ceased_by_reason)
    pd.testing.assert_frame_equal(first.suppression_log, second.suppression_log)


def test_negative_count_is_a_clear_error():
    bad = ceased_measures(VALUES)
    bad.loc[0, "ceased"] = -1
    with pytest.raises(ValueError, match="ceased_by_reason: row .* column ceased"):
        run(bad)


def test_threshold_is_configurable():
    pub = run(ceased_measures(VALUES), config=DisclosureConfig(threshold_high=7))
    assert cell(pub, "B", "R2") == "c"
    assert cell(pub, "D", "R1") == "c"


def test_zero_cells_are_never_chosen_as_secondary():
    pub = run(ceased_measures(VALUES))
    log = pub.suppression_log
    assert not (log["reason"].eq("secondary") & log["true_value"].eq(0)).any()
    assert np.all(log.loc[log["published"].eq("0"), "true_value"] == 0)


def _synthetic():
    """The benchmark's simulated-children measures (all relations exact), tiny scale."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_disclosure.py"
    spec = importlib.util.spec_from_file_location("bench_disclosure", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.synthetic_measures(
        regions=["E12000001", "E12000002"],
        las_per_region=2,
        first_year=2024,
        last_year=2025,
        seed=3,
    )


def test_tiny_release_of_all_three_tables_passes_the_audit_with_rates_withheld():
    reentry, ceased, ttr = _synthetic()
    pub = apply_disclosure_control(reentry, ceased, ttr)
    result = audit_release(pub)
    assert result.passed, result.failures
    assert result.narrowest_width >= 4
    r = pub.reentry
    hidden = r[["returned_home", "re_entered", "not_re_entered"]].eq("c").any(axis=1)
    # A rate next to a suppressed numerator, complement or denominator would pin it.
    assert r.loc[hidden, "re_entry_rate"].isin(["c", "x"]).all()
    assert r.loc[hidden, "re_entry_rate_lower_ci"].isin(["c", "x"]).all()
    la = r["geographic_level"].eq("Local authority")
    assert r.loc[la & hidden, "funnel_position"].isin(["c", "x"]).all()
    assert (r.loc[~la, "funnel_position"] == "z").all()
    # Pooled neighbour counts are never published.
    assert "sn_returned_home" not in r and "sn_re_entered" not in r
    # Every count is a whole number or a symbol.
    for col in ("returned_home", "re_entered", "not_re_entered"):
        assert r[col].str.fullmatch(r"\d+|c|x|k").all()


def test_next_release_is_protected_against_differencing_with_the_previous_one():
    first = run(ceased_measures(VALUES))
    revised = {la: dict(v) for la, v in VALUES.items()}
    revised["B"]["R1"] = 13  # a resubmission changes one LA
    second = run(ceased_measures(revised), previous=first)
    joint = audit_release(second, previous=first)
    assert joint.passed, joint.failures


def test_release_folder_can_be_re_audited_from_its_files(tmp_path):
    from assets.disclosure.audit import audit_release_dir
    from assets.disclosure.files import write_published

    pub = run(ceased_measures(VALUES))
    write_published(pub, tmp_path)
    again = audit_release_dir(tmp_path)
    direct = audit_release(pub)
    assert again.passed and direct.passed
    assert again.cells_checked == direct.cells_checked
    assert again.narrowest_width == direct.narrowest_width


def _breakdown_measures() -> pd.DataFrame:
    """Two LAs, their region and England, one cohort, broken down by planned return with
    no Total row inside the breakdown (as assets.measures.tables publishes it): the categories
    add up to the overall Total row."""
    la = {
        "A": {"Total": (40, 10), "Planned (E4A)": (37, 8), "Not planned (E4B)": (3, 2)},
        "B": {"Total": (60, 20), "Planned (E4A)": (50, 15), "Not planned (E4B)": (10, 5)},
    }
    rows = []
    for level, region, code in (
        ("Local authority", REGION, "A"),
        ("Local authority", REGION, "B"),
        ("Regional", REGION, None),
        ("National", None, None),
    ):
        for cat in ("Total", "Planned (E4A)", "Not planned (E4B)"):
            if code is None:
                rh = sum(v[cat][0] for v in la.values())
                re = sum(v[cat][1] for v in la.values())
            else:
                rh, re = la[code][cat]
            rows.append(
                {
                    "time_period": 2024,
                    "cohort_span": "Single year",
                    "geographic_level": level,
                    "region_code": region,
                    "old_la_code": code,
                    "follow_up_months": 12,
                    "characteristic_group": "Total" if cat == "Total" else "Planned return",
                    "characteristic": cat,
                    "returned_home": rh,
                    "re_entered": re,
                    "not_re_entered": rh - re,
                    "re_entered_any_la": re,
                    "turned_18_in_window": 0,
                }
            )
    return pd.DataFrame(rows)


def _breakdown_release(**kw):
    """The breakdown measures alone (no ceased-by-reason or time-to-re-entry rows)."""
    _, ceased, ttr = _synthetic()
    return apply_disclosure_control(_breakdown_measures(), ceased.iloc[0:0], ttr.iloc[0:0], **kw)


def test_breakdown_without_its_own_total_row_still_adds_up_to_the_total():
    # A's "Not planned" cohort of 3 = A's Total 40 - A's "Planned" 37: one more of A's
    # planned-return cells must be hidden, and the audit must know the categories add up.
    config = DisclosureConfig(la_single_year_breakdowns=True)
    pub = _breakdown_release(config=config)
    r = pub.reentry
    a = r[r["old_la_code"].eq("A")].set_index("characteristic")
    assert a.loc["Not planned (E4B)", "returned_home"] == "c"
    assert a.loc["Planned (E4A)", "returned_home"] == "c" or a.loc["Total", "returned_home"] == "c"
    result = audit_release(pub)
    assert result.passed, result.failures
    # Publishing the secondary cells again lets the audit recover the primary ones.
    log = pub.suppression_log
    leaky = r.copy()
    for row in log[log["reason"].eq("secondary") & log["table"].eq("reentry")].itertuples():
        sel = (
            leaky["old_la_code"].eq(row.old_la_code)
            & leaky["characteristic"].eq(row.characteristic)
            & leaky["geographic_level"].eq(row.geographic_level)
        )
        leaky.loc[sel, row.column] = str(int(row.true_value))
    exposed = audit_release(dataclasses.replace(pub, reentry=leaky))
    assert not exposed.passed
    assert {"returned_home"} <= set(exposed.failures["column"])


def test_la_breakdowns_are_published_for_pooled_cohorts_only_by_default():
    # Table redesign: single-year LA breakdowns are withheld ('x', with the reason), the
    # LA Total and England/region breakdowns are published, and the loss is reported.
    pub = _breakdown_release()
    r = pub.reentry
    la = r["geographic_level"].eq("Local authority")
    breakdown = r["characteristic_group"].ne("Total")
    assert (
        (r.loc[la & breakdown, ["returned_home", "re_entered", "re_entry_rate"]] == "x").all().all()
    )
    assert r.loc[la & breakdown, "unavailable_reason"].str.contains("three-year pooled").all()
    assert not r.loc[la & ~breakdown, "returned_home"].eq("x").any()
    assert not r.loc[~la & breakdown, "returned_home"].isin(["x", "c"]).any()
    loss = pub.information_loss.set_index("table")
    # 2 LAs x 2 categories x 4 non-zero counts, and each LA Total's re-entries in any LA.
    assert loss.loc["reentry", "redesigned"] == 18
    assert audit_release(pub).passed


def test_la_context_counts_are_published_for_pooled_cohorts_and_every_year_above_la():
    # Re-entry in any LA and turned 18 are sparse in single-year LA cohorts: 'x' there
    # (with their rate), published for the region and England; a setting restores them.
    pub = _breakdown_release()
    r = pub.reentry
    total = r["characteristic_group"].eq("Total")
    la = r["geographic_level"].eq("Local authority")
    context = ["re_entered_any_la", "turned_18_in_window", "re_entry_rate_any_la"]
    assert (r.loc[la & total, context] == "x").all().all()
    assert not r.loc[la & total, "re_entered"].eq("x").any()
    assert (
        not r.loc[~la & total, ["re_entered_any_la", "turned_18_in_window"]].isin(["x"]).any().any()
    )
    every_year = DisclosureConfig(la_pooled_only_counts=())
    pub = _breakdown_release(config=every_year)
    r = pub.reentry
    assert not r.loc[la & total, "re_entered_any_la"].eq("x").any()
    assert audit_release(pub, config=every_year).passed


def test_re_audit_from_files_keeps_the_category_called_none(tmp_path):
    # "None" (no previous returns home) is a category, not a missing value: read back from
    # the files, the log must still give every cell its true value.
    from assets.disclosure.audit import audit_release_dir
    from assets.disclosure.files import write_published

    reentry, ceased, ttr = _synthetic()
    assert reentry["characteristic"].eq("None").any()
    pub = apply_disclosure_control(reentry, ceased, ttr)
    write_published(pub, tmp_path)
    again, direct = audit_release_dir(tmp_path), audit_release(pub)
    assert again.passed and direct.passed
    assert again.narrowest_width == direct.narrowest_width
    assert again.intervals["true_value"].isna().sum() == 0


def test_suppression_hands_the_audit_points_it_accepts():
    pub = run(ceased_measures(VALUES))
    assert len(pub.certificates) > 0
    checked = audit_release(pub)
    alone = audit_release(pub, use_certificates=False)
    assert checked.certificates_rejected == 0 and checked.certificates_accepted > 0
    assert checked.passed and alone.passed
    assert checked.lp_solves <= alone.lp_solves
