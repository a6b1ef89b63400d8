"""What the reviewer approved is exactly what is published: tampering, a QA pack from
another run, faults while sealing or publishing, two writers at once, inputs changed
mid-run, and the leaks and traps around the restricted folder.

The candidates here are real: built by ``build_candidate`` from the small publication
fixtures, with the QA pack record written as the pipeline writes it, sealed by the same
``sealed_directory`` the candidate asset uses.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from publication_fixtures import small_inputs

import assets.approval.gate as gate
import assets.common.atomic as atomic
from assets.approval.gate import ApprovalError, publish_approved, record_approval
from assets.approval.release_checks import check_manifest
from assets.common.atomic import remove_stale_temporary_files, sealed_directory
from assets.common.hashing import file_sha256
from assets.common.intermediates import (
    IntermediateFormatError,
    read_intermediate,
    write_intermediate,
)
from assets.common.output_lock import OutputFolderBusy, output_lock
from assets.common.release_folders import CANDIDATE_DIR, MANIFEST_NAME, QA_DIR, ReleasePaths
from assets.ingest.inventory import inputs_sha256, inventory_landing
from assets.publication.candidate import build_candidate
from assets.publication.candidate_record import changed_inputs, write_candidate_record

ROOT = Path(__file__).resolve().parents[1]
OPEN_DATA = "data/la_reentry_to_care.csv"


@pytest.fixture(scope="module")
def inputs():
    return small_inputs()


@pytest.fixture(scope="module")
def built(tmp_path_factory, inputs):
    """One real candidate folder, copied into each test's output folder."""
    folder = tmp_path_factory.mktemp("built") / CANDIDATE_DIR
    build_candidate(folder, **inputs)
    return folder


def seal(output: Path, built: Path, inputs, *, release: str = "2025") -> ReleasePaths:
    """Candidate + QA record in one staging folder, made visible by one rename."""
    paths = ReleasePaths(output, release)
    with sealed_directory(paths.restricted) as staging:
        shutil.copytree(built, staging / CANDIDATE_DIR)
        write_candidate_record(
            staging / QA_DIR,
            inventory=inputs["inventory"],
            checks={"disclosure_audit": True},
            manifest_sha256=file_sha256(staging / CANDIDATE_DIR / MANIFEST_NAME),
            settings={"threshold_high": 5},
        )
    return paths


def current(inputs) -> str:
    return inputs_sha256(inputs["inventory"])


def approve(paths: ReleasePaths, inputs):
    return record_approval(paths, reviewer="reviewer", current_inputs_sha256=current(inputs))


def publish(paths: ReleasePaths, inputs):
    return publish_approved(paths, current_inputs_sha256=current(inputs))


def _public(paths: ReleasePaths) -> list[str]:
    """Everything under publications/, hidden staging folders included."""
    folder = paths.published.parent
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


# --- Tampering: edit, add, symlink -----------------------------------------------------


def _edit(candidate: Path) -> None:
    """Un-suppress a cell: replace the first 'c' figure of the open data with a 3."""
    path = candidate / OPEN_DATA
    text = path.read_text()
    assert ",c," in text
    path.write_text(text.replace(",c,", ",3,", 1))


def _append_script(candidate: Path) -> None:
    with open(candidate / "index.html", "a") as fh:
        fh.write("<script>alert(1)</script>\n")


def _add_child_file(candidate: Path) -> None:
    (candidate / "data" / "children.csv").write_text("CHILD,DOB\nA123456,2015-03-07\n")


def _symlink(candidate: Path) -> None:
    (candidate / "data" / "passwd.csv").symlink_to("/etc/passwd")


def _symlink_over_listed_file(candidate: Path) -> None:
    """A listed file replaced by a link to a file with the same bytes elsewhere."""
    target = candidate.parent / "elsewhere.html"
    shutil.copyfile(candidate / "index.html", target)
    (candidate / "index.html").unlink()
    (candidate / "index.html").symlink_to(target)


TAMPERS = {
    "edit": _edit,
    "script": _append_script,
    "add": _add_child_file,
    "symlink": _symlink,
    "symlink_same_bytes": _symlink_over_listed_file,
}


