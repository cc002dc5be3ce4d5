"""Prefect for one-off commands: its state inside the data folder, its database ready before its server.

A command that runs a flow without `PREFECT_API_URL` gets Prefect's temporary API server, started in a
subprocess that must answer within `PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS` (20 s in Prefect).
Measured on 2 cores (quiet): a fresh Prefect home took 18 s to answer, 9.6 s of it creating and migrating
its SQLite database; a home already migrated took 7-8 s. A busy machine doubles both, so the very first
command of a new user timed out. Here the database is migrated in this process first (once per Prefect
version and database; a marker file remembers it), and the start-up limit is raised to a bounded
`STARTUP_TIMEOUT_SECONDS` unless the user set it. If the server still does not answer, the user gets one
line that says what to do.

The fixed cost of a one-shot command (2 cores): a one-line `ingest` took 21.7 s on a quiet machine.
Importing `flows.pipeline` is 4.4-4.8 s (Prefect 1.6-2.1 s, pandas 0.5-0.8 s); Prefect then imported its
whole server package in the command's own process (3-4 s quiet, 11 s under cProfile at load 3) before
starting the server, whose process imports it again and answers after 9-10 s; the flow itself ran in
1-2 s. Prefect 3.9 has no API-less mode: with no API URL and `PREFECT_SERVER_EPHEMERAL_ENABLED=false` a
task call fails ("No Prefect API URL provided"), and `flow.fn` runs the body but its tasks still need a
server (Prefect's issue 15927, open). Starting Prefect's server in a thread while the command imported
its flows gained nothing measurable (one GIL). So `TemporaryServer` starts the same server app itself,
in its own process, before the command imports its flows, and waits for it only when the first flow
is about to run: measured one after the other at load 5, a one-line `ingest` took 30.7-53.0 s against
39.0-61.5 s for Prefect's own start (8-11 s less). One temporary server serves every flow and subflow
of a command (`demo` starts one, not five); `PREFECT_API_URL` skips the start-up for anyone who runs
many commands (`prefect server start` once); and the work itself is skipped when there is none: a rerun
of `enrich` with no new posts loads neither spaCy nor the tone model.

Then the server was kept: it outlives the command that started it, for the commands that follow with
the same Prefect home (flows/prefect_server.py, `prefect_server_keep_seconds`). A one-line `ingest`
went from 18.4-18.8 s (a server of its own, load 1.6) to 7.1-7.4 s (the server kept, quiet), with the
flows' heavy imports (pandas, the network analysis, tweepy) left to the steps that use them.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

from flows.prefect_server import LOG
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
    # Prefect's client sends usage events from an interactive terminal unless told not to (the standard
    # DO_NOT_TRACK); a tool that handles people's posts sends nothing anywhere it was not asked to.
    os.environ.setdefault("DO_NOT_TRACK", "1")
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
    key = f"prefect {prefect.__version__}\ndatabase {_database_digest()}\n"
    return Path(current.home).expanduser() / MARKER, key


def _database_digest() -> str:
    """Which database Prefect's server uses: a hash of its URL, which may hold a password."""
    from prefect.settings import get_current_settings

    url = get_current_settings().server.database.connection_url
    secret = url.get_secret_value() if url is not None else ""
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


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


