"""Same inputs, same bytes: two full runs give byte-identical public files and manifests.

In CI the two halves of the pipeline are checked separately in fresh processes (the full
build is slow while secondary suppression takes minutes; `pytest -m slow` runs it):
ingest -> validation -> history -> measures on synthetic returns, and the candidate
release from fixed disclosure-controlled tables. The slow test runs the whole thing.

The two runs differ in everything that should not matter: working directory, output
folder, landing folder path, Dagster home, ``PYTHONHASHSEED`` (set iteration order and
hash-based ordering), file modification times of the inputs and the reviewer's name and
approval time. They run ``reentry run`` then ``reentry approve`` as separate processes,
exactly as a statistician would.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RELEASE = "determinism"


def _cli(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    from synthetic.generator import generate

    out = tmp_path_factory.mktemp("synth") / "landing"
    generate(out=out, first_year=2022, last_year=2024, scale=0.01, seed=11, error_rate=0.01)
    return out


def _full_run(base: Path, landing: Path, hashseed: str, reviewer: str) -> Path:
    """Copy the inputs (fresh modification times), run and approve in a new directory."""
    work = base / "work"
    work.mkdir(parents=True)
    inputs = base / "inputs" / "landing"
    shutil.copytree(landing, inputs, copy_function=shutil.copy)  # copy: new mtimes
    output = base / "output"
    env = {
        **os.environ,
        "PYTHONHASHSEED": hashseed,
        "DAGSTER_HOME": str(base / "dagster_home"),
        "PYTHONPATH": str(ROOT),
    }
    (base / "dagster_home").mkdir()
    run = _cli(
        ["run", "--landing", str(inputs), "--output", str(output), "--release", RELEASE], work, env
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    approve = _cli(["approve", RELEASE, "--reviewer", reviewer, "--output", str(output)], work, env)
    assert approve.returncode == 0, approve.stdout[-3000:] + approve.stderr[-3000:]
    return output


@pytest.mark.slow  # a full build takes minutes while secondary suppression is slow
def test_two_runs_in_different_places_publish_byte_identical_releases(landing, tmp_path):
    first = _full_run(tmp_path / "a", landing, hashseed="1", reviewer="Reviewer One")
    time.sleep(1.1)  # a wall-clock second apart: any timestamp in a file would differ
    second = _full_run(tmp_path / "b" / "deeper", landing, hashseed="4242", reviewer="Two")

    pub_a, pub_b = first / "publications" / RELEASE, second / "publications" / RELEASE
    tree_a, tree_b = _tree(pub_a), _tree(pub_b)
    assert tree_a, "nothing was published"
    assert "manifest.json" in tree_a
    assert sorted(tree_a) == sorted(tree_b)
    differing = [name for name in tree_a if tree_a[name] != tree_b[name]]
    assert not differing, f"files differ between runs: {differing[:20]}"

    # The candidate's manifest (restricted) is the one the reviewer approved: identical too.
    cand_a = first / "restricted" / RELEASE / "candidate" / "manifest.json"
    cand_b = second / "restricted" / RELEASE / "candidate" / "manifest.json"
    assert cand_a.read_bytes() == cand_b.read_bytes()
    # And no absolute path of either run leaked into a public file.
    for path in pub_a.rglob("*"):
        if path.is_file() and path.suffix in {".csv", ".json", ".html", ".txt", ".md"}:
            text = path.read_text(encoding="utf-8", errors="replace")
            assert str(tmp_path) not in text, f"{path.name} contains a local path"


STAGES_SCRIPT = """
import sys
from pathlib import Path
from validation.collection_year import validate_collection_year
from assets.history.history import build_episode_history
from assets.measures.tables import build_measures
landing, out = Path(sys.argv[1]), Path(sys.argv[2])
years = [validate_collection_year(landing, y) for y in (2022, 2023, 2024)]
history = build_episode_history(years)
measures = build_measures(history.episode_history, history.la_year_status)
out.mkdir(parents=True)
tables = {
    "episode_history": history.episode_history,
    "la_year_status": history.la_year_status,
    "failures": history.failures,
    "ledger": history.ledger,
    **{name: getattr(measures, name) for name in
       ("reentry", "ceased_by_reason", "time_to_reentry", "index_returns")},
}
for name, frame in tables.items():
    frame.to_csv(out / f"{name}.csv", index=False, lineterminator="\\n")
"""

CANDIDATE_SCRIPT = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from publication_fixtures import small_inputs
from assets.publication.candidate import build_candidate
build_candidate(Path(sys.argv[1]), **small_inputs())
"""


def _python(script: str, args: list[str], cwd: Path, hashseed: str) -> None:
    env = {**os.environ, "PYTHONHASHSEED": hashseed, "PYTHONPATH": str(ROOT)}
    res = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr[-3000:]


def test_validation_history_and_measures_identical_across_processes(landing, tmp_path):
    outs = []
    for name, seed in (("a", "0"), ("b", "31337")):
        work = tmp_path / name
        work.mkdir()
        inputs = work / "landing"
        shutil.copytree(landing, inputs, copy_function=shutil.copy)
        _python(STAGES_SCRIPT, [str(inputs), str(work / "out")], work, seed)
        outs.append(_tree(work / "out"))
    assert outs[0] and outs[0] == outs[1], [k for k in outs[0] if outs[0][k] != outs[1].get(k)]


def test_candidate_release_identical_across_processes_and_hash_seeds(tmp_path):
    trees = []
    for name, seed in (("a", "2"), ("b", "9001")):
        work = tmp_path / name / "deeper"
        work.mkdir(parents=True)
        _python(CANDIDATE_SCRIPT, [str(work / "candidate"), str(ROOT / "tests")], work, seed)
        trees.append(_tree(work / "candidate"))
    assert "manifest.json" in trees[0]
    differing = [k for k in trees[0] if trees[0][k] != trees[1].get(k)]
    assert sorted(trees[0]) == sorted(trees[1]) and not differing, differing[:20]
