"""`make serve`: a local Prefect server and `commonground serve` against it, stopped together on Ctrl-C.

The server keeps its SQLite database in the Prefect home (data/prefect), listens on 127.0.0.1 only and
sends no analytics; its UI is at http://127.0.0.1:PORT. Both children get sessions of their own, so a
Ctrl-C in the terminal reaches this process alone, which then stops them in order: the schedules first
(they pause their deployments through the server), then the server. Stopped the other way round, the
schedules would lose the server mid-shutdown.

    python -m flows.serve_local [--port 4200] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
HEALTH_TIMEOUT_SECONDS = 120  # a fresh home migrates its database first; ~35 s measured on a busy 2-core box
STOP_TIMEOUT_SECONDS = 30


class Stop(Exception):
    """Ctrl-C or SIGTERM reached this process."""


def _raise_stop(signum: int, frame: Any) -> None:
    raise Stop


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        return s.connect_ex((HOST, port)) == 0


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/api/health", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def wait_until_healthy(server: subprocess.Popen[bytes], port: int, timeout: float) -> None:
    """Poll the server's health endpoint until it answers; a RuntimeError if it exits or takes too long."""
    deadline = time.monotonic() + timeout
    while not _healthy(port):
        if server.poll() is not None:
            raise RuntimeError(f"The Prefect server exited with code {server.returncode} (its log is above).")
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"The Prefect server did not answer on http://{HOST}:{port}/api/health in {timeout:.0f} s."
            )
        time.sleep(0.5)


def stop(process: subprocess.Popen[bytes], name: str) -> int:
    """SIGINT to the process's group (Ctrl-C as if typed), then SIGTERM, then SIGKILL, each bounded."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        if process.poll() is not None:
            break
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            print(f"{name} did not stop after {sig.name}; sending the next signal.", file=sys.stderr)
    return process.wait()


def _children_env(prefect_home: Path) -> dict[str, str]:
    env = dict(os.environ, PREFECT_HOME=str(prefect_home), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    env.pop("PREFECT_API_URL", None)  # the server is the API; only the schedules point at it
    return env


def _start(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    # A session of its own: the terminal's Ctrl-C reaches only this process, which stops them in order.
    return subprocess.Popen(command, env=env, start_new_session=True)


def run(port: int, data_dir: Path | None) -> int:
    from flows.options import RunOptions

    settings = RunOptions(data_dir=data_dir).settings()
    prefect_home = Path(os.environ.get("PREFECT_HOME") or settings.prefect_home)
    prefect_home.mkdir(parents=True, exist_ok=True)
    if _port_in_use(port):
        print(
            f"Port {port} on {HOST} is taken (a Prefect server already running?): stop it, or choose "
            f"another with `make serve PREFECT_PORT=4201` (or --port).",
            file=sys.stderr,
        )
        return 2
    env = _children_env(prefect_home)
    # Prefect's own CLI from this interpreter, wherever its `prefect` script was installed.
    server = _start(
        [sys.executable, "-m", "prefect", "server", "start", "--host", HOST, "--port", str(port)], env
    )
    schedules: subprocess.Popen[bytes] | None = None
    try:
        wait_until_healthy(server, port, HEALTH_TIMEOUT_SECONDS)
        print(
            f"Prefect server ready: UI at http://{HOST}:{port} (state in {prefect_home}). Ctrl-C stops both."
        )
        serve = [
            sys.executable,
            "-m",
            "flows.cli",
            *(["--data-dir", str(data_dir)] if data_dir else []),
            "serve",
        ]
        schedules = _start(serve, {**env, "PREFECT_API_URL": f"http://{HOST}:{port}/api"})
        while server.poll() is None and schedules.poll() is None:
            time.sleep(0.5)
        ended = "the schedules" if schedules.poll() is not None else "the Prefect server"
        print(f"commonground: {ended} stopped unexpectedly; stopping the rest.", file=sys.stderr)
        return 1
    except RuntimeError as exc:
        print(f"commonground: {exc}", file=sys.stderr)
        return 2
    except Stop:
        print("Stopping the schedules, then the Prefect server…", file=sys.stderr)
        return 0
    finally:
        # A second Ctrl-C must not cut the shutdown short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if schedules is not None:
            stop(schedules, "commonground serve")
        stop(server, "The Prefect server")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.serve_local", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--port", type=int, default=4200, help="port of the local Prefect server (default 4200)"
    )
    parser.add_argument("--data-dir", type=Path, help="where databases and snapshots go (default data/)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, _raise_stop)
    signal.signal(signal.SIGTERM, _raise_stop)
    return run(args.port, args.data_dir)


if __name__ == "__main__":
    raise SystemExit(main())
