"""The package works installed from a wheel, not only from a checkout: reference data and
templates are package data, read with ``importlib.resources``."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = textwrap.dedent(
    """
    import sys
    from importlib import resources
    from pathlib import Path

    import assets.common.reference as reference
    from assets.publication import website
    from validation import report

    checkout = Path(sys.argv[1])
    for module in (reference, website, report):
        assert checkout not in Path(module.__file__).resolve().parents, module.__file__
    las = reference.load_las()
    assert len(las) > 150 and las["la_name"].str.len().gt(0).all()
    assert len(reference.load_statistical_neighbours()) > 0
    assert reference.load_rules()["code"].astype(str).str.len().gt(0).all()
    env = website._env()
    assert {"index.html.j2", "la.html.j2", "methodology.html.j2"} <= set(env.list_templates())
    assert "summary.html.j2" in report._env().list_templates()
    css = resources.files("templates").joinpath("static", "style.css").read_bytes()
    assert len(css) > 100
    print("OK", len(las))
    """
)


def test_wheel_carries_reference_data_and_templates(tmp_path):
    wheel_dir, target = tmp_path / "wheel", tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(wheel_dir),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = wheel_dir.glob("reentry-*.whl")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    # Run from an empty folder with the wheel's copy first on the path, so nothing can be
    # found in the checkout by accident.
    run = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            f"import sys; sys.path.insert(0, {str(target)!r}); exec({PROBE!r})",
            str(ROOT),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.startswith("OK")
