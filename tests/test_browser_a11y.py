"""Pages in headless Chromium: zero axe-core violations at WCAG 2.2 AA at 1280 and 390 px,
the LA finder works without JavaScript, charts stay readable on a phone, the briefing
prints, and screenshots of the home page, an LA page and a briefing are kept.

Screenshots go to REENTRY_TEST_ARTEFACTS (default: test-artefacts/ in the checkout).
With REENTRY_RELEASE_DIR set to a built national release's public folder, every test here
runs on that release, and the slow test runs axe on every page of it at both widths."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from axe_release import OPTIONS, WIDTHS
from publication_fixtures import small_inputs

from assets.publication.candidate import build_candidate

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian chromium not installed at /usr/bin/chromium"
    ),
]
ARTEFACTS = Path(
    os.environ.get("REENTRY_TEST_ARTEFACTS", Path(__file__).resolve().parents[1] / "test-artefacts")
)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The fixture release, or with REENTRY_RELEASE_DIR the built release named there
    (so every browser test also runs on the national release)."""
    if os.environ.get("REENTRY_RELEASE_DIR"):
        return Path(os.environ["REENTRY_RELEASE_DIR"])
    folder = tmp_path_factory.mktemp("browser") / "candidate"
    build_candidate(folder, **small_inputs())
    return folder


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser, request):
    width, height = WIDTHS[getattr(request, "param", "desktop")]
    pg = browser.new_page(viewport={"width": width, "height": height})
    yield pg
    pg.close()


def _violations(page, url):
    from axe_playwright_python.sync_playwright import Axe

    page.goto(url)
    results = Axe().run(page, options=OPTIONS)
    return [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
    ]


PAGES = [
    "index.html",
    "methodology.html",
    "downloads.html",
    "local-authorities.html",
    "la/886.html",
    "la/201.html",
    "la/940.html",
    "briefing/886.html",
]


@pytest.mark.parametrize("page", list(WIDTHS), indirect=True)
@pytest.mark.parametrize("rel", PAGES)
def test_page_has_no_axe_violations(site, page, rel):
    assert _violations(page, (site / rel).as_uri()) == []


def test_home_page_renders_charts_and_headline(site, page):
    page.goto((site / "index.html").as_uri())
    title = json.loads((site / "manifest.json").read_text())["release"]["title"]
    assert page.locator("h1").inner_text().startswith(title)
    assert page.locator("svg.chart").count() == 3
    box = page.locator("svg.chart").first.bounding_box()
    assert box["width"] > 300 and box["height"] > 150


def test_finder_reaches_an_la_page_in_one_step_without_javascript(site, browser):
    ctx = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    pg = ctx.new_page()
    pg.goto((site / "local-authorities.html").as_uri())
    pg.get_by_role("link", name="K", exact=True).click()
    assert pg.url.endswith("#letter-K")
    assert pg.locator("#letter-K").is_visible()
    pg.locator("#letter-K + ul").get_by_role("link", name="Kent", exact=True).click()
    assert pg.url.endswith("la/886.html")
    assert pg.locator("h1").inner_text() == "Kent"
    ctx.close()


@pytest.mark.parametrize("page", ["phone"], indirect=True)
def test_chart_text_stays_readable_and_tables_scroll_on_a_phone(site, page):
    page.goto((site / "la" / "886.html").as_uri())
    sizes = page.evaluate(
        "Array.from(document.querySelectorAll('svg.chart text'))"
        ".map(t => t.getBoundingClientRect().height).filter(h => h > 0)"
    )
    assert sizes and min(sizes) >= 11, min(sizes)
    wide = page.locator("#la-figures")
    wrap = page.locator(".table-wrap", has=wide)
    assert wrap.evaluate("w => w.scrollWidth > w.clientWidth")  # scrolls, not clipped
    assert wrap.get_attribute("tabindex") == "0"  # reachable by keyboard
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_briefing_prints_without_navigation_and_screenshots_are_kept(site, page):
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.goto((site / "index.html").as_uri())
    page.screenshot(path=str(ARTEFACTS / "home-1280.png"), full_page=True)
    page.goto((site / "la" / "886.html").as_uri())
    page.screenshot(path=str(ARTEFACTS / "la-886-1280.png"), full_page=True)
    page.goto((site / "briefing" / "886.html").as_uri())
    page.screenshot(path=str(ARTEFACTS / "briefing-886-1280.png"), full_page=True)
    page.emulate_media(media="print")
    assert not page.locator("nav.site-nav").is_visible()
    assert not page.locator(".no-print").first.is_visible()
    assert page.locator("#b-compare").is_visible()
    page.screenshot(path=str(ARTEFACTS / "briefing-886-print.png"), full_page=True)
    pdf = page.pdf(format="A4", path=str(ARTEFACTS / "briefing-886.pdf"))
    pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
    assert 1 <= pages <= 3, pages
    for name in ("home-1280.png", "la-886-1280.png", "briefing-886-1280.png"):
        assert (ARTEFACTS / name).stat().st_size > 10_000


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("REENTRY_RELEASE_DIR"),
    reason="set REENTRY_RELEASE_DIR to a built national release's public folder",
)
def test_every_page_of_the_national_release_has_no_axe_violations():
    """Every page at both widths (tests/axe_release.py: each page loaded once, checked at
    each width; REENTRY_AXE_WORKERS processes, default 2)."""
    from axe_release import check_release, release_pages

    folder = Path(os.environ["REENTRY_RELEASE_DIR"])
    found = check_release(folder, workers=int(os.environ.get("REENTRY_AXE_WORKERS", "2")))
    checked = found.pop("")
    pages = release_pages(folder)
    assert len(pages) > 300
    assert sorted(checked) == sorted(
        (p.relative_to(folder).as_posix(), w) for p in pages for w in WIDTHS
    )
    assert found == {}
