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
)
from assets.publication.qa_summary import write_qa_summary
from validation.plausibility import plausibility_table


def _returns_home(counts: dict[tuple[str, int], int]) -> pd.DataFrame:
    """Episodes ending in a return home: ``n`` for (LA, collection year), ended in June."""
    rows = [
        {"la_code": la, "rec": "E4A", "dec": f"{year - 1}-06-01"}
        for (la, year), n in counts.items()
        for _ in range(n)
    ]
    return pd.DataFrame(rows)


def test_a_jump_like_kents_is_flagged_and_a_small_change_is_not():
    episodes = _returns_home(
        {("886", 2022): 190, ("886", 2023): 188, ("886", 2024): 284}
        | {("873", 2023): 40, ("873", 2024): 52}
    )
    ledger = pd.DataFrame(columns=["collection_year", "la_code", "table", "rows_read"])
    out = plausibility_table(ledger, episodes)
    flagged = out[out["flagged"]]
    assert flagged[["la_code", "collection_year", "previous", "current"]].values.tolist() == [
        ["886", 2024, 188, 284]
    ]
    assert flagged["reason"].tolist() == ["rose above 1.30 times the previous year"]
    assert len(out) == 3  # 873's 40 -> 52 is 30% but only 12 children: not flagged


def test_summary_lists_the_validation_stages_flags_not_its_own(pack, tmp_path):
    """One rule: the summary shows qa/plausibility.csv as validation wrote it."""
    qa, _, inputs = pack
    episodes = _returns_home({("886", 2023): 188, ("886", 2024): 284})
    ledger = pd.DataFrame(columns=["collection_year", "la_code", "table", "rows_read"])
    plausibility_table(ledger, episodes).to_csv(tmp_path / "plausibility.csv", index=False)
    flags = write_qa_summary(
        tmp_path, qa.parent / "candidate", inputs["la_year_status"], {"disclosure_audit": True}
    )
    assert flags["plausibility"] == 1
    html = (tmp_path / "summary.html").read_text()
    section = html.split('id="plausibility"')[1].split("<h2")[0]
    assert "<td>Kent</td>" in section and "<td>284</td>" in section
    kent = pd.read_csv(tmp_path / "check_your_figures" / "886" / "plausibility.csv", dtype=str)
    assert kent["current"].tolist() == ["284"]


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
        qa,
        root / "candidate",
        inputs["la_year_status"],
        {"disclosure_audit": True},
        upn_matching=inputs["upn_matching"],
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
        "upn",
        "prose",
        "packs",
    ):
        assert f'id="{section}"' in html
    assert len(re.findall(r'<p class="result (?:pass|flag)">', html)) == 6
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


def test_each_las_pack_has_its_upn_match_rate_and_the_summary_lists_low_ones(pack):
    qa, flags, inputs = pack
    upn = inputs["upn_matching"]
    by_year = upn.groupby("cohort_year")[["with_upn", "index_returns"]].sum()
    england = upn["cohort_year"].map(100 * by_year["with_upn"] / by_year["index_returns"])
    low = upn[upn["upn_match_rate"] < england - 15]
    assert flags["upn_match_rate"] == len(low) >= 1
    listed = pd.read_csv(qa / "checks" / "upn_match_below_threshold.csv", dtype=str)
    assert sorted(zip(listed["la_code"], listed["cohort_year"], strict=True)) == sorted(
        zip(low["la_code"], low["cohort_year"].astype(str), strict=True)
    )
    for code in sorted(set(upn["la_code"])):
        mine = pd.read_csv(qa / "check_your_figures" / code / "upn_matching.csv", dtype=str)
        expected = upn[upn["la_code"] == code]
        assert mine["with_upn"].tolist() == expected["with_upn"].astype(str).tolist()
    section = (qa / "summary.html").read_text().split('id="upn"')[1].split("<h2")[0]
    assert 'class="result flag"' in section
