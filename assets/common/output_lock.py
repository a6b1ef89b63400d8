"""One writer at a time per output folder, and a restricted folder only its owner can read.

Two runs writing one output folder at once mixed their data (figures from one landing
folder, inputs record and QA pack from the other), and two approvals of one release both
reported success. Every run and every approval therefore holds an exclusive lock on
``OUTPUT/restricted/.lock`` for its whole length. The lock is an ``flock``: the kernel
releases it when the holder exits, however it exits (SIGKILL included), so a crash never
leaves a stale lock. The file records who holds it, so the refusal can name the holder.

The lock is re-entrant within a process: ``reentry run`` takes it for the whole run, and
the candidate and publishing steps take it again (a no-op here, a real lock for a run
started from the UI or the schedule).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

LOCK_NAME = ".lock"
RESTRICTED_MODE = 0o700

_held: dict[str, list] = {}  # lock path -> [fd, depth]
_guard = threading.Lock()


class OutputFolderBusy(RuntimeError):
    """Another run or approval holds the output folder; the message names it."""


def restricted_root(output: Path) -> Path:
    """``OUTPUT/restricted``, created readable by its owner only (child-level data)."""
    root = Path(output) / "restricted"
    root.mkdir(parents=True, exist_ok=True)
    if root.stat().st_mode & 0o777 != RESTRICTED_MODE:
        os.chmod(root, RESTRICTED_MODE)
    return root


def lock_path(output: Path) -> Path:
    return Path(output) / "restricted" / LOCK_NAME


def _holder_text(path: Path) -> str:
    try:
        holder = json.loads(path.read_text(encoding="utf-8"))
        return (
            f"{holder.get('purpose', 'a run')} (process {holder.get('pid')} of "
            f"{holder.get('user', '?')} on {holder.get('host', '?')}, started "
            f"{holder.get('started_utc', '?')})"
        )
    except (OSError, ValueError, AttributeError):
        return "another process (its details could not be read)"


@contextmanager
def output_lock(output: Path, purpose: str) -> Iterator[None]:
    """Hold the output folder's exclusive lock for the block, or refuse at once, naming
    the holder: a second run must wait for the first rather than interleave with it."""
    path = lock_path(Path(output).resolve())
    key = str(path)
    with _guard:
        if key in _held:
            _held[key][1] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            with _guard:
                _held[key][1] -= 1
        return
    restricted_root(path.parents[1])
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise OutputFolderBusy(
            f"output folder {path.parents[1]} is in use by {_holder_text(path)}; wait for it "
            "to finish (one run or approval at a time per output folder)"
        ) from None
    holder = {
        "purpose": purpose,
        "pid": os.getpid(),
        "user": _user(),
        "host": socket.gethostname(),
        "command": " ".join(sys.argv[:3]),
        "started_utc": datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
    }
    os.ftruncate(fd, 0)
    os.pwrite(fd, (json.dumps(holder, sort_keys=True) + "\n").encode(), 0)
    with _guard:
        _held[key] = [fd, 1]
    try:
        yield
    finally:
        with _guard:
            del _held[key]
        os.ftruncate(fd, 0)
        os.close(fd)  # releases the flock


def _user() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):
        return str(os.getuid())
