"""Each DfE rule fires on a minimal failing example and stays silent on valid data.

One return (collection year 2024: 1 April 2023 to 31 March 2024) holds one child per
failing example, written to real CSV files and validated end to end, so every case also
exercises reading, the schema, the rule and the quarantine. A second, valid return covers
the look-alike situations each rule must accept (a temporary placement mid-period, a
continuation episode that began before the year, death as the last episode, ...).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from assets.ingest.reading import EPISODE_COLUMNS, HEADER_COLUMNS
from validation.collection_year import validate_collection_year
from validation.ledger import unbalanced

YEAR = 2024
LA = "202"

# child: (header overrides or None for no header row, [episodes as
# (DECOM, RNE, LS, CIN, PLACE, PLACE_PROVIDER, DEC, REC)])
S_OPEN = ("01/05/2023", "S", "C2", "N1", "U1", "PR1", "", "")
FAILING = {
    "101": ({"SEX": "M"}, [S_OPEN]),  # M/F only from the 2024-25 return
    "102": ({"DOB": "31/02/2012"}, [S_OPEN]),
    "103": ({"ETHNIC": "XXXX"}, [S_OPEN]),
    "141": ({}, [("2023-05-01", "S", "C2", "N1", "U1", "PR1", "", "")]),
    "143": ({}, [("01/05/2023", "Z", "C2", "N1", "U1", "PR1", "", "")]),
    "144": ({}, [("01/05/2023", "S", "Q9", "N1", "U1", "PR1", "", "")]),
    "145": ({}, [("01/05/2023", "S", "C2", "N9", "U1", "PR1", "", "")]),
    "146": ({}, [("01/05/2023", "S", "C2", "N1", "ZZ", "PR1", "", "")]),
    "147": ({}, [("01/05/2023", "S", "C2", "N1", "U1", "PR1", "12/15/2023", "E4A")]),
    "149": ({}, [("01/05/2023", "S", "C2", "N1", "U1", "PR1", "01/06/2023", "E4C")]),
    "178": ({}, [("01/05/2023", "S", "C2", "N1", "U1", "PR9", "", "")]),
    "142": ({}, [S_OPEN, ("01/07/2023", "P", "C2", "N1", "U2", "PR1", "", "")]),
    "148": ({}, [("01/05/2023", "S", "C2", "N1", "U1", "PR1", "01/06/2023", "")]),
    "355": ({}, [("01/05/2023", "S", "C2", "N1", "U1", "PR1", "01/05/2023", "E4A")]),
    "356": ({}, [("01/06/2023", "S", "C2", "N1", "U1", "PR1", "01/05/2023", "E4A")]),
    "501": (
        {},
        [
            ("01/05/2023", "S", "C2", "N1", "U1", "PR1", "01/08/2023", "X1"),
            ("01/07/2023", "P", "C2", "N1", "U2", "PR1", "", ""),
        ],
    ),
    "388": ({}, [("01/05/2023", "S", "C2", "N1", "U1", "PR1", "01/07/2023", "X1")]),
    "431": (
        {},
        [
            ("01/05/2023", "S", "C2", "N1", "U1", "PR1", "01/07/2023", "X1"),
            ("01/07/2023", "S", "C2", "N1", "U2", "PR1", "", ""),
        ],
    ),
    "432": (
        {},
        [
            ("01/05/2023", "S", "C2", "N1", "U1", "PR1", "01/07/2023", "E4A"),
            ("01/09/2023", "P", "C2", "N1", "U2", "PR1", "", ""),
        ],
    ),
    "433": (
        {},
        [
            ("01/05/2023", "S", "C2", "N1", "U1", "PR1", "01/07/2023", "X1"),
            ("05/07/2023", "P", "C2", "N1", "U2", "PR1", "", ""),
        ],
    ),
    "357": ({}, [("01/05/2023", "P", "C2", "N1", "U1", "PR1", "", "")]),
    "437": (
        {},
        [
            ("01/05/2023", "S", "C2", "N1", "U1", "PR1", "01/06/2023", "E2"),
            ("01/08/2023", "S", "C2", "N1", "U1", "PR1", "", ""),
        ],
    ),
    "302": ({"DOB": "01/06/2023"}, [S_OPEN]),
    "352": ({"DOB": "01/01/2005"}, [S_OPEN]),
    "354": ({}, [("01/05/2024", "S", "C2", "N1", "U1", "PR1", "", "")]),
    "385": ({}, [("01/05/2023", "S", "C2", "N1", "U1", "PR1", "01/05/2024", "E4A")]),
    "380": (
        {},
        [
            ("01/05/2023", "S", "C2", "N1", "T1", "", "01/06/2023", "X1"),
            ("01/06/2023", "P", "C2", "N1", "U1", "PR1", "", ""),
        ],
    ),
    "381": (
        {},
        [
            ("01/05/2023", "S", "C2", "N1", "U1", "PR1", "01/06/2023", "X1"),
            ("01/06/2023", "P", "C2", "N1", "T1", "", "01/07/2023", "E4A"),
        ],
    ),
    "duplicate_episode": ({}, [S_OPEN, S_OPEN]),
    "duplicate_child": ("twice", [S_OPEN]),
    "child_not_in_header": (None, [S_OPEN]),
    "child_without_episodes": ({}, []),
}
SEVERITY = {"103": "warning", "178": "warning", "355": "warning", "380": "warning"}
SEVERITY |= {"381": "warning", "child_without_episodes": "warning"}
# Examples that necessarily break a second rule too (a duplicated open episode is also
# "followed by an episode while still open"; a gap after X1 is also "no continuation").
ALSO_FIRES = {
    "duplicate_episode": {"142"},
    "142": {"433"},  # the next episode cannot start on a DEC that does not exist
    "432": {"433"},
    "433": {"388"},
    "501": {"388", "433"},  # overlap: the next episode does not start on the DEC
    "143": {"357"},  # an invalid RNE is not S either
}

VALID = {
    # chain S -> X1 -> P, still open
    "chain": (
        {},
        [
            ("01/05/2023", "S", "C2", "N1", "U1", "PR1", "01/07/2023", "X1"),
            ("01/07/2023", "P", "C2", "N1", "U2", "PR1", "", ""),
        ],
    ),
    # returned home, then re-entered (a new period starts with S)
    "reentry": (
        {},
        [
            ("01/05/2023", "S", "V2", "N2", "U1", "PR1", "30/06/2023", "E4A"),
            ("12/01/2024", "S", "C2", "N1", "U1", "PR1", "", ""),
        ],
    ),
    # continuation episode that began before the year: its predecessor is not in view
    "before_year": ({}, [("15/08/2022", "P", "C2", "N1", "U3", "PR1", "", "")]),
    # temporary placement in the middle of a period
    "temporary": (
        {},
        [
            ("01/05/2023", "S", "C2", "N1", "U1", "PR1", "01/06/2023", "X1"),
            ("01/06/2023", "P", "C2", "N1", "T1", "", "10/06/2023", "X1"),
            ("10/06/2023", "P", "C2", "N1", "U1", "PR1", "", ""),
        ],
    ),
    "short_break": ({}, [("01/05/2023", "S", "V3", "N1", "U1", "PR1", "03/05/2023", "E13")]),
    "died_last": ({}, [("01/05/2023", "S", "C2", "N1", "U1", "PR1", "01/06/2023", "E2")]),
    # aged 18 during care (not starting at 18), legal status change on the day
    "turned_18": (
        {"DOB": "01/06/2005"},
        [
            ("01/05/2023", "S", "C2", "N1", "U1", "PR1", "01/06/2023", "X1"),
            ("01/06/2023", "L", "V2", "N1", "U1", "PR1", "", ""),
        ],
    ),
    "upper_case_me": ({}, [("01/05/2023", "s", "c2", "n1", "u1", "pr1", "", "")]),
}


def write_return(landing: Path, cases: dict, year: int = YEAR, la: str = LA) -> Path:
    """One LA's return from a case table (see FAILING) as real CSV files."""
    folder = landing / str(year) / la
    folder.mkdir(parents=True, exist_ok=True)
    sex = "1" if year <= 2024 else "M"
    header, episodes = [], []
    for child, (head, eps) in cases.items():
        if head is not None:
            row = {"CHILD": child, "SEX": sex, "DOB": "01/01/2012", "ETHNIC": "WBRI"}
            row |= head if isinstance(head, dict) else {}
            header.append(row)
            if head == "twice":
                header.append(row | {"DOB": "02/02/2012"})
        for ep in eps:
            episodes.append(dict(zip(EPISODE_COLUMNS[:9], [child, *ep], strict=True)))
    pd.DataFrame(header, columns=HEADER_COLUMNS).to_csv(folder / "header.csv", index=False)
    pd.DataFrame(episodes, columns=EPISODE_COLUMNS).to_csv(folder / "episodes.csv", index=False)
    return landing


