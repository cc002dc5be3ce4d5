"""Prefect's temporary API server, kept up for the commands that follow.

Every one-shot command needs a Prefect API. Started for one command and stopped at its end, the
temporary server cost each command 8-10 s on 2 cores (a one-line `ingest` took 14.4 s quiet; with a
server already up, 6.4-7.0 s). So the first command starts it in a process of its own that outlives
the command, and every later command with the same Prefect home uses it; the server stops itself once no
command has used it for `prefect_server_keep_seconds` (COMMONGROUND_PREFECT_SERVER_KEEP_SECONDS, 600 by
default; 0 stops it with its command, as before).

Three files in the Prefect home say who has it:
- `commonground-server.json`: the kept server (its process, port, and what it was started for);
- `commonground-server.lock`: held while a command finds or starts the server, and while it retires, so
  a command never picks a server that is on its way out, and two commands never start two;
- `commonground-server.users`: each command using the server holds a shared lock on it, and touches it
  when it lets go; the server retires only when it can lock it alone and it was last touched `keep`
  seconds ago (or the Prefect home is gone).

`python -m flows.prefect_server --port P --home H --keep S` is the server's process: Prefect's server app
(`prefect.server.api.server:create_app`, the one Prefect starts itself) under uvicorn, with a thread that
retires it. This module imports nothing heavy: the server's process pays only for what it serves.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

STATE = "commonground-server.json"
START_LOCK = "commonground-server.lock"
USERS = "commonground-server.users"
LOG = "commonground-server.log"
POLL_SECONDS = 1.0


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock on `path` (created if missing), released when the block ends or the process dies."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def read_state(home: Path) -> dict[str, Any] | None:
    try:
        state = json.loads((home / STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) and {"pid", "port", "key"} <= state.keys() else None


def write_state(home: Path, pid: int, port: int, key: str) -> None:
    tmp = home / (STATE + ".tmp")
    tmp.write_text(json.dumps({"pid": pid, "port": port, "key": key}), encoding="utf-8")
    tmp.replace(home / STATE)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive, and not ours to use (its key will not match)
    return True


def forget(home: Path, pid: int) -> None:
    """A kept server that did not answer: stopped, and no longer offered to the commands that follow."""
    with locked(home / START_LOCK):
        state = read_state(home)
        if state is not None and state["pid"] == pid:
            (home / STATE).unlink(missing_ok=True)
    if alive(pid):
        os.kill(pid, signal.SIGTERM)


def hold(home: Path) -> IO[str]:
    """The users file with a shared lock on it: the server stays up while the handle is open."""
    users = (home / USERS).open("a")
    fcntl.flock(users, fcntl.LOCK_SH)
    return users


def let_go(users: IO[str]) -> None:
    """The command is done with the server: from now, the server's idle time counts."""
    os.utime(users.name)
    users.close()


def no_users(home: Path) -> IO[str] | None:
    """The users file locked exclusively when no command holds it (close it to release), else None."""
    users = (home / USERS).open("a")
    try:
        fcntl.flock(users, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        users.close()
        return None
    return users


def idle_seconds(home: Path) -> float:
    try:
        return time.time() - (home / USERS).stat().st_mtime
    except OSError:
        return float("inf")  # the Prefect home is gone: nobody can use this server again


def retire(home: Path) -> bool:
    """True when no command uses this server: it is no longer offered, and may stop."""
    if not home.is_dir():
        return True
    with locked(home / START_LOCK):
        users = no_users(home)
        if users is None:
            return False
        try:
            state = read_state(home)
            if state is not None and state["pid"] == os.getpid():
                (home / STATE).unlink(missing_ok=True)
        finally:
            users.close()
    return True


def _retire_when_idle(server: Any, home: Path, keep: float) -> None:
    while not server.should_exit:
        time.sleep(POLL_SECONDS)
        try:
            if idle_seconds(home) >= keep and retire(home):
                server.should_exit = True
        except OSError:
            server.should_exit = True  # the Prefect home went away while it was being looked at


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Prefect's temporary API server, kept while it is used")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--keep", type=float, required=True)
    args = parser.parse_args(argv)
    # `python -m` puts the working folder first on the path: a folder there named like a package
    # (prefect, uvicorn) must not shadow the installed one.
    sys.path[:] = [p for p in sys.path if p not in ("", os.getcwd())]
    import uvicorn

    config = uvicorn.Config(
        "prefect.server.api.server:create_app",
        factory=True,
        host="127.0.0.1",
        port=args.port,
        log_level="error",
        lifespan="on",
    )
    server = uvicorn.Server(config)
    threading.Thread(target=_retire_when_idle, args=(server, args.home, args.keep), daemon=True).start()
    server.run()


if __name__ == "__main__":
    main()
