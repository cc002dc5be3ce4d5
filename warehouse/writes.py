"""Writing normalised records in bulk: records as rows, Arrow inserts, one connection held across pages."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

import duckdb
import pyarrow as pa

from warehouse.records import Account, Batch, Interaction, InteractionKind, Post, Provenance, Quarantined
from warehouse.versions import CONTENT

# How long an ingest keeps one connection before letting go of the file (Warehouse.holding): each
# let-go checkpoints, about 2 s of CPU at 500,000-1M posts, and a waiting command waits up to a minute.
HOLD_SECONDS = 30.0
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


# Provenance's fields and the columns a record's row keeps them in (`record_row`, `record_table`).
PROVENANCE_COLUMNS = (
    ("query", "query"),
    ("source_url", "url"),
    ("client_version", "client_version"),
    ("retrieved_at", "retrieved_at"),
)


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
        row.update({column: getattr(record.provenance, attr) for column, attr in PROVENANCE_COLUMNS})
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


def table_schema(con: duckdb.DuckDBPyConnection, table: str) -> pa.Schema:
    """The table's columns as an Arrow schema, so batches are built against the table's own columns."""
    return pa.schema([(c[0], ARROW_TYPES[c[1]]) for c in con.execute(f"DESCRIBE {table}").fetchall()])


def arrow_batch(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=table_schema(con, table))


def record_table(
    con: duckdb.DuckDBPyConnection, table: str, records: Sequence[Any], store_raw: bool, **extra: Any
) -> pa.Table:
    """`arrow_batch(con, table, [record_row(r, store_raw, **extra) for r in records])` built column by
    column from records of one type, with no dict per record: a large import writes millions of them
    (100,000 posts into a 500,000-post warehouse: 6.9 s of rows and Arrow conversion, against 1.5 s)."""
    schema = table_schema(con, table)
    n = len(records)
    columns: dict[str, Sequence[Any]] = {}
    if records:
        kind = type(records[0])
        names, values = _fields(kind)
        columns = dict(zip(names, zip(*map(values, records), strict=True), strict=True))
        if "provenance" in kind.__dataclass_fields__:
            provs = [r.provenance for r in records]
            for column, attr in PROVENANCE_COLUMNS:
                columns[column] = [getattr(p, attr) for p in provs]
        if "raw" in columns and not store_raw and kind is not Quarantined:
            columns["raw"] = [None] * n  # the quarantine keeps its payload: it is what a person must fix
    columns.update({name: [value] * n for name, value in extra.items()})
    arrays = [
        pa.array(columns[f.name], type=f.type) if f.name in columns else pa.nulls(n, f.type) for f in schema
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def merge_accounts(accounts: Sequence[Account]) -> list[Account]:
    """One per account; a mention-only stub (no bio, no followers) never replaces a profile."""
    merged: dict[str, Account] = {}
    for a in accounts:
        is_stub = a.followers_count is None and not a.bio
        if a.account_id not in merged or not is_stub:
            merged[a.account_id] = a
    return list(merged.values())


@dataclass(slots=True)
class PageTables:
    """A page's rows as Arrow tables, to insert as they are when each of its posts is read once and
    new to the warehouse (nearly every page of a large file): no plan, no row per post."""

    post_ids: list[str]
    posts: pa.Table  # in key order, as a plan's rows are inserted; raw payloads kept
    accounts: pa.Table  # one row per account (`merge_accounts`); raw payloads kept
    interactions: pa.Table  # the last of an interaction read twice, in the place of its first


def page_tables(con: duckdb.DuckDBPyConnection, batch: Batch) -> PageTables | None:
    """The batch's rows as tables; None when a post is read twice in it (it needs a plan)."""
    ids = [p.post_id for p in batch.posts]
    unique = set(ids)
    if len(unique) != len(ids):
        return None
    posts = sorted(batch.posts, key=attrgetter("post_id"))
    kept = {i.interaction_id: i for i in batch.interactions if i.post_id in unique}
    return PageTables(
        post_ids=ids,
        posts=record_table(con, "posts", posts, True),
        accounts=record_table(con, "accounts", merge_accounts(batch.accounts), True),
        interactions=record_table(con, "interactions", list(kept.values()), False),
    )


