"""One connection held across an ingest's pages: reused, let go on time, and a failed write undone."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from warehouse.records import Batch
from warehouse.store import Warehouse


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    w = Warehouse(tmp_path / "commonground.duckdb")
    w.init()
    return w


def test_connections_within_holding_are_one_and_closed_after(warehouse: Warehouse) -> None:
    with warehouse.holding():
        with warehouse.connect() as first, warehouse.connect(read_only=True) as second:
            assert first is second
        warehouse.set_cursor("file", "a.jsonl", "1")
        with warehouse.connect() as again:
            assert again is first
    # Let go: another process opens the file at once.
    done = subprocess.run(
        [sys.executable, "-c", f"import duckdb; duckdb.connect({str(warehouse.path)!r}).close()"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert warehouse.get_cursor("file", "a.jsonl") == "1"


def test_a_held_connection_is_let_go_once_held_long_enough(warehouse: Warehouse) -> None:
    with warehouse.holding(hold_seconds=0.2):
        with warehouse.connect() as first:
            pass
        with warehouse.connect() as second:
            assert second is first
        time.sleep(0.3)
        with warehouse.connect() as third:
            assert third is first  # the use that went past the time closes it, not the next
        with warehouse.connect() as fourth:
            assert fourth is not first


def test_a_write_that_fails_while_held_leaves_nothing_and_the_next_one_works(warehouse: Warehouse) -> None:
    with warehouse.holding():
        with pytest.raises(RuntimeError, match="page failed"), warehouse.connect() as con:
            con.execute("BEGIN")
            con.execute("INSERT INTO cursors VALUES ('file', 'a', '1', now())")
            raise RuntimeError("page failed")
        counts = warehouse.upsert_batch(Batch(read=1), run_id="r1")
        warehouse.set_cursor("file", "b", "2")
    assert counts.read == 1
    assert warehouse.query("SELECT query FROM cursors")["query"].tolist() == ["b"]
