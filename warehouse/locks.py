"""Waiting for the warehouse: DuckDB's file lock with backoff, and one run at a time per warehouse.

DuckDB lets one process write a database file, or several read it, never both: any other process that
has the file open (a second command, a notebook, a DuckDB shell, even read-only) makes `duckdb.connect`
fail at once with "Could not set lock". Connections here wait for it with backoff, up to a bound, then
fail with one line that names the file and what to do.

The flows' connections are short, so two pipelines could interleave and both score everything. The
run lock (`commonground.duckdb.run.lock`, next to the database) lets one run at a time write: an
`fcntl.flock` lock, so the kernel releases it when its process ends, however it ends. It holds the pid,
host, flow and start time of its holder, for the message the next run shows. Within one process it is
re-entrant: the `pipeline` flow holds it while its sub-flows take it again.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb

LOCK_ERROR = "Could not set lock"
# How long a connection waits for another process to let go of the file (setting lock_wait_seconds).
DEFAULT_LOCK_WAIT_SECONDS = 60.0
# How long a run waits for another run on the same warehouse (setting run_lock_wait_seconds).
DEFAULT_RUN_LOCK_WAIT_SECONDS = 600.0
FIRST_WAIT_SECONDS = 0.05
LONGEST_WAIT_SECONDS = 1.0


class WarehouseBusy(RuntimeError):
    """Another process kept the DuckDB file locked for longer than we wait."""


class RunInProgress(RuntimeError):
    """Another commonground run kept the warehouse's run lock for longer than we wait."""


def _waits(wait_seconds: float) -> Iterator[float]:
    """Sleeps that double from 50 ms to 1 s, as long as the deadline allows; then the iterator ends."""
    deadline = time.monotonic() + max(0.0, wait_seconds)
    pause = FIRST_WAIT_SECONDS
    while (left := deadline - time.monotonic()) > 0:
        yield min(pause, left)
        pause = min(pause * 2, LONGEST_WAIT_SECONDS)


def connect_waiting(path: Path, *, read_only: bool, wait_seconds: float) -> duckdb.DuckDBPyConnection:
    """`duckdb.connect`, retried with backoff while another process holds the file's lock."""
    waits = _waits(wait_seconds)
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if LOCK_ERROR not in str(exc):
                raise
            pause = next(waits, None)
            if pause is None:
                raise WarehouseBusy(busy_message(path, str(exc), wait_seconds)) from None
            time.sleep(pause)


def busy_message(path: Path, error: str, wait_seconds: float) -> str:
    """One line: which file, who holds it (DuckDB names the process), what to do."""
    found = re.search(r"PID (\d+)", error)
    holder = f"process {found.group(1)}" if found else "another process"
    return (
        f"The warehouse {path} stayed locked by {holder} for {wait_seconds:g} s: another commonground "
        "command, a dashboard or notebook opening this file, or a DuckDB shell holds it. Let it finish or "
        "close it and run again, or wait longer with COMMONGROUND_LOCK_WAIT_SECONDS."
    )


def run_lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".run.lock")


# Run locks this process holds: lock file → (its descriptor, how many times taken).
_held: dict[str, tuple[int, int]] = {}
_held_guard = threading.Lock()


@contextmanager
def run_lock(
    database: Path,
    *,
    flow: str,
    wait_seconds: float,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[bool]:
    """Hold the warehouse's run lock for a block; yields True when this call took it (the outermost
    holder in this process), False when this process already held it."""
    path = run_lock_path(Path(database))
    key = str(path.resolve())
    with _held_guard:
        if key in _held:
            fd, depth = _held[key]
            _held[key] = (fd, depth + 1)
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield False
        finally:
            _release(key)
        return
    fd = _acquire(path, flow=flow, wait_seconds=wait_seconds, on_wait=on_wait)
    with _held_guard:
        _held[key] = (fd, 1)
    try:
        yield True
    finally:
        _release(key)


def _acquire(path: Path, *, flow: str, wait_seconds: float, on_wait: Callable[[str], None] | None) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    waits = _waits(wait_seconds)
    told = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            pause = next(waits, None)
            if pause is None:
                os.close(fd)
                raise RunInProgress(
                    f"Another commonground run is in progress on this warehouse ({holder(path)}; lock "
                    f"file {path}); waited {wait_seconds:g} s. Run again when it has finished, or wait "
                    "longer with COMMONGROUND_RUN_LOCK_WAIT_SECONDS."
                ) from None
            if not told and on_wait is not None:
                on_wait(f"Waiting up to {wait_seconds:g} s for another run to finish ({holder(path)}).")
                told = True
            time.sleep(pause)
    about = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "flow": flow,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(about).encode(), 0)
    return fd


def _release(key: str) -> None:
    with _held_guard:
        fd, depth = _held[key]
        if depth > 1:
            _held[key] = (fd, depth - 1)
            return
        del _held[key]
    os.ftruncate(fd, 0)
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


def holder(path: Path) -> str:
    """Who holds a run lock, in words, from what its holder wrote into it."""
    try:
        about = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        about = {}
    if not isinstance(about, dict) or "pid" not in about:
        return "holder unknown"
    return (
        f"'{about.get('flow', '?')}' run, process {about['pid']} on {about.get('host', '?')}, "
        f"started {about.get('started_at', '?')}"
    )


def close_interrupted_runs(
    connect: Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]], by_flow: str = ""
) -> int:
    """Runs still `running` whose process is gone (killed, crashed, the machine restarted) become
    `interrupted`. Only while holding the run lock: every live run holds it, so then no `running`
    row belongs to a live run. `connect`: the warehouse's (Warehouse.connect)."""
    by = f" by the next run ('{by_flow}')" if by_flow else ""
    with connect() as con:
        closed = con.execute(
            "UPDATE runs SET status = 'interrupted', message = ? WHERE status = 'running' RETURNING run_id",
            [f"interrupted: its process ended before the run finished (killed?); closed{by}"],
        ).fetchall()
    return len(closed)