@pytest.fixture(scope="module")
def failing(tmp_path_factory):
    landing = write_return(tmp_path_factory.mktemp("failing"), FAILING)
    return validate_collection_year(landing, YEAR)


@pytest.fixture(scope="module")
def valid(tmp_path_factory):
    landing = write_return(tmp_path_factory.mktemp("valid"), VALID)
    return validate_collection_year(landing, YEAR)


@pytest.mark.parametrize("rule", sorted(FAILING))
def test_rule_fires_on_its_minimal_failing_example(failing, rule):
    f = failing.failures
    mine = f[f["child"].eq(rule)]
    assert rule in set(mine["rule_code"]), mine.to_string()
    hit = mine[mine["rule_code"].eq(rule)].iloc[0]
    assert hit["severity"] == SEVERITY.get(rule, "child")
    assert hit["la_code"] == LA and hit["file"] == f"{YEAR}/{LA}/" + (
        "header.csv" if rule in {"101", "102", "103", "duplicate_child", "child_without_episodes"}
        else "episodes.csv"
    )  # fmt: skip
    assert pd.notna(hit["row"]) and hit["message"]
    # The failing example trips no rule other children are there to test.
    allowed = {rule} | {c for c, also in ALSO_FIRES.items() if rule in also}
    others = f[f["rule_code"].eq(rule) & ~f["child"].isin(allowed) & f["child"].notna()]
    assert others.empty, others.to_string()


