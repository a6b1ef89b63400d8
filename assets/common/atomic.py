"""Write a whole folder so that readers see either the old one or the complete new one.

A release is many files; writing them in place would let an interrupted run leave a
partial release. We write into a hidden sibling folder and rename it into place: a rename
within one file system is atomic on POSIX, so no reader ever sees a half-written folder.
"""

from __future__ import annotations

import ctypes
import errno
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
def atomic_directory(final: Path, *, replace: bool = False, durable: bool = True) -> Iterator[Path]:
    """Yield an empty staging folder; on success rename it to ``final``.

    ``replace=False`` refuses to overwrite an existing folder (published releases are never
    modified). With ``replace=True`` the old folder is swapped out and removed only after
    the new one is in place. On any exception the staging folder is deleted and ``final``
    is untouched. ``durable=False`` skips flushing the files to disk before the rename:
    still atomic for every reader, but a power cut may leave the renamed files incomplete
    (for scratch data that the next run rebuilds, such as the pipeline's intermediates).
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
        if durable:
            _fsync_tree(staging)
        if not final.exists():
            os.rename(staging, final)
        elif _exchange(staging, final):
            shutil.rmtree(staging, ignore_errors=True)  # now holds the old folder
        else:
            retired = final.parent / f".staging-retired-{final.name}-{os.getpid()}"
            os.rename(final, retired)
            os.rename(staging, final)
            shutil.rmtree(retired, ignore_errors=True)
        _fsync_dir(final.parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


_RENAME_EXCHANGE = 2  # linux/fs.h: swap two paths in one step


def _exchange(a: Path, b: Path) -> bool:
    """Swap ``a`` and ``b`` with one ``renameat2(RENAME_EXCHANGE)`` call (Linux 3.15+).

    False where the call is not available (another OS, an old kernel or file system), so
    the caller falls back to two renames."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    result = renameat2(
        at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), ctypes.c_uint(_RENAME_EXCHANGE)
    )
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(a))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def sealed_directory(final: Path) -> Iterator[Path]:
    """Yield an empty staging folder; on success make it ``final`` in one atomic step.

    For a folder whose parts must always come from the same run (a candidate release and
    its QA pack): where ``final`` already exists the two folders are exchanged by a single
    ``renameat2(RENAME_EXCHANGE)``, so a reader, or a crash at any instant, sees either
    the whole old folder or the whole new one, never a mixture and never neither. Only on
    systems without the exchange call is there a moment between two renames when
    ``final`` is absent (the old folder then survives, hidden, as ``.staging-retired-*``).
    On any exception the staging folder is deleted and ``final`` is untouched.
    """
    with atomic_directory(final, replace=True) as staging:
        yield staging


def remove_stale_temporary_files(root: Path) -> list[Path]:
    """Delete temporary files (``.*.tmp``) and staging folders left under ``root`` by
    writers that no longer exist (killed, or stopped by a full disk).

    A temporary file or staging folder is named after its writer's process id; one whose
    writer is still alive is left alone."""
    removed: list[Path] = []
    if not Path(root).is_dir():
        return removed
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*filenames, *dirnames]:
            pid = _writer_pid(name)
            if pid is None or _alive(pid):
                continue
            path = Path(dirpath, name)
            if name.startswith(".staging-retired-"):
                final = path.with_name(name.removeprefix(".staging-retired-").rsplit("-", 1)[0])
                if not final.exists():
                    continue  # may hold the only copy of a folder: kept for the operator
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
                dirnames.remove(name)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
    return sorted(removed)


def _writer_pid(name: str) -> int | None:
    """The writer's process id in a temporary name (``.x.<pid>.tmp``, ``.staging-x-<pid>``)."""
    if name.startswith(".") and name.endswith(".tmp"):
        tail = name[: -len(".tmp")].rsplit(".", 1)[-1]
    elif name.startswith(".staging-"):
        tail = name.rsplit("-", 1)[-1]
    else:
        return None
    return int(tail) if tail.isdigit() else None


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # a live process of another user
    return True


def write_json_atomically(path: Path, payload: dict) -> None:
    """Write JSON via a temporary file and rename, so a reader never sees half a record."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a full disk must not leave half a record behind
        raise
