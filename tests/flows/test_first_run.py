"""A new user's first command: a fresh data folder and a fresh Prefect home, in a process of its own.

The rest of the suite runs flows under one Prefect test harness, which never starts Prefect the way the
CLI does; these tests do, so a first-run failure of the temporary server is caught here.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flows.prefect_runtime import (
    MARKER,
    STARTUP_TIMEOUT_SECONDS,
    explain_startup_failure,
    prepare_environment,
)
from flows.prefect_server import STATE

pytestmark = pytest.mark.slow

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "imports" / "twarc2.jsonl"


def _cli(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "COMMONGROUND_"))}
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_the_first_command_on_a_fresh_home_passes_and_prepares_the_database_once(tmp_path: Path) -> None:
    data = tmp_path / "new" / "data"  # not even its parent exists yet
    home = data / "prefect"
    argv = ["--data-dir", str(data), "ingest", "--source", "file", "--path", str(FIXTURE)]
    first = _cli(argv, COMMONGROUND_PREFECT_SERVER_KEEP_SECONDS="0")
    assert first.returncode == 0, first.stderr[-3000:]
    assert "Preparing Prefect's local database" in first.stderr
    assert json.loads(first.stdout)["posts_stored"] > 0
    marker = home / MARKER
    assert marker.is_file() and marker.read_text().startswith("prefect ")
    # The command's own temporary server got every log line before it stopped, and stopped with it.
    assert "Error logging to API" not in first.stderr and "connection attempts failed" not in first.stderr
    assert _closed(_port(first.stderr)), "the temporary server outlived its command"

    # Prepared once: the next command goes straight to the server. With a start-up limit the server
    # cannot meet, the user gets one line that says what to do, not Prefect's timeout and a log dump.
    second = _cli(
        argv,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="1",
        COMMONGROUND_PREFECT_SERVER_KEEP_SECONDS="0",
    )
    assert "Preparing" not in second.stderr
    assert second.returncode == 2
    said = [line for line in second.stderr.splitlines() if line.startswith("commonground:")]
    assert len(said) == 1, second.stderr[-3000:]
    assert said[0].startswith("commonground: Prefect's temporary API server did not answer within 1 s")
    assert "PREFECT_API_URL" in said[0]
    assert "Timed out while attempting" not in second.stderr


def test_the_server_is_kept_for_the_next_command_and_retires_when_unused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    home = data / "prefect"
    home.mkdir(parents=True)
    # What a server that died left behind (a process that has ended): not used, a new one is started.
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    (home / STATE).write_text(json.dumps({"pid": int(ended.stdout), "port": 9, "key": "old"}))
    argv = ["--data-dir", str(data), "ingest", "--source", "file", "--path", str(FIXTURE)]
    first = _cli(argv, COMMONGROUND_PREFECT_SERVER_KEEP_SECONDS="10")
    assert first.returncode == 0, first.stderr[-3000:]
    assert "Started Prefect's temporary API server" in first.stderr
    port = _port(first.stderr)
    state = json.loads((home / STATE).read_text())
    assert state["port"] == port and state["pid"] != int(ended.stdout)
    assert not _closed(port), "the server was not kept for the next command"

    second = _cli(argv, COMMONGROUND_PREFECT_SERVER_KEEP_SECONDS="10")
    assert second.returncode == 0, second.stderr[-3000:]
    assert "Started" not in second.stderr and "Preparing" not in second.stderr
    assert _port(second.stderr) == port  # the same server
    assert json.loads(second.stdout)["duplicates"] > 0  # it ran, against the same warehouse

    # Unused for its 10 s, the server stops itself and is no longer offered.
    deadline = time.monotonic() + 60
    while not _closed(port) or (home / STATE).exists():
        assert time.monotonic() < deadline, "the kept server did not retire"
        time.sleep(0.2)


def _port(stderr: str) -> int:
    return int(re.findall(r"View at http://127\.0\.0\.1:(\d+)/", stderr)[0])


def test_only_the_startup_timeout_is_rewritten() -> None:
    timeout = RuntimeError("Timed out while attempting to connect to ephemeral Prefect API server. stdout: …")
    assert "did not answer" in (explain_startup_failure(timeout) or "")
    assert explain_startup_failure(RuntimeError("The warehouse has no posts yet")) is None
    assert (
        STARTUP_TIMEOUT_SECONDS <= 120
    )  # raised, but a server that never starts still fails in bounded time


def _ingest_until_its_flow_runs(
    tmp_path: Path, *, own_session: bool
) -> tuple[subprocess.Popen[bytes], Path, int]:
    """`ingest` of the bundled sample in a process of its own, once its flow runs: the process, its log
    and the port of its temporary server."""
    sample = Path(__file__).resolve().parents[2] / "data" / "sample" / "conversation.jsonl"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "COMMONGROUND_"))}
    clean["COMMONGROUND_PREFECT_SERVER_KEEP_SECONDS"] = "0"  # a server of the command's own
    argv = [sys.executable, "-m", "flows.cli", "--data-dir", str(tmp_path / "data"), "ingest"]
    argv += ["--source", "file", "--path", str(sample)]
    log = tmp_path / "out.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            argv, env=clean, stdout=out, stderr=subprocess.STDOUT, start_new_session=own_session
        )
    deadline = time.monotonic() + 300
    while not (found := re.findall(r"View at http://127\.0\.0\.1:(\d+)/", log.read_text())):
        assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.2)
    return proc, log, int(found[0])


def _closed(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_ctrl_c_during_a_command_ends_it_promptly_and_leaves_no_server_behind(tmp_path: Path) -> None:
    # Ctrl+C reaches the terminal's whole process group. The temporary server runs in a session of its
    # own, so the command can still report to it on the way out, and then stops it; with the server in
    # the group it died first and the command spent minutes retrying it.
    proc, log, port = _ingest_until_its_flow_runs(tmp_path, own_session=True)
    os.killpg(proc.pid, signal.SIGINT)
    interrupted = time.monotonic()
    proc.wait(timeout=120)
    said = log.read_text()
    assert time.monotonic() - interrupted < 60, said[-3000:]
    assert "Error logging to API" not in said
    assert _closed(port), "the temporary server outlived its command"


def test_a_killed_command_takes_its_temporary_server_with_it(tmp_path: Path) -> None:
    proc, _, port = _ingest_until_its_flow_runs(tmp_path, own_session=False)
    proc.kill()  # SIGKILL: no finally, no atexit
    proc.wait(timeout=30)
    deadline = time.monotonic() + 30
    while not _closed(port):
        assert time.monotonic() < deadline, "the temporary server outlived its killed command"
        time.sleep(0.2)


@pytest.mark.parametrize(("set_by_user", "expected"), [(None, "1"), ("0", "0")])
def test_prefect_is_told_not_to_track_unless_the_user_said_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, set_by_user: str | None, expected: str
) -> None:
    from warehouse.settings import Settings

    env = {k: v for k, v in os.environ.items() if k != "DO_NOT_TRACK"}
    env["PREFECT_HOME"] = str(tmp_path / "prefect")
    if set_by_user is not None:
        env["DO_NOT_TRACK"] = set_by_user
    monkeypatch.setattr(os, "environ", env)  # what prepare_environment sets stays in this test
    prepare_environment(Settings(data_dir=tmp_path / "data"))
    assert os.environ["DO_NOT_TRACK"] == expected
    assert os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"
