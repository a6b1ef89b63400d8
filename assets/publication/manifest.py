"""The release manifest: every public file's size and SHA-256, the inputs, the software and
the disclosure audit's verdict; and the check of a folder against it.
"""

from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass, field
from datetime import date
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from assets.common.hashing import file_sha256
from assets.common.release_folders import MANIFEST_NAME

SOFTWARE = ["pandas", "pandera", "dagster", "openpyxl", "jinja2", "scipy", "numpy", "pyarrow"]


def software_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in SOFTWARE:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def json_safe(value):
    """JSON-safe plain Python values from numpy/pandas scalars, Series and frames."""
    if isinstance(value, pd.DataFrame):
        return [json_safe(r) for r in value.to_dict(orient="records")]
    if isinstance(value, pd.Series):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, Path):
        return value.as_posix()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def audit_summary(audit) -> dict:
    """The disclosure audit's headline figures (assets.disclosure.audit.AuditResult or a dict)."""
    get = audit.get if isinstance(audit, dict) else lambda k, d=None: getattr(audit, k, d)
    return json_safe(
        {
            "passed": bool(get("passed", False)),
            "cells_checked": get("cells_checked"),
            "narrowest_width": get("narrowest_width"),
            "cells_by_reason": get("cells_by_reason", {}),
        }
    )


@dataclass
class Manifest:
    release: dict
    files: list[dict]
    inputs: list[dict]
    software: dict
    disclosure_audit: dict
    return_status: dict = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def file_hashes(folder: Path, *, exclude: tuple[str, ...] = (MANIFEST_NAME,)) -> list[dict]:
    folder = Path(folder)
    out = []
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        if p.is_file() and rel not in exclude:
            out.append({"path": rel, "bytes": p.stat().st_size, "sha256": file_sha256(p)})
    return out


def verify_manifest(folder: Path) -> list[str]:
    """Problems found comparing a release folder with its manifest (empty = all match)."""
    folder = Path(folder)
    manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    listed = {f["path"]: f for f in manifest["files"]}
    actual = {f["path"]: f for f in file_hashes(folder)}
    problems = [f"{p}: not in manifest" for p in sorted(set(actual) - set(listed))]
    problems += [f"{p}: listed but missing" for p in sorted(set(listed) - set(actual))]
    for p in sorted(set(listed) & set(actual)):
        if listed[p] != actual[p]:
            problems.append(f"{p}: size or SHA-256 differs from manifest")
    return problems
