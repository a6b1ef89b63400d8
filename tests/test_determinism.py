"""Same inputs, same bytes: two full runs give byte-identical public files and manifests.

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
