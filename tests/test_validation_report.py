"""The reviewers' report: every LA-year listed, failing rows per LA, accessible and
escaped HTML, CSVs of every failure and the ledger, same bytes on every run."""

from __future__ import annotations

import shutil
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from assets.common.reference import las_in_year
from assets.history.history import build_episode_history
from assets.ingest.inventory import inventory_landing
from validation.collection_year import validate_collection_year
from validation.report import write_validation_report

FIXTURE = Path(__file__).parent / "data" / "returns" / "two_years"


class _Tables(HTMLParser):
    """Collects what accessibility needs: lang, captions, header scopes, links."""

    def __init__(self) -> None:
        super().__init__()
        self.lang = None
        self.tables = self.captions = 0
        self.th_without_scope = 0
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang")
        elif tag == "table":
            self.tables += 1
        elif tag == "caption":
            self.captions += 1
        elif tag == "th" and attrs.get("scope") not in ("col", "row"):
            self.th_without_scope += 1
        elif tag == "a":
            self.links.append(attrs.get("href", ""))


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    landing = root / "landing"
    shutil.copytree(FIXTURE, landing)
    # A child identifier that is also HTML, an overlap to quarantine, a missing file.
    path = landing / "2024/201/episodes.csv"
    path.write_text(path.read_text().replace("0104,07/05/2023,L", "<b>x</b>,07/05/2023,L"))
    (landing / "2023/202/header.csv").unlink()
    (landing / "stray.txt").write_text("?")
    inventory = inventory_landing(landing)
    years = [validate_collection_year(landing, y, inventory) for y in (2023, 2024)]
    history = build_episode_history(years)
    out = root / "restricted" / "r1" / "validation"
    index = write_validation_report(out, history, inventory, "r1")
    return index, history, inventory, root


def test_summary_lists_every_la_year_with_its_status(report):
    index, history, _inv, _root = report
    html = index.read_text()
    for year in (2023, 2024):
        assert len(history.la_year_status.query("collection_year == @year")) == len(
            las_in_year(year)
        )
    assert html.count("<tr>") >= len(history.la_year_status)
    assert "Rejected" in html and "Accepted with quarantined children" in html
    assert "Not received" in html
    assert "stray.txt" in html  # files outside any return are listed too
    # rule codes with the DfE message
    assert "child_not_in_header" in html
    assert "The child has episodes but no row in the header file." in html


def test_html_is_accessible_and_escapes_child_identifiers(report):
    index, _h, _inv, _root = report
    for page in [index, *sorted((index.parent / "la").glob("*.html"))]:
        html = page.read_text()
        parsed = _Tables()
        parsed.feed(html)
        assert parsed.lang == "en-GB", page
        assert parsed.tables == parsed.captions, page
        assert parsed.th_without_scope == 0, page
        assert "<b>x</b>" not in html
    la_page = (index.parent / "la" / "201.html").read_text()
    assert "&lt;b&gt;x&lt;/b&gt;" in la_page


def test_every_la_link_points_to_a_page_with_its_failing_rows(report):
    index, history, _inv, _root = report
    parsed = _Tables()
    parsed.feed(index.read_text())
    pages = {link for link in parsed.links if link.startswith("la/")}
    assert pages == {f"la/{la}.html" for la in history.la_year_status["la_code"]}
    assert all((index.parent / p).exists() for p in pages)
    la_page = (index.parent / "la" / "202.html").read_text()
    assert "2023/202/header.csv" in la_page and "file_missing" in la_page


def test_csvs_hold_every_failure_and_the_ledger(report):
    index, history, inventory, _root = report
    failures = pd.read_csv(index.parent / "failures.csv", dtype=str)
    assert len(failures) == len(history.failures)
    assert set(failures["rule_code"]) == set(history.failures["rule_code"])
    ledger = pd.read_csv(index.parent / "ledger.csv")
    balance = ledger["rows_accepted"] + ledger["rows_quarantined"] + ledger["rows_rejected"]
    assert (ledger["rows_read"] == balance).all()
    assert len(pd.read_csv(index.parent / "inventory.csv")) == len(inventory)


def test_report_is_byte_identical_when_written_twice(report, tmp_path):
    index, history, inventory, _root = report
    again = write_validation_report(tmp_path / "v", history, inventory, "r1")
    for path in sorted(index.parent.rglob("*")):
        if path.is_file():
            rel = path.relative_to(index.parent)
            assert (again.parent / rel).read_bytes() == path.read_bytes(), rel


def test_report_is_written_only_under_the_folder_given(report):
    _index, _h, _inv, root = report
    written = [p for p in root.rglob("*") if p.is_file() and "landing" not in p.parts]
    assert all("restricted" in p.parts for p in written)
