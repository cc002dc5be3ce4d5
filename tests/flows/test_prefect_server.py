"""Who may stop the kept Prefect server (flows/prefect_server.py): nobody while a command uses it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from flows import prefect_server as kept

# A command in another process that holds the server (as `temporary_server` does) until it is killed.
HOLDER = """
import sys, time
from pathlib import Path
from flows.prefect_server import hold
users = hold(Path(sys.argv[1]))
print("holding", flush=True)
time.sleep(600)
"""


def _holder(home: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(home)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "holding"
    return proc


def test_the_server_does_not_retire_while_a_command_holds_it_even_one_that_was_killed(tmp_path: Path) -> None:
    kept.write_state(tmp_path, os.getpid(), 1234, "key")
    holder = _holder(tmp_path)
    try:
        assert not kept.retire(tmp_path)
        assert kept.read_state(tmp_path) is not None  # still offered to the next command
    finally:
        holder.send_signal(signal.SIGKILL)  # no clean-up: the kernel lets go of its lock
        holder.wait(timeout=30)
    assert kept.retire(tmp_path)
    assert kept.read_state(tmp_path) is None


def test_a_retiring_server_removes_only_its_own_state(tmp_path: Path) -> None:
    kept.write_state(tmp_path, os.getpid() + 1, 1234, "key")  # another server started since
    assert kept.retire(tmp_path)
    assert kept.read_state(tmp_path) == {"pid": os.getpid() + 1, "port": 1234, "key": "key"}


def test_a_server_whose_prefect_home_is_gone_retires(tmp_path: Path) -> None:
    home = tmp_path / "gone"
    assert kept.idle_seconds(home) == float("inf")
    assert kept.retire(home)


def test_the_server_retires_once_unused_for_its_keep_time(tmp_path: Path) -> None:
    users = kept.hold(tmp_path)
    server = SimpleNamespace(should_exit=False)
    watcher = threading.Thread(target=kept._retire_when_idle, args=(server, tmp_path, 1.5), daemon=True)
    watcher.start()
    time.sleep(2.5)
    assert not server.should_exit  # held all along
    kept.let_go(users)
    let_go_at = time.monotonic()
    watcher.join(timeout=30)
    assert server.should_exit
    assert time.monotonic() - let_go_at >= 1.4  # it waited its keep time after the last command


def test_a_broken_state_file_is_no_server(tmp_path: Path) -> None:
    (tmp_path / kept.STATE).write_text('{"pid": 12')
    assert kept.read_state(tmp_path) is None
    (tmp_path / kept.STATE).write_text('{"pid": 12}')
    assert kept.read_state(tmp_path) is None


def test_flows_on_the_temporary_server_send_no_heartbeats_unless_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import prefect.settings as ps

    from flows.prefect_runtime import TemporaryServer, _settings_for

    server = TemporaryServer.attach(tmp_path, 1234, os.getpid())
    try:
        monkeypatch.delenv("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", raising=False)
        with ps.temporary_settings(_settings_for(server)):
            assert ps.get_current_settings().api.url == "http://127.0.0.1:1234/api"
            assert ps.get_current_settings().flows.heartbeat_frequency is None
        monkeypatch.setenv("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "60")
        assert ps.PREFECT_FLOWS_HEARTBEAT_FREQUENCY not in _settings_for(server)
    finally:
        server.stop()
