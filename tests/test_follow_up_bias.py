"""Re-entries that the pipeline used to lose, always in the same direction.

Each case is written as real SSDA903 returns, validated year by year and run through the
history and the measures exactly as production does:

* a quarantined follow-up year: children who returned home and re-entered, whose later
  return is quarantined, used to count as "not re-entered"; they are now left out of that
  window's figure and counted;
* a closed episode re-listed by a later return with a corrected start date used to hide
  the re-entry and count the return home twice;
* a short break that becomes full-time care (X1 then a new legal status) is a re-entry.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from assets.ingest.reading import EPISODE_COLUMNS, HEADER_COLUMNS
from assets.measures.tables import build_measures
from validation.collection_year import validate_collection_year

LA = "202"


def write_return(landing: Path, year: int, cases: dict[str, list[tuple]]) -> None:
    """One LA's return: child -> [(DECOM, RNE, LS, CIN, PLACE, PLACE_PROVIDER, DEC, REC)]."""
    folder = landing / str(year) / LA
    folder.mkdir(parents=True, exist_ok=True)
    sex = "1" if year <= 2024 else "M"
    header = [
        {"CHILD": c, "SEX": sex, "DOB": "01/01/2012", "ETHNIC": "WBRI"} for c in cases if cases[c]
    ]
    episodes = [
        dict(zip(EPISODE_COLUMNS[:9], [child, *ep], strict=True))
        for child, eps in cases.items()
        for ep in eps
    ]
    pd.DataFrame(header, columns=HEADER_COLUMNS).to_csv(folder / "header.csv", index=False)
    pd.DataFrame(episodes, columns=EPISODE_COLUMNS).to_csv(folder / "episodes.csv", index=False)


def run(landing: Path, years: range):
    from assets.history.history import build_episode_history

    history = build_episode_history([validate_collection_year(landing, y) for y in years])
    tables = build_measures(
        history.episode_history,
        history.la_year_status,
        quarantined=history.quarantined,
        windows=(6, 12),
    )
    return history, tables


def la_total(tables, cohort: int, months: int) -> pd.Series:
    r = tables.reentry
    row = r[
        r["geographic_level"].eq("Local authority")
        & r["old_la_code"].eq(LA)
        & r["time_period"].eq(cohort)
        & r["cohort_span"].eq("Single year")
        & r["follow_up_months"].eq(months)
        & r["characteristic_group"].eq("Total")
    ]
    assert len(row) == 1
    return row.iloc[0]


RETURNED = ("01/05/2021", "S", "C2", "N1", "U1", "PR1", "01/09/2021", "E4A")


def test_children_whose_follow_up_year_is_quarantined_are_excluded_and_counted(tmp_path):
    # 15 children return home in 2021-22 and all re-enter on 1 June 2022; the 2022-23
    # records of 8 of them carry an invalid CIN code (N9), so they are quarantined.
    children = [f"C{i:02d}" for i in range(15)]
    write_return(tmp_path, 2022, {c: [RETURNED] for c in children})
    write_return(
        tmp_path,
        2023,
        {
            c: [("01/06/2022", "S", "C2", "N9" if i < 8 else "N1", "U1", "PR1", "", "")]
            for i, c in enumerate(children)
        },
    )
    history, tables = run(tmp_path, range(2022, 2024))
    assert set(history.quarantined["child"]) == set(children[:8])

    figure = la_total(tables, 2022, 12)
    # Before: 15 returned, 7 re-entered (the 8 quarantined counted as not re-entered).
    assert (figure["returned_home"], figure["re_entered"]) == (7, 7)
    excluded = tables.follow_up_exclusions
    mine = excluded[excluded["cohort_year"].eq(2022) & excluded["follow_up_months"].eq(12)]
    assert mine["children_excluded"].sum() == 8
    # The child-level table says which children were left out of which window.
    index = tables.index_returns.set_index("child")
    assert index.loc[children[:8], "excluded_12"].all()
    assert not index.loc[children[8:], "excluded_12"].any()


def test_a_re_entry_seen_before_the_quarantined_year_still_counts(tmp_path):
    # Returns home and re-enters inside 2021-22; the 2022-23 record is quarantined: the
    # re-entry was already observed, so the child is not unfollowable.
    # (Child Z keeps the LA's 2022-23 return usable.)
    stays = [("01/05/2021", "S", "C2", "N1", "U1", "PR1", "", "")]
    write_return(
        tmp_path,
        2022,
        {"A": [RETURNED, ("01/11/2021", "S", "C2", "N1", "U1", "PR1", "", "")], "Z": stays},
    )
    write_return(
        tmp_path,
        2023,
        {"A": [("01/11/2021", "S", "C2", "N9", "U1", "PR1", "", "")], "Z": stays},
    )
    history, tables = run(tmp_path, range(2022, 2024))
    assert list(history.quarantined["child"]) == ["A"]
    figure = la_total(tables, 2022, 12)
    assert (figure["returned_home"], figure["re_entered"]) == (1, 1)


