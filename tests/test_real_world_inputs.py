"""Returns shaped as LAs, regional alliances and the DfE hold them
(tests/data/real_world/make_corpus.py), through the inventory and validation.

Each case must never raise; an accepted case must give its LA exactly the children and
episodes of the clean return, credited to the right LA and year; a rejected case must
name the rule, file and column; every file of the landing folder must be in the
inventory and in a ledger line, and the ledger must balance; LA 201's clean return
beside it must be unaffected.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pandas as pd
import pytest

from assets.ingest.inventory import inventory_landing
from assets.ingest.layout import collection_year_of, la_in_file_name, resolve_la
from validation.collection_year import validate_collection_year
from validation.ledger import unbalanced

CORPUS = Path(__file__).parent / "data" / "real_world"
_spec = importlib.util.spec_from_file_location("real_world_corpus", CORPUS / "make_corpus.py")
corpus = importlib.util.module_from_spec(_spec)
sys.modules["real_world_corpus"] = corpus
_spec.loader.exec_module(corpus)

HEADER_KEY = ["child", "sex", "dob", "upn"]
EPISODE_KEY = ["child", "decom", "dec", "rne", "ls", "cin", "place", "rec"]


def _data(frame: pd.DataFrame, key: list[str], la: str) -> pd.DataFrame:
    out = frame.loc[frame["la_code"].eq(la), key]
    return out.sort_values(key, na_position="last").reset_index(drop=True)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    landing = corpus.build_reference(tmp_path_factory.mktemp("rw"))
    return validate_collection_year(landing, corpus.YEAR)


def test_catalogue_lists_every_case():
    assert (CORPUS / "cases.csv").read_text() == corpus.catalogue()


@pytest.mark.parametrize("case", corpus.CASES, ids=lambda c: c.id)
def test_real_world_shape(case, reference, tmp_path, monkeypatch):
    import assets.ingest.layout

    for name, value in case.limits.items():  # as REENTRY_MAX_* would set them
        monkeypatch.setattr(assets.ingest.layout, name, value)
    landing = corpus.build_case(case, tmp_path)
    inventory = inventory_landing(landing)
    result = validate_collection_year(landing, case.year, inventory=inventory)
    status = result.la_year_status.set_index("la_code")["status"]
    failures = result.failures
    where = f"\n{failures[['rule_code', 'la_code', 'file', 'column', 'message']]}"

    # Nothing lost: every file found is in the inventory and in a ledger line.
    on_disk = sorted(p.relative_to(landing).as_posix() for p in landing.rglob("*") if p.is_file())
    assert sorted(inventory["path"]) == on_disk
    in_year = inventory[inventory["collection_year"].eq(case.year).fillna(False).astype(bool)]
    ledger_files = {f.split(" [", 1)[0] for f in result.ledger["file"]}
    assert set(in_year["path"]) <= ledger_files, where
    assert unbalanced(result.ledger).empty

    # The clean LA beside the case is untouched.
    assert status["201"] == "accepted"
    for key, frame, ref in (
        (HEADER_KEY, result.header, reference.header),
        (EPISODE_KEY, result.episodes, reference.episodes),
    ):
        pd.testing.assert_frame_equal(_data(frame, key, "201"), _data(ref, key, "201"))

    expected = {case.la: case.outcome, **case.also}
    for la, outcome in expected.items():
        if outcome == "accepted":
            assert status[la] == "accepted", where
            if case.id in corpus.RELABELLED:
                assert len(_data(result.header, HEADER_KEY, la)) == 6
                assert len(_data(result.episodes, EPISODE_KEY, la)) == 8
                continue
            for key, frame, ref in (
                (HEADER_KEY, result.header, reference.header),
                (EPISODE_KEY, result.episodes, reference.episodes),
            ):
                pd.testing.assert_frame_equal(_data(frame, key, la), _data(ref, key, la))
        else:
            assert status[la] == "rejected", where
            assert result.episodes["la_code"].ne(la).all()
    if case.rule:
        hit = failures[failures["rule_code"].eq(case.rule) & failures["la_code"].eq(case.la)]
        assert not hit.empty, where
        assert hit["severity"].eq("file").all()
        if case.column:
            assert hit["column"].str.contains(case.column).any(), where
        if case.file_part:
            assert hit["file"].str.contains(case.file_part, regex=False).all(), where
        assert all(f in m for f, m in zip(hit["file"], hit["message"], strict=True)), where
        if case.cause:
            assert hit["message"].str.contains(case.cause, regex=False).all(), where
    for rule in case.warnings:
        hit = failures[failures["rule_code"].eq(rule)]
        assert not hit.empty and hit["severity"].eq("warning").all(), where


def test_rejected_file_rows_are_counted(tmp_path):
    """A file rejected for its header line still has its data rows in the ledger."""
    case = next(c for c in corpus.CASES if c.id == "missing_required_column")
    landing = corpus.build_case(case, tmp_path)
    ledger = validate_collection_year(landing, corpus.YEAR).ledger.set_index("file")
    line = ledger.loc["2024/202/episodes.csv"]
    assert (line["rows_read"], line["rows_rejected"]) == (8, 8)


def test_a_column_mixing_date_forms_is_one_message_and_the_ledger_stays_exact(tmp_path):
    """Three DECOMs written yyyy-mm-dd and one as an Excel serial among dd/mm/yyyy ones:
    one failure for the file's DECOM column (count, forms, rows, example), none per row;
    the children are still quarantined, the ledger counts every one of their rows, and
    an impossible dd/mm/yyyy date stays a failure of its own row."""
    landing = tmp_path / "mixed"
    corpus.base.build_clean(landing, (corpus.CLEAN_LA,))
    folder = landing / str(corpus.YEAR) / corpus.LA
    episodes = corpus.episode_rows()
    odd = {1: corpus._iso, 3: corpus._iso, 5: corpus._iso, 6: corpus._serial}
    for i, convert in odd.items():
        episodes[i] = {**episodes[i], "DECOM": convert(episodes[i]["DECOM"])}
    episodes[7] = {**episodes[7], "DEC": "31/02/2024"}
    corpus._write(folder / "header.csv", corpus.to_csv(corpus.header_rows(), corpus.HEADER_COLUMNS))
    corpus._write(folder / "episodes.csv", corpus.to_csv(episodes, corpus.EPISODE_COLUMNS))

    result = validate_collection_year(landing, corpus.YEAR)
    failures = result.failures
    decom = failures[failures["column"].eq("DECOM") & failures["la_code"].eq(corpus.LA)]
    assert len(decom) == 1, decom
    message = decom["message"].iloc[0]
    assert decom["rule_code"].iloc[0] == "141" and decom["severity"].iloc[0] == "child"
    assert "2024/202/episodes.csv" in message and "4 DECOM value(s)" in message
    assert "ISO yyyy-mm-dd (3)" in message and "Excel serial numbers (1)" in message
    assert "rows 2, 4, 6, 7" in message  # data rows are numbered from 1
    assert "impossible" not in message
    dec = failures[failures["rule_code"].eq("147") & failures["la_code"].eq(corpus.LA)]
    assert dec[["row", "value"]].values.tolist() == [[8, "31/02/2024"]]

    # Every record of each affected child is quarantined and counted, row for row.
    affected = {episodes[i]["CHILD"] for i in [*odd, 7]}
    ledger = result.ledger.set_index("file")
    expected = sum(e["CHILD"] in affected for e in episodes)
    assert ledger.loc["2024/202/episodes.csv", "rows_quarantined"] == expected
    heads = corpus.header_rows()
    assert ledger.loc["2024/202/header.csv", "rows_quarantined"] == sum(
        h["CHILD"] in affected for h in heads
    )
    assert unbalanced(result.ledger).empty
    assert set(result.episodes.loc[result.episodes["la_code"].eq("202"), "child"]).isdisjoint(
        affected
    )
    status = result.la_year_status.set_index("la_code")["status"]
    assert status["201"] == "accepted"


def test_pooled_file_is_not_credited_to_its_folder(tmp_path):
    """A regional file in LA 202's folder: LA 203's rows are LA 203's, not LA 202's."""
    case = next(c for c in corpus.CASES if c.id == "pooled_in_la_folder")
    result = validate_collection_year(corpus.build_case(case, tmp_path), corpus.YEAR)
    counts = result.episodes.groupby("la_code").size().to_dict()
    assert counts == {"201": 8, "202": 8, "203": 8}
    assert set(result.ledger["file"]) >= {
        "2024/202/episodes.csv [LA 202]",
        "2024/202/episodes.csv [LA 203]",
    }


@pytest.mark.parametrize(
    ("name", "year"),
    [("2024", 2024), ("2023-24", 2024), ("202324", 2024), ("2023_24", 2024),
     ("2023-2024", 2024), ("1999-00", 2000), ("2023-25", None), ("20x4", None), ("24", None)],
)  # fmt: skip
def test_year_folder_forms(name, year):
    assert collection_year_of(name) == year


def test_la_names_codes_and_ambiguity():
    assert resolve_la("202") == ("202", None)
    assert resolve_la("E09000007") == ("202", None)
    assert resolve_la("camden")[0] == "202"
    assert resolve_la("Kingston upon Hull, City of")[0] == resolve_la("Kingston upon Hull")[0]
    code, problem = resolve_la("Narnia")
    assert code is None and "'Narnia' is not a known LA" in problem
    assert la_in_file_name("Camden 903 Episodes 2023-24.csv") == "202"
    assert la_in_file_name("SSDA903_2024_episodes.csv") is None


def test_a_name_two_las_have_carried_is_settled_by_year_or_rejected():
    """Dorset: 835 until March 2019, 838 (Dorset Council) from April 2019."""
    assert resolve_la("Dorset", 2018) == ("835", None)
    assert resolve_la("Dorset", 2024) == ("838", None)
    code, problem = resolve_la("Dorset")
    assert code is None and "'Dorset' is ambiguous" in problem and "835, 838" in problem
    assert resolve_la("Northumberland") == ("929", None)


def test_a_year_without_a_code_list_is_rejected_by_name(tmp_path):
    """2028 (2027-28) has no shipped code list: every LA-year is rejected, saying why."""
    corpus.base.write_return(tmp_path, corpus.LA, year=2028)
    result = validate_collection_year(tmp_path, 2028)
    status = result.la_year_status.set_index("la_code")
    assert status.loc[corpus.LA, "status"] == "rejected"
    hit = result.failures[result.failures["rule_code"].eq("file_no_code_list")]
    assert "no SSDA903 code list for collection year 2027-28" in hit["message"].iloc[0]
    assert result.ledger["rows_rejected"].sum() == result.ledger["rows_read"].sum() == 14


def test_no_episode_accepted_stops_at_the_validation_check(tmp_path):
    """Every child quarantined (an invalid RNE on every episode): the blocking check
    fails with a plain reason instead of the measures failing on an empty history."""
    from validation.assessment import assess_validated_years

    folder = corpus.base.write_return(tmp_path, corpus.LA)
    rows = [{**r, "RNE": "Q"} for r in corpus.episode_rows()]
    (folder / "episodes.csv").write_text(corpus.to_csv(rows, corpus.EPISODE_COLUMNS))
    result = validate_collection_year(tmp_path, corpus.YEAR)
    assert result.episodes.empty
    assessment = assess_validated_years([result])
    assert not assessment.passed
    assert any("no episode was accepted" in p for p in assessment.problems)


def test_hostile_header_and_file_names_are_contained(tmp_path):
    """A header line of 100,000 columns, and a file name that is not UTF-8: each is a
    problem of its own LA-year, named, never a traceback; LA 201 is unaffected."""
    import os

    corpus.base.write_return(tmp_path, corpus.CLEAN_LA)
    folder = corpus.base.write_return(tmp_path, corpus.LA)
    (folder / "episodes.csv").write_text(",".join(f"C{i}" for i in range(100_000)) + "\n1\n")
    os.makedirs(os.fsencode(tmp_path / "2024" / "203"))
    with open(os.fsencode(tmp_path / "2024" / "203") + b"/h\xff.csv", "wb") as fh:
        fh.write(b"CHILD,SEX\n1,1\n")
    inventory = inventory_landing(tmp_path)
    odd = inventory[inventory["path"].str.contains("\ufffd")]
    assert len(odd) == 1 and "not valid UTF-8" in odd["problem"].iloc[0]
    result = validate_collection_year(tmp_path, corpus.YEAR, inventory=inventory)
    status = result.la_year_status.set_index("la_code")["status"]
    assert status["201"] == "accepted"
    assert status["202"] == "rejected"
    assert status["203"] == "rejected"
    msg = result.failures.loc[result.failures["la_code"].eq("202"), "message"]
    assert msg.str.contains("2024/202/episodes.csv: The header line has 100,000 columns").any()


FAKE = Path(__file__).parent / "data" / "reference_validator_fake"


def test_reference_validators_fake_data_ingests_whole_as_csv_and_xml(tmp_path):
    """The csc-validator-be-903 fake return, as CSVs (LA 201) and as the DfE XML (LA
    202): every child and episode read, none lost, none rejected at file level."""
    import shutil

    for la, names in (("201", ["header.csv", "episodes.csv"]), ("202", ["fake_903.xml"])):
        (tmp_path / "2018" / la).mkdir(parents=True)
        for name in names:
            shutil.copy(FAKE / name, tmp_path / "2018" / la / name)
    result = validate_collection_year(tmp_path, 2018)
    assert unbalanced(result.ledger).empty
    assert not result.failures["severity"].eq("file").any()
    data = result.ledger[result.ledger["table"].isin(["header", "episodes"])]
    read = data.groupby(["la_code", "table"])["rows_read"].sum().to_dict()
    xml = (FAKE / "fake_903.xml").read_text()
    assert read == {
        ("201", "header"): 2675,
        ("201", "episodes"): 5050,
        ("202", "header"): xml.count("<CHILD>"),
        ("202", "episodes"): xml.count("<EPISODE>"),
    }
    status = result.la_year_status.set_index("la_code")["status"]
    assert status["201"] != "rejected" and status["202"] != "rejected"
    # The XML's other tables (reviews, OC2 ...) are noted, not read as data.
    ignored = result.failures[result.failures["rule_code"].eq("table_ignored")]
    assert set(ignored["file"]) >= {
        "2018/202/fake_903.xml [XML: reviews]",
        "2018/202/fake_903.xml [XML: OC2 (outcomes for looked-after children)]",
    }
    reviews = result.ledger.set_index("file").loc["2018/202/fake_903.xml [XML: reviews]"]
    assert reviews["rows_read"] == xml.count("<AREVIEW>")
