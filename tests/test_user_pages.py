"""The pages answer their users' questions: find an LA, compare it, read England's story."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from publication_fixtures import small_inputs

from assets.publication.candidate import build_candidate
from assets.publication.finder import finder_entries
from assets.publication.website import _site_data, page_tables, region_table


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("user") / "candidate"
    build_candidate(folder, **small_inputs())
    return folder


def test_finder_lists_each_la_once_and_marks_abolished_ones_with_successors():
    entries = {e.code: e for e in finder_entries(["835", "836", "837", "838", "839", "886"])}
    assert len(entries) == 6
    assert entries["835"].label == "Dorset (until March 2019)"
    assert entries["838"].label == "Dorset (from April 2019)"
    assert not entries["835"].current and entries["838"].current
    assert [s for s, _ in entries["835"].successors] == ["838", "839"]
    assert [s for s, _ in entries["837"].successors] == ["839"]
    assert entries["886"].label == "Kent" and entries["886"].successors == ()


def test_finder_page_links_every_la_page_a_to_z_and_by_region(site):
    html = (site / "local-authorities.html").read_text()
    codes = {p.stem for p in (site / "la").glob("*.html") if re.fullmatch(r"\d{3}", p.stem)}
    a_to_z = html.split('id="by-region"')[0]
    linked = re.findall(r'<li><a href="la/(\d{3})\.html">', a_to_z)
    assert sorted(linked) == sorted(codes)  # each LA once in the A to Z list
    by_region = html.split('id="by-region"')[1]
    assert sorted(re.findall(r'<li><a href="la/(\d{3})\.html">', by_region)) == sorted(codes)
    for letter in re.findall(r'href="#letter-(\w)"', html):
        assert f'id="letter-{letter}"' in html
    assert 'href="local-authorities.html"' in (site / "index.html").read_text()


def test_england_and_regions_table_keeps_every_region_whatever_is_withheld(site):
    ees = pd.read_csv(site / "data" / "la_reentry_to_care.csv", dtype=str, keep_default_na=False)
    regional = ees["geographic_level"] == "Regional"
    hidden = ees.copy()
    for name in ("London", "East of England"):
        rows = regional & (ees["region_name"] == name)
        hidden.loc[rows, ["re_entry_rate", "re_entered"]] = "c"
    hidden = hidden[~(regional & (ees["region_name"] == "North East"))]  # no row at all
    rows, latest = region_table(_site_data(hidden))
    names = [r[0] for r in rows]
    assert names[0] == "England" and len(names) == 10
    assert {"London", "East of England", "North East"} <= set(names)
    london = rows[names.index("London")]
    assert london[2] == "[c]" and london[3] == "[c]"
    assert rows[names.index("North East")][1:] == ["[x]"] * 5
    assert latest


def test_la_page_compares_with_neighbours_region_and_england_with_intervals(site):
    html = (site / "la" / "873.html").read_text()
    tables = page_tables(html)
    compare = tables["compare-data"]
    areas = [r[0] for r in compare[1:]]
    assert areas[0] == "Cambridgeshire"
    assert areas[-2:] == ["East of England (region)", "England"]
    assert compare[0][-2:] == ["Lower 95% limit (%)", "Upper 95% limit (%)"]
    assert "Lower 95% limit (%)" in tables["trend-data"][0]
    assert "What these figures can and cannot tell you" in html
    assert "sending fewer children home" in html
    assert tables["quality-table"][0][0] == "Collection year"
    assert 'href="../briefing/873.html"' in html
    breakdown = tables["la-breakdown"]
    assert any(r[0] == "Previous returns home: No previous returns" for r in breakdown)


def test_a_withheld_la_is_not_called_highlighted_on_its_funnel(site):
    for page in (site / "la").glob("[0-9][0-9][0-9].html"):
        html = page.read_text()
        title = re.search(r'<title id="la-funnel-chart-title">([^<]*)</title>', html).group(1)
        drawn = 'fill="#d4351c" stroke="#0b0c0c"' in html.split('id="la-funnel-chart-title"')[1]
        assert ("highlighted" in title) == drawn, page.name


def test_briefing_page_has_the_essentials_and_a_print_stylesheet(site):
    html = (site / "briefing" / "873.html").read_text()
    assert html.count("<h1") == 1
    assert "compare-data" in html and "la-trend-chart" in html
    assert "What these figures can and cannot tell you" in html
    css = (site / "static" / "style.css").read_text()
    assert "@media print" in css and "@page" in css


def test_home_page_has_tiles_story_and_the_funnel_data_with_la_names(site):
    html = (site / "index.html").read_text()
    tiles = re.findall(r'<p class="tile-change">([^<]*)</p>', html)
    assert tiles and all(
        re.match(r"(Higher than|Lower than|Similar to|The same as) the \d+%", t)
        or t == "No earlier cohort is published."
        for t in tiles
    )
    assert "Who re-enters care" in html
    assert re.search(r"By whether the return home was planned, the rate was highest for", html)
    funnel = page_tables(html)["funnel-data"]
    assert funnel[0][0] == "Local authority" and len(funnel) > 5


def test_upn_match_rate_counts_only_upns_the_any_la_linkage_can_use():
    from assets.measures.cohorts import upn_match_rates
    from validation.collection_year import valid_upn

    # A permanent UPN with the right check letter, a temporary one, an "unknown" code, a
    # wrong check letter and two malformed values: only the first two can link LAs.
    supplied = ["A123456789012", "A12345678901B", "UN1", "B123456789012", "B999", "x"]
    index = pd.DataFrame(
        {
            "la_code": ["886", "886", "886", "886", "873", "873"],
            "cohort_year": [2024, 2024, 2024, 2024, 2024, 2023],
            "upn": valid_upn(pd.Series(supplied, dtype="str")),
        }
    )
    assert upn_match_rates(index).values.tolist() == [
        ["873", 2023, 1, 0, 0.0],
        ["873", 2024, 1, 0, 0.0],
        ["886", 2024, 4, 2, 50.0],
    ]


def test_la_page_shows_its_upn_match_rate_and_withholds_it_with_the_count(site):
    inputs = small_inputs()
    upn = inputs["upn_matching"]
    ees = pd.read_csv(site / "data" / "la_reentry_to_care.csv", dtype=str, keep_default_na=False)
    shown = withheld = 0
    for code in sorted(set(upn["la_code"])):
        table = page_tables((site / "la" / f"{code}.html").read_text())["quality-table"]
        assert table[0][-1] == "Children who returned home with a UPN usable for matching (%)"
        rows = {r[0]: r for r in table[1:]}
        single = ees[
            (ees["old_la_code"] == code)
            & (ees["cohort_span"] == "Single year")
            & (ees["characteristic_group"] == "Total")
        ]
        for rec in upn[upn["la_code"] == code].itertuples():
            counts = single.loc[single["time_period"] == str(rec.cohort_year), "returned_home"]
            cell = rows[str(rec.cohort_year)][-1]
            if counts.str.isdigit().any():
                assert cell == f"{rec.upn_match_rate:.0f}"
                shown += 1
            else:
                assert cell in ("[c]", "[x]")  # a share of a withheld count would narrow it
                withheld += cell == "[c]"
    assert shown and withheld
    html = (site / "la" / "886.html").read_text()
    assert "not yet available" not in html
    assert "unique pupil number (UPN)" in html


def test_compare_chart_names_the_areas_it_leaves_out_and_why(site):
    words = {"[c]": "not published to protect confidentiality", "[x]": "not available"}
    named = 0
    for page in sorted((site / "la").glob("[0-9][0-9][0-9].html")):
        html = page.read_text()
        desc = re.search(r'<desc id="la-compare-chart-desc">([^<]*)</desc>', html).group(1)
        desc = desc.replace("&#x27;", "'")
        rows = page_tables(html)["compare-data"][1:]
        shown_text = html.split('id="compare"')[1].split("<table")[0]
        for area, _, rate, *_ in rows[1:]:
            area = area.removesuffix(" (region)")
            if rate in words:
                listed = desc.split(f"{words[rate]}: ")[1].split(".")[0]
                assert area in listed, (page.name, area, desc)
                assert area in shown_text.split("Not shown because")[1], page.name
                named += 1
    assert named  # Kent's pooled rate is not available in the fixture


def test_withheld_neighbours_are_named_as_not_published_to_protect_confidentiality():
    from assets.publication.charts import IntervalRow
    from assets.publication.website import compare_message

    message = compare_message(
        "Barnsley",
        [IntervalRow("Barnsley", 30, 25, 35, emphasis=True), IntervalRow("England", 20, 19, 21)],
        [("Rotherham", "c"), ("Doncaster", "c"), ("Kent", "x")],
    )
    assert message == (
        "Barnsley's pooled rate is 30% (95% confidence interval 25% to 35%). Of the 1 other "
        "area shown, 0 have a higher rate and 1 has a lower rate. Not shown because their "
        "rates are not published to protect confidentiality: Rotherham and Doncaster. Not "
        "shown because its rate is not available: Kent."
    )


def test_neighbour_count_is_one_type_for_a_default_reader(tmp_path):
    """pandas reads a CSV in chunks and types each chunk on its own: a column that was
    digits for thousands of LA rows and ``z`` elsewhere came back as a mixture of numbers
    and text (a DtypeWarning on the national file). Read in small chunks to see it here."""
    from dataclasses import replace

    from assets.common.reference import load_las
    from assets.disclosure.published import neighbour_rate_strings
    from assets.publication.open_data import write_open_data

    inputs = small_inputs(la_codes=sorted(load_las()["old_la_code"].astype(str).unique()))
    reentry = inputs["published"].reentry.copy()
    rate, included = neighbour_rate_strings(reentry, 10)
    reentry["sn_re_entry_rate"], reentry["sn_neighbours_included"] = rate, included
    published = replace(inputs["published"], reentry=reentry)
    write_open_data(published, inputs["notes"], tmp_path / "data")
    path = tmp_path / "data" / "la_reentry_to_care.csv"
    text = pd.read_csv(path, dtype=str, keep_default_na=False)
    no_rate = ~text["sn_re_entry_rate"].str.fullmatch(r"\d+|k")
    assert no_rate.any() and (~no_rate).any()
    assert (text.loc[no_rate, "sn_neighbours_included"] == "z").all()
    assert text.loc[~no_rate, "sn_neighbours_included"].str.fullmatch(r"\d+").all()
    kinds = {
        str(chunk["sn_neighbours_included"].dtype) for chunk in pd.read_csv(path, chunksize=500)
    }
    assert kinds <= {"object", "str"}, kinds
