"""The reviewers' QA summary: each check, its result and the evidence, on real files."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from publication_fixtures import small_inputs

from assets.common.reference import read_reference_csv
from assets.publication.candidate import build_candidate
from assets.publication.qa_checks import (
    REASON_MAP,
    breaks_in_series,
    reconciliation,
    year_on_year_jumps,
)
from assets.publication.qa_summary import write_qa_summary


def test_a_jump_like_kents_is_flagged_and_a_small_change_is_not():
    df = pd.DataFrame(
        {
            "old_la_code": ["886"] * 3 + ["873"] * 2,
            "la_name": ["Kent"] * 3 + ["Cambridgeshire"] * 2,
            "time_period": ["2022", "2023", "2024", "2023", "2024"],
            "returned_home": ["190", "188", "284", "40", "52"],
        }
    )
    out = year_on_year_jumps(df, "returned_home", "Children who returned home")
    flagged = out[out["flag"]]
    assert flagged[["old_la_code", "year", "previous", "current"]].values.tolist() == [
        ["886", 2024, 188, 284]
    ]
    assert len(out) == 3  # 873's 40 -> 52 is 30% but only 12 children: not flagged


def test_a_reason_that_appears_from_zero_is_a_break_in_series():
    ceased = pd.DataFrame(
        {
            "geographic_level": "National",
            "time_period": ["2019", "2020", "2021", "2019", "2020", "2021"],
            "reason_group": ["Aged 18 and stayed with carers (E17)"] * 3
            + ["Adopted (E11, E12)"] * 3,
            "ceased": ["0", "0", "4250", "3200", "3300", "3100"],
        }
    )
    out = breaks_in_series(ceased)
    assert out[out["flag"]][["reason_group", "year"]].values.tolist() == [
        ["Aged 18 and stayed with carers (E17)", 2021]
    ]


def _published_as_pipeline(scale: float) -> pd.DataFrame:
    ref = read_reference_csv("ees_la_children_who_ceased_during_the_year.csv")
    ref = ref[
        (ref["geographic_level"] == "National") & (ref["cla_group"] == "Reason episode ceased")
    ]
    rows = []
    for group, labels in REASON_MAP.items():
        for year, g in ref[ref["characteristic"].isin(labels)].groupby("time_period"):
            n = pd.to_numeric(g["number"], errors="coerce").sum()
            rows.append(
                {
                    "geographic_level": "National",
                    "time_period": year,
                    "reason_group": group,
                    "ceased": str(int(n * scale)),
                }
            )
    return pd.DataFrame(rows)


def test_reconciliation_passes_on_the_published_figures_and_flags_a_gap():
    same = reconciliation(_published_as_pipeline(1.0))
    assert len(same) >= 5 * 5 and not same["flag"].any()
    assert set(same["year"]) == {2020, 2021, 2022, 2023, 2024}
    off = reconciliation(_published_as_pipeline(1.2))
    assert off["flag"].all()


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    inputs = small_inputs()
    root = tmp_path_factory.mktemp("qa")
    build_candidate(root / "candidate", **inputs)
    qa = root / "qa"
    qa.mkdir()
    flags = write_qa_summary(
        qa, root / "candidate", inputs["la_year_status"], {"disclosure_audit": True}
    )
    return qa, flags, inputs


def test_summary_page_lists_every_check_with_its_result_and_evidence(pack):
    qa, flags, _ = pack
    html = (qa / "summary.html").read_text()
    for section in (
        "blocking",
        "withheld",
        "plausibility",
        "breaks",
        "reconciliation",
        "validation",
        "prose",
        "packs",
    ):
        assert f'id="{section}"' in html
    assert len(re.findall(r'<p class="result (?:pass|flag)">', html)) == 5
    for href in re.findall(r'href="(checks/[^"]+)"', html):
        assert (qa / href).is_file(), href
    assert flags["symbols_in_prose"] == 0
    # The fixture has a rejected and a not-received return: validation warns about them.
    warnings = pd.read_csv(qa / "checks" / "validation_warnings.csv", dtype=str)
    assert flags["validation_warnings"] == len(warnings) > 0
    assert "suppression_log.csv" in html  # no disclosure summary page yet: the log instead


def test_each_la_gets_a_check_your_figures_pack(pack):
    qa, _, inputs = pack
    codes = sorted(p.name for p in (qa / "check_your_figures").iterdir())
    assert codes and all(re.fullmatch(r"\d{3}", c) for c in codes)
    one = qa / "check_your_figures" / codes[0]
    reentry = pd.read_csv(one / "reentry.csv", dtype=str)
    assert set(reentry["old_la_code"]) == {codes[0]}
    assert {"reentry.csv", "ceased_by_reason.csv", "returns.csv", "plausibility.csv"} <= {
        p.name for p in one.iterdir()
    }


def test_no_warning_rows_when_every_return_is_clean(pack, tmp_path):
    qa, _, inputs = pack
    clean = inputs["la_year_status"].assign(status="accepted", children_quarantined=0)
    candidate = qa.parent / "candidate"
    flags = write_qa_summary(tmp_path, candidate, clean, {"disclosure_audit": True})
    assert flags["validation_warnings"] == 0
    assert len(pd.read_csv(tmp_path / "checks" / "validation_warnings.csv")) == 0
