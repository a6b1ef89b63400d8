"""Detect new and changed SSDA903 return files in the landing folder (no Dagster here).

A change is a change of content: a file's SHA-256 is recomputed only when its size or
modification time moved, and a touched-but-identical file is not a change. A file counts
only once it has settled (the same size and modification time at two looks in a row), so
an upload still being written, or one churning under a temporary name, never requests a
run. Folder names that are not a collection year and an LA (``assets.ingest.layout``) and
entries that cannot be read are reported, never fatal: one bad upload must not stop the
sensor from seeing the others.
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

# Names that upload tools give a file while it is still being written.
IN_PROGRESS_SUFFIXES = (".part", ".partial", ".tmp", ".crdownload", ".filepart", ".upload")


@dataclass(frozen=True)
class FileState:
    size: int
    mtime_ns: int
    sha256: str


@dataclass
class LandingScan:
    """``files``: every settled file's state (a file still changing keeps its last settled
    state, if any); ``unsettled``: files seen changing at this look, with their size and
    modification time, to be compared at the next look."""

    files: dict[str, FileState] = field(default_factory=dict)
    unsettled: dict[str, tuple[int, int]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _entries(folder: Path, scan: LandingScan, landing: Path) -> list[Path]:
    try:
        return sorted(folder.iterdir())
    except OSError as err:
        rel = folder.relative_to(landing).as_posix() or "."
        scan.problems.append(f"{rel}: cannot be listed ({err.strerror or err}); skipped")
        return []


def scan_landing(
    landing: Path,
    known: dict[str, FileState] | None = None,
    unsettled: dict[str, tuple[int, int]] | None = None,
) -> LandingScan:
    """Every settled return file under ``landing/<year>/`` (in LA folders or directly in the
    year folder; layouts as ``assets.ingest.layout``) with its content hash.

    ``known`` (the previous scan's settled files) lets unchanged files skip re-hashing;
    ``unsettled`` (the previous scan's changing files) is what makes a file settled now.
    An entry that cannot be read keeps its last known state and is reported.
    """
    known = known or {}
    unsettled = unsettled or {}
    scan = LandingScan()
    if not landing.is_dir():
        scan.problems.append(f"landing folder {landing} does not exist")
        return scan
    for year_dir in _entries(landing, scan, landing):
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
        for la_dir in _entries(year_dir, scan, landing):
            if la_dir.name.startswith("."):
                continue
            if la_dir.is_file():  # several LAs' files directly in the year folder
                _look_at(la_dir, landing, known, unsettled, scan)
                continue
            if not la_dir.is_dir() or not is_la_folder(la_dir.name):
                scan.problems.append(
                    f"{year_dir.name}/{la_dir.name}: not an LA folder (expected a 3-digit DfE "
                    "LA code, an ONS code or an LA name), ignored"
                )
                continue
            for path in _entries(la_dir, scan, landing):
                if path.is_dir() and PREVIOUS_YEAR_FOLDER.fullmatch(path.name):
                    continue  # last year's files: read from their own year folder
                _look_at(path, landing, known, unsettled, scan)
    return scan


def _look_at(
    path: Path,
    landing: Path,
    known: dict[str, FileState],
    unsettled: dict[str, tuple[int, int]],
    scan: LandingScan,
) -> None:
    name = path.name
    if name.startswith(".") or name.lower().endswith(IN_PROGRESS_SUFFIXES):
        return
    rel = path.relative_to(landing).as_posix()
    prior = known.get(rel)
    try:
        if not path.is_file():
            return
        stat = path.stat()
        seen = (stat.st_size, stat.st_mtime_ns)
        if prior and (prior.size, prior.mtime_ns) == seen:
            scan.files[rel] = prior
        elif unsettled.get(rel) == seen:
            scan.files[rel] = FileState(*seen, file_sha256(path))
        else:
            scan.unsettled[rel] = seen
            if prior:
                scan.files[rel] = prior
    except OSError as err:
        scan.problems.append(f"{rel}: cannot be read ({err.strerror or err}); skipped")
        if prior:
            scan.files[rel] = prior
        scan.unsettled.pop(rel, None)


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
