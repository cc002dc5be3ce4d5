"""Writing normalised records in bulk: records as rows, Arrow inserts, one connection held across pages."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from operator import attrgetter
from typing import Any

import duckdb
import pyarrow as pa

from warehouse.records import Quarantined
from warehouse.versions import CONTENT

# How long an ingest keeps one connection before letting go of the file (Warehouse.holding).
HOLD_SECONDS = 10.0
CHECKPOINT_THRESHOLD = "1GB"


class HeldConnection:
    """One connection that every write of a block reuses (the pages of one ingest), instead of one per
    page: closing a DuckDB connection checkpoints the file, and on a large warehouse that costs more than
    writing the page (0.15 s a page at 50,000 posts, and growing). It is closed, checkpointing the file,
    once held `hold_seconds`, so a process waiting for the file (which polls at most a second apart)
    can take it between pages; a write that fails closes it, so its transaction goes as it always did."""

    def __init__(self, opener: Callable[[], duckdb.DuckDBPyConnection], hold_seconds: float) -> None:
        self.opener = opener
        self.hold_seconds = hold_seconds
        self.thread = threading.get_ident()  # DuckDB connections are not for two threads at once
        self.con: duckdb.DuckDBPyConnection | None = None
        self.since = 0.0
        self.depth = 0

    @contextmanager
    def use(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if self.con is None:
            self.con, self.since = self.opener(), time.monotonic()
            # The pages of `hold_seconds` checkpoint once, at close, not every 16 MB of log as by default.
            self.con.execute(f"SET checkpoint_threshold = '{CHECKPOINT_THRESHOLD}'")
        self.depth += 1
        try:
            yield self.con
        except BaseException:
            self.close()
            raise
        finally:
            self.depth -= 1
        if not self.depth and time.monotonic() - self.since >= self.hold_seconds:
            self.close()

    def close(self) -> None:
        con, self.con = self.con, None
        if con is not None:
            con.close()


_FIELDS: dict[type, tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]]]] = {}


def _fields(kind: type) -> tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]]]:
    """A record type's column fields (not provenance) and one getter for all of them."""
    if kind not in _FIELDS:
        names = tuple(n for n in kind.__dataclass_fields__ if n != "provenance")  # type: ignore[attr-defined]
        _FIELDS[kind] = names, attrgetter(*names)
    return _FIELDS[kind]


def record_row(record: Any, store_raw: bool, **extra: Any) -> dict[str, Any]:
    """A record as a row of its table: its fields by name, its provenance spread into columns."""
    names, values = _fields(type(record))
    row = dict(zip(names, values(record), strict=True))
    if "provenance" in record.__dataclass_fields__:
        prov = record.provenance
        row.update(
            query=prov.query,
            source_url=prov.url,
            client_version=prov.client_version,
            retrieved_at=prov.retrieved_at,
        )
    if "raw" in row and not store_raw and not isinstance(record, Quarantined):
        row["raw"] = None  # the quarantine keeps its payload: it is what a person must fix
    return {**row, **extra} if extra else row


# DuckDB's types in schema.sql → Arrow's, so batches are built against the table's own columns.
ARROW_TYPES = {
    "VARCHAR": pa.string(),
    "JSON": pa.string(),
    "TIMESTAMP": pa.timestamp("us"),
    "BIGINT": pa.int64(),
    "INTEGER": pa.int32(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "VARCHAR[]": pa.list_(pa.string()),
}


def arrow_batch(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, Any]]) -> pa.Table:
    columns = con.execute(f"DESCRIBE {table}").fetchall()
    return pa.Table.from_pylist(rows, schema=pa.schema([(c[0], ARROW_TYPES[c[1]]) for c in columns]))


def insert_new(con: duckdb.DuckDBPyConnection, table: str, key: str, rows: list[dict[str, Any]]) -> int:
    """Insert the rows whose key is new (by column name; keys distinct within `rows`); how many were new."""
    if not rows:
        return 0
    con.register("batch_rows", arrow_batch(con, table, rows))
    # DuckDB counts the rows an INSERT … DO NOTHING inserted: no second pass over the whole table.
    new = con.execute(
        f"INSERT INTO {table} BY NAME SELECT * FROM batch_rows ON CONFLICT DO NOTHING"
    ).fetchone()
    con.unregister("batch_rows")
    return int(new[0]) if new else 0


def stored_posts(con: duckdb.DuckDBPyConnection, post_ids: set[str]) -> dict[str, dict[str, Any]]:
    """The kept version of each of these posts already in the warehouse."""
    if not post_ids:
        return {}
    # Which are stored first, reading the key column only; then those rows whole. One query for both
    # read every column of the table (the raw payloads too): 0.7 s a page at 1M posts, against 0.05 s.
    among = "FROM posts WHERE post_id IN (SELECT unnest(?::VARCHAR[]))"
    known = [row[0] for row in con.execute(f"SELECT post_id {among}", [sorted(post_ids)]).fetchall()]
    if not known:
        return {}
    names = ["post_id", "native_id", "source", "query", "source_url", "raw", *CONTENT]
    found = con.execute(f"SELECT {', '.join(names)} {among}", [known]).fetchall()
    return {values[0]: dict(zip(names, values, strict=True)) for values in found}


def upsert_quarantine(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> None:
    """Insert new quarantined payloads; one seen again is stamped with this run, so a run's report
    lists every payload it could not store, not only those it saw first."""
    if not rows:
        return
    con.register("batch_quarantine", arrow_batch(con, "quarantine", rows))
    con.execute(
        """INSERT INTO quarantine BY NAME SELECT * FROM batch_quarantine
           ON CONFLICT (quarantine_id) DO UPDATE SET run_id = excluded.run_id,
               quarantined_at = excluded.quarantined_at"""
    )
    con.unregister("batch_quarantine")


def upsert_accounts(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> int:
    """Insert new accounts and refresh known ones; a stub (mentioned only) keeps a fuller profile."""
    if not rows:
        return 0
    con.register("batch_accounts", arrow_batch(con, "accounts", rows))
    new = con.execute("SELECT count(*) FROM batch_accounts ANTI JOIN accounts USING (account_id)").fetchone()
    con.execute(
        """
        INSERT INTO accounts BY NAME SELECT * FROM batch_accounts
        ON CONFLICT (account_id) DO UPDATE SET
            handle = CASE WHEN excluded.handle = '' THEN accounts.handle ELSE excluded.handle END,
            display_name = CASE WHEN excluded.followers_count IS NULL AND excluded.bio = ''
                                THEN accounts.display_name ELSE excluded.display_name END,
            bio = CASE WHEN excluded.bio = '' THEN accounts.bio ELSE excluded.bio END,
            followers_count = coalesce(excluded.followers_count, accounts.followers_count),
            url = coalesce(excluded.url, accounts.url),
            retrieved_at = excluded.retrieved_at
        """
    )
    con.unregister("batch_accounts")
    return int(new[0]) if new else 0