def test_rule_messages_quote_the_dfe_wording(failing):
    f = failing.failures.set_index("rule_code")
    assert f.loc["501", "message"] == (
        "A new episode has started before the end date of the previous episode."
    )
    assert f.loc["146", "message"] == "Placement type code is not a valid code."


def test_child_level_failures_quarantine_the_child_and_warnings_do_not(failing):
    accepted = set(failing.episodes["child"]) | set(failing.header["child"])
    for rule in FAILING:
        if SEVERITY.get(rule, "child") == "child":
            assert rule not in accepted, rule
    assert {"103", "178", "355", "380", "381"} <= accepted
    status = failing.la_year_status.set_index("la_code").loc[LA]
    assert status["status"] == "accepted_with_quarantine"
    quarantined = {r for r in FAILING if SEVERITY.get(r, "child") == "child"}
    assert status["children_quarantined"] == len(quarantined)
    assert unbalanced(failing.ledger).empty


def test_valid_return_raises_no_failure(valid):
    assert valid.failures.empty, valid.failures.drop(columns="message").to_string()
    assert valid.la_year_status.set_index("la_code").loc[LA, "status"] == "accepted"
    assert set(valid.episodes["child"]) == set(VALID)


def test_lower_case_codes_are_read_as_upper_case(valid):
    ep = valid.episodes[valid.episodes["child"].eq("upper_case_me")].iloc[0]
    assert (ep["rne"], ep["ls"], ep["cin"], ep["place"], ep["place_provider"]) == (
        "S", "C2", "N1", "U1", "PR1",
    )  # fmt: skip


def test_first_episode_rule_357_only_fires_when_history_would_be_visible(tmp_path):
    """A continuation starting before the year may follow an episode we cannot see."""
    cases = {
        "seen": ({}, [("02/04/2023", "P", "C2", "N1", "U1", "PR1", "", "")]),
        "unseen": ({}, [("31/03/2023", "P", "C2", "N1", "U1", "PR1", "", "")]),
    }
    result = validate_collection_year(write_return(tmp_path, cases), YEAR)
    fired = set(result.failures.loc[result.failures["rule_code"].eq("357"), "child"])
    assert fired == {"seen"}


def test_malformed_row_is_quarantined_with_its_row_number(tmp_path):
    landing = write_return(tmp_path, {"a": ({}, [S_OPEN]), "b": ({}, [S_OPEN])})
    path = landing / str(YEAR) / LA / "episodes.csv"
    lines = path.read_text().splitlines()
    lines[2] = lines[2] + ",extra,fields"  # row 2 (child b) has too many fields
    path.write_text("\n".join(lines) + "\n")
    result = validate_collection_year(landing, YEAR)
    bad = result.failures[result.failures["rule_code"].eq("malformed_row")]
    assert bad[["row", "child"]].values.tolist() == [[2, "b"]]
    assert set(result.episodes["child"]) == {"a"}
    assert unbalanced(result.ledger).empty


def test_duplicate_episode_is_the_same_on_sorted_and_unsorted_tables():
    """The rule uses adjacency when the table is sorted by child and start (as
    episode_frame leaves it) and pandas' duplicated otherwise: both must agree."""
    import numpy as np

    from validation.rules.chaining import duplicate_episode

    rng = np.random.default_rng(3)
    n = 400
    decom = pd.to_datetime("2023-04-01") + pd.to_timedelta(rng.integers(0, 5, n), unit="D")
    ep = pd.DataFrame(
        {"KEY": rng.integers(-1, 30, n), "DECOM_DT": pd.Series(decom).where(rng.random(n) > 0.1)}
    )
    expected = (
        ep["DECOM_DT"].notna() & ep["KEY"].ge(0) & ep.duplicated(["KEY", "DECOM_DT"], keep="first")
    )
    pd.testing.assert_series_equal(duplicate_episode(ep), expected)
    d = ep["DECOM_DT"].to_numpy().view("int64")
    d = np.where(ep["DECOM_DT"].isna(), np.iinfo(np.int64).max, d)
    ordered = ep.iloc[np.lexsort((np.arange(n), d, ep["KEY"].to_numpy()))].reset_index(drop=True)
    expected = (
        ordered["DECOM_DT"].notna()
        & ordered["KEY"].ge(0)
        & ordered.duplicated(["KEY", "DECOM_DT"], keep="first")
    )
    pd.testing.assert_series_equal(duplicate_episode(ordered), expected)
