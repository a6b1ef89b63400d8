"""Privacy guard: no child identifier from the inputs may reach a public file."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pandas as pd
import pytest
from publication_fixtures import build_episode_history, small_inputs

from assets.publication.candidate import build_candidate
from assets.publication.privacy import (
    PrivacyError,
    PrivateIdentifiers,
    scan_for_private_identifiers,
)


@pytest.fixture(scope="module")
def history():
    return build_episode_history()


@pytest.fixture(scope="module")
def ids(history):
    return PrivateIdentifiers.from_history(history)


def _public(tmp_path, name, text):
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_identifiers_collected_from_history(history, ids):
    assert ids.child_ids == set(history["child"])
    assert ids.upns == set(history["upn"])
    assert date(2005, 1, 1) <= min(ids.dobs)
    assert "B10AA" in ids.postcodes


def test_short_child_ids_are_not_searched_for(ids):
    h = pd.DataFrame({"child": ["12", "4051", "ABC12345"]})
    short = PrivateIdentifiers.from_history(h)
    assert short.child_ids == {"ABC12345"}


def test_planted_child_id_is_found_as_whole_token(tmp_path, history, ids):
    child = history["child"].iloc[3]
    _public(tmp_path, "a.csv", f"time_period,count\n2024,{child}\n")
    _public(tmp_path, "b.csv", f"time_period,count\n2024,9{child}\n")  # not a whole token
    found = scan_for_private_identifiers(tmp_path, ids)
    assert [(f.file, f.line, f.kind) for f in found] == [("a.csv", 2, "child_id")]


def test_planted_upn_in_html_is_found(tmp_path, history, ids):
    upn = history["upn"].iloc[0]
    _public(tmp_path, "page.html", f"<p>Child {upn} returned home</p>")
    found = scan_for_private_identifiers(tmp_path, ids)
    assert [(f.file, f.kind) for f in found] == [("page.html", "upn")]
    assert upn not in str(found[0])  # the error message masks the identifier


def test_any_upn_shaped_token_is_found_even_if_not_an_input(tmp_path, ids):
    _public(tmp_path, "page.html", "<p>Z123456789012</p>")
    assert [f.kind for f in scan_for_private_identifiers(tmp_path, ids)] == ["upn"]


def test_planted_date_of_birth_in_any_written_form_is_found(tmp_path, history, ids):
    dob = history["dob"].iloc[5].date()
    if (dob.month, dob.day) in ((3, 31), (4, 1)):
        dob = history["dob"].iloc[6].date()
    _public(tmp_path, "a.html", f"<p>born {dob.day} {dob.strftime('%B')} {dob.year}</p>")
    _public(tmp_path, "b.csv", f"dob\n{dob.strftime('%d/%m/%Y')}\n")
    _public(tmp_path, "c.json", f'{{"dob": "{dob.isoformat()}"}}')
    found = scan_for_private_identifiers(tmp_path, ids)
    assert sorted((f.file, f.kind) for f in found) == [
        ("a.html", "date_of_birth"),
        ("b.csv", "date_of_birth"),
        ("c.json", "date_of_birth"),
    ]


def test_every_written_form_of_a_date_of_birth_passes_the_prefilter(tmp_path):
    """The scan looks for dates only in segments its prefilter keeps (two separators
    between digits, or a month); each form below must still be found, among numbers
    and decimals that are not dates."""
    dob = date(2013, 9, 7)
    ids = PrivateIdentifiers(dobs=frozenset({dob}))
    forms = {
        "iso.csv": "rate,when\n12.5,2013-09-07\n",
        "slashes.csv": "when\n2013/9/7\n",
        "dots.csv": "a,b\n0.1,07.09.2013\n",
        "dashes.csv": "when\n7-9-2013\n",
        "short.html": "<p>born 7th Sept. 2013</p>",
        "upper.html": "<p>7 SEP 2013</p>",
        "month_first.html": "<p>September 7, 2013</p>",
        "other_digits.txt": "\u0660\u0667/\u0660\u0669/\u0662\u0660\u0661\u0663\n",
    }
    for name, text in forms.items():
        _public(tmp_path, name, text)
    _public(tmp_path, "numbers.csv", "rate,count\n12.5,2013\n7.9,2013\n")
    found = {f.file for f in scan_for_private_identifiers(tmp_path, ids)}
    assert found == set(forms)


def test_release_date_and_collection_year_bounds_are_not_dates_of_birth(tmp_path):
    ids = PrivateIdentifiers(dobs=frozenset({date(2024, 3, 31), date(2025, 11, 27)}))
    _public(tmp_path, "a.html", "<p>year ending 31 March 2024; released 27 November 2025</p>")
    assert (
        scan_for_private_identifiers(tmp_path, ids, allowed_dates=frozenset({date(2025, 11, 27)}))
        == []
    )


def test_planted_postcode_is_found_with_or_without_space(tmp_path, ids):
    _public(tmp_path, "a.html", "<p>lives at B1 0AA</p>")
    _public(tmp_path, "b.csv", "pc\nb10aa\n")
    found = scan_for_private_identifiers(tmp_path, ids)
    assert sorted((f.file, f.kind) for f in found) == [
        ("a.html", "postcode"),
        ("b.csv", "postcode"),
    ]


def test_identifier_inside_spreadsheet_cell_is_found(tmp_path, history, ids):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active["B7"] = history["child"].iloc[9]
    wb.save(tmp_path / "t.xlsx")
    assert [(f.file, f.kind) for f in scan_for_private_identifiers(tmp_path, ids)] == [
        ("t.xlsx", "child_id")
    ]


def test_counts_in_a_real_release_are_not_false_positives(tmp_path):
    inputs = small_inputs()
    # These CHILD values occur inside codes in every release (E92000001, Kent E10000016):
    # substring matching would fail the build; whole-token matching must not.
    extra = pd.DataFrame({"child": ["000016", "000001"], "upn": [None, None], "dob": pd.NaT})
    ids = PrivateIdentifiers.from_history(extra)
    build_candidate(tmp_path / "candidate", **dict(inputs, private_identifiers=ids))
    text = (tmp_path / "candidate" / "data" / "la_reentry_to_care.csv").read_text()
    assert "E10000016" in text and "E92000001" in text


def test_build_fails_when_a_child_id_reaches_a_public_file(tmp_path, history):
    inputs = small_inputs()
    child = history["child"].iloc[0]
    published = inputs["published"]
    reentry = published.reentry.copy()
    reentry.loc[reentry["characteristic"] == "1", "characteristic"] = f"Child {child}"
    bad = replace(published, reentry=reentry)
    with pytest.raises(PrivacyError, match="child_id") as err:
        build_candidate(tmp_path / "candidate", **dict(inputs, published=bad))
    assert "data/la_reentry_to_care.csv" in str(err.value)
    assert child not in str(err.value)
    assert not (tmp_path / "candidate").exists()
    assert list(tmp_path.iterdir()) == []
