"""Crash safety: SIGKILL the publication step at random moments; nothing public breaks.

Publishing copies an approved candidate to ``publications/<release>/`` through a hidden
staging folder that is renamed into place (assets/common/atomic.py). These tests kill the
publishing process with SIGKILL (no clean-up handlers run, as in a power cut or an
OOM kill) at seeded random delays across the whole copy, and after every kill check:

* the previously published release is byte-for-byte intact (file hashes unchanged);
* no partial release is visible: ``publications/<new>`` either does not exist or is
  complete and matches the candidate's manifest; anything else under ``publications/`` is
  a hidden ``.staging-*`` folder;
* the next, uninterrupted run succeeds and leaves no staging folder behind.
"""

from __future__ import annotations

import hashlib
import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from assets.approval.gate import publish_approved, record_approval
from assets.common.release_folders import ReleasePaths
from assets.ingest.inventory import inputs_sha256
from assets.publication.candidate_record import write_candidate_record
from assets.publication.manifest import file_hashes

ROOT = Path(__file__).resolve().parents[1]
KILLS = 24
SEED = 20261122

INVENTORY = pd.DataFrame(
    {
        "collection_year": [2024, 2024],
        "la_code": ["202", "202"],
        "table": ["header", "episodes"],
        "sha256": ["a" * 64, "b" * 64],
    }
)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree_hashes(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): _sha(p) for p in sorted(root.rglob("*")) if p.is_file()}


def make_candidate(output: Path, release: str, files: int, seed: int) -> ReleasePaths:
    """A candidate release the size of a small real one: many CSV/HTML files + manifest.

    Built by hand (not by the publication stage) so the test exercises only the
    publishing step; the manifest lists every file's SHA-256 as the real one does.
    """
    paths = ReleasePaths(output, release)
    rng = random.Random(seed)
    entries = {}
    for i in range(files):
        sub = "data" if i % 3 else "la"
        path = paths.candidate / sub / f"table_{i:04d}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        body = "".join(f"{rng.randint(0, 999)},{rng.random():.6f}\n" for _ in range(800))
        path.write_text("a,b\n" + body)
        entries[path.relative_to(paths.candidate).as_posix()] = _sha(path)
    (paths.candidate / "manifest.json").write_text(
        json.dumps({"release": release, "files": file_hashes(paths.candidate)}, indent=1)
    )
    write_candidate_record(
        paths.qa,
        inventory=INVENTORY,
        checks={"disclosure_audit": True},
        manifest_sha256=_sha(paths.candidate / "manifest.json"),
    )
    record_approval(paths, reviewer="crash test", current_inputs_sha256=inputs_sha256(INVENTORY))
    return paths


PUBLISH_SCRIPT = """
import sys
from pathlib import Path
from assets.approval.gate import ReleasePaths, publish_approved
from assets.common.atomic import clean_stale_staging
paths = ReleasePaths(Path(sys.argv[1]), sys.argv[2])
print("READY", flush=True)
publish_approved(paths, current_inputs_sha256=sys.argv[3])
print("DONE", flush=True)
"""


def _spawn(output: Path, release: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", PUBLISH_SCRIPT, str(output), release, inputs_sha256(INVENTORY)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _publish_duration(output: Path, release: str) -> float:
    """How long one uninterrupted publish takes here, so kills spread across all of it."""
    proc = _spawn(output, release)
    assert proc.stdout.readline().strip() == "READY"
    t0 = time.perf_counter()
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return time.perf_counter() - t0


def assert_no_partial_release(publications: Path, release: str, candidate: ReleasePaths) -> bool:
    """Return True if the release is (completely) published, False if absent."""
    visible = sorted(p.name for p in publications.iterdir() if not p.name.startswith("."))
    hidden = sorted(p.name for p in publications.iterdir() if p.name.startswith("."))
    assert set(visible) <= {"previous", release}, visible
    assert all(h.startswith(".staging-") for h in hidden), hidden
    if release not in visible:
        return False
    assert tree_hashes(publications / release) == tree_hashes(candidate.candidate), (
        "a release folder is visible but differs from the approved candidate"
    )
    return True


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX only")
def test_sigkill_during_publication_never_leaves_a_partial_or_damaged_release(tmp_path):
    output = tmp_path / "output"
    previous = make_candidate(output, "previous", files=30, seed=1)
    publish_approved(previous, current_inputs_sha256=inputs_sha256(INVENTORY))
    before = tree_hashes(previous.published)

    candidate = make_candidate(output, "2025-new", files=240, seed=2)
    publications = output / "publications"
    duration = _publish_duration(output, "2025-new")
    assert assert_no_partial_release(publications, "2025-new", candidate)
    _reset(publications / "2025-new")

    rng = random.Random(SEED)
    outcomes = {"killed before rename": 0, "completed before kill": 0}
    for _ in range(KILLS):
        proc = _spawn(output, "2025-new")
        assert proc.stdout.readline().strip() == "READY"
        time.sleep(rng.uniform(0, duration * 0.9))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)

        assert tree_hashes(previous.published) == before, "the previous release changed"
        if assert_no_partial_release(publications, "2025-new", candidate):
            outcomes["completed before kill"] += 1
        else:
            outcomes["killed before rename"] += 1
            # The next run succeeds, publishes the complete release and cleans up.
            proc = _spawn(output, "2025-new")
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            assert assert_no_partial_release(publications, "2025-new", candidate)
            leftovers = [p.name for p in publications.iterdir() if p.name.startswith(".")]
            assert not leftovers, f"the next run left staging folders behind: {leftovers}"
        assert tree_hashes(previous.published) == before
        _reset(publications / "2025-new")

    # The delays must actually have interrupted publications, not only missed them (a
    # loaded machine makes single publishes faster or slower than the measured one).
    assert outcomes["killed before rename"] >= KILLS // 4, outcomes


def _reset(release_dir: Path) -> None:
    """Test harness only: remove the new release so the next iteration publishes again."""
    import shutil

    shutil.rmtree(release_dir, ignore_errors=True)


def test_disk_full_mid_copy_keeps_previous_release_and_removes_staging(tmp_path, monkeypatch):
    """An exception mid-copy (disk full) is the polite cousin of SIGKILL: same guarantees,
    and the staging folder is removed at once."""
    import errno
    import shutil

    import assets.approval.gate as approval

    output = tmp_path / "output"
    previous = make_candidate(output, "previous", files=5, seed=3)
    publish_approved(previous, current_inputs_sha256=inputs_sha256(INVENTORY))
    before = tree_hashes(previous.published)
    candidate = make_candidate(output, "full-disk", files=20, seed=4)

    copied = []
    real_copyfile = shutil.copyfile

    def copy_until_full(src, dst, *a, **kw):
        if len(copied) >= 7:
            raise OSError(errno.ENOSPC, "No space left on device")
        copied.append(src)
        return real_copyfile(src, dst, *a, **kw)

    monkeypatch.setattr(approval.shutil, "copyfile", copy_until_full)
    with pytest.raises((OSError, shutil.Error)):
        publish_approved(candidate, current_inputs_sha256=inputs_sha256(INVENTORY))
    assert len(copied) == 7  # the failure really happened part-way through the copy
    publications = output / "publications"
    assert sorted(p.name for p in publications.iterdir()) == ["previous"]
    assert tree_hashes(previous.published) == before