@pytest.mark.parametrize("tamper", TAMPERS)
def test_candidate_tampered_before_approval_cannot_be_approved(tmp_path, built, inputs, tamper):
    paths = seal(tmp_path, built, inputs)
    TAMPERS[tamper](paths.candidate)
    with pytest.raises(ApprovalError, match="does not match its manifest"):
        approve(paths, inputs)
    assert not paths.approval.exists()
    assert not paths.published.exists()


@pytest.mark.parametrize("tamper", TAMPERS)
def test_candidate_tampered_after_approval_is_not_published(tmp_path, built, inputs, tamper):
    """The "publish already approved" path: the approval pinned the manifest, and the
    files themselves are checked against it before publishing."""
    paths = seal(tmp_path, built, inputs)
    approve(paths, inputs)
    TAMPERS[tamper](paths.candidate)
    with pytest.raises(ApprovalError, match="does not match its manifest"):
        publish(paths, inputs)
    assert not paths.published.exists()
    assert _public(paths) == []


def test_file_changed_during_the_copy_is_caught_on_the_staged_copy(
    tmp_path, built, inputs, monkeypatch
):
    """A change between the last check of the candidate and the rename: the staged copy
    is checked against the approved manifest immediately before it becomes public."""
    paths = seal(tmp_path, built, inputs)
    approve(paths, inputs)
    real_copy = shutil.copyfile

    def copy_then_tamper(src, dst, **kwargs):
        out = real_copy(src, dst, **kwargs)
        if str(dst).endswith(OPEN_DATA):
            _edit(Path(dst).parents[1])
        return out

    monkeypatch.setattr(gate.shutil, "copyfile", copy_then_tamper)
    with pytest.raises(ApprovalError, match="staged copy"):
        publish(paths, inputs)
    assert not paths.published.exists()
    assert _public(paths) == []


def test_untampered_candidate_is_published_byte_for_byte(tmp_path, built, inputs):
    paths = seal(tmp_path, built, inputs)
    approve(paths, inputs)
    publish(paths, inputs)

    def tree(root):
        return {
            p.relative_to(root).as_posix(): file_sha256(p) for p in root.rglob("*") if p.is_file()
        }

    assert tree(paths.published) == tree(paths.candidate)
    assert check_manifest(paths.published).passed


@pytest.mark.parametrize("tamper", ["edit", "add", "symlink"])
def test_reentry_check_audits_the_public_files_themselves(tmp_path, built, inputs, tamper):
    paths = seal(tmp_path, built, inputs)
    approve(paths, inputs)
    publish(paths, inputs)
    TAMPERS[tamper](paths.published)
    outcome = check_manifest(paths.published)
    assert not outcome.passed
    assert "passwd" in outcome.detail or "children" in outcome.detail or OPEN_DATA in outcome.detail


# --- Candidate and QA pack from one run ---------------------------------------------


def test_qa_pack_records_the_candidate_manifest_hash_and_settings(tmp_path, built, inputs):
    paths = seal(tmp_path, built, inputs)
    record = json.loads((paths.qa / "inputs.json").read_text())
    assert record["manifest_sha256"] == file_sha256(paths.candidate / MANIFEST_NAME)
    assert record["settings"] == {"threshold_high": 5}


def test_candidate_beside_another_runs_qa_pack_cannot_be_approved(tmp_path, built, inputs):
    """The reported failure: a new candidate (threshold 2) left beside the previous QA pack
    (which describes threshold 5). Here the candidate is swapped under the old pack."""
    paths = seal(tmp_path, built, inputs)
    other = tmp_path / "other"
    shutil.copytree(paths.candidate, other)
    _edit(other)
    manifest = json.loads((other / MANIFEST_NAME).read_text())
    for entry in manifest["files"]:
        if entry["path"] == OPEN_DATA:
            entry["sha256"] = file_sha256(other / OPEN_DATA)
            entry["bytes"] = (other / OPEN_DATA).stat().st_size
    (other / MANIFEST_NAME).write_text(json.dumps(manifest))
    shutil.rmtree(paths.candidate)
    other.rename(paths.candidate)  # a self-consistent candidate, but not the QA pack's
    with pytest.raises(ApprovalError, match="QA pack .* was not written for this candidate"):
        approve(paths, inputs)


