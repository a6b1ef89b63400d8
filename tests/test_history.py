"""Multi-year history: later return wins, conflicts reported, cross-year rules 502/503."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from assets.common.contracts import EpisodeHistory, LaYearStatus
from assets.history.history import build_episode_history
from validation.collection_year import validate_collection_year
from validation.ledger import unbalanced

FIXTURE = Path(__file__).parent / "data" / "returns" / "two_years"


def _history(landing: Path):
    return build_episode_history([validate_collection_year(landing, y) for y in (2023, 2024)])


@pytest.fixture
def landing(tmp_path) -> Path:
    root = tmp_path / "landing"
    shutil.copytree(FIXTURE, root)
    return root


@pytest.fixture(scope="module")
def clean():
    return _history(FIXTURE)


def _edit(landing: Path, rel: str, old: str, new: str) -> None:
    path = landing / rel
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_overlapping_returns_give_one_row_per_episode_and_the_later_version_wins(clean):
    h = clean.episode_history
    EpisodeHistory.validate(h)
    LaYearStatus.validate(clean.la_year_status)
    assert not h.duplicated(["la_code", "child", "decom"]).any()
    ordered = h.sort_values(["la_code", "child", "decom"], kind="mergesort")
    pd.testing.assert_frame_equal(h, ordered.reset_index(drop=True))  # contract order
    assert len(h) == 8  # 5 + 4 + 1 + 1 episodes, minus 3 repeated open ones
    move = h[h["child"].eq("0101") & h["decom"].eq(pd.Timestamp("2022-08-15"))].iloc[0]
    assert (move["collection_year"], move["dec"], move["rec"]) == (
        2024, pd.Timestamp("2023-10-10"), "E4B",
    )  # fmt: skip
    assert h["child"].str.startswith("0").all()  # leading zeros kept
    assert h.loc[h["child"].eq("0101"), "sex"].eq("M").all()
    assert h.loc[h["child"].eq("0102"), "upn"].isna().all()  # UN2 is not a UPN
    assert clean.failures.empty


def test_ledger_counts_superseded_versions_and_still_balances(clean):
    ledger = clean.ledger.set_index("file")
    assert unbalanced(clean.ledger).empty
    assert ledger.loc["2023/201/episodes.csv", "rows_superseded"] == 2
    assert ledger.loc["2023/202/episodes.csv", "rows_superseded"] == 1
    assert ledger["rows_superseded"].sum() == 3


def test_open_episode_that_does_not_match_next_year_is_rule_502_and_quarantined(landing):
    _edit(landing, "2024/201/episodes.csv", "0102,12/01/2023", "0102,13/01/2023")
    result = _history(landing)
    f = result.failures[result.failures["rule_code"].eq("502")]
    assert f[["la_code", "collection_year", "child", "row"]].values.tolist() == [
        ["201", 2024, "0102", 2]
    ]
    h = result.episode_history
    assert set(h.loc[h["child"].eq("0102"), "collection_year"]) == {2023}
    status = result.la_year_status.set_index(["la_code", "collection_year"])
    assert status.loc[("201", 2024), "status"] == "accepted_with_quarantine"
    assert status.loc[("201", 2024), "children_quarantined"] == 1
    assert unbalanced(result.ledger).empty
    ledger = result.ledger.set_index("file")
    assert ledger.loc["2024/201/episodes.csv", "rows_quarantined"] == 1
    assert ledger.loc["2024/201/header.csv", "rows_quarantined"] == 1


def test_changed_codes_in_the_continuing_episode_are_503_warnings_and_later_wins(landing):
    _edit(landing, "2024/202/episodes.csv", "0201,01/04/2022,S,C2", "0201,01/04/2022,S,C1")
    result = _history(landing)
    f = result.failures
    assert f["rule_code"].tolist() == ["503B"]
    assert f.iloc[0]["severity"] == "warning" and f.iloc[0]["value"] == "C1 (last year: C2)"
    h = result.episode_history
    assert h.loc[h["child"].eq("0201"), "ls"].tolist() == ["C1"]


def test_a_closed_episode_rewritten_by_a_later_return_is_reported_as_a_conflict(landing):
    line = "0103,01/02/2021,S,C2,N1,R1,PR0,20/06/2022,E11,,,,\n"
    path = landing / "2024/201/episodes.csv"
    path.write_text(path.read_text() + line)
    _edit(landing, "2024/201/header.csv", "0104,", "0103,1,20/06/2008,BAFR,,,\n0104,")
    result = _history(landing)
    conflict = result.failures[result.failures["rule_code"].eq("history_conflict")]
    assert conflict[["child", "column", "value"]].values.tolist() == [
        ["0103", "REC", "E11 (earlier return: E8)"]
    ]
    h = result.episode_history
    assert h.loc[h["child"].eq("0103"), "rec"].tolist() == ["E11"]


def test_open_episode_missing_from_next_return_is_reported(landing):
    (landing / "2024/202/episodes.csv").write_text(
        (landing / "2024/202/episodes.csv").read_text().splitlines()[0] + "\n"
        + "0202,01/05/2023,S,C2,N1,U1,PR1,,,,,,\n"
    )  # fmt: skip
    _edit(landing, "2024/202/header.csv", "0201,", "0202,")
    result = _history(landing)
    f = result.failures[result.failures["rule_code"].eq("open_episode_not_continued")]
    assert f[["la_code", "collection_year", "child"]].values.tolist() == [["202", 2023, "0201"]]


def test_rejected_and_missing_la_years_are_kept_in_the_status(landing):
    shutil.rmtree(landing / "2024" / "202")
    result = _history(landing)
    status = result.la_year_status.set_index(["la_code", "collection_year"])["status"]
    assert status[("202", 2024)] == "not_received"
    assert status[("202", 2023)] == "accepted"
    assert (
        len(status)
        == result.la_year_status[["la_code", "collection_year"]].drop_duplicates().shape[0]
    )
