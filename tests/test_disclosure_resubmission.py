"""A resubmission between two real releases cannot be differenced.

The whole pipeline runs twice on one small synthetic landing folder (the North East's
LAs, collection years 2023-2024, 12-month follow-up): release ``r1`` is approved and
published, then one LA resubmits its 2023 return with one more child who returned home,
and release ``r2`` is built. The pipeline must find ``r1`` by itself and protect ``r2``
against it, and the two releases' files, audited together as a reader holding both sees
them, must leave every suppressed count at least 5 possible values wide.

The joint audit must also be able to fail: an earlier release that published the cells
``r2`` uses as complements (they are unchanged, so a reader holding both knows them)
pins down ``r2``'s primary cells, and the joint audit says so while ``r2`` alone passes.

Three builds of the job: about two minutes on an idle 2-core machine, so ``slow``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from assets.approval.gate import record_approval
from assets.common.reference import las_in_year
from assets.common.release_folders import ReleasePaths
from assets.disclosure.audit import audit_release_dir
from assets.disclosure.files import LOG_FILE, PUBLISHED_FILES, read_log, read_published_dir
from assets.ingest.inventory import inputs_sha256, inventory_landing
from assets.publication.qa_disclosure import WITHHELD_PAGE
from pipelines import constants as c
from pipelines.resources import ReleaseSettings
from pipelines.runner import execute_build, execute_publish

pytestmark = pytest.mark.slow

REGION = "E12000001"
LA = "841"
YEARS = [2023, 2024]
NEW_CHILD = "99999991"


def _settings(root: Path, release: str, **extra) -> ReleaseSettings:
    return ReleaseSettings(
        landing=str(root / "landing"),
        output=str(root / "out"),
        release=release,
        windows=[12],
        **extra,
    )


def _build(settings: ReleaseSettings):
    result = execute_build(settings, YEARS)
    assert result.success, [e.message for e in result.all_events if "FAILURE" in e.event_type_value]
    return result


def _approve_and_publish(settings: ReleaseSettings) -> None:
    paths = ReleasePaths(settings.output_path, settings.release)
    current = inputs_sha256(inventory_landing(settings.landing_path))
    record_approval(paths, reviewer="A. Reviewer", current_inputs_sha256=current)
    assert execute_publish(settings, settings.release, reviewer="").success
    assert paths.published.is_dir()


def _resubmit_with_one_more_child(landing: Path) -> None:
    """LA ``LA`` resubmits its 2023 return: one more child, in care from 10 April to
    1 June 2022, who then returned home to live with parents (REC E4A) and did not
    come back."""
    folder = landing / "2023" / LA
    header = folder / "header.csv"
    episodes = folder / "episodes.csv"
    header.write_text(header.read_text() + f"{NEW_CHILD},1,01/05/2010,WBRI,UN1,,\n")
    episodes.write_text(
        episodes.read_text()
        + f"{NEW_CHILD},10/04/2022,S,V2,N1,U1,PR1,01/06/2022,E4A,,NE1 1,NE2 0,SC418271\n"
    )


def _disclosure_metadata(result) -> dict:
    for e in result.all_events:
        if e.event_type_value != "ASSET_MATERIALIZATION":
            continue
        m = e.event_specific_data.materialization
        if m.asset_key.to_user_string() == c.DISCLOSURE_CONTROLLED_TABLES:
            return m.metadata
    raise AssertionError("no disclosure materialization")


@pytest.fixture(scope="module")
def releases(tmp_path_factory, dagster_home):
    from synthetic.generator import generate

    root = tmp_path_factory.mktemp("resubmission")
    landing = root / "landing"
    generate(out=landing, first_year=YEARS[0], last_year=YEARS[-1], scale=0.01, seed=3)
    keep = set(las_in_year(2024).query("region_code == @REGION")["old_la_code"].astype(str))
    for year in landing.iterdir():
        for la in year.iterdir():
            if la.is_dir() and la.name not in keep:
                shutil.rmtree(la)
    first = _settings(root, "r1")
    _build(first)
    _approve_and_publish(first)
    _resubmit_with_one_more_child(landing)
    second = _settings(root, "r2")
    result = _build(second)
    return root, result


def _qa(root: Path, release: str) -> Path:
    return ReleasePaths(root / "out", release).qa / "disclosure"


def _log(root: Path, release: str) -> pd.DataFrame:
    return read_log(_qa(root, release) / LOG_FILE)


def test_the_second_release_is_protected_against_the_first(releases):
    root, result = releases
    # The pipeline found the approved release by itself and protected r2 against it.
    previous = _disclosure_metadata(result)["previous_release"].value
    assert Path(previous) == ReleasePaths(root / "out", "r1").published.resolve()
    # The resubmission really changed the figures: one more child returned home in the
    # LA's 2023 single-year 12-month Total, and so in its region's and England's.
    key = ["table", "time_period", "cohort_span", "geographic_level", "old_la_code"]
    key += ["follow_up_months", "characteristic_group", "characteristic", "column"]
    a, b = _log(root, "r1"), _log(root, "r2")
    both = a.merge(b, on=[*key, "region_code"], suffixes=("_1", "_2"))
    sel = both[
        both["table"].eq("reentry")
        & both["time_period"].astype(str).eq("2023")
        & both["cohort_span"].eq("Single year")
        & both["follow_up_months"].astype(str).eq("12")
        & both["characteristic"].eq("Total")
        & both["column"].eq("returned_home")
    ]
    before = pd.to_numeric(sel["true_value_1"], errors="coerce")
    after = pd.to_numeric(sel["true_value_2"], errors="coerce")
    changed = sel[(after != before) & after.notna() & before.notna()]
    assert set(changed["geographic_level"]) == {"Local authority", "Regional", "National"}
    assert (after - before)[changed.index].eq(1).all()
    assert (
        changed.loc[changed["geographic_level"].eq("Local authority"), "old_la_code"].eq(LA).all()
    )
    # Both releases together, from their files, as a reader holding both sees them.
    joint = audit_release_dir(_qa(root, "r2"), previous_folder=_qa(root, "r1"))
    assert joint.passed, joint.failures
    assert joint.relations_not_holding == 0
    assert joint.narrowest_width >= 4
    assert b["reason"].eq("primary").any()
    # The reviewers' page compares r2 with r1; r1 had nothing to compare with.
    page = (ReleasePaths(root / "out", "r2").qa / WITHHELD_PAGE).read_text()
    section = page.split("## Against the previous release", 1)[1]
    assert "| figure | previous release | this release |" in section
    first = (ReleasePaths(root / "out", "r1").qa / WITHHELD_PAGE).read_text()
    assert "No previous approved release." in first


def _previous_that_published_the_complements(root: Path, folder: Path) -> int:
    """A copy of r1 in ``folder`` in which every cell r2 uses as a complement, and whose
    value did not change, is published with its true value (as an earlier release
    protected without regard to r2 could have). Returns how many cells were opened."""
    folder.mkdir()
    src = _qa(root, "r1")
    for name in [*PUBLISHED_FILES.values(), LOG_FILE]:
        shutil.copyfile(src / name, folder / name)
    tables = read_published_dir(folder)
    log1, log2 = _log(root, "r1"), _log(root, "r2")
    key = ["table", "time_period", "cohort_span", "geographic_level", "region_code"]
    key += ["old_la_code", "follow_up_months", "characteristic_group", "characteristic"]
    key += ["reason_group", "time_band", "column"]
    m = log1.reset_index(names="_i").merge(log2, on=key, suffixes=("", "_2"))
    value = pd.to_numeric(m["true_value"], errors="coerce")
    opened = m[
        m["reason_2"].eq("secondary")
        & m["reason"].eq("secondary")
        & value.eq(pd.to_numeric(m["true_value_2"], errors="coerce"))
    ]
    values = pd.to_numeric(opened["true_value"]).astype("int64").astype(str)
    for _, cell in opened.iterrows():
        table = tables[cell["table"]]
        match = pd.Series(True, index=table.index)
        for k in key[1:-1]:
            if k in table:
                v = cell[k]
                match &= table[k].isna() if pd.isna(v) else table[k].astype(str).eq(str(v))
        table.loc[match, cell["column"]] = values[cell.name]
    for name, fname in PUBLISHED_FILES.items():
        tables[name].to_csv(folder / fname, index=False)
    log1.loc[opened["_i"], "published"] = values.to_numpy()
    log1.loc[opened["_i"], "reason"] = "published"
    log1.to_csv(folder / LOG_FILE, index=False)
    return len(opened)


def test_the_joint_audit_catches_complements_known_from_the_other_release(releases, tmp_path):
    root, _ = releases
    unsafe = tmp_path / "r1_unsafe"
    assert _previous_that_published_the_complements(root, unsafe) > 0
    assert audit_release_dir(_qa(root, "r2")).passed
    joint = audit_release_dir(_qa(root, "r2"), previous_folder=unsafe)
    assert not joint.passed
    narrowed = joint.failures
    assert narrowed["failure"].eq("interval narrower than protection width").all()
    assert (narrowed["feasible_max"] - narrowed["feasible_min"] < 4).all()