def test_rebuilding_a_release_replaces_candidate_qa_pack_and_approval_together(
    tmp_path, built, inputs
):
    paths = seal(tmp_path, built, inputs)
    approve(paths, inputs)
    assert paths.approval.exists()
    seal(tmp_path, built, inputs)
    assert not paths.approval.exists(), "an approval of the old candidate survived a rebuild"
    assert sorted(p.name for p in paths.restricted.parent.iterdir() if p.name != ".lock") == [
        "2025"
    ]


@pytest.mark.parametrize("step", ["write", "fsync", "exchange"])
def test_disk_full_while_sealing_leaves_the_previous_candidate_whole(
    tmp_path, built, inputs, monkeypatch, step
):
    paths = seal(tmp_path, built, inputs)
    before = {p.relative_to(paths.restricted).as_posix() for p in paths.restricted.rglob("*")}
    full = OSError(errno.ENOSPC, "No space left on device")

    def fail(*_a, **_k):
        raise full

    if step == "fsync":
        monkeypatch.setattr(atomic, "_fsync_tree", fail)
    if step == "exchange":
        monkeypatch.setattr(atomic, "_exchange", fail)
    with pytest.raises(OSError) as raised, sealed_directory(paths.restricted) as staging:
        shutil.copytree(built, staging / CANDIDATE_DIR)
        _edit(staging / CANDIDATE_DIR)
        if step == "write":
            raise full
    assert raised.value.errno == errno.ENOSPC
    after = {p.relative_to(paths.restricted).as_posix() for p in paths.restricted.rglob("*")}
    assert after == before
    assert sorted(p.name for p in paths.restricted.parent.iterdir() if p.name != ".lock") == [
        "2025"
    ]
    approve(paths, inputs)  # the previous candidate is still whole and consistent


@pytest.mark.parametrize("step", ["copy", "verify", "fsync", "rename"])
def test_disk_full_while_publishing_leaves_nothing_public(
    tmp_path, built, inputs, monkeypatch, step
):
    paths = seal(tmp_path, built, inputs)
    approve(paths, inputs)
    full = OSError(errno.ENOSPC, "No space left on device")

    def fail(*_a, **_k):
        raise full

    real_check = gate._require_intact

    def fail_on_staged_copy(folder, what):
        if what.startswith("the staged"):
            raise full
        return real_check(folder, what)

    if step == "copy":
        monkeypatch.setattr(gate.shutil, "copyfile", fail)
    elif step == "verify":
        monkeypatch.setattr(gate, "_require_intact", fail_on_staged_copy)
    elif step == "fsync":
        monkeypatch.setattr(atomic, "_fsync_tree", fail)
    else:
        monkeypatch.setattr(atomic.os, "rename", fail)
    with pytest.raises(OSError):
        publish(paths, inputs)
    assert _public(paths) == []
    monkeypatch.undo()
    publish(paths, inputs)  # a clean retry succeeds
    assert check_manifest(paths.published).passed


SEAL_SCRIPT = """
import shutil, sys
from pathlib import Path
from assets.common.atomic import sealed_directory
from assets.common.hashing import file_sha256
from assets.publication.candidate_record import write_candidate_record
import pandas as pd
built, restricted, marker = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
print("READY", flush=True)
with sealed_directory(restricted) as staging:
    shutil.copytree(built, staging / "candidate")
    (staging / "candidate" / "marker.txt").write_text(marker)
    inventory = pd.DataFrame({"collection_year": [2025], "la_code": ["201"],
                              "table": ["header"], "sha256": ["a" * 64]})
    write_candidate_record(staging / "qa", inventory=inventory, checks={"x": True},
        manifest_sha256=file_sha256(staging / "candidate" / "manifest.json"),
        settings={"marker": marker})
print("DONE", flush=True)
"""


