"""The README's main command, end to end: `reentry demo` generates, runs, approves and
publishes a release that then passes `reentry check`. CI runs it on a hundredth of the
national volumes over three years (the default, national ten-year run takes about five
minutes and is measured by benchmarks/run_all.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def _reentry(args, tmp_path):
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "dagster_home")}
    (tmp_path / "dagster_home").mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )


SMALL = ["--scale", "0.01", "--first-year", "2023"]


def test_demo_publishes_a_release_that_passes_every_check(tmp_path):
    landing, output = tmp_path / "landing", tmp_path / "out"
    demo = _reentry(["demo", *SMALL, "--landing", str(landing), "--output", str(output)], tmp_path)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "approving automatically" in demo.stdout
    release = output / "publications" / "2025"
    manifest = json.loads((release / "manifest.json").read_text())
    assert manifest["files"], "manifest lists no files"
    assert (release / "data" / "la_reentry_to_care.csv").is_file()
    assert (release / "index.html").is_file()
    # Child-level material stays under restricted/, never in the public release.
    assert (output / "restricted" / "2025" / "qa" / "validation").is_dir()
    assert not list(release.rglob("*ledger*")) and not list(release.rglob("*failures*"))

    check = _reentry(["check", str(release)], tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "4 of 4 checks passed" in check.stdout

    again = _reentry(["demo", *SMALL, "--landing", str(landing), "--output", str(output)], tmp_path)
    assert again.returncode == 0
    assert "never replaced" in again.stdout
