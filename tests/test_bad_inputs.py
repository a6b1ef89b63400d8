"""The bad-input corpus (tests/data/bad_inputs/make_corpus.py) through ingest and validation.

For every case a landing folder holds LA 201's clean return and LA 202's broken one (or
a broken path beside them). Each case must:

* never raise: the problem becomes a failure row or an inventory problem;
* name the file, row, column and rule where the case says so;
* keep the ledger balanced (rows read = accepted + quarantined + rejected, per file);
* leave LA 201's results exactly as in a run on the clean landing folder;
* do to LA 202 what the severity policy says (docs/validation.md): reject the LA-year,
  quarantine one child, warn, or accept the data exactly as if it were clean.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pandas as pd
import pytest

from assets.ingest.inventory import inventory_landing
from validation.collection_year import validate_collection_year

CORPUS_DIR = Path(__file__).parent / "data" / "bad_inputs"
_spec = importlib.util.spec_from_file_location("make_corpus", CORPUS_DIR / "make_corpus.py")
corpus = importlib.util.module_from_spec(_spec)
sys.modules["make_corpus"] = corpus
_spec.loader.exec_module(corpus)

YEAR, CLEAN, BAD = corpus.YEAR, corpus.CLEAN_LA, corpus.BAD_LA
# The combined run lowers the reader's size limit (default 200 MB) so that the 2 MB case
# exercises it; every other file in the corpus is far smaller except the 1 MB field.
COMBINED_MAX_BYTES = 1_500_000
# What identifies the data, independent of where and in which order it was read.
HEADER_KEY = ["la_code", "child", "sex", "dob", "upn"]
EPISODE_KEY = ["la_code", "child", "decom", "dec", "rne", "ls", "cin", "place", "rec"]


def _validate(landing: Path, max_bytes: int | None = None):
    kwargs = {"max_bytes": max_bytes} if max_bytes else {}
    inventory = inventory_landing(landing, **kwargs)
    return inventory, validate_collection_year(landing, YEAR, inventory=inventory, **kwargs)


def _data(frame: pd.DataFrame, key: list[str], la: str) -> pd.DataFrame:
    out = frame.loc[frame["la_code"].eq(la), key]
    return out.sort_values(key, na_position="last").reset_index(drop=True)


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    landing = corpus.build_clean(tmp_path_factory.mktemp("clean") / "landing")
    return _validate(landing)[1]


LA_CASES = [c for c in corpus.CASES if c.scope == "la"]
LANDING_CASES = [c for c in corpus.CASES if c.scope == "landing" and not c.big]
CASE_LA = corpus.case_las(corpus.CASES)


@pytest.fixture(scope="module")
def combined_clean(tmp_path_factory):
    """Every case LA with LA 202's clean return: the reference for the combined run."""
    root = tmp_path_factory.mktemp("combined_clean")
    landing = corpus.build_combined(root, corpus.CASES, broken=False)
    return _validate(landing, COMBINED_MAX_BYTES)[1]


@pytest.fixture(scope="module")
def combined(tmp_path_factory):
    """All LA-scope cases in one landing folder, one LA each, validated in one run."""
    landing = corpus.build_combined(tmp_path_factory.mktemp("combined"), corpus.CASES)
    return _validate(landing, COMBINED_MAX_BYTES)


def test_catalogue_lists_every_case():
    """cases.csv is the reviewers' view of the corpus; it must match the code."""
    assert (CORPUS_DIR / "cases.csv").read_text() == corpus.catalogue()
    assert len({c.id for c in corpus.CASES}) == len(corpus.CASES) >= 40


def test_clean_corpus_return_is_accepted_without_failures(clean):
    """The base every case breaks must itself be valid, or the cases prove nothing."""
    status = clean.la_year_status.set_index("la_code")["status"]
    assert status[CLEAN] == status[BAD] == "accepted"
    assert clean.failures.empty, clean.failures.to_string()
    assert len(_data(clean.episodes, EPISODE_KEY, BAD)) == 8
    assert "007" in set(clean.header["child"])  # leading zeros kept