class TemporaryServer:
    """Prefect's temporary API server for one command, in a process of its own.

    It is the server Prefect would start itself (the same app, `prefect.server.api.server:create_app`,
    without its UI), started differently because the fixed cost of a one-shot command measured it worth
    it: Prefect imports its whole server package in the command's own process before it starts one, and
    only then starts it, while this one boots in its own process while the command imports its flows;
    and its start-up limit is counted in real seconds (Prefect counts only its 0.1 s sleeps, so on a busy
    machine it waited several times its limit, and kept polling a server that had already exited)."""

    def __init__(self, keep_seconds: float = 0.0, home: Path | None = None) -> None:
        import socket
        import tempfile

        import prefect

        with socket.socket() as sock:  # a free port on loopback, chosen by the kernel
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}/api"
        self.home = home
        self.kept = keep_seconds > 0 and home is not None
        env = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1"}
        if self.kept and home is not None:
            # Kept for the commands that follow (flows/prefect_server.py): its output in the Prefect home.
            self.log: IO[str] = (home / LOG).open("w+")
            argv = [sys.executable, "-m", "flows.prefect_server", "--port", str(self.port)]
            argv += ["--home", str(home), "--keep", str(keep_seconds)]
        else:
            # The server's output, shown only when it fails to start; closed by `stop`.
            self.log = tempfile.TemporaryFile(mode="w+", prefix="commonground-prefect-server-")  # noqa: SIM115
            argv = [sys.executable, "-m", "uvicorn", "--app-dir", str(Path(prefect.__file__).parent.parent)]
            argv += ["--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1"]
            argv += ["--port", str(self.port), "--log-level", "error", "--lifespan", "on"]
        # In a session of its own, so Ctrl+C in the terminal reaches the command, not the server: the
        # command still reaches it on its way out, then stops it (measured: with the server in the
        # terminal's group, a Ctrl+C took 74-180 s to exit, retrying a server that had already gone).
        # Out of the group, a kill of the command would leave it running: the kernel ends it instead,
        # unless it is kept for the commands that follow.
        self.process: subprocess.Popen[bytes] | None = subprocess.Popen(
            argv,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=None if self.kept else _end_with_parent(),
        )
        self.pid = self.process.pid

    @classmethod
    def attach(cls, home: Path, port: int, pid: int) -> TemporaryServer:
        """The server a command before this one started and left up (flows/prefect_server.py)."""
        server = cls.__new__(cls)
        server.port, server.pid, server.home, server.kept, server.process = port, pid, home, True, None
        server.url = f"http://127.0.0.1:{port}/api"
        server.log = (home / LOG).open("a+")
        return server

    def running(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None
        from flows.prefect_server import alive

        return alive(self.pid)

    def wait_until_ready(self) -> float:
        """Seconds until the server answered its health check. The limit is
        `PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS` (`prepare_environment` raises it to
        STARTUP_TIMEOUT_SECONDS), in real seconds; a server that exits is reported at once."""
        import urllib.request

        limit = float(
            os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", STARTUP_TIMEOUT_SECONDS)
        )
        started = time.monotonic()
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=5) as response:
                    if response.status == 200:
                        return time.monotonic() - started
            except OSError:  # refused while it starts (URLError is an OSError)
                pass
            if not self.running():
                code = self.process.returncode if self.process is not None else "unknown"
                self._forget()
                raise RuntimeError(f"{TIMEOUT_MESSAGE}: it exited with code {code}. {self._tail()}")
            if time.monotonic() - started > limit:
                self._forget()
                raise RuntimeError(f"{TIMEOUT_MESSAGE}. {self._tail()}")
            time.sleep(0.1)

    def _forget(self) -> None:
        """A kept server that failed is stopped and not offered again: the next command starts afresh."""
        if self.kept and self.home is not None:
            from flows.prefect_server import forget

            forget(self.home, self.pid)

    def _tail(self) -> str:
        self.log.seek(0)
        return self.log.read()[-2000:]

    def stop(self) -> None:
        if self.kept:
            self.log.close()  # it stays up for the next command, and retires itself when idle
            return
        assert self.process is not None
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def _end_with_parent() -> Callable[[], None] | None:
    """What the server's process runs before it starts (Linux): the kernel sends it SIGTERM when the
    command's process ends, however it ends (kill -9 included), so a killed command never leaves its
    server behind. Looked up here, in the command's process: the child only makes the call."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl
    pr_set_pdeathsig = 1
    return lambda: prctl(pr_set_pdeathsig, int(signal.SIGTERM))


@contextmanager
def temporary_server(keep_seconds: float = 0.0) -> Iterator[TemporaryServer | None]:
    """A temporary server for the command (Prefect's settings point at it until the block ends), or None
    when a server is configured (`PREFECT_API_URL`, in the environment or a Prefect profile). Call
    `wait_until_ready` before the first flow runs; what the command imports meanwhile overlaps its start.

    With `keep_seconds` the server is the one kept in the Prefect home for the commands that follow
    (started here if there is none; flows/prefect_server.py), else one for this command alone."""
    from prefect.settings import get_current_settings, temporary_settings

    current = get_current_settings()
    if current.api.url:
        yield None
        return
    server, users = _server_for_command(Path(current.home).expanduser().resolve(), keep_seconds)
    try:
        with temporary_settings(_settings_for(server)):
            try:
                yield server
            finally:
                if server.running():  # after Ctrl+C the server may be gone: nothing to send to
                    _drain_workers()
    finally:
        server.stop()
        if users is not None:
            from flows.prefect_server import let_go

            let_go(users)


def _settings_for(server: TemporaryServer) -> dict[Any, Any]:
    """Prefect's settings while the command runs its flows on the temporary server: its URL, and no
    flow-run heartbeats unless the user asked for them. Heartbeats let a server with workers or
    automations find crashed runs; nothing watches a one-shot command's runs here (the warehouse's own
    runs table marks interrupted runs), and the heartbeat thread, which sleeps in 1-s steps, is joined
    at the end of every flow: up to 1 s each, 0.5-1 s of a one-line `ingest`."""
    import prefect.settings as prefect_settings

    updates: dict[Any, Any] = {prefect_settings.PREFECT_API_URL: server.url}
    if not any(os.environ.get(f"PREFECT_{name}_HEARTBEAT_FREQUENCY") for name in ("FLOWS", "RUNNER")):
        updates[prefect_settings.PREFECT_FLOWS_HEARTBEAT_FREQUENCY] = None
    return updates


def _server_for_command(home: Path, keep_seconds: float) -> tuple[TemporaryServer, IO[str] | None]:
    """The kept server (found, or started and kept) with this command's hold on it; or, with no keeping,
    or while a server of another Prefect or Python is still in use in this home, a server of its own."""
    if keep_seconds <= 0:
        return TemporaryServer(), None
    from flows import prefect_server as kept

    key = _server_key()
    with kept.locked(home / kept.START_LOCK):
        state = kept.read_state(home)
        if state is not None and kept.alive(state["pid"]):
            if state["key"] == key:
                return TemporaryServer.attach(home, state["port"], state["pid"]), kept.hold(home)
            users = kept.no_users(home)
            if users is None:
                return TemporaryServer(), None
            os.kill(state["pid"], signal.SIGTERM)  # unused, and for another Prefect or Python: replaced
            users.close()
        server = TemporaryServer(keep_seconds, home)
        kept.write_state(home, server.pid, server.port, key)
        print(
            f"Started Prefect's temporary API server (process {server.pid}); it stays up for the commands "
            f"that follow until none has used it for {keep_seconds:g} s "
            "(COMMONGROUND_PREFECT_SERVER_KEEP_SECONDS; 0 stops it with each command).",
            file=sys.stderr,
            flush=True,
        )
        return server, kept.hold(home)


def _server_key() -> str:
    """What a kept server was started for: another Prefect, Python or database needs another server."""
    import prefect

    return f"prefect {prefect.__version__} python {sys.executable} database {_database_digest()}"


def _drain_workers() -> None:
    """Send the logs and events Prefect still holds while its server is up (as its test harness does);
    after the server stops they would be retried for a minute and then reported as failed."""
    import inspect

    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker
    from prefect.utilities.asyncutils import run_coro_as_sync

    async def drain() -> None:
        for result in (APILogWorker.instance().drain(), EventsWorker.drain_all()):
            if inspect.isawaitable(result):
                await result

    with suppress(RuntimeError):  # a worker that never started
        run_coro_as_sync(drain())
