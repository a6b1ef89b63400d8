"""The spreadsheet, the open data CSV and the HTML pages agree cell for cell.

Each output is read back from the built release (openpyxl, csv, an HTML parser) and
compared with the CSV through a mapping written here, independently of the writers.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
from openpyxl import load_workbook
from publication_fixtures import small_inputs

from assets.publication.candidate import build_candidate
from assets.publication.website import page_tables

XLSX_TO_CSV = {
    "Cohort year (ending 31 March)": "time_period",
    "Year (ending 31 March)": "time_period",
    "Geographic level": "geographic_level",
    "Cohort years": "cohort_span",
    "Breakdown": "characteristic_group",
    "Category": "characteristic",
    "Follow-up window (months)": "follow_up",
    "Old LA code": "old_la_code",
    "New LA code": "new_la_code",
    "Local authority": "la_name",
    "Region": "region_name",
    "Children who returned home (number)": "returned_home",
    "Re-entered care, same local authority (number)": "re_entered",
    "Did not re-enter care, same local authority (number)": "not_re_entered",
    "Re-entered care, any local authority (number)": "re_entered_any_la",
    "Turned 18 within the window (number)": "turned_18_in_window",
    "Re-entry rate (%)": "re_entry_rate",
    "Re-entry rate lower 95% confidence limit (%)": "re_entry_rate_lower_ci",
    "Re-entry rate upper 95% confidence limit (%)": "re_entry_rate_upper_ci",
    "Position on funnel plot against England": "funnel_position",
    "Statistical neighbours' re-entry rate (%)": "sn_re_entry_rate",
    "England re-entry rate (%)": "england_re_entry_rate",
    "Re-entry rate, any local authority (%)": "re_entry_rate_any_la",
    "Standardised re-entry ratio (ratio)": "standardised_ratio",
    "Reason ceased": "reason_group",
    "Children who ceased to be looked after (number)": "ceased",
    "Time from return home to re-entry": "time_band",
    "Children who re-entered care (number)": "re_entered",
}
SHORTHAND = {"[c]": "c", "[x]": "x", "[z]": "z", "[low]": "k"}
HTML_TO_CSV = [
    "time_period",
    "cohort_span",
    "follow_up",
    "returned_home",
    "re_entered",
    "not_re_entered",
    "re_entered_any_la",
    "re_entry_rate",
    "re_entry_rate_lower_ci",
    "re_entry_rate_upper_ci",
    "sn_re_entry_rate",
    "england_re_entry_rate",
    "funnel_position",
]


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    inputs = small_inputs()
    folder = tmp_path_factory.mktemp("agree") / "candidate"
    build_candidate(folder, **inputs)
    read = lambda name: pd.read_csv(folder / "data" / name, dtype=str, keep_default_na=False)  # noqa: E731
    return {
        "folder": folder,
        "csv": read("la_reentry_to_care.csv"),
        "ceased": read("children_ceasing_care_by_reason.csv"),
        "ttr": read("time_to_reentry.csv"),
        "wb": load_workbook(folder / "reentry-to-care-2025.xlsx", read_only=True),
    }


def _as_csv_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.2f}"  # the standardised ratio, published to 2 decimal places
    return SHORTHAND.get(value, value)


def _sheet_rows(ws) -> list[dict]:
    rows = list(ws.iter_rows(values_only=True))
    header_at = next(i for i, r in enumerate(rows) if r[1] is not None)
    headers = rows[header_at]
    out = []
    for r in rows[header_at + 1 :]:
        out.append({h: _as_csv_text(v) for h, v in zip(headers, r, strict=True)})
    return out


def _sheet_as_csv_frame(ws) -> pd.DataFrame:
    rows = _sheet_rows(ws)
    frame = pd.DataFrame(rows)
    if "Area code" in frame:
        national = frame["Geographic level"] == "National"
        frame["region_code"] = frame["Area code"].where(~national, "")
        frame["country_code"] = "E92000001"
    frame = frame.rename(columns={h: c for h, c in XLSX_TO_CSV.items() if h in frame})
    if "follow_up" in frame:
        frame["follow_up"] = frame["follow_up"] + " months"
    return frame


def _key(frame: pd.DataFrame) -> pd.Series:
    geo = frame.get("old_la_code", pd.Series("", index=frame.index)).replace("", None)
    geo = geo.fillna(frame.get("region_code", pd.Series("", index=frame.index)))
    parts = [
        frame["time_period"],
        frame["geographic_level"]
        if "geographic_level" in frame
        else pd.Series("Local authority", index=frame.index),
        geo.fillna(""),
        frame["cohort_span"],
        frame.get("characteristic_group", pd.Series("Total", index=frame.index)),
        frame.get("characteristic", pd.Series("Total", index=frame.index)),
        frame["follow_up"],
    ]
    return pd.concat(parts, axis=1).astype(str).agg("|".join, axis=1)


def test_spreadsheet_tables_1_to_4_hold_every_csv_row_with_the_same_values(release):
    csv = release["csv"]
    frames = [_sheet_as_csv_frame(release["wb"][f"Table_{i}"]) for i in range(1, 5)]
    assert sum(len(f) for f in frames) == len(csv)
    csv_keyed = csv.set_index(_key(csv))
    assert csv_keyed.index.is_unique
    compared = 0
    for frame in frames:
        keyed = frame.set_index(_key(frame))
        assert keyed.index.is_unique
        assert set(keyed.index) <= set(csv_keyed.index)
        for col in keyed.columns:
            if col in csv.columns and col not in ("region_code", "country_code"):
                expected = csv_keyed.loc[keyed.index, col]
                mismatched = keyed[col] != expected
                assert not mismatched.any(), (col, keyed.loc[mismatched, col].head())
                compared += len(keyed)
    assert compared > 10 * len(csv)


def test_spreadsheet_context_tables_match_their_csvs(release):
    ceased = _sheet_rows(release["wb"]["Table_5"])
    csv = release["ceased"]
    code = csv["old_la_code"].where(csv["old_la_code"] != "", csv["region_code"])
    code = code.where(code != "", csv["country_code"])
    assert [
        (
            r["Year (ending 31 March)"],
            r["Area code"],
            r["Reason ceased"],
            r["Children who ceased to be looked after (number)"],
        )
        for r in ceased
    ] == list(zip(csv["time_period"], code, csv["reason_group"], csv["ceased"], strict=True))
    ttr = _sheet_rows(release["wb"]["Table_6"])
    csv = release["ttr"]
    assert [
        (r["Time from return home to re-entry"], r["Children who re-entered care (number)"])
        for r in ttr
    ] == list(zip(csv["time_band"], csv["re_entered"], strict=True))


def test_each_la_page_shows_the_csv_figures_for_that_la(release):
    csv = release["csv"]
    la_totals = csv[
        (csv["geographic_level"] == "Local authority") & (csv["characteristic_group"] == "Total")
    ]
    pages = sorted((release["folder"] / "la").glob("*.html"))
    assert len(pages) == la_totals["old_la_code"].nunique()
    for page in pages:
        code = page.stem
        table = page_tables(page.read_text())["la-figures"]
        body = [
            [SHORTHAND.get(c, re.sub(r"(?<=\d),(?=\d{3})", "", c)) for c in row[: len(HTML_TO_CSV)]]
            for row in table[1:]
        ]
        expected = la_totals[la_totals["old_la_code"] == code][HTML_TO_CSV]
        assert sorted(map(tuple, body)) == sorted(map(tuple, expected.to_numpy().tolist())), code


def test_la_download_is_exactly_that_las_csv_rows(release):
    csv_lines = (release["folder"] / "data" / "la_reentry_to_care.csv").read_text().splitlines()
    header, body = csv_lines[0], csv_lines[1:]
    codes = release["csv"]["old_la_code"].tolist()
    for path in sorted((release["folder"] / "data" / "la").glob("*.csv")):
        code = path.stem.rsplit("_", 1)[1]
        lines = path.read_text().splitlines()
        assert lines[0] == header
        assert lines[1:] == [line for line, c in zip(body, codes, strict=True) if c == code]
        page = (release["folder"] / "la" / f"{code}.html").read_text()
        assert f'href="../data/la/{path.name}"' in page