@dataclass(slots=True)
class PackedBatch(Batch):
    """A batch as a worker process sends it (flows/sources/parallel.py): its rows as tables, which
    cross between processes as buffers, and its records only as those rows (with the one provenance
    of them all), rebuilt for a page that needs them (a post stored already, a deleted author's).
    Sending records as objects cost the writing process 4 s of its 17 s of CPU for 100,000 posts, and
    the workers a quarter of theirs."""

    tables: PageTables | None = None
    provenance: Provenance | None = None

    def unpacked(self) -> Batch:
        """The records again: posts in key order with their lines, accounts merged, interactions
        each once (what the writes make of the batch's own records)."""
        assert self.tables is not None and self.provenance is not None
        posts = _records(Post, self.tables.posts, self.provenance)
        accounts = _records(Account, self.tables.accounts, self.provenance)
        interactions = _records(Interaction, self.tables.interactions, None)
        return Batch(posts, accounts, interactions, self.quarantined, self.read, self.lines)


def _records(kind: type, table: pa.Table, provenance: Provenance | None) -> list[Any]:
    names, _ = _fields(kind)
    found = []
    for row in table.to_pylist():
        values = {name: row[name] for name in names}
        if kind is Post:
            values["hashtags"] = tuple(values["hashtags"] or ())
        if kind is Interaction:
            values["kind"] = InteractionKind(values["kind"])
        if provenance is not None:
            values["provenance"] = provenance
        found.append(kind(**values))
    return found


def pack(con: duckdb.DuckDBPyConnection, batch: Batch) -> Batch:
    """The batch as a `PackedBatch`; as it is when it needs a plan anyway, or its records come from
    more than one payload provenance."""
    provenances = {p.provenance for p in batch.posts} | {a.provenance for a in batch.accounts}
    tables = page_tables(con, batch) if len(provenances) == 1 else None
    if tables is None:
        return batch
    lines = [line for _, line in sorted(zip(tables.post_ids, batch.post_lines(), strict=True))]
    return PackedBatch(
        quarantined=batch.quarantined,
        read=batch.read,
        lines=lines,
        tables=tables,
        provenance=provenances.pop(),
    )


def unpacked(batch: Batch) -> Batch:
    return batch.unpacked() if isinstance(batch, PackedBatch) else batch


def without_raw(table: pa.Table) -> pa.Table:
    """The table with its raw payloads left out (`store_raw_payloads` off)."""
    return table.set_column(table.schema.get_field_index("raw"), "raw", pa.nulls(table.num_rows, pa.string()))


def insert_new(con: duckdb.DuckDBPyConnection, table: str, rows: pa.Table) -> int:
    """Insert the rows whose key is new (keys distinct within `rows`); how many were new."""
    if not rows.num_rows:
        return 0
    con.register("batch_rows", rows)
    # DuckDB counts the rows an INSERT … DO NOTHING inserted: no second pass over the whole table.
    new = con.execute(
        f"INSERT INTO {table} BY NAME SELECT * FROM batch_rows ON CONFLICT DO NOTHING"
    ).fetchone()
    con.unregister("batch_rows")
    return int(new[0]) if new else 0


def stored_keys(con: duckdb.DuckDBPyConnection, post_ids: Sequence[str]) -> list[str]:
    """Which of these posts the warehouse holds, read from the key column alone: reading every column
    (the raw payloads too) cost 0.7 s a page at 1M posts, against 0.05 s."""
    if not post_ids:
        return []
    among = "SELECT post_id FROM posts WHERE post_id IN (SELECT unnest(?::VARCHAR[]))"
    return [row[0] for row in con.execute(among, [sorted(set(post_ids))]).fetchall()]


def stored_posts(con: duckdb.DuckDBPyConnection, known: list[str]) -> dict[str, dict[str, Any]]:
    """The kept version of each of these stored posts (`stored_keys`)."""
    if not known:
        return {}
    names = ["post_id", "native_id", "source", "query", "source_url", "raw", *CONTENT]
    among = "FROM posts WHERE post_id IN (SELECT unnest(?::VARCHAR[]))"
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


def upsert_accounts(con: duckdb.DuckDBPyConnection, rows: pa.Table) -> int:
    """Insert new accounts and refresh known ones; a stub (mentioned only) keeps a fuller profile."""
    if not rows.num_rows:
        return 0
    con.register("batch_accounts", rows)
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
