"""Pages render in headless Chromium with zero axe-core violations at WCAG 2.2 AA."""

from __future__ import annotations

from pathlib import Path

import pytest
from publication_fixtures import small_inputs

from assets.publication.candidate import build_candidate

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian chromium not installed at /usr/bin/chromium"
    ),
]
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser") / "candidate"
    build_candidate(folder, **small_inputs())
    return folder


@pytest.fixture(scope="module")
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        pg = browser.new_page()
        yield pg
        browser.close()


def _violations(page, url):
    from axe_playwright_python.sync_playwright import Axe

    page.goto(url)
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": TAGS}})
    return [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
    ]


@pytest.mark.parametrize(
    "rel",
    [
        "index.html",
        "methodology.html",
        "downloads.html",
        "la/886.html",
        "la/201.html",
        "la/940.html",
    ],
)
def test_page_has_no_axe_violations(site, page, rel):
    assert _violations(page, (site / rel).as_uri()) == []


def test_home_page_renders_charts_and_headline(site, page):
    page.goto((site / "index.html").as_uri())
    assert page.locator("h1").inner_text().startswith("Re-entry to care after a return home")
    assert page.locator("svg.chart").count() == 2
    box = page.locator("svg.chart").first.bounding_box()
    assert box["width"] > 300 and box["height"] > 150
