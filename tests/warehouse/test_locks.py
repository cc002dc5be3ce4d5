"""The warehouse under concurrency: waiting for DuckDB's file lock, one run at a time, killed runs closed."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from flows.options import RunOptions
from flows.pipeline import ingest, publish, recorded_run
from warehouse.locks import RunInProgress, WarehouseBusy, run_lock, run_lock_path
from warehouse.settings import SAMPLE_CONVERSATION
from warehouse.store import Warehouse

ROOT = Path(__file__).resolve().parents[2]


def _other_process(code: str) -> subprocess.Popen[str]:
    """A second Python process running `code`; returns once it printed 'ready' (it holds what it took)."""
    child = subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    assert line.strip() == "ready", child.stderr.read() if child.stderr else line
    return child


def _holding_the_file(path: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process with the DuckDB file open read-only (as a dashboard or notebook would) for a while."""
    return _other_process(
        f"import duckdb, time; con = duckdb.connect({str(path)!r}, read_only=True); "
        f"print('ready', flush=True); time.sleep({seconds}); con.close()"
    )


def _holding_the_run_lock(path: Path, *, start_run: bool = False) -> subprocess.Popen[str]:
    """Another commonground run: holds the run lock (and a `running` row) until it is killed."""
    code = (
        "import time; from warehouse.locks import run_lock; from warehouse.store import Warehouse\n"
        f"w = Warehouse({str(path)!r})\n"
        "with run_lock(w.path, flow='pipeline', wait_seconds=0):\n"
        f"    {'w.start_run(' + repr('pipeline') + ')' if start_run else 'pass'}\n"
        "    print('ready', flush=True)\n"
        "    time.sleep(60)\n"
    )
    return _other_process(code)


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[Warehouse]:
    w = Warehouse(tmp_path / "commonground.duckdb", lock_wait_seconds=20, run_lock_wait_seconds=0.3)
    w.init()
    yield w


def _statuses(warehouse: Warehouse) -> dict[str, str]:
    rows = warehouse.query("SELECT flow, status FROM runs ORDER BY started_at")
    return dict(zip(rows["flow"], rows["status"], strict=True))


def test_a_write_waits_while_another_process_has_the_file_open_then_succeeds(warehouse: Warehouse) -> None:
    child = _holding_the_file(warehouse.path, 1.5)
    # DuckDB alone fails at once: this is what every run hit before.
    with pytest.raises(duckdb.IOException, match="Could not set lock"):
        duckdb.connect(str(warehouse.path))
    started = time.monotonic()
    run_id = warehouse.start_run("ingest")
    waited = time.monotonic() - started
    child.wait(timeout=30)
    assert 0.5 < waited < 15
    assert warehouse.query("SELECT run_id FROM runs")["run_id"].tolist() == [run_id]


def test_a_file_held_past_the_bound_is_one_line_naming_it_and_what_to_do(warehouse: Warehouse) -> None:
    child = _holding_the_file(warehouse.path, 30)
    try:
        warehouse.lock_wait_seconds = 0.5
        started = time.monotonic()
        with pytest.raises(WarehouseBusy) as error:
            warehouse.start_run("ingest")
        assert time.monotonic() - started < 5
    finally:
        child.kill()
        child.wait()
    message = str(error.value)
    assert str(warehouse.path) in message and f"process {child.pid}" in message
    assert "COMMONGROUND_LOCK_WAIT_SECONDS" in message and "\n" not in message


def test_the_failure_is_recorded_when_the_lock_was_the_failure(warehouse: Warehouse) -> None:
    with pytest.raises(WarehouseBusy), recorded_run(warehouse, "ingest", {}):
        child = _holding_the_file(warehouse.path, 2)
        warehouse.lock_wait_seconds = 0.2
        warehouse.set_cursor("mastodon", "NHS", "1")  # a write inside the run meets the other process
    child.wait(timeout=30)
    row = warehouse.query("SELECT status, message FROM runs").iloc[0]
    assert row["status"] == "failed" and row["message"].startswith("WarehouseBusy: The warehouse")


