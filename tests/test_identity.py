"""Identity checks across returns (assets/history/identity.py): the same CHILD id with a
different DOB, sex or UPN is another child's history; ids that lost their leading zeros
are joined."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from assets.common.contracts import EpisodeHistory
from assets.history.history import build_episode_history
from assets.measures.cohorts import index_returns
from assets.measures.periods import periods_of_care
from validation.collection_year import valid_upn, validate_collection_year
from validation.ledger import unbalanced

FIXTURE = Path(__file__).parent / "data" / "returns" / "two_years"
CHECK = "ABCDEFGHJKLMNPQRTUVWXYZ"


def _upn(digits: str) -> str:
    """A permanent UPN with the right check letter (DfE UPN guidance) for 12 digits."""
    return CHECK[sum(int(d) * w for d, w in zip(digits, range(2, 14), strict=True)) % 23] + digits


@pytest.fixture
def landing(tmp_path) -> Path:
    root = tmp_path / "landing"
    shutil.copytree(FIXTURE, root)
    return root


def _add_child(landing: Path, year: int, child: str, sex: str, dob: str, upn: str, episode: str):
    """Append one header row and one episode (``DECOM,DEC,REC``) to LA 201's return."""
    decom, dec, rec = episode.split(",")
    with (landing / f"{year}/201/header.csv").open("a") as fh:
        fh.write(f"{child},{sex},{dob},WBRI,{upn},,\n")
    with (landing / f"{year}/201/episodes.csv").open("a") as fh:
        fh.write(f"{child},{decom},S,C2,N1,U1,PR1,{dec},{rec},,,,\n")


def _history(landing: Path):
    result = build_episode_history([validate_collection_year(landing, y) for y in (2023, 2024)])
    EpisodeHistory.validate(result.episode_history)
    assert unbalanced(result.ledger).empty
    return result


def _reentries(result) -> pd.DataFrame:
    """Index returns home of LA 201's added children, with their re-entry date."""
    index = index_returns(periods_of_care(result.episode_history))
    return index[index["child"].str.startswith("03")]


# Child 0301 goes home on 1 September 2022 (2023 return); the 2024 return has a 0301
# entering care on 1 June 2023, nine months later.
HOME = "01/05/2022,01/09/2022,E4A"
ENTRY = "01/06/2023,,"


def _same_id_next_year(landing: Path, *, sex="1", dob="01/01/2012", upn="", upn_before=""):
    _add_child(landing, 2023, "0301", "1", "01/01/2012", upn_before, HOME)
    _add_child(landing, 2024, "0301", sex, dob, upn, ENTRY)


def test_same_child_in_both_returns_is_one_history_and_a_re_entry(landing):
    _same_id_next_year(landing)
    result = _history(landing)
    assert result.failures.empty
    back = _reentries(result)
    assert back["reentry_date"].tolist() == [pd.Timestamp("2023-06-01")]


@pytest.mark.parametrize(
    ("change", "fields", "value"),
    [
        ({"dob": "05/06/2015"}, "DOB", "DOB 05/06/2015 (2023 return: 01/01/2012)"),
        ({"sex": "2"}, "SEX", "SEX F (2023 return: M)"),
        (
            {"upn": _upn("201230000302"), "upn_before": _upn("201230000301")},
            "UPN",
            f"UPN {_upn('201230000302')} (2023 return: {_upn('201230000301')})",
        ),
        (
            {"dob": "05/06/2015", "sex": "2"},
            "DOB, SEX",
            "DOB 05/06/2015 (2023 return: 01/01/2012); SEX F (2023 return: M)",
        ),
    ],
)
def test_same_id_with_another_identity_is_a_warning_and_a_separate_history(
    landing, change, fields, value
):
    _same_id_next_year(landing, **change)
    result = _history(landing)
    f = result.failures[result.failures["rule_code"].eq("identity_conflict")]
    assert f[["la_code", "collection_year", "file", "row", "child", "column", "value"]].to_dict(
        "records"
    ) == [
        {
            "la_code": "201",
            "collection_year": 2024,
            "file": "2024/201/header.csv",
            "row": 4,
            "child": "0301",
            "column": fields,
            "value": value,
        }
    ]
    assert f["severity"].eq("warning").all()
    h = result.episode_history
    assert h.loc[
        h["child"].str.startswith("0301"), ["child", "collection_year"]
    ].values.tolist() == [
        ["0301", 2023],
        ["0301#2", 2024],
    ]
    # The later child's entry to care is not the earlier child's re-entry.
    back = _reentries(result)
    assert back["child"].tolist() == ["0301"] and back["reentry_date"].isna().all()
    ledger = result.ledger.set_index("file")
    assert ledger.loc["2024/201/header.csv", "identity_conflicts"] == 1
    assert ledger["identity_conflicts"].sum() == 1


def test_test_upns_are_well_formed():
    assert valid_upn(pd.Series([_upn("201230000301"), _upn("201230000302")])).notna().all()


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("", _upn("201230000301")),  # a UPN recorded later
        ("UN1", _upn("201230000301")),  # 'unknown' code, then a UPN
        (_upn("201230000301").lower(), _upn("201230000301")),  # case corrected
        (f" {_upn('201230000301')} ", _upn("201230000301")),  # spaces removed
        (_upn("201230000301"), ""),  # UPN not repeated
    ],
)
def test_a_upn_added_or_tidied_later_is_not_a_conflict(landing, before, after):
    _same_id_next_year(landing, upn=after, upn_before=before)
    result = _history(landing)
    assert not result.failures["rule_code"].eq("identity_conflict").any()
    assert _reentries(result)["reentry_date"].tolist() == [pd.Timestamp("2023-06-01")]


