"""The ledger: rows read = accepted + quarantined + rejected, for every file, on clean,
error-injected and broken inputs; quarantine reasons add up."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from validation.collection_year import validate_collection_year
from validation.ledger import parse_reasons, unbalanced

FIXTURE = Path(__file__).parent / "data" / "returns" / "two_years"


def _data_rows(path: Path) -> int:
    return len(path.read_text().splitlines()) - 1


@pytest.fixture
def landing(tmp_path) -> Path:
    root = tmp_path / "landing"
    shutil.copytree(FIXTURE, root)
    return root


def test_ledger_balances_on_clean_returns_and_counts_every_line(landing):
    result = validate_collection_year(landing, 2024)
    ledger = result.ledger
    assert unbalanced(ledger).empty
    assert len(ledger) == 4
    for row in ledger.itertuples():
        assert row.rows_read == _data_rows(landing / row.file) == row.rows_accepted
    assert ledger["rows_quarantined"].sum() == ledger["rows_rejected"].sum() == 0


def test_ledger_balances_with_quarantined_children_and_counts_reasons(landing):
    path = landing / "2024" / "201" / "episodes.csv"
    text = path.read_text()
    text = text.replace("0104,07/05/2023,L", "0104,06/05/2023,L")  # overlap: 501 + 388
    text = text.replace(
        "0101,15/08/2022,P,C2,N1,U3,PR1,10/10/2023,E4B",
        "0101,15/08/2022,P,C2,N1,U3,PR1,10/10/2023,",
    )
    path.write_text(text)
    result = validate_collection_year(landing, 2024)
    ledger = result.ledger.set_index("file")
    assert unbalanced(result.ledger).empty
    eps = ledger.loc["2024/201/episodes.csv"]
    assert (eps["rows_read"], eps["rows_accepted"], eps["rows_quarantined"]) == (4, 1, 3)
    # each row counted once, under its child's first failing rule (by code)
    assert parse_reasons(eps["quarantined_by_reason"]) == {"148": 1, "388": 2}
    head = ledger.loc["2024/201/header.csv"]
    assert (head["rows_read"], head["rows_accepted"], head["rows_quarantined"]) == (3, 1, 2)
    status = result.la_year_status.set_index("la_code").loc["201"]
    assert status["status"] == "accepted_with_quarantine"
    assert status["children_quarantined"] == 2


def test_ledger_balances_when_a_broken_file_rejects_the_la_year(landing):
    (landing / "2024" / "201" / "episodes.csv").write_bytes(b"\x00\x01garbage" * 50)
    (landing / "2024" / "202" / "header.csv").unlink()
    result = validate_collection_year(landing, 2024)
    assert unbalanced(result.ledger).empty
    ledger = result.ledger.set_index("file")
    # the readable header of the rejected LA-year is counted as rejected, not lost
    assert ledger.loc["2024/201/header.csv", "rows_rejected"] == 3
    assert ledger.loc["2024/201/episodes.csv", "rows_read"] == 0
    assert ledger.loc["2024/202/episodes.csv", "rows_rejected"] == 1
    status = result.la_year_status.set_index("la_code")["status"]
    assert status["201"] == status["202"] == "rejected"
    assert result.episodes.empty and result.header.empty


def test_unbalanced_finds_a_ledger_that_lost_a_row(landing):
    ledger = validate_collection_year(landing, 2024).ledger.copy()
    ledger.loc[0, "rows_accepted"] -= 1
    assert len(unbalanced(ledger)) == 1


def test_ledger_balances_on_error_injected_synthetic_returns(tmp_path):
    from synthetic.generator import generate

    landing, truth = tmp_path / "landing", tmp_path / "truth"
    generate(landing, first_year=2023, last_year=2024, scale=0.02, seed=3, error_rate=0.02,
             truth=truth)  # fmt: skip
    for year in (2023, 2024):
        result = validate_collection_year(landing, year)
        assert unbalanced(result.ledger).empty
        read = result.ledger["rows_read"].sum()
        lines = sum(
            max(len(p.read_text(errors="replace").splitlines()) - 1, 0)
            for p in (landing / str(year)).glob("*/*.csv")
        )
        blank = result.ledger["blank_rows_skipped"].sum()
        assert read + blank <= lines  # nothing invented
