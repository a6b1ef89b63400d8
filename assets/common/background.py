"""Run one function in a forked child process while this process does other work.

Validation of the collection years, the publication stage and its QA pack are
independent pieces of single-threaded pandas and zlib work (half the years beside the
other half; the spreadsheet beside the HTML pages; the reviewers' reports beside the
release), so on a 2-core machine a second process nearly halves their wall time. ``fork``
is used because the child needs the parent's frames: they are shared copy-on-write, not
pickled. The child's result (None where it only writes files, the validated years for
validation) and any exception come back through a pipe, and the exception is raised again
in the parent, so a failure in the child fails the caller exactly as it would have inline.

At most ``cpu_count`` workers run at once (two on a 2-core machine): a task started
while they are busy, or where ``fork`` is unavailable, or with ``REENTRY_SERIAL=1``, runs
inline when started. The parent spends part of each task's life waiting for it, so one
worker per core keeps both cores busy where ``cpu_count - 1`` left one idle (the
candidate step: QA reports and spreadsheet beside the pages, 0.5 s sooner); more would
not finish sooner and each worker costs memory. Output never depends on which path ran:
each side writes its own files.
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing as mp
import os
import pickle
import signal
import traceback
from collections.abc import Callable
from typing import Any

_PR_SET_PDEATHSIG = 1


class BackgroundError(RuntimeError):
    """The child failed with an exception that could not be sent back as itself."""


def _die_with_parent(parent: int) -> None:
    """A child must not outlive a killed parent (SIGKILL runs no clean-up in the parent)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the parent's wait still reaps it
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


# The result of a child that wrote it to the memory file rather than the pipe.
_IN_MEMORY_FILE = "result in the memory file"


def _result_file() -> int | None:
    """An anonymous in-memory file the child writes a large result into (Linux memfd).

    A result of hundreds of megabytes (the validated years) sent through the pipe is
    chunked and copied several times (two seconds for 290 MB); written to memory shared
    by the two processes it costs one pickle and one unpickle. The file has no name on
    any file system and is freed when both processes close it."""
    if not hasattr(os, "memfd_create"):
        return None
    try:
        return os.memfd_create("reentry-background-result", os.MFD_CLOEXEC)
    except OSError:
        return None


def _child(send, parent: int, fn: Callable, args: tuple, kwargs: dict, result_fd) -> None:
    _die_with_parent(parent)
    try:
        message = (True, fn(*args, **kwargs))
        if result_fd is not None and message[1] is not None:
            with os.fdopen(os.dup(result_fd), "wb") as out:
                pickle.dump(message[1], out, protocol=pickle.HIGHEST_PROTOCOL)
            message = (True, _IN_MEMORY_FILE)
    except BaseException as err:  # noqa: BLE001 - every failure goes back to the parent
        text = "".join(traceback.format_exception(err))
        try:
            pickle.loads(pickle.dumps(err))
            message = (False, (err, text))
        except Exception:  # noqa: BLE001 - an exception that does not pickle
            message = (False, (None, text))
    send.send(message)
    send.close()


_running: set = set()


def _can_fork() -> bool:
    if "fork" not in mp.get_all_start_methods() or os.environ.get("REENTRY_SERIAL") == "1":
        return False
    return len(_running) < (os.cpu_count() or 1)


class Task:
    """A started function; ``wait()`` returns its result or raises its exception."""

    def __init__(self, fn: Callable, args: tuple, kwargs: dict):
        self._done = False
        self._result: Any = None
        self._error: tuple | None = None
        self._process = None
        self._result_fd: int | None = None
        if not _can_fork():
            self._run_inline(fn, args, kwargs)
            return
        ctx = mp.get_context("fork")
        self._recv, send = ctx.Pipe(duplex=False)
        self._result_fd = _result_file()
        self._process = ctx.Process(
            target=_child, args=(send, os.getpid(), fn, args, kwargs, self._result_fd)
        )
        # Objects that exist now are moved out of the collector's reach, so the child's
        # garbage collections do not write to (and so copy) every page they live on.
        gc.freeze()
        try:
            self._process.start()
        finally:
            gc.unfreeze()
        send.close()
        _running.add(self)

    def _run_inline(self, fn: Callable, args: tuple, kwargs: dict) -> None:
        try:
            self._result = fn(*args, **kwargs)
        except BaseException as err:  # noqa: BLE001 - raised again by wait(), as in a child
            self._error = (err, None)
        self._done = True

    def wait(self) -> Any:
        if not self._done:
            try:
                ok, payload = self._recv.recv()
            except EOFError:
                ok, payload = False, (None, "the background process died without a result")
            finally:
                self._recv.close()
                self._process.join()
                _running.discard(self)
            self._done = True
            if ok and isinstance(payload, str) and payload == _IN_MEMORY_FILE:
                with os.fdopen(self._result_fd, "rb") as result:
                    self._result_fd = None
                    result.seek(0)
                    payload = pickle.load(result)
            self._close_result_file()
            if ok:
                self._result = payload
            else:
                self._error = payload
        if self._error is not None:
            err, text = self._error
            if err is None:
                raise BackgroundError(text)
            if text:
                err.add_note("(raised in the background process)")
            raise err
        return self._result

    def __enter__(self) -> Task:
        return self

    def __exit__(self, *exc) -> None:
        self.cancel()

    def _close_result_file(self) -> None:
        if self._result_fd is not None:
            os.close(self._result_fd)
            self._result_fd = None

    def cancel(self) -> None:
        """Stop the child (the caller failed and will discard what it writes)."""
        if self._process is not None and not self._done:
            self._process.kill()
            self._process.join()
            self._recv.close()
            _running.discard(self)
            self._done = True
        self._close_result_file()


def memory_to_spare(needed: int) -> bool:
    """Whether ``needed`` bytes fit in the memory the system has available now (Linux
    ``MemAvailable``); False where that is unknown, so a caller stays in one process."""
    try:
        with open("/proc/meminfo", encoding="ascii") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return needed <= int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return False
    return False


def start(fn: Callable, /, *args, **kwargs) -> Task:
    """Start ``fn(*args, **kwargs)`` in a forked child (or inline) and return its task."""
    return Task(fn, args, kwargs)
