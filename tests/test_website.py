"""The static HTML release: structure, text alternatives, notes, links, escaping."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from publication_fixtures import small_inputs

from assets.publication.candidate import build_candidate
from assets.publication.charts import funnel_limits
from assets.publication.website import page_tables


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    inputs = small_inputs()
    folder = tmp_path_factory.mktemp("html") / "candidate"
    build_candidate(folder, **inputs)
    return folder


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs, self.ids, self.tags = [], [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if "href" in a:
            self.hrefs.append(a["href"])
        if "id" in a:
            self.ids.append(a["id"])


def _pages(site):
    return [
        site / "index.html",
        site / "methodology.html",
        site / "downloads.html",
        site / "local-authorities.html",
        *sorted((site / "la").glob("*.html")),
        *sorted((site / "briefing").glob("*.html")),
    ]


def test_every_page_is_en_gb_with_skip_link_one_h1_and_no_script(site):
    for page in _pages(site):
        html = page.read_text()
        assert html.startswith('<!DOCTYPE html>\n<html lang="en-GB">'), page
        assert '<a class="skip-link" href="#main-content">' in html
        assert html.count("<h1") == 1, page
        assert "<script" not in html, page
        assert 'id="main-content"' in html


def test_ids_are_unique_and_internal_links_resolve(site):
    for page in _pages(site):
        p = Links()
        p.feed(page.read_text())
        assert len(p.ids) == len(set(p.ids)), page
        for href in p.hrefs:
            if href.startswith(("mailto:", "http")):
                continue
            path, _, anchor = href.partition("#")
            target = (page.parent / path).resolve() if path else page
            assert target.is_file(), (page.name, href)
            if anchor:
                assert f'id="{anchor}"' in target.read_text(), (page.name, href)


def test_charts_have_title_desc_and_a_data_table_beside_them(site):
    for page in [site / "index.html", site / "la" / "873.html"]:
        html = page.read_text()
        svgs = re.findall(r"<svg.*?</svg>", html, flags=re.S)
        assert len(svgs) == (3 if page.name == "index.html" else 4)
        for svg in svgs:
            assert 'role="img"' in svg
            labelled = re.search(r'aria-labelledby="([^" ]+) ([^"]+)"', svg)
            assert (
                f'<title id="{labelled.group(1)}">' in svg
                and f'<desc id="{labelled.group(2)}">' in svg
            )
        tables = page_tables(html)
        assert ("england-trend" in tables) or ("trend-data" in tables)


def test_home_page_headline_states_england_rate_trend_and_la_range(site):
    html = (site / "index.html").read_text()
    assert re.search(r"\d+% of the [\d,]+ children who returned home from care in England", html)
    assert re.search(r"This is (higher than|lower than|similar to|the same as) the \d+%", html)
    assert re.search(r"ranged from \d+% in .+? to \d+% in ", html)
    assert "single-year rates can change a lot by chance" in html


def test_la_page_has_neighbours_england_funnel_notes_and_download(site):
    html = (site / "la" / "886.html").read_text()
    tables = page_tables(html)
    assert tables["neighbours-table"][0] == [
        "Local authority",
        "Rank",
        "Closeness",
        "Pooled 12-month rate (%)",
        "Funnel plot position",
    ]
    assert len(tables["neighbours-table"]) >= 11  # header + 10 neighbours (+ England)
    assert "Funnel plot position" in html
    assert "The return for the year ending 31 March 2022 was rejected." in html
    assert 'href="../data/la/la_reentry_to_care_886.csv"' in html
    boundary = (site / "la" / "940.html").read_text()
    assert "North Northamptonshire (940) was created on 1 April 2021." in boundary


def test_tables_have_captions_and_header_scopes(site):
    html = (site / "la" / "873.html").read_text()
    assert html.count("<table") == html.count("<caption")
    assert 'scope="col"' in html and 'scope="row"' in html


def test_text_is_escaped(site, tmp_path):
    from dataclasses import replace

    import pandas as pd

    from assets.publication.website import render_site

    inputs = small_inputs()
    release = replace(inputs["release"], producer="Stats <Team> & Co")
    ees = pd.read_csv(site / "data" / "la_reentry_to_care.csv", dtype=str, keep_default_na=False)
    la_files = {p.stem.rsplit("_", 1)[1]: p for p in (site / "data" / "la").glob("*.csv")}
    render_site(
        tmp_path,
        release=release,
        reentry_ees=ees,
        notes=inputs["notes"],
        la_files=la_files,
        downloads=[],
    )
    html = (tmp_path / "index.html").read_text()
    assert "Stats &lt;Team&gt; &amp; Co" in html and "<Team>" not in html


def test_funnel_limits_are_exact_binomial_percentiles():
    from scipy.stats import binom

    lim = funnel_limits(0.2, 100, 10).set_index("n")
    assert lim.loc[50, "upper_95%"] == 100 * binom.ppf(0.975, 50, 0.2) / 50
    assert lim.loc[50, "lower_99.8%"] == 100 * binom.ppf(0.001, 50, 0.2) / 50
    # Limits narrow as cohorts grow.
    assert (
        lim.loc[100, "upper_95%"] - lim.loc[100, "lower_95%"]
        < lim.loc[20, "upper_95%"] - lim.loc[20, "lower_95%"]
    )