def _matching(failures: pd.DataFrame, case) -> pd.DataFrame:
    f = failures
    if case.rule:
        text = f["rule_code"].astype(str) + " " + f["message"].astype(str)
        f = f[
            f["rule_code"].astype(str).eq(case.rule)
            | text.str.contains(case.rule, case=False, regex=False)
        ]
    if case.table:
        f = f[f["file"].astype(str).str.contains(case.table, regex=False)]
    if case.column:
        # A file-level failure may name the column in its message (e.g. "required
        # column(s) missing: DECOM"); a row-level one must name it in ``column``.
        named = f["column"].astype(str).str.contains(case.column, regex=False)
        in_message = f["severity"].eq("file") & f["message"].astype(str).str.contains(
            case.column, regex=False
        )
        f = f[named | in_message]
    if case.row is not None:
        f = f[f["row"].astype("Int64").eq(case.row)]
    if case.child:
        f = f[f["child"].astype(str).str.strip().eq(case.child)]
    return f


@pytest.mark.parametrize("case", LA_CASES, ids=[c.id for c in LA_CASES])
def test_bad_return_is_reported_contained_and_accounted_for(case, combined, combined_clean):
    inventory, result = combined
    assert_case(case, inventory, result, combined_clean, bad=CASE_LA[case.id])


@pytest.mark.parametrize("case", LANDING_CASES, ids=[c.id for c in LANDING_CASES])
def test_bad_path_in_landing_folder_is_reported_not_followed(case, clean, tmp_path):
    landing = corpus.build_case(case, tmp_path)
    inventory, result = _validate(landing)
    assert_case(case, inventory, result, clean)
    # Nothing was written outside the landing folder's own tree by reading it.
    assert {p.name for p in tmp_path.iterdir()} <= {"elsewhere", "landing", "outside_episodes.csv"}


def test_every_la_scope_case_has_its_own_la_in_the_combined_run():
    assert len(CASE_LA) == len(LA_CASES)
    assert len(set(CASE_LA.values())) == len(CASE_LA)


@pytest.mark.slow
def test_one_gigabyte_file_is_refused_by_the_size_limit_without_being_read(clean, tmp_path):
    """1 GB episodes.csv: hashed in chunks for the inventory, never loaded whole."""
    import resource

    case = corpus.CASES_BY_ID["size_1gb"]
    landing = corpus.build_case(case, tmp_path)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    inventory, result = _validate(landing)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 200, f"peak memory grew by {grown_mb:.0f} MB reading a 1 GB file"
    assert_case(case, inventory, result, clean)


def assert_case(case, inventory: pd.DataFrame, result, clean, bad: str = BAD) -> None:
    failures, status = result.failures, result.la_year_status.set_index("la_code")
    if bad != BAD:  # combined run: the other case LAs' failures belong to their own cases
        failures = failures[failures["la_code"].isin([CLEAN, bad])]

    # Every failure names its file and rule and has a message; row-level ones a row.
    assert failures["rule_code"].notna().all()
    assert failures["message"].fillna("").str.len().gt(0).all()
    assert failures["file"].notna().all(), failures[failures["file"].isna()].to_string()
    child_level = failures[failures["severity"].eq("child")]
    assert child_level["row"].notna().all(), child_level.to_string()

    # The ledger balances for every file.
    ledger = result.ledger
    balance = ledger["rows_accepted"] + ledger["rows_quarantined"] + ledger["rows_rejected"]
    assert (ledger["rows_read"] == balance).all(), ledger.to_string()

    # The clean LA is untouched.
    assert status.loc[CLEAN, "status"] == "accepted"
    pd.testing.assert_frame_equal(
        _data(result.episodes, EPISODE_KEY, CLEAN), _data(clean.episodes, EPISODE_KEY, CLEAN)
    )
    pd.testing.assert_frame_equal(
        _data(result.header, HEADER_KEY, CLEAN), _data(clean.header, HEADER_KEY, CLEAN)
    )
    assert failures[failures["la_code"].eq(CLEAN)].empty

    bad_status = status.loc[bad, "status"]
    bad_eps = _data(result.episodes, EPISODE_KEY, bad)
    ref_eps = _data(clean.episodes, EPISODE_KEY, bad)
    found = _matching(failures, case)
    where = (
        f"\nfailures:\n{failures.drop(columns='message').to_string()}\nstatus:\n{status.loc[bad]}"
    )

    if case.outcome == "rejected":
        assert bad_status == "rejected", where
        assert case.table in str(status.loc[bad, "message"]), status.loc[bad, "message"]
        assert not found.empty, where
        assert found["severity"].eq("file").any(), where
        assert bad_eps.empty
        rows = ledger[ledger["la_code"].eq(bad)]
        assert rows["rows_accepted"].sum() == 0
    elif case.outcome == "quarantined":
        assert bad_status == "accepted_with_quarantine", where
        assert not found.empty, where
        assert found["severity"].eq("child").any(), where
        assert case.child not in set(bad_eps["child"]), "quarantined child still in the data"
        others = ref_eps[ref_eps["child"].ne(case.child)].reset_index(drop=True)
        pd.testing.assert_frame_equal(bad_eps, others)
        assert status.loc[bad, "children_quarantined"] == 1
        assert ledger.loc[ledger["la_code"].eq(bad), "rows_quarantined"].sum() >= 1
    elif case.outcome == "warning":
        assert bad_status == "accepted", where
        assert not found.empty, where
        assert found["severity"].eq("warning").all(), where
        pd.testing.assert_frame_equal(bad_eps, ref_eps)
    elif case.outcome == "accepted":
        assert bad_status == "accepted", where
        pd.testing.assert_frame_equal(bad_eps, ref_eps)
        pd.testing.assert_frame_equal(
            _data(result.header, HEADER_KEY, bad), _data(clean.header, HEADER_KEY, bad)
        )
        if case.rule:
            assert not found.empty, where
        assert not failures["severity"].isin(["file", "child"]).any(), where
    elif case.outcome == "skipped":
        # LA 202's own return is untouched; the stray path is reported, not read.
        assert bad_status == "accepted", where
        pd.testing.assert_frame_equal(bad_eps, ref_eps)
        problems = inventory["path"].astype(str) + " " + inventory["problem"].fillna("")
        flagged = problems[inventory["problem"].notna()]
        assert flagged.str.contains(case.rule, regex=False).any() or not found.empty, (
            f"{case.rule!r} not reported\n{inventory.to_string()}{where}"
        )
        assert set(result.episodes["la_code"]) <= {CLEAN, BAD}
    else:  # pragma: no cover - the catalogue test guards the vocabulary
        raise AssertionError(case.outcome)