def test_a_closed_episode_re_listed_with_a_corrected_start_date_keeps_the_re_entry(tmp_path):
    # 2021-22 return: in care from 1 May 2021, returned home 1 Feb 2022 (closed).
    # 2022-23 return re-lists that closed episode with its start corrected to 3 May 2021,
    # then the re-entry on 24 May 2022, 3.7 months after the return.
    children = [f"R{i}" for i in range(7)]
    home = ("01/05/2021", "S", "C2", "N1", "U1", "PR1", "01/02/2022", "E4A")
    corrected = ("03/05/2021", *home[1:])
    reentry = ("24/05/2022", "S", "C2", "N1", "U1", "PR1", "", "")
    write_return(tmp_path, 2022, {c: [home] for c in children})
    write_return(tmp_path, 2023, {c: [corrected, reentry] for c in children})
    history, tables = run(tmp_path, range(2022, 2024))

    # One version of the returned-home episode per child: the later return's.
    eh = history.episode_history
    returned = eh[eh["rec"].eq("E4A")]
    assert len(returned) == 7
    assert returned["decom"].eq(pd.Timestamp("2021-05-03")).all()
    assert returned["collection_year"].eq(2023).all()
    assert history.overlaps_resolved["episodes_dropped"].sum() == 7
    overlap = history.failures[history.failures["rule_code"].eq("history_overlap")]
    assert len(overlap) == 7 and overlap["file"].eq(f"2022/{LA}/episodes.csv").all()
    assert history.ledger["rows_superseded"].sum() == 7

    figure = la_total(tables, 2022, 6)
    # Before: 7 returned, 0 re-entered, and each return counted twice.
    assert (figure["returned_home"], figure["re_entered"]) == (7, 7)
    index = tables.index_returns
    assert len(index) == 7
    prev = build_measures(history.episode_history, history.la_year_status, windows=(6,)).reentry
    prev = prev[
        prev["old_la_code"].eq(LA)
        & prev["characteristic_group"].eq("Previous returns home")
        & prev["time_period"].eq(2022)
        & prev["cohort_span"].eq("Single year")
    ]
    first_return = prev[prev["characteristic"].eq("None")]
    assert first_return["returned_home"].sum() == 7


def test_a_short_break_that_becomes_full_time_care_is_a_re_entry(tmp_path):
    # Home on 1 Sept 2021; a short break (V3) from 1 Nov 2021 becomes an interim care
    # order (C1) on 15 Nov 2021 (X1, then RNE L): in full-time care from 15 November.
    write_return(
        tmp_path,
        2022,
        {
            "B": [
                RETURNED,
                ("01/11/2021", "S", "V3", "N1", "U1", "PR1", "15/11/2021", "X1"),
                ("15/11/2021", "L", "C1", "N1", "U1", "PR1", "", ""),
            ]
        },
    )
    write_return(tmp_path, 2023, {"B": [("15/11/2021", "L", "C1", "N1", "U1", "PR1", "", "")]})
    _, tables = run(tmp_path, range(2022, 2024))
    figure = la_total(tables, 2022, 6)
    assert (figure["returned_home"], figure["re_entered"]) == (1, 1)
    assert tables.index_returns["reentry_date"].iloc[0] == pd.Timestamp("2021-11-15")


def test_qa_pack_shows_the_children_left_out_and_the_funnel_dispersion(tmp_path):
    """The reviewer reads the exclusions (by LA and for England) and each funnel plot's
    over-dispersion in the restricted QA pack, as files and as sections of summary.html."""
    from assets.measures.tables import follow_up_exclusions_by_window
    from assets.publication.qa_pack import (
        FOLLOW_UP_EXCLUSIONS,
        FOLLOW_UP_EXCLUSIONS_ENGLAND,
        FUNNEL_DISPERSION,
        MEASURES_DIR,
        write_measures_reports,
    )
    from assets.publication.qa_summary import measures_sections

    landing = tmp_path / "landing"
    children = [f"C{i:02d}" for i in range(15)]
    write_return(landing, 2022, {c: [RETURNED] for c in children})
    write_return(
        landing,
        2023,
        {
            c: [("01/06/2022", "S", "C2", "N9" if i < 8 else "N1", "U1", "PR1", "", "")]
            for i, c in enumerate(children)
        },
    )
    _, tables = run(landing, range(2022, 2024))
    england = follow_up_exclusions_by_window(tables.follow_up_exclusions)
    row = england[england["cohort_year"].eq(2022) & england["follow_up_months"].eq(12)]
    assert row[["children_excluded", "las_affected"]].values.tolist() == [[8, 1]]

    qa = tmp_path / "qa"
    write_measures_reports(qa, tables)
    folder = qa / MEASURES_DIR
    by_la = pd.read_csv(folder / FOLLOW_UP_EXCLUSIONS, dtype={"la_code": str})
    expected = tables.follow_up_exclusions
    assert by_la.astype(str).values.tolist() == expected.astype(str).values.tolist()
    written = pd.read_csv(folder / FOLLOW_UP_EXCLUSIONS_ENGLAND)
    assert written.values.tolist() == england.values.tolist() == [[2022, 12, 8, 1]]
    funnels = pd.read_csv(folder / FUNNEL_DISPERSION)
    assert len(funnels) == len(tables.funnel_dispersion)
    html = "\n".join(measures_sections(qa))
    assert "Children and LAs left out, England" in html
    assert "<td>8</td>" in html  # the 8 children of the 2022 cohort at 12 months
    assert 'href="measures/funnel_dispersion.csv"' in html

    # No quarantine: the pack says so in words, and the England table has no rows.
    clean = tmp_path / "clean"
    write_return(clean, 2022, {c: [RETURNED] for c in children})
    write_return(
        clean, 2023, {c: [("01/06/2022", "S", "C2", "N1", "U1", "PR1", "", "")] for c in children}
    )
    _, tables = run(clean, range(2022, 2024))
    assert follow_up_exclusions_by_window(tables.follow_up_exclusions).empty
    write_measures_reports(tmp_path / "qa_clean", tables)
    assert "No child was left out" in "\n".join(measures_sections(tmp_path / "qa_clean"))