def _consistent(restricted: Path) -> str:
    """The release folder is whole and from one run; returns that run's marker."""
    marker = (restricted / "candidate" / "marker.txt").read_text()
    record = json.loads((restricted / "qa" / "inputs.json").read_text())
    assert record["settings"]["marker"] == marker, "candidate and QA pack from different runs"
    assert record["manifest_sha256"] == file_sha256(restricted / "candidate" / MANIFEST_NAME)
    return marker


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX only")
def test_sigkill_while_sealing_leaves_old_or_new_release_whole_and_consistent(tmp_path, built):
    restricted = tmp_path / "restricted" / "2025"
    first = subprocess.run(
        [sys.executable, "-c", SEAL_SCRIPT, str(built), str(restricted), "run-0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "DONE" in first.stdout
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", SEAL_SCRIPT, str(built), str(restricted), "timing"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    )
    duration = time.perf_counter() - t0
    seen = set()
    for i in range(12):
        marker = f"run-{i + 1}"
        proc = subprocess.Popen(
            [sys.executable, "-c", SEAL_SCRIPT, str(built), str(restricted), marker],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout.readline().strip() == "READY"
        time.sleep(duration * (i / 12) * 0.5)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        seen.add(_consistent(restricted))  # never a mixture, never absent
        visible = [p.name for p in restricted.parent.iterdir() if not p.name.startswith(".")]
        assert visible == ["2025"]
    assert seen, "no state observed"
    remove_stale_temporary_files(restricted.parent)
    assert [p.name for p in restricted.parent.iterdir()] == ["2025"]


# --- One writer at a time ---------------------------------------------------------------


LOCK_SCRIPT = """
import sys, time
from pathlib import Path
from assets.common.output_lock import output_lock
with output_lock(Path(sys.argv[1]), "reentry run (release 2025)"):
    print("HELD", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _hold_lock(output: Path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", LOCK_SCRIPT, str(output), str(seconds)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "HELD"
    return proc


def test_second_writer_is_refused_with_a_message_naming_the_holder(tmp_path):
    holder = _hold_lock(tmp_path, 30)
    try:
        with pytest.raises(OutputFolderBusy) as refused, output_lock(tmp_path, "second run"):
            pass
        message = str(refused.value)
        assert f"process {holder.pid}" in message
        assert "reentry run (release 2025)" in message
    finally:
        holder.kill()
        holder.wait()
    with output_lock(tmp_path, "after the holder died"):  # released by the kernel on SIGKILL
        pass


def test_reentry_run_while_another_run_holds_the_output_folder_refuses(tmp_path, monkeypatch):
    """Two runs into one output folder (the reported mix of two landing folders): the
    second stops before reading anything and names the first."""
    from pipelines import cli

    landing = tmp_path / "landing" / "2025" / "201"
    landing.mkdir(parents=True)
    (landing / "header.csv").write_text("CHILD\n1\n")
    started = []
    monkeypatch.setattr(cli, "execute_build", lambda *a, **k: started.append(a))
    holder = _hold_lock(tmp_path / "out", 30)
    try:
        code = cli.main(
            ["run", "--landing", str(tmp_path / "landing"), "--output", str(tmp_path / "out")]
        )
    finally:
        holder.kill()
        holder.wait()
    assert code == cli.EXIT_USAGE
    assert started == []


APPROVE_SCRIPT = """
import sys
from pathlib import Path
from assets.approval.gate import ApprovalError, publish_approved
from assets.common.output_lock import OutputFolderBusy
from assets.common.release_folders import ReleasePaths
try:
    publish_approved(ReleasePaths(Path(sys.argv[1]), "2025"), current_inputs_sha256=sys.argv[2])
    print("Published", flush=True)
except (ApprovalError, OutputFolderBusy, FileExistsError, OSError) as err:
    print("Refused", type(err).__name__, flush=True)
"""


def test_two_simultaneous_publications_publish_once(tmp_path, built, inputs):
    paths = seal(tmp_path, built, inputs)
    approve(paths, inputs)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", APPROVE_SCRIPT, str(tmp_path), current(inputs)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = sorted(p.communicate(timeout=120)[0].split()[0] for p in procs)
    assert outputs == ["Published", "Refused"]
    assert check_manifest(paths.published).passed


def test_restricted_folder_is_owner_only(tmp_path):
    (tmp_path / "restricted").mkdir(mode=0o755)
    os.chmod(tmp_path / "restricted", 0o755)
    with output_lock(tmp_path, "test"):
        pass
    assert (tmp_path / "restricted").stat().st_mode & 0o777 == 0o700


# --- Inputs pinned once -----------------------------------------------------------------


def _landing(root: Path) -> Path:
    for la in ("201", "202"):
        folder = root / "2025" / la
        folder.mkdir(parents=True)
        (folder / "header.csv").write_text(f"CHILD,SEX\n{la}1,1\n")
        (folder / "episodes.csv").write_text(f"CHILD,DECOM\n{la}1,01/05/2024\n")
    return root


def test_a_file_swapped_mid_run_is_detected_before_sealing(tmp_path):
    landing = _landing(tmp_path / "landing")
    inventory = inventory_landing(landing)
    assert changed_inputs(inventory, landing) == []
    (landing / "2025" / "202" / "episodes.csv").write_text("CHILD,DECOM\n2021,02/05/2024\n")
    (landing / "2025" / "201" / "header.csv").unlink()
    (landing / "2025" / "201" / "extra.csv").write_text("x\n")
    assert changed_inputs(inventory, landing) == [
        "2025/201/extra.csv: added",
        "2025/201/header.csv: removed",
        "2025/202/episodes.csv: content changed",
    ]


# --- Intermediates: no pickle, no stale temporary files ---------------------------------


def test_intermediates_round_trip_without_pickle(tmp_path):
    from assets.disclosure.config import DisclosureConfig

    frame = pd.DataFrame(
        {
            "code": pd.Series(["201", None, "202"], dtype=object),
            "mixed_missing": pd.Series(["a", float("nan"), None], dtype=object),
            "count": pd.array([1, None, 3], dtype="Int64"),
            "when": pd.to_datetime(["2024-04-01", None, "2025-03-31"]),
            "text": pd.Series(["x", "y", None], dtype="str"),
        }
    )
    value = {"2025": DisclosureConfig(threshold_high=2), "frame": frame, "n": 3, "ok": True}
    write_intermediate(tmp_path / "v", value)
    back = read_intermediate(tmp_path / "v")
    pd.testing.assert_frame_equal(back["frame"], frame, check_exact=True)
    assert back["frame"]["mixed_missing"].tolist()[2] is None
    assert back["frame"]["mixed_missing"].isna().tolist() == [False, True, True]
    assert back["2025"] == DisclosureConfig(threshold_high=2)
    assert (back["n"], back["ok"]) == (3, True)
    assert not list(tmp_path.rglob("*.pickle"))


def test_a_stored_value_naming_foreign_code_is_refused_not_run(tmp_path):
    """Write access to the output folder must not be code execution: a stored value that
    names anything but the project's own dataclasses is refused before it is built."""
    folder = tmp_path / "v"
    write_intermediate(folder, {"a": 1})
    (folder / "value.json").write_text(
        json.dumps({"t": "dataclass", "class": "subprocess:Popen", "fields": {}})
    )
    with pytest.raises(IntermediateFormatError, match="not a project dataclass"):
        read_intermediate(folder)


@pytest.mark.parametrize("damage", ["cut short", "empty", "structure cut short"])
def test_an_intermediate_left_incomplete_by_a_power_cut_fails_naming_it(tmp_path, damage):
    """Intermediates are not flushed to disk before their rename (scratch that every run
    rebuilds), so after a power cut one can be incomplete: reading it must fail with its
    folder named and the remedy, never return partial figures."""
    folder = tmp_path / "episode_history" / "value"
    frame = pd.DataFrame({"child": [f"C{i}" for i in range(500)], "n": range(500)})
    write_intermediate(folder, {"frame": frame})
    table, structure = folder / "0.arrow", folder / "value.json"
    if damage == "cut short":
        table.write_bytes(table.read_bytes()[: table.stat().st_size // 2])
    elif damage == "empty":
        table.write_bytes(b"")
    else:
        structure.write_text(structure.read_text()[:10])
    with pytest.raises(IntermediateFormatError, match="incomplete or damaged") as raised:
        read_intermediate(folder)
    assert str(folder) in str(raised.value) and "run the job again" in str(raised.value)


def test_io_manager_never_loads_a_planted_pickle(tmp_path):
    """A pickle planted where the old store kept its values is never opened."""
    import pickle

    from dagster import AssetKey, build_input_context

    from pipelines.resources import RestrictedIOManager

    store = tmp_path / "restricted" / ".storage" / "2025"
    planted = store / "episode_history" / "value.pickle"
    planted.parent.mkdir(parents=True)
    marker = tmp_path / "pwned"
    planted.write_bytes(pickle.dumps(_Exploit(str(marker))))
    manager = RestrictedIOManager(base_dir=str(store))
    with pytest.raises(FileNotFoundError, match="has not been materialized"):
        manager.load_input(build_input_context(asset_key=AssetKey("episode_history")))
    assert not marker.exists()


class _Exploit:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


def test_partial_temporary_file_from_a_dead_writer_is_cleaned_and_does_not_break_a_run(
    tmp_path,
):
    store = tmp_path / "restricted" / ".storage" / "2025" / "episode_history"
    store.mkdir(parents=True)
    dead = _dead_pid()
    partial = store / f".value.json.{dead}.tmp"
    partial.write_bytes(b'{"t": "da')
    staging = store.parent / f".staging-episode_history-{dead}"
    staging.mkdir()
    live = store / f".value.json.{os.getpid()}.tmp"
    live.write_text("mine")
    removed = remove_stale_temporary_files(tmp_path / "restricted")
    assert removed == sorted([partial, staging])
    assert live.exists(), "a live writer's temporary file was removed"
    write_intermediate(store.parent / "episode_history", {"x": 1})
    assert read_intermediate(store.parent / "episode_history") == {"x": 1}


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_intermediates_are_kept_per_release(tmp_path):
    from pipelines.resources import ReleaseSettings, storage_dir

    settings = ReleaseSettings(landing=str(tmp_path), output=str(tmp_path / "out"))
    assert storage_dir(settings.output_path, "2025") != storage_dir(settings.output_path, "2024")
    assert storage_dir(settings.output_path, "2025").parent.name == ".storage"


# --- Nothing identifying public -------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "07-03-2015",
        "07.03.2015",
        "2015/03/07",
        "7 Mar 2015",
        "7th March 2015",
        "March 7, 2015",
        "07/03/2015",
        "2015-03-07",
    ],
)
def test_privacy_scan_finds_a_date_of_birth_in_every_common_form(tmp_path, written):
    from datetime import date

    from assets.publication.privacy import PrivateIdentifiers, scan_for_private_identifiers

    (tmp_path / "page.html").write_text(f"<p>Child born {written} returned home</p>\n")
    ids = PrivateIdentifiers(dobs=frozenset({date(2015, 3, 7)}))
    found = scan_for_private_identifiers(tmp_path, ids)
    assert [(f.file, f.kind) for f in found] == [("page.html", "date_of_birth")], written


def test_public_manifest_names_no_input_file(tmp_path, built, inputs):
    """A landing file named with a child's name and date of birth was published in the
    manifest; inputs now appear there only as one combined hash."""
    text = (built / MANIFEST_NAME).read_text()
    manifest = json.loads(text)
    assert "inputs" not in manifest
    assert manifest["inputs_sha256"] == current(inputs)
    for path in inputs["inventory"]["path"]:
        assert Path(str(path)).name not in text


def test_reviewer_csvs_neutralise_formulas_from_the_inputs(tmp_path):
    from assets.publication.qa_pack import _csv

    frame = pd.DataFrame(
        {"path": ['=HYPERLINK("http://x","a")', "2025/201/header.csv"], "rows": [-1, 2]}
    )
    _csv(frame, tmp_path / "inventory.csv")
    lines = (tmp_path / "inventory.csv").read_text().splitlines()
    assert lines[1].startswith("\"'=HYPERLINK(")
    assert lines[2] == "2025/201/header.csv,2"


def test_validation_failures_csv_neutralises_formulas(tmp_path):
    from validation.report import _write_csv

    _write_csv(pd.DataFrame({"value": ["@SUM(A1:A2)", "-3", "+44 20"]}), tmp_path / "f.csv")
    assert (tmp_path / "f.csv").read_text().splitlines() == [
        "value",
        "'@SUM(A1:A2)",
        "-3",
        "'+44 20",
    ]


# --- Quiet failures made loud -----------------------------------------------------------


def _published(output: Path, name: str, release_date: str, approved: str) -> None:
    folder = output / "publications" / name
    folder.mkdir(parents=True)
    (folder / MANIFEST_NAME).write_text(json.dumps({"release": {"release_date": release_date}}))
    record = output / "restricted" / name / "approval.json"
    record.parent.mkdir(parents=True)
    record.write_text(json.dumps({"approved_at_utc": approved}))


def test_previous_release_is_the_latest_by_recorded_dates_not_by_name(tmp_path):
    from pipelines.resources import ReleaseSettings

    _published(tmp_path, "2025-r9", "2025-11-27", "2025-11-20T09:00:00Z")
    _published(tmp_path, "2025-r10", "2025-12-18", "2025-12-10T09:00:00Z")
    settings = ReleaseSettings(landing=str(tmp_path), output=str(tmp_path))
    assert settings.previous_release_path("2025-r11").name == "2025-r10"
    # Same publication date: the later approval is the later release.
    _published(tmp_path, "2025-r2", "2025-12-18", "2025-12-11T09:00:00Z")
    assert settings.previous_release_path("2025-r11").name == "2025-r2"


def test_release_name_from_the_environment_is_validated(monkeypatch, tmp_path):
    from pydantic import ValidationError

    from pipelines.resources import ReleaseSettings

    monkeypatch.setenv("REENTRY_RELEASE", "../../etc")
    with pytest.raises(ValidationError, match="REENTRY_RELEASE"):
        ReleaseSettings(landing=str(tmp_path), output=str(tmp_path))


def test_bad_schedule_cron_does_not_break_the_code_location():
    env = {**os.environ, "REENTRY_SCHEDULE_CRON": "every day at six"}
    code = (
        "import warnings; warnings.simplefilter('ignore')\n"
        "from pipelines.definitions import defs\n"
        "s = defs.resolve_schedule_def('annual_publication_schedule')\n"
        "print(s.cron_schedule); print(s.description)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    cron, description = done.stdout.strip().splitlines()[-2:]
    assert cron == "0 6 1 10 *"
    assert "REENTRY_SCHEDULE_CRON='every day at six' is not a valid cron expression" in description


@pytest.mark.parametrize("cron", ["0 6 1 10 *", "*/15 6-18 * * mon-fri", "0 0 1 1,4,7,10 *"])
def test_valid_cron_expressions_are_accepted(cron):
    from pipelines.schedules import configured_cron

    assert configured_cron({"REENTRY_SCHEDULE_CRON": cron}) == (cron, None)


def test_a_resubmission_that_halves_an_las_children_is_flagged():
    """The reported quiet failure: a return with half the children passed as accepted."""
    from validation.plausibility import plausibility_table

    ledger = pd.DataFrame(
        {
            "collection_year": [2024, 2025, 2024, 2025],
            "la_code": ["201", "201", "202", "202"],
            "table": ["header"] * 4,
            "rows_read": [190, 96, 300, 290],
        }
    )
    episodes = pd.DataFrame(
        {
            "la_code": ["201"] * 30 + ["201"] * 28,
            "rec": ["E4A"] * 58,
            "dec": ["2023-06-01"] * 30 + ["2024-06-01"] * 28,
        }
    )
    table = plausibility_table(ledger, episodes)
    flagged = table[table["flagged"]]
    assert flagged[["collection_year", "la_code", "measure"]].values.tolist() == [
        [2025, "201", "children"]
    ]
    assert flagged["reason"].iloc[0] == "fell below 0.70 times the previous year"
    returns = table[(table["measure"] == "returns_home") & (table["la_code"] == "201")]
    assert returns[["previous", "current"]].values.tolist() == [[30, 28]]
