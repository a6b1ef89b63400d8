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


def _tiny_measures():
    """One region's unsuppressed measures (benchmarks/bench_disclosure.py) and a
    sensitivity table built on them: the headline rows are the main table's England and
    regional single-year Totals, the wider definition adds children, the short-stay one
    removes some."""
    import importlib.util
    from pathlib import Path

    import numpy as np

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_disclosure.py"
    spec = importlib.util.spec_from_file_location("bench_disclosure", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    reentry, ceased, ttr = bench.synthetic_measures(
        regions=["E12000001"], first_year=2021, last_year=2025, seed=5
    )
    head = reentry[
        reentry["geographic_level"].isin(["National", "Regional"])
        & reentry["cohort_span"].eq("Single year")
        & reentry["characteristic_group"].eq("Total")
        & reentry["re_entered"].notna()
    ]
    keys = ["time_period", "geographic_level", "region_code", "follow_up_months"]
    base = head[[*keys, "returned_home", "re_entered"]].astype(
        {"returned_home": "int64", "re_entered": "int64"}
    )
    rng = np.random.default_rng(3)
    # One region, so England = the region: the same extra children in both.
    extra = base.groupby("time_period")["returned_home"].transform(lambda s: rng.integers(20, 60))
    fewer = base.groupby("time_period")["returned_home"].transform(lambda s: rng.integers(1, 9))
    broad, short = list(SENSITIVITY)[1], list(SENSITIVITY)[2]
    parts = [
        base.assign(definition=HEADLINE_DEFINITION),
        base.assign(definition=broad, returned_home=base["returned_home"] + extra),
        base.assign(definition=short, returned_home=base["returned_home"] - fewer),
    ]
    import pandas as pd

    sens = pd.concat(parts, ignore_index=True)
    sens["re_entry_rate"] = sens["re_entered"] / sens["returned_home"] * 100
    sens["las_excluded"] = 0
    return reentry, ceased, ttr, sens


def test_published_sensitivity_is_rounded_tied_to_the_headline_and_audited(tmp_path):
    import pandas as pd

    from assets.disclosure.audit import audit_release
    from assets.disclosure.control import apply_disclosure_control
    from assets.disclosure.files import read_published_dir, write_published

    reentry, ceased, ttr, sens = _tiny_measures()
    with_it = apply_disclosure_control(reentry, ceased, ttr, sensitivity=sens)
    without = apply_disclosure_control(reentry, ceased, ttr)
    # Publishing it changes nothing else: same suppression pattern, same strings.
    for name in ("reentry", "ceased_by_reason", "time_to_reentry"):
        pd.testing.assert_frame_equal(getattr(with_it, name), getattr(without, name))
    audit = audit_release(with_it)
    assert audit.passed and audit.relations_not_holding == 0
    # The attacker's system holds the table's relations (headline = main Total, region
    # to England, re-entered within returned home, the two definitions' directions).
    assert audit.relations > audit_release(without).relations

    s = with_it.sensitivity
    assert len(s) == len(sens)
    count = pd.to_numeric(s["returned_home"])
    assert (count % 10 == 0).all()  # England and regional counts rounded to 10
    truth = sens.sort_values(["time_period", "geographic_level", "region_code"]).reset_index()
    r = with_it.reentry
    main = r[
        r["geographic_level"].isin(["National", "Regional"])
        & r["cohort_span"].eq("Single year")
        & r["characteristic_group"].eq("Total")
        & r["characteristic"].eq("Total")
    ]
    keys = ["time_period", "geographic_level", "region_code", "follow_up_months"]
    head = s[s["definition"].eq(HEADLINE_DEFINITION)]
    both = head.merge(main, on=keys, suffixes=("", "_main"), validate="1:1")
    assert len(both) == len(head) > 0
    for col in ("returned_home", "re_entered", "re_entry_rate"):
        assert (both[col] == both[f"{col}_main"]).all(), col
    wide = s.assign(n=count).pivot_table(index=keys, columns="definition", values="n")
    broad, short = list(SENSITIVITY)[1], list(SENSITIVITY)[2]
    assert (wide[broad] >= wide[HEADLINE_DEFINITION]).all()
    assert (wide[short] <= wide[HEADLINE_DEFINITION]).all()
    assert len(truth) == len(s)

    # On disk for the audit and the next release; a release written before the table
    # existed reads back without it.
    write_published(with_it, tmp_path / "with")
    assert "sensitivity" in read_published_dir(tmp_path / "with")
    write_published(without, tmp_path / "without")
    assert "sensitivity" not in read_published_dir(tmp_path / "without")


def test_sensitivity_open_data_file_and_spreadsheet_table(tmp_path):
    import pandas as pd
    from openpyxl import load_workbook
    from publication_fixtures import release_info

    from assets.disclosure.control import apply_disclosure_control
    from assets.publication.open_data import SENSITIVITY_FILE, write_open_data
    from assets.publication.spreadsheet import write_workbook

    reentry, ceased, ttr, sens = _tiny_measures()
    published = apply_disclosure_control(reentry, ceased, ttr, sensitivity=sens)
    from publication_fixtures import build_la_year_status

    from assets.publication.notes import contextual_notes

    las = sorted(reentry["old_la_code"].dropna().astype(str).unique())
    status = build_la_year_status(la_codes=las)
    notes = contextual_notes(published, status, previous_release_dir=None, release=release_info())
    data = write_open_data(published, notes, tmp_path / "data")  # validated as written
    csv = tmp_path / "data" / f"{SENSITIVITY_FILE}.csv"
    meta = tmp_path / "data" / f"{SENSITIVITY_FILE}.meta.csv"
    assert csv.is_file() and meta.is_file()
    df = pd.read_csv(csv, dtype=str, keep_default_na=False)
    assert len(df) == len(published.sensitivity)
    assert set(df["geographic_level"]) == {"National", "Regional"}
    assert set(df["definition"]) == set(SENSITIVITY)
    # Within each area, year and window the headline comes first, then the alternatives.
    first = df.groupby(["time_period", "geographic_level", "region_code", "follow_up"], sort=False)
    assert first["definition"].agg(list).map(lambda d: d == list(SENSITIVITY)).all()
    assert df["follow_up"].str.fullmatch(r"\d+ months").all()
    guidance = (tmp_path / "data" / "data_guidance.txt").read_text()
    assert f"{SENSITIVITY_FILE}.csv" in guidance
    assert all(f"  {d}" in guidance for d in SENSITIVITY)  # each definition stated
    assert any(f"data/{SENSITIVITY_FILE}.csv" == path for path, _ in data["downloads"])

    book = tmp_path / "book.xlsx"
    tables = write_workbook(
        book,
        release=release_info(),
        reentry_ees=data["reentry"],
        ceased_ees=data["ceased"],
        ttr_ees=data["time_to_reentry"],
        notes=notes,
        sensitivity_ees=data["sensitivity"],
    )
    table = next(t for t in tables if t.table_name == "Re_entry_under_other_definitions")
    assert len(table.frame) == len(df)
    assert table.sheet in load_workbook(book, read_only=True).sheetnames
