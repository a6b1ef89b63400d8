"""Write a whole folder so that readers see either the old one or the complete new one.

A release is many files; writing them in place would let an interrupted run leave a
partial release. We write into a hidden sibling folder and rename it into place: a rename
within one file system is atomic on POSIX, so no reader ever sees a half-written folder.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    """Flush file contents and directory entries so a crash after rename loses nothing.

    The files are flushed from a few threads at once (fsync releases the GIL): a release
    is over 300 files, and one fsync after another waited for the disk 300 times. Every
    flush has finished before this returns, so the rename still follows them all."""
    files, dirs = [], []
    for dirpath, _dirnames, filenames in os.walk(root):
        files += [os.path.join(dirpath, name) for name in filenames]
        dirs.append(dirpath)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(_fsync, files))
        list(pool.map(_fsync, dirs))


def clean_stale_staging(parent: Path) -> list[Path]:
    """Remove staging folders left by interrupted runs; they were never visible releases."""
    removed = []
    if parent.is_dir():
        for p in sorted(parent.glob(".staging-*")):
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed


def _remove_dead_staging(final: Path) -> None:
    """Remove ``final``'s staging folders whose writer process no longer exists (killed
    mid-write); a live writer's folder is left alone. Retired folders are kept: after a
    kill between the two renames of a replace, one may hold the only copy."""
    for stale in final.parent.glob(f".staging-{final.name}-*"):
        pid = stale.name.rsplit("-", 1)[-1]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(stale, ignore_errors=True)
        except PermissionError:
            pass  # a live process of another user


@contextmanager
def atomic_directory(final: Path, *, replace: bool = False) -> Iterator[Path]:
    """Yield an empty staging folder; on success rename it to ``final``.

    ``replace=False`` refuses to overwrite an existing folder (published releases are never
    modified). With ``replace=True`` the old folder is swapped out and removed only after
    the new one is in place. On any exception the staging folder is deleted and ``final``
    is untouched.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists() and not replace:
        raise FileExistsError(f"{final} already exists; releases are never overwritten")
    _remove_dead_staging(final)
    staging = final.parent / f".staging-{final.name}-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    try:
        yield staging
        _fsync_tree(staging)
        if final.exists():
            retired = final.parent / f".staging-retired-{final.name}-{os.getpid()}"
            os.rename(final, retired)
            os.rename(staging, final)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.rename(staging, final)
        fd = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_json_atomically(path: Path, payload: dict) -> None:
    """Write JSON via a temporary file and rename, so a reader never sees half a record."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)
