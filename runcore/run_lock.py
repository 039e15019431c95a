"""One run per run folder: an OS file lock that the kernel releases when its holder dies.

The lock is ``<out>/.partial/<run_id>.lock``, beside the working folder rather than inside
it, because the working folder is renamed when the run is published. ``fcntl.flock`` is tied
to the open file, so a run killed with SIGKILL cannot leave a stale lock behind; the file
itself stays (removing it would let two runs lock two different files of one name).
The holder writes its pid, host and start time into the file so a second run can say who
it is waiting for.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

LOCK_SUFFIX = ".lock"

_HELD: dict[str, IO[str]] = {}
"""Open lock files of this process, by path: closing one releases its lock."""


class RunLockedError(RuntimeError):
    """Another live process is working on the same run folder."""


def lock_path(out: Path, run_id: str) -> Path:
    """Where the lock of run ``run_id`` under ``out`` lives, as an absolute path: the
    pipeline may name ``out`` relatively (``make run``'s ``outputs``) while its stages name
    their folders absolutely, and both must find one lock."""
    return Path(out).resolve() / ".partial" / f"{run_id}{LOCK_SUFFIX}"


def holder_of(path: Path) -> dict[str, str]:
    """What the holder of a lock wrote about itself (empty if it has not written yet)."""
    try:
        return json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}


def describe_holder(holder: dict[str, str]) -> str:
    """``pid 123 on host h, started 2026-12-06T01:00:00+00:00`` or a plain fallback."""
    if not holder:
        return "another process (it has not yet written its details)"
    return f"pid {holder.get('pid')} on host {holder.get('host')}, started {holder.get('started')}"


def _written_holder(path: Path, patience: float = 2.0) -> dict[str, str]:
    """The holder's details, allowing it a moment to write them: two runs started together
    can meet between the winner taking the lock and writing who it is."""
    deadline = time.monotonic() + patience
    holder = holder_of(path)
    while not holder and time.monotonic() < deadline:
        time.sleep(0.05)
        holder = holder_of(path)
    return holder


def _write_holder(handle: IO[str], run_id: str) -> None:
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    details = {"run_id": run_id, "pid": os.getpid(), "host": socket.gethostname()}
    handle.seek(0)
    handle.truncate()
    handle.write(json.dumps({**details, "started": started}))
    handle.flush()


def acquire_run_lock(
    out: Path, run_id: str, *, wait: bool = False, notify: Callable[[str], None] | None = None
) -> Path:
    """Lock run ``run_id`` for this process, or stop naming the run that holds it.

    With ``wait`` the call blocks until the other run ends (``notify`` is told whom it
    waits for); without it, :class:`RunLockedError` is raised at once.
    """
    path = lock_path(out, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = describe_holder(_written_holder(path))
        if not wait:
            handle.close()
            raise RunLockedError(
                f"run {run_id} is already running in {path.parent / run_id} ({holder}); "
                "wait for it to finish, or pass --wait to queue behind it"
            ) from None
        if notify is not None:
            notify(f"Run {run_id} is locked by {holder}: waiting for it to finish.")
        fcntl.flock(handle, fcntl.LOCK_EX)
    _write_holder(handle, run_id)
    _HELD[str(path)] = handle
    return path


def release_run_lock(out: Path, run_id: str) -> None:
    """Release this process's lock on run ``run_id`` (nothing happens if it holds none)."""
    handle = _HELD.pop(str(lock_path(out, run_id)), None)
    if handle is not None:
        # Forget who held it, so the next holder is never described by stale details.
        handle.seek(0)
        handle.truncate()
        handle.flush()
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def holds_run_lock(out: Path, run_id: str) -> bool:
    """Whether this process holds the lock of run ``run_id``."""
    return str(lock_path(out, run_id)) in _HELD