def test_only_the_latest_valid_upn_is_compared_across_a_blank_year(tmp_path):
    landing = tmp_path / "landing"
    for year in (2022, 2023, 2024):
        shutil.copytree(FIXTURE / "2024", landing / str(year))
    upns = {2022: _upn("201230000301"), 2023: "", 2024: _upn("201230000302")}
    for year, upn in upns.items():
        decom = f"01/06/{year - 1},01/07/{year - 1},E4A"
        _add_child(landing, year, "0301", "1", "01/01/2012", upn, decom)
    years = [validate_collection_year(landing, y) for y in (2022, 2023, 2024)]
    result = build_episode_history(years)
    f = result.failures[result.failures["rule_code"].eq("identity_conflict")]
    assert f["collection_year"].tolist() == [2024]
    assert f["value"].tolist() == [f"UPN {upns[2024]} (2022 return: {upns[2022]})"]
    h = result.episode_history
    kids = h.loc[h["child"].str.startswith("0301"), ["child", "collection_year"]]
    assert kids.drop_duplicates().values.tolist() == [
        ["0301", 2022],
        ["0301", 2023],
        ["0301#2", 2024],
    ]


def test_an_id_that_lost_its_leading_zeros_is_joined_with_a_warning(landing):
    _add_child(landing, 2023, "0301", "1", "01/01/2012", "", HOME)
    _add_child(landing, 2024, "301", "1", "01/01/2012", "", ENTRY)
    result = _history(landing)
    f = result.failures
    assert f[["rule_code", "collection_year", "file", "row", "child", "column", "value"]].to_dict(
        "records"
    ) == [
        {
            "rule_code": "child_id_leading_zeros",
            "collection_year": 2024,
            "file": "2024/201/header.csv",
            "row": 4,
            "child": "301",
            "column": "CHILD",
            "value": "301 (read as 0301)",
        }
    ]
    h = result.episode_history
    assert "301" not in set(h["child"])
    assert h.loc[h["child"].eq("0301"), "collection_year"].tolist() == [2023, 2024]
    assert _reentries(result)["reentry_date"].tolist() == [pd.Timestamp("2023-06-01")]
    ledger = result.ledger.set_index("file")
    assert ledger.loc["2024/201/header.csv", "child_ids_joined"] == 1
    assert ledger["child_ids_joined"].sum() == 1


def test_ids_differing_by_leading_zeros_stay_apart_when_they_are_different_children(landing):
    # Different DOB: two children, whatever their ids look like.
    _add_child(landing, 2023, "0301", "1", "01/01/2012", "", HOME)
    _add_child(landing, 2024, "301", "1", "02/02/2013", "", ENTRY)
    # Both forms in one return: the LA uses both ids.
    _add_child(landing, 2023, "0302", "2", "01/01/2012", "", HOME)
    _add_child(landing, 2024, "0302", "2", "01/01/2012", "", "01/08/2023,,")
    _add_child(landing, 2024, "302", "2", "01/01/2012", "", ENTRY)
    result = _history(landing)
    assert result.failures.empty
    children = set(result.episode_history["child"])
    assert {"0301", "301", "0302", "302"} <= children
    back = _reentries(result).set_index("child")["reentry_date"]
    assert pd.isna(back["0301"]) and back["0302"] == pd.Timestamp("2023-08-01")


def test_no_identity_change_leaves_every_key_and_label_as_supplied():
    result = build_episode_history([validate_collection_year(FIXTURE, y) for y in (2023, 2024)])
    assert not result.episode_history["child"].str.contains("#").any()
    assert result.ledger[["identity_conflicts", "child_ids_joined"]].to_numpy().sum() == 0
    assert np.array_equal(
        result.episode_history["child"].unique(), ["0101", "0102", "0103", "0104", "0201"]
    )


def test_a_quarantined_year_belongs_to_the_identity_in_force_before_it(tmp_path):
    landing = tmp_path / "landing"
    for year in (2022, 2023, 2024):
        shutil.copytree(FIXTURE / "2024", landing / str(year))
    _add_child(landing, 2022, "0301", "1", "01/01/2012", "", "01/06/2021,01/07/2021,E4A")
    _add_child(landing, 2023, "0301", "1", "03/03/2014", "", "01/06/2022,01/07/2022,E4A")
    _add_child(landing, 2024, "0301", "1", "03/03/2014", "", "01/06/2023,01/07/2023,E4A")
    _edit_last_episode_ls(landing / "2024/201/episodes.csv", "ZZ")  # rule 144: quarantined
    result = build_episode_history(
        [validate_collection_year(landing, y) for y in (2022, 2023, 2024)]
    )
    q = result.quarantined
    assert q.loc[q["child"].str.startswith("0301")].values.tolist() == [["201", 2024, "0301#2"]]
    h = result.episode_history
    kids = h.loc[h["child"].str.startswith("0301"), ["child", "collection_year"]]
    assert kids.values.tolist() == [["0301", 2022], ["0301#2", 2023]]


def _edit_last_episode_ls(path: Path, ls: str) -> None:
    lines = path.read_text().splitlines()
    fields = lines[-1].split(",")
    fields[3] = ls
    lines[-1] = ",".join(fields)
    path.write_text("\n".join(lines) + "\n")