# --- returns across years ----------------------------------------------------------------


def _write(folder: Path, header: str, episodes: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "header.csv").write_text(",".join(corpus.HEADER_COLUMNS) + "\n" + header)
    (folder / "episodes.csv").write_text(",".join(corpus.EPISODE_COLUMNS) + "\n" + episodes)


def test_year_with_no_returns_at_all_is_not_received_for_every_la(tmp_path):
    """A collection year whose folder is empty (e.g. the new year's partition before any
    return arrives) is 'not received' for every LA, not a crash."""
    landing = tmp_path / "landing"
    _write(
        landing / "2023" / "202",
        "A,1,01/01/2015,WBRI,UN1,,\n",
        "A,01/05/2022,S,C2,N1,U1,PR1,,,,,,\n",
    )
    (landing / "2024").mkdir()
    result = validate_collection_year(landing, 2024)
    assert set(result.la_year_status["status"]) == {"not_received"}
    assert result.episodes.empty and result.header.empty
    assert result.ledger.empty or (result.ledger["rows_read"] == 0).all()


def test_child_whose_open_episode_is_missing_next_year_is_reported_not_crashed(tmp_path):
    """Last year's return ended with A's episode open; this year's return omits A.
    The history must report it (open_episode_not_continued) and keep going."""
    from assets.history.history import build_episode_history

    landing = tmp_path / "landing"
    _write(
        landing / "2023" / "202",
        "A,1,01/01/2015,WBRI,UN1,,\nB,1,01/01/2015,WBRI,UN1,,\n",
        "A,01/05/2022,S,C2,N1,U1,PR1,,,,,,\nB,01/05/2022,S,C2,N1,U1,PR1,01/06/2022,E4A,,,,\n",
    )
    _write(
        landing / "2024" / "202",
        "C,1,01/01/2015,WBRI,UN1,,\n",
        "C,01/05/2023,S,C2,N1,U1,PR1,01/06/2023,E4A,,,,\n",
    )
    years = [validate_collection_year(landing, y) for y in (2023, 2024)]
    history = build_episode_history(years)
    f = history.failures
    hit = f[f["rule_code"].eq("open_episode_not_continued")]
    assert hit["child"].tolist() == ["A"], f.to_string()
    assert hit["file"].tolist() == ["2023/202/episodes.csv"]
    assert hit["row"].tolist() == [1]
    assert set(history.episode_history["child"]) == {"A", "B", "C"}
