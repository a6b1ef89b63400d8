"""Contextual notes are generated from the data, numbered stably and matched to rows."""

from __future__ import annotations

import pandas as pd
import pytest
from publication_fixtures import build_la_year_status, build_published, release_info

from assets.publication.notes import (
    NOTE_DEFINITIONS,
    boundary_changes,
    contextual_notes,
    global_notes,
    note_references,
)
from assets.publication.open_data import write_open_data

LAS = ["201", "330", "886", "928", "940", "941", "929", "873"]


@pytest.fixture(scope="module")
def published():
    return build_published(la_codes=LAS)


@pytest.fixture(scope="module")
def status():
    return build_la_year_status(la_codes=LAS)


@pytest.fixture(scope="module")
def notes(published, status):
    return contextual_notes(published, status, previous_release_dir=None, release=release_info())


def _keys(notes, key):
    return notes[notes["note_key"] == key]


def test_note_numbers_are_fixed_by_definition():
    numbers = {d.key: d.number for d in NOTE_DEFINITIONS}
    assert numbers == {
        "same_la_headline": 1,
        "history_not_seen": 2,
        "small_cohort": 3,
        "boundary_change": 4,
        "return_not_used": 5,
        "children_quarantined": 6,
        "revised": 7,
        "provisional": 8,
    }
    assert all(n.number == i for i, n in enumerate(NOTE_DEFINITIONS, start=1))


def test_small_cohort_noted_for_la_years_under_20_children(notes, published):
    small = _keys(notes, "small_cohort")
    assert set(small["old_la_code"]) >= {"201"}  # City of London: a handful each year
    r = published.reentry
    totals = r[
        (r["geographic_level"] == "Local authority")
        & (r["cohort_span"] == "Single year")
        & (r["characteristic_group"] == "Total")
    ].drop_duplicates(["old_la_code", "time_period"])
    n = pd.to_numeric(totals["returned_home"], errors="coerce")
    expected = totals[(n < 20) | (totals["returned_home"] == "c")]
    assert set(zip(small["old_la_code"], small["time_period"], strict=True)) == set(
        zip(expected["old_la_code"], expected["time_period"], strict=True)
    )
    assert (small["cohort_span"] == "Single year").all()


def test_boundary_changes_come_from_la_lookup_dates():
    changes = boundary_changes(2016, 2025)
    got = dict(zip(changes["old_la_code"], changes["change"], strict=True))
    assert got == {
        "835": "abolished", "836": "abolished", "837": "abolished",
        "838": "created", "839": "created",
        "928": "abolished", "940": "created", "941": "created",
        "909": "abolished", "942": "created", "943": "created",
    }  # fmt: skip
    # Northumberland 929 only changed its ONS code (2013): not a boundary change.
    assert "929" not in got
    assert boundary_changes(2022, 2025)["old_la_code"].tolist() == ["909", "942", "943"]


def test_boundary_change_note_names_the_date(notes):
    b = _keys(notes, "boundary_change").set_index("old_la_code")["detail"]
    assert b["940"] == "North Northamptonshire (940) was created on 1 April 2021."
    assert b["928"] == "Northamptonshire (928) was abolished after 31 March 2021."
    assert "929" not in b.index


def test_rejected_return_noted_on_cohorts_whose_follow_up_uses_it(notes):
    rej = _keys(notes, "return_not_used")
    assert set(rej["old_la_code"]) == {"886"}
    assert sorted(rej["time_period"]) == [2017, 2018, 2019, 2020, 2021, 2022]
    assert rej["detail"].str.contains("31 March 2022 was rejected").all()


def test_quarantine_noted_only_above_threshold(published):
    status = build_la_year_status(la_codes=LAS, quarantined=(("330", 2024, 40), ("873", 2024, 10)))
    notes = contextual_notes(published, status, previous_release_dir=None, release=release_info())
    q = _keys(notes, "children_quarantined")
    assert set(q["old_la_code"]) == {"330"}  # 40/400 = 10% > 5%; 10/400 = 2.5% is not
    assert q["detail"].iloc[0].startswith("40 of 400 children")


def test_provisional_note_only_for_provisional_release(published, status, notes):
    assert 8 in global_notes(notes)
    final = contextual_notes(
        published, status, previous_release_dir=None, release=release_info(provisional=False)
    )
    assert 8 not in set(final["note_number"])
    assert global_notes(final) == [1, 2]


def test_revised_figures_are_marked_against_the_previous_release(
    tmp_path, published, status, notes
):
    prev = tmp_path / "prev"
    write_open_data(published, notes, prev / "data")
    csv = prev / "data" / "la_reentry_to_care.csv"
    frame = pd.read_csv(csv, dtype=str, keep_default_na=False)
    target = (
        (frame["old_la_code"] == "873")
        & (frame["time_period"] == "2019")
        & (frame["follow_up"] == "12 months")
        & (frame["characteristic_group"] == "Total")
        & (frame["cohort_span"] == "Single year")
    )
    assert target.sum() == 1
    frame.loc[target, "re_entered"] = "999"
    frame.to_csv(csv, index=False, lineterminator="\n")
    revised = contextual_notes(published, status, previous_release_dir=prev, release=release_info())
    r = _keys(revised, "revised")
    assert len(r) == 1
    row = r.iloc[0]
    assert (row["old_la_code"], row["time_period"], row["follow_up_months"]) == ("873", 2019, 12)
    assert (row["characteristic_group"], row["cohort_span"]) == ("Total", "Single year")
    unchanged = contextual_notes(
        published, status, previous_release_dir=None, release=release_info()
    )
    assert _keys(unchanged, "revised").empty


def test_note_references_follow_scope(published, notes):
    r = published.reentry
    refs = note_references(r, notes)
    kent_2019 = (r["old_la_code"] == "886") & (r["time_period"] == 2019)
    kent_2024 = (r["old_la_code"] == "886") & (r["time_period"] == 2024)
    assert refs[kent_2019].str.contains(r"\[note 5\]").all()
    assert not refs[kent_2024].str.contains(r"\[note 5\]").any()
    assert refs[r["old_la_code"] == "940"].str.contains(r"\[note 4\]").all()
    national = r["geographic_level"] == "National"
    assert (refs[national] == "").all()  # only whole-release notes apply to England
    with_global = note_references(r, notes, include_global=True)
    assert with_global[national].str.startswith("[note 1] [note 2]").all()


def test_notes_are_deterministic(published, status, notes):
    again = contextual_notes(published, status, previous_release_dir=None, release=release_info())
    pd.testing.assert_frame_equal(notes, again)
