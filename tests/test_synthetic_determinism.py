"""Same arguments, same bytes: in one process, and across processes with different
PYTHONHASHSEED (no dict/set order or hash randomness reaches the output)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from synthetic.generator import generate

ARGS = {"first_year": 2023, "last_year": 2025, "scale": 0.01, "seed": 3, "error_rate": 0.02}


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_arguments_give_byte_identical_returns_and_truth(tmp_path):
    generate(tmp_path / "a", truth=tmp_path / "ta", **ARGS)
    generate(tmp_path / "b", truth=tmp_path / "tb", **ARGS)
    a, b = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    assert len(a) > 400
    assert a == b
    assert _digest(tmp_path / "ta") == _digest(tmp_path / "tb")


def test_output_does_not_depend_on_python_hash_seed(tmp_path):
    code = (
        "import sys; from pathlib import Path; from synthetic.generator import generate; "
        f"generate(Path(sys.argv[1]), truth=Path(sys.argv[2]), **{ARGS!r})"
    )
    repo = Path(__file__).resolve().parents[1]
    for name, hash_seed in (("x", "1"), ("y", "12345")):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run(
            [sys.executable, "-c", code, str(tmp_path / name), str(tmp_path / f"t{name}")],
            check=True, cwd=repo, env=env,
        )  # fmt: skip
    assert _digest(tmp_path / "x") == _digest(tmp_path / "y")
    assert _digest(tmp_path / "tx") == _digest(tmp_path / "ty")


def test_different_seed_gives_different_returns(tmp_path):
    generate(tmp_path / "a", **ARGS)
    generate(tmp_path / "b", **{**ARGS, "seed": 4})
    assert _digest(tmp_path / "a") != _digest(tmp_path / "b")


def test_refuses_to_mix_runs_in_one_landing_folder(tmp_path):
    import pytest

    generate(tmp_path / "landing", 2025, 2025, scale=0.01, seed=1)
    before = _digest(tmp_path / "landing")
    with pytest.raises(FileExistsError, match="collection-year folders"):
        generate(tmp_path / "landing", 2024, 2025, scale=0.01, seed=2)
    assert _digest(tmp_path / "landing") == before
    assert not list(tmp_path.glob(".*staging*"))


def test_rejects_collection_years_the_la_lookup_does_not_cover(tmp_path):
    import pytest

    with pytest.raises(ValueError, match="2014-2025"):
        generate(tmp_path / "landing", 2016, 2026, scale=0.01)
    assert not (tmp_path / "landing").exists()
