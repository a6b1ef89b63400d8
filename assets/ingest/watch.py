"""Detect new and changed SSDA903 return files in the landing folder (no Dagster here).

A change is a change of content: a file's SHA-256 is recomputed only when its size or
modification time moved, and a touched-but-identical file is not a change. Folder names
that are not a collection year and an LA (``assets.ingest.layout``) are reported, never fatal: one badly named upload must not
stop the sensor from seeing the others.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from assets.common.hashing import file_sha256
from assets.ingest.layout import (
    PREVIOUS_YEAR_FOLDER,
    collection_year_of,
    is_la_folder,
    is_year_folder,
)


@dataclass(frozen=True)
class FileState:
    size: int
    mtime_ns: int
    sha256: str


@dataclass
class LandingScan:
    files: dict[str, FileState] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def scan_landing(landing: Path, known: dict[str, FileState] | None = None) -> LandingScan:
    """Every return file under ``landing/<year>/`` (in LA folders or directly in the year
    folder; layouts as ``assets.ingest.layout``) with its content hash.

    ``known`` (the previous scan) lets unchanged files skip re-hashing.
    """
    known = known or {}
    scan = LandingScan()
    if not landing.is_dir():
        scan.problems.append(f"landing folder {landing} does not exist")
        return scan
    for year_dir in sorted(landing.iterdir()):
        if year_dir.name.startswith("."):
            continue
        if not year_dir.is_dir():
            scan.problems.append(f"{year_dir.name}: file outside a collection-year folder, ignored")
            continue
        if not is_year_folder(year_dir.name):
            scan.problems.append(
                f"{year_dir.name}/: not a collection year (accepted: 2024, 2023-24, 202324, "
                "2023_24), ignored"
            )
            continue
        for la_dir in sorted(year_dir.iterdir()):
            if la_dir.name.startswith("."):
                continue
            if la_dir.is_file():
                _add(scan, landing, la_dir, known)
                continue
            if not la_dir.is_dir() or not is_la_folder(la_dir.name):
                scan.problems.append(
                    f"{year_dir.name}/{la_dir.name}: not an LA folder (expected a 3-digit DfE "
                    "LA code, an ONS code or an LA name), ignored"
                )
                continue
            for path in sorted(la_dir.iterdir()):
                if path.is_dir() and PREVIOUS_YEAR_FOLDER.fullmatch(path.name):
                    continue  # last year's files: read from their own year folder
                if not path.is_file() or path.name.startswith("."):
                    continue
                _add(scan, landing, path, known)
    return scan


def _add(scan: LandingScan, landing: Path, path: Path, known: dict[str, FileState]) -> None:
    rel = path.relative_to(landing).as_posix()
    try:
        stat = path.stat()
    except OSError as exc:  # one unreadable file must not stop the scan
        scan.problems.append(f"{rel}: cannot be read ({exc.strerror}), ignored")
        return
    prior = known.get(rel)
    if prior and prior.size == stat.st_size and prior.mtime_ns == stat.st_mtime_ns:
        scan.files[rel] = prior
        return
    try:
        scan.files[rel] = FileState(stat.st_size, stat.st_mtime_ns, file_sha256(path))
    except OSError as exc:
        scan.problems.append(f"{rel}: cannot be read ({exc.strerror}), ignored")


def changed_files(
    previous: dict[str, FileState], current: dict[str, FileState]
) -> dict[str, tuple[str | None, str | None]]:
    """Files added, removed or whose content changed: path -> (old sha256, new sha256)."""
    out = {}
    for rel in sorted(set(previous) | set(current)):
        old = previous[rel].sha256 if rel in previous else None
        new = current[rel].sha256 if rel in current else None
        if old != new:
            out[rel] = (old, new)
    return out


def run_key_for(changes: dict[str, tuple[str | None, str | None]]) -> str:
    """A key determined by exactly which file versions changed, so a change runs once."""
    material = "\n".join(f"{rel}:{old}:{new}" for rel, (old, new) in sorted(changes.items()))
    return hashlib.sha256(material.encode()).hexdigest()[:24]


def years_of(changes: dict[str, tuple[str | None, str | None]]) -> list[int]:
    years = {collection_year_of(rel.split("/", 1)[0]) for rel in changes}
    return sorted(y for y in years if y is not None)
