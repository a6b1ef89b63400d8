"""Sensitivity definitions at England and regional level (docs/methodology.md)."""

from __future__ import annotations

from assets.measures.tables import HEADLINE_DEFINITION, SENSITIVITY


def test_sensitivity_table_agrees_with_the_headline_and_moves_the_right_way(small_landing):
    from test_backtest_truth import run_pipeline

    _, m = run_pipeline(small_landing.landing, 2019, 2025)
    s = m.sensitivity
    assert set(s["definition"]) == set(SENSITIVITY)
    r = m.reentry
    head = r[
        r["geographic_level"].isin(["National", "Regional"])
        & r["cohort_span"].eq("Single year")
        & r["characteristic_group"].eq("Total")
        & r["re_entered"].notna()
    ]
    keys = ["time_period", "geographic_level", "region_code", "follow_up_months"]
    ours = s[s["definition"].eq(HEADLINE_DEFINITION)]
    both = head.merge(ours, on=keys, suffixes=("", "_s"), validate="1:1")
    assert len(both) == len(head) > 0
    assert (both["returned_home"].astype(int) == both["returned_home_s"]).all()
    assert (both["re_entered"].astype(int) == both["re_entered_s"]).all()
    wide = s.pivot_table(index=keys, columns="definition", values="returned_home")
    broad, short = list(SENSITIVITY)[1], list(SENSITIVITY)[2]
    assert (wide[broad] >= wide[HEADLINE_DEFINITION]).all()
    assert (wide[short] <= wide[HEADLINE_DEFINITION]).all()
    assert (wide[broad] > wide[HEADLINE_DEFINITION]).any()
    rate = s["re_entered"] / s["returned_home"] * 100
    assert ((s["re_entry_rate"] - rate).abs() < 1e-9).all()