def test_a_second_run_waits_then_says_another_run_is_in_progress(warehouse: Warehouse) -> None:
    child = _holding_the_run_lock(warehouse.path)
    try:
        with pytest.raises(RunInProgress) as error, recorded_run(warehouse, "ingest", {}):
            pytest.fail("two runs wrote at once")
        message = str(error.value)
        assert f"process {child.pid}" in message and "'pipeline' run" in message
        assert (
            str(run_lock_path(warehouse.path)) in message and "COMMONGROUND_RUN_LOCK_WAIT_SECONDS" in message
        )
        assert _statuses(warehouse) == {}
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    # The kernel let go of the lock of the killed process: the next run goes ahead.
    with recorded_run(warehouse, "ingest", {}):
        pass
    assert _statuses(warehouse) == {"ingest": "completed"}


def test_the_run_lock_is_reentrant_within_a_process_only(warehouse: Warehouse) -> None:
    with run_lock(warehouse.path, flow="pipeline", wait_seconds=0) as outer:
        with run_lock(warehouse.path, flow="ingest", wait_seconds=0) as inner:
            assert (outer, inner) == (True, False)
        with recorded_run(warehouse, "pipeline", {}), recorded_run(warehouse, "ingest", {}):
            pass  # pipeline's sub-flows take the lock again, and never close their parent's row
    assert _statuses(warehouse) == {"pipeline": "completed", "ingest": "completed"}
    child = _holding_the_run_lock(warehouse.path)  # released: another process takes it at once
    child.kill()
    child.wait()


def test_killed_runs_are_closed_as_interrupted_and_a_live_one_is_not(warehouse: Warehouse) -> None:
    killed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os, signal; from warehouse.store import Warehouse; "
            f"Warehouse({str(warehouse.path)!r}).start_run('enrich'); os.kill(os.getpid(), signal.SIGKILL)",
        ],
        cwd=ROOT,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL
    live = _holding_the_run_lock(warehouse.path, start_run=True)
    try:
        with pytest.raises(RunInProgress), recorded_run(warehouse, "analyze", {}):
            pass
        # The live run keeps its row; the killed one is only closed by whoever holds the lock.
        assert _statuses(warehouse) == {"enrich": "running", "pipeline": "running"}
    finally:
        live.kill()
        live.wait()
    with recorded_run(warehouse, "analyze", {}):
        pass
    assert _statuses(warehouse) == {
        "enrich": "interrupted",
        "pipeline": "interrupted",
        "analyze": "completed",
    }
    messages = warehouse.query("SELECT message FROM runs WHERE status = 'interrupted'")["message"]
    assert all("closed by the next run ('analyze')" in m for m in messages)


@pytest.mark.usefixtures("prefect_harness")
def test_ingest_waits_for_another_process_then_succeeds_and_publishes_no_running_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMMONGROUND_LOCK_WAIT_SECONDS", "30")
    data = tmp_path / "data"
    lines = SAMPLE_CONVERSATION.read_text(encoding="utf-8").splitlines()[:20]
    (tmp_path / "posts.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    options = RunOptions(data_dir=data, import_paths=[tmp_path / "posts.jsonl"])
    database = data / "commonground.duckdb"
    Warehouse(database).init()
    Warehouse(database).start_run("enrich")  # a run whose process was killed
    child = _holding_the_file(database, 2)
    started = time.monotonic()
    counts = ingest(options, source="file")
    assert time.monotonic() - started > 0.5
    assert child.wait(timeout=30) == 0
    assert counts["posts_stored"] == 20
    snapshot = Path(publish(options))
    with duckdb.connect(str(snapshot), read_only=True) as con:
        statuses = dict(con.execute("SELECT flow, status FROM runs").fetchall())
    assert statuses == {"enrich": "interrupted", "ingest": "completed", "publish": "completed"}
