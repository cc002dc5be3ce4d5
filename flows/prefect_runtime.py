"""Prefect for one-off commands: its state inside the data folder, its database ready before its server.

A command that runs a flow without `PREFECT_API_URL` gets Prefect's temporary API server, started in a
subprocess that must answer within `PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS` (20 s in Prefect).
Measured on 2 cores (quiet): a fresh Prefect home took 18 s to answer, 9.6 s of it creating and migrating
its SQLite database; a home already migrated took 7-8 s. A busy machine doubles both, so the very first
command of a new user timed out. Here the database is migrated in this process first (once per Prefect
version and database; a marker file remembers it), and the start-up limit is raised to a bounded
`STARTUP_TIMEOUT_SECONDS` unless the user set it. If the server still does not answer, the user gets one
line that says what to do.

The fixed cost of a one-shot command, and why it stays (measured 2026-11-29, 2 cores at load 7-13, so
every number is 2-4x a quiet machine's): a one-line `ingest` took 34-38 s wall, 21-23 s CPU. Of that,
importing `flows.pipeline` is 4.4 s (Prefect 2.1 s, pandas 0.8 s, the network models 0.6 s), the
temporary server 9-10 s to answer (its subprocess imports Prefect's server; skipping its migration check
and block registration, `PREFECT_API_DATABASE_MIGRATE_ON_START`/`_BLOCKS_REGISTER_ON_START=false`,
saved nothing measurable), the rest the flow run's API calls. Prefect 3.9 has no API-less mode: with no
API URL and `PREFECT_SERVER_EPHEMERAL_ENABLED=false` a task call fails ("No Prefect API URL provided"),
and `flow.fn` runs the body but its tasks still need a server. Starting the server in a thread while
the command imports its flows was tried and gave no measurable gain on the busy machine (reverted).
So one temporary server per command (Prefect reuses it for every flow and subflow of that command, so
`demo` starts one, not five), `PREFECT_API_URL` for anyone who runs many commands (`prefect server
start` once, then each command skips the start-up), and the work itself skipped when there is none: a
rerun of `enrich` with no new posts loads neither spaCy nor the tone model.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from warehouse.settings import Settings

STARTUP_TIMEOUT_SECONDS = 90  # enough for a warm start on a busy 2-core machine, not forever
MARKER = ".commonground-database-ready"
TIMEOUT_MESSAGE = "Timed out while attempting to connect to ephemeral Prefect API server"


def prepare_environment(settings: Settings) -> None:
    """Prefect keeps its state inside the data folder and runs a temporary API; models load offline.

    Set before Prefect is imported, and never over what the user set. The folders are created here:
    Prefect does not create a Prefect home whose parent is missing, and its server then fails to start."""
    os.environ.setdefault("PREFECT_HOME", str(settings.prefect_home))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", str(STARTUP_TIMEOUT_SECONDS))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if os.environ.get("PREFECT_API_URL") == "":
        # An empty URL is not "no server": Prefect would try to reach it. Unset means temporary.
        del os.environ["PREFECT_API_URL"]
    _make_folder(settings.data_dir, "--data-dir (COMMONGROUND_DATA_DIR)")
    _make_folder(Path(os.environ["PREFECT_HOME"]).expanduser(), "PREFECT_HOME")


def _make_folder(path: Path, name: str) -> None:
    """Create a missing folder; one that cannot be (a file in the way, no permission) is a ValueError
    naming the setting, not an OSError traceback from deep inside Prefect."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(
            f"{name}={str(path)!r} cannot be used as a folder ({exc.strerror}): "
            "point it at a folder you can write, or where one can be created."
        ) from None


def _database_key() -> tuple[Path, str] | None:
    """Where the marker goes and what it must say, or None when a real server is configured."""
    import prefect
    from prefect.settings import get_current_settings

    current = get_current_settings()
    if current.api.url:
        return None  # a running server (or the test harness) owns its database
    url = current.server.database.connection_url
    secret = url.get_secret_value() if url is not None else ""
    # The URL may hold a password: only its hash is written.
    key = f"prefect {prefect.__version__}\ndatabase {hashlib.sha256(secret.encode()).hexdigest()[:16]}\n"
    return Path(current.home).expanduser() / MARKER, key


def prepare_prefect_database() -> float | None:
    """Create and migrate the temporary server's database before the server is started.

    Returns the seconds it took, or None when there was nothing to do (already prepared, or a real
    Prefect server is configured). Prefect's server still checks its migrations when it starts; after
    this they are a no-op."""
    target = _database_key()
    if target is None:
        return None
    marker, key = target
    if marker.is_file() and marker.read_text() == key:
        return None
    # Two commands started together on a fresh home would both migrate it, and one fails halfway
    # ("duplicate column name"): the second waits for the first, then finds the marker written.
    with _only_one_at_a_time(marker.with_name(MARKER + ".lock")):
        if marker.is_file() and marker.read_text() == key:
            return None
        return _create_database(marker, key)


@contextmanager
def _only_one_at_a_time(lock_file: Path) -> Iterator[None]:
    with lock_file.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes, or its process ends
        yield


def _create_database(marker: Path, key: str) -> float:
    print(
        f"Preparing Prefect's local database in {marker.parent} (first run only; about 10-30 s)…",
        file=sys.stderr,
        flush=True,
    )
    started = time.perf_counter()
    import asyncio

    from prefect.server.database import provide_database_interface

    asyncio.run(provide_database_interface().create_db())
    marker.write_text(key)
    seconds = time.perf_counter() - started
    print(f"Prefect's local database is ready ({seconds:.1f} s).", file=sys.stderr, flush=True)
    return seconds


def explain_startup_failure(exc: BaseException) -> str | None:
    """One line for a temporary server that did not come up; None for any other error."""
    if TIMEOUT_MESSAGE not in str(exc):
        return None
    limit = os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "20")
    exited = " (it exited with an error, printed above)" if "exited with code" in str(exc) else ""
    return (
        f"Prefect's temporary API server did not answer within {limit} s{exited}. If the machine is busy, "
        "run the command again or raise PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS; or start a server "
        "with `prefect server start` and set PREFECT_API_URL=http://127.0.0.1:4200/api."
    )
