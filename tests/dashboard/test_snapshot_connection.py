"""The dashboard keeps one read-only connection per snapshot file and still sees a republished one."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pytest

from dashboard import queries as q


def _snapshot(path: Path, value: int) -> None:
    con = duckdb.connect(str(path))
    try:
        con.execute("CREATE TABLE t AS SELECT ? AS x FROM range(1000)", [value])
    finally:
        con.close()


def test_reads_reuse_one_connection_and_a_republished_snapshot_is_read_at_once(tmp_path: Path) -> None:
    live = tmp_path / "snapshot.duckdb"
    _snapshot(live, 1)
    path = str(live)
    assert q._read(path, "SELECT max(x) AS x FROM t")["x"].iloc[0] == 1
    first = q._CONNECTIONS[path][1]
    assert q._read(path, "SELECT count(*) AS n FROM t")["n"].iloc[0] == 1000
    assert q._CONNECTIONS[path][1] is first  # no new connection per read

    # Many sessions (threads) read at once, each through its own cursor.
    with ThreadPoolExecutor(max_workers=4) as pool:
        sums = list(
            pool.map(lambda _: int(q._read(path, "SELECT sum(x) AS s FROM t")["s"].iloc[0]), range(20))
        )
    assert sums == [1000] * 20

    # `publish` writes a new file and swaps it in with os.replace: the next read sees it.
    fresh = tmp_path / "snapshot.duckdb.tmp"
    _snapshot(fresh, 2)
    os.replace(fresh, live)
    assert q._read(path, "SELECT max(x) AS x FROM t")["x"].iloc[0] == 2
    assert q._CONNECTIONS[path][1] is not first


def test_a_missing_snapshot_is_an_error_not_an_empty_file(tmp_path: Path) -> None:
    missing = tmp_path / "none.duckdb"
    with pytest.raises(OSError):
        q._read(str(missing), "SELECT 1")
    assert not missing.exists()
