"""The release manifest: every public file's size and SHA-256, the inputs' combined hash,
the software and the disclosure audit's verdict; and the check of a folder against it.

The manifest is public, so it names only published files: the landing files (whose names
an LA chooses, and whose sizes show how many rows it added) are listed by path and hash in
the restricted QA pack only (``inputs.json``), and here by one combined SHA-256.
"""

from __future__ import annotations

import json
import os
import platform
import stat
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
    inputs_sha256: str
    software: dict
    disclosure_audit: dict
    return_status: dict = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def folder_entries(folder: Path) -> tuple[list[Path], list[str]]:
    """The regular files under ``folder`` and every entry that is not a regular file or a
    folder (a symbolic link, a device, a pipe, a socket), found without following links.

    A release is only regular files: a link could point a copy at ``/etc/passwd`` or at
    restricted data, so links are reported, never followed."""
    folder = Path(folder)
    files: list[Path] = []
    odd: list[str] = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        for name in sorted(dirnames + filenames):
            path = Path(dirpath, name)
            mode = os.lstat(path).st_mode
            rel = path.relative_to(folder).as_posix()
            if stat.S_ISLNK(mode):
                odd.append(f"{rel}: a symbolic link (a release holds only regular files)")
            elif stat.S_ISREG(mode):
                files.append(path)
            elif not stat.S_ISDIR(mode):
                odd.append(f"{rel}: not a regular file (a release holds only regular files)")
        dirnames[:] = [d for d in dirnames if not Path(dirpath, d).is_symlink()]
    return sorted(files), sorted(odd)


def file_hashes(folder: Path, *, exclude: tuple[str, ...] = (MANIFEST_NAME,)) -> list[dict]:
    """Each regular file's path, size and SHA-256, in path order (links are not followed)."""
    folder = Path(folder)
    out = []
    for p in folder_entries(folder)[0]:
        rel = p.relative_to(folder).as_posix()
        if rel not in exclude:
            out.append({"path": rel, "bytes": p.stat().st_size, "sha256": file_sha256(p)})
    return sorted(out, key=lambda f: f["path"])


def verify_manifest(folder: Path) -> list[str]:
    """Problems found comparing a release folder with its manifest (empty = all match):
    a file changed, missing or not listed, and anything that is not a regular file."""
    folder = Path(folder)
    manifest_path = folder / MANIFEST_NAME
    if manifest_path.is_symlink() or not manifest_path.is_file():
        return [f"{MANIFEST_NAME}: missing or not a regular file"]
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        listed = {str(f["path"]): f for f in manifest["files"]}
    except (ValueError, KeyError, TypeError) as err:
        return [f"{MANIFEST_NAME}: not a release manifest ({err})"]
    problems = list(folder_entries(folder)[1])
    actual = {f["path"]: f for f in file_hashes(folder)}
    problems += [f"{p}: not in manifest" for p in sorted(set(actual) - set(listed))]
    problems += [f"{p}: listed but missing" for p in sorted(set(listed) - set(actual))]
    for p in sorted(set(listed) & set(actual)):
        want = listed[p]
        if (want.get("bytes"), want.get("sha256")) != (actual[p]["bytes"], actual[p]["sha256"]):
            problems.append(f"{p}: size or SHA-256 differs from manifest")
    return problems
