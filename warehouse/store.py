"""The only code that reads or writes the DuckDB warehouse: upserts, lineage, analysis results, publish."""

from __future__ import annotations

import hashlib
import os
import re
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import partial
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from warehouse import snapshot_privacy
from warehouse.deletions import skip_deleted
from warehouse.locks import DEFAULT_LOCK_WAIT_SECONDS, DEFAULT_RUN_LOCK_WAIT_SECONDS, connect_waiting
from warehouse.privacy import Pseudonyms
from warehouse.records import Batch, utcnow
from warehouse.shapes import JSON_COLUMNS, RUN_COUNTS, RUN_PARAMS
from warehouse.versions import Plan, plan_posts
from warehouse.writes import (
    HOLD_SECONDS,
    HeldConnection,
    PackedBatch,
    arrow_batch,
    insert_new,
    merge_accounts,
    page_tables,
    record_row,
    record_table,
    stored_keys,
    stored_posts,
    unpacked,
    upsert_accounts,
    upsert_quarantine,
    without_raw,
)

if TYPE_CHECKING:
    import pandas as pd

# Tables whose rows belong to one analysis (topic × window); a re-run replaces them whole.
ANALYSIS_TABLES = (
    "communities",
    "community_profiles",
    "polarization",
    "voices",
    "account_roles",
    "network_layout",
    "network_layout_edges",
)
# Columns that hold personal raw payloads; the published snapshot leaves them out.
RAW_COLUMNS = {"accounts": "raw", "posts": "raw", "quarantine": "raw"}
# Columns added to tables after their first release, for warehouses created before (schema.sql has them).
ADDED_COLUMNS = (
    "ALTER TABLE posts ADD COLUMN IF NOT EXISTS version_at TIMESTAMP",
    # tone model schema 3: texts it cannot judge are stored unscored, and every score carries its reasons
    "ALTER TABLE tone_scores ALTER COLUMN constructive DROP NOT NULL",
    "ALTER TABLE tone_scores ALTER COLUMN hostile DROP NOT NULL",
    "ALTER TABLE tone_scores ADD COLUMN IF NOT EXISTS reasons VARCHAR[]",
    "ALTER TABLE tone_scores ADD COLUMN IF NOT EXISTS unscored_reason VARCHAR",
    "ALTER TABLE community_profiles ADD COLUMN IF NOT EXISTS n_unscored INTEGER",
)


def schema_statements() -> dict[str, str]:
    """Every `CREATE TABLE` of schema.sql, by table name: the one home of the schema."""
    text = resources.files("warehouse").joinpath("schema.sql").read_text(encoding="utf-8")
    found = re.finditer(r"CREATE TABLE IF NOT EXISTS (\w+) \(.*?\n\);", text, flags=re.DOTALL)
    return {m.group(1): m.group(0) for m in found}


# The dashboard keeps its shortlist in a database of its own, so it never contends with the flows.
# In databases of their own: outreach.duckdb (shortlist and its history, camp names, tone feedback)
# and api.duckdb.
DASHBOARD_TABLES = ("outreach", "outreach_history", "camp_names", "tone_feedback", "api_scores")
# What the snapshot carries: every warehouse table but the older versions of edited posts, in
# schema.sql's order (the read budgets go along: the dashboard shows X reads against them).
TABLES = tuple(t for t in schema_statements() if t not in (*DASHBOARD_TABLES, "post_versions", "opt_outs"))


@dataclass
class UpsertCounts:
    """What one batch did to the warehouse; read = posts_stored + duplicates + conflicts + quarantined
    + deleted.

    `posts_stored` counts new posts and new versions of known ones; `edits` says how many of them were
    versions (warehouse/versions.py). `accounts` and `interactions` count rows new to the warehouse."""

    read: int = 0
    posts_stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    accounts: int = 0
    interactions: int = 0
    edits: int = 0
    conflicts: int = 0
    deleted: int = 0  # posts left out because their author deleted them (warehouse/deletions.py)

    def add(self, other: UpsertCounts) -> None:
        for key, value in asdict(other).items():
            setattr(self, key, getattr(self, key) + value)


def _last_per_key(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Keep the last row per key: DuckDB would silently keep the first of duplicate keys."""
    seen: dict[Any, dict[str, Any]] = {}
    for row in rows:
        seen[row[key]] = row
    return list(seen.values())


class Warehouse:
    """One DuckDB file. Connections are short-lived so that only one writer holds the file at a time."""

    def __init__(
        self,
        path: Path,
        *,
        store_raw: bool = True,
        lock_wait_seconds: float = DEFAULT_LOCK_WAIT_SECONDS,
        run_lock_wait_seconds: float = DEFAULT_RUN_LOCK_WAIT_SECONDS,
    ) -> None:
        self.path = Path(path)
        self.store_raw = store_raw
        self.lock_wait_seconds = lock_wait_seconds
        self.run_lock_wait_seconds = run_lock_wait_seconds
        self._held: HeldConnection | None = None

    @contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection once no other process holds the file: waits up to `lock_wait_seconds`, then
        WarehouseBusy says which file and what to do. Within `holding()`, the held one."""
        if read_only and not self.path.exists():
            raise FileNotFoundError(
                f"No warehouse at {self.path}. Run `commonground run` (or `commonground demo`) first."
            )
        if self._held is not None and self._held.thread == threading.get_ident():
            with self._held.use() as held:
                yield held
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = connect_waiting(self.path, read_only=read_only, wait_seconds=self.lock_wait_seconds)
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def holding(self, hold_seconds: float = HOLD_SECONDS) -> Iterator[None]:
        """Connections within the block (this thread's) reuse one writable connection, let go every
        `hold_seconds` (warehouse/writes.py, HeldConnection): for the pages of one ingest."""
        if self._held is not None:
            yield
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        opener = partial(connect_waiting, self.path, read_only=False, wait_seconds=self.lock_wait_seconds)
        self._held = HeldConnection(opener, hold_seconds)
        try:
            yield
        finally:
            held, self._held = self._held, None
            held.close()

    def init(self) -> None:
        """Create the tables and add the columns this version needs; a warehouse already made by this
        schema (its digest noted on the `posts` table) is left as it is, in one query (every command
        opens the warehouse at least once: 0.15 s of statements each time on 2 cores)."""
        statements = [s for t, s in schema_statements().items() if t not in DASHBOARD_TABLES]
        statements += ADDED_COLUMNS
        digest = "commonground schema " + hashlib.sha256("\n".join(statements).encode()).hexdigest()[:16]
        with self.connect() as con:
            noted = con.execute(
                "SELECT comment FROM duckdb_tables() WHERE database_name = current_database() "
                "AND schema_name = 'main' AND table_name = 'posts'"
            ).fetchone()
            if noted is not None and noted[0] == digest:
                return
            for statement in statements:
                con.execute(statement)
            con.execute(f"COMMENT ON TABLE posts IS '{digest}'")

    # --- ingest --------------------------------------------------------------------------------

    def upsert_batch(self, batch: Batch, *, run_id: str, query: str = "") -> UpsertCounts:
        """Write one normalised batch idempotently and say what it did; a post read again is a
        duplicate, an edit or a conflict (warehouse/versions.py)."""
        counts = UpsertCounts(read=batch.read, quarantined=len(batch.quarantined))
        with self.connect() as con:
            con.execute("BEGIN")
            # A post its author deleted (`commonground compliance`) is never stored again.
            if con.execute("SELECT 1 FROM deletions LIMIT 1").fetchone():  # hashing every id costs
                batch, counts.deleted = skip_deleted(con, unpacked(batch))
            plan, batch, accounts, interactions = self._write_page_posts(con, batch, run_id)
            versions = _last_per_key(self._without_raw(plan.versions), "version_id")
            recorded = insert_new(con, "post_versions", arrow_batch(con, "post_versions", versions))
            older_recorded = max(0, recorded - plan.newer)
            counts.posts_stored = plan.stored + plan.newer + older_recorded
            counts.edits = plan.newer + older_recorded
            counts.duplicates = plan.duplicates + plan.older - older_recorded
            counts.conflicts = len(plan.conflicts)
            counts.accounts = upsert_accounts(con, accounts if self.store_raw else without_raw(accounts))
            counts.interactions = insert_new(con, "interactions", interactions)
            quarantined = [
                record_row(q, True, run_id=run_id, quarantined_at=utcnow())
                for q in [*batch.quarantined, *plan.conflicts]
            ]
            upsert_quarantine(con, _last_per_key(quarantined, "quarantine_id"))
            con.execute("COMMIT")
        return counts

    def _write_page_posts(
        self, con: duckdb.DuckDBPyConnection, batch: Batch, run_id: str
    ) -> tuple[Plan, Batch, pa.Table, pa.Table]:
        """Decide what each post read is (warehouse/versions.py) and write the posts to keep; the plan,
        the batch as records, and its accounts and the interactions of the posts kept, as tables."""
        tables = batch.tables if isinstance(batch, PackedBatch) else None
        ids = tables.post_ids if tables else [p.post_id for p in batch.posts]
        if len(set(ids)) == len(ids) and not stored_keys(con, ids):
            # All new and each read once (nearly every page of a large file): nothing to compare.
            tables = tables or page_tables(con, batch)
            assert tables is not None
            insert_new(con, "posts", tables.posts if self.store_raw else without_raw(tables.posts))
            return Plan(changed=set(ids), stored=len(ids)), batch, tables.accounts, tables.interactions
        batch = unpacked(batch)
        # Resolved with their payloads, which a conflict keeps even when raw payloads are not stored.
        rows = [record_row(p, True) for p in batch.posts]
        stored = stored_posts(con, stored_keys(con, ids))
        plan = plan_posts(rows, stored, batch.post_lines(), run_id)
        self._write_posts(con, plan, replaced=sorted(plan.changed & stored.keys()))
        accounts = record_table(con, "accounts", merge_accounts(batch.accounts), True)
        # The last of an interaction read twice, in the place of its first (as `_last_per_key`).
        kept = {i.interaction_id: i for i in batch.interactions if i.post_id in plan.changed}
        return plan, batch, accounts, record_table(con, "interactions", list(kept.values()), False)

    def _without_raw(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return rows if self.store_raw else [{**r, "raw": None} for r in rows]

    def _write_posts(self, con: duckdb.DuckDBPyConnection, plan: Plan, replaced: list[str]) -> None:
        """New posts are inserted; a post whose newer version was read is replaced, and what was derived
        from its older text (interactions, features, tone scores) goes, to be derived again."""
        rows = self._without_raw([plan.current[pid] for pid in sorted(plan.changed)])
        if replaced:
            for table in ("interactions", "post_features", "tone_scores", "posts"):
                con.execute(f"DELETE FROM {table} WHERE list_contains(?, post_id)", [replaced])
        insert_new(con, "posts", arrow_batch(con, "posts", rows))

    # --- cursors ---------------------------------------------------------------------------------

    def get_cursor(self, source: str, query: str) -> str | None:
        with self.connect() as con:
            row = con.execute(
                "SELECT cursor FROM cursors WHERE source = ? AND query = ?", [source, query]
            ).fetchone()
        return str(row[0]) if row else None

    def set_cursor(self, source: str, query: str, cursor: str) -> None:
        with self.connect() as con:
            con.execute(
                """INSERT INTO cursors (source, query, cursor, updated_at) VALUES (?, ?, ?, ?)
                   ON CONFLICT (source, query) DO UPDATE SET cursor = excluded.cursor,
                   updated_at = excluded.updated_at""",
                [source, query, cursor, utcnow()],
            )

    # --- read budgets ----------------------------------------------------------------------------

    def record_reads(self, run_id: str, source: str, query: str, posts_read: int) -> None:
        """Posts one page read from a platform: a paid API's budget is the sum of these."""
        with self.connect() as con:
            con.execute(
                "INSERT INTO source_reads (run_id, source, query, posts_read, recorded_at) VALUES (?, ?, ?, ?, ?)",
                [run_id, source, query, posts_read, utcnow()],
            )

    def posts_read_since(self, source: str, since: datetime, run_id: str | None = None) -> int:
        """Posts read from `source` since a time (UTC), by every run or by one."""
        with self.connect() as con:
            row = con.execute(
                """SELECT coalesce(sum(posts_read), 0) FROM source_reads
                   WHERE source = ? AND recorded_at >= ? AND (? IS NULL OR run_id = ?)""",
                [source, since, run_id, run_id],
            ).fetchone()
        return int(row[0]) if row else 0

    # --- lineage ---------------------------------------------------------------------------------

    def start_run(self, flow: str, params: dict[str, Any] | None = None) -> str:
        run_id = uuid.uuid4().hex
        with self.connect() as con:
            con.execute(
                "INSERT INTO runs (run_id, flow, started_at, status, params) VALUES (?, ?, ?, 'running', ?)",
                [run_id, flow, utcnow(), RUN_PARAMS.dump(params or {})],
            )
        return run_id

    def finish_run(
        self, run_id: str, *, status: str, counts: dict[str, Any] | None = None, message: str = ""
    ) -> None:
        with self.connect() as con:
            con.execute(
                "UPDATE runs SET finished_at = ?, status = ?, counts = ?, message = ? WHERE run_id = ?",
                [utcnow(), status, RUN_COUNTS.dump(counts or {}), message, run_id],
            )

    # --- enrich ----------------------------------------------------------------------------------

    def posts_without_features(self) -> pd.DataFrame:
        with self.connect() as con:
            return con.execute(
                """SELECT p.post_id, p.text, p.lang, p.hashtags FROM posts p
                   ANTI JOIN post_features f USING (post_id) ORDER BY p.post_id"""
            ).df()

    def write_features(self, frame: pd.DataFrame) -> int:
        if frame.empty:
            return 0
        frame = frame.drop_duplicates("post_id", keep="last")
        with self.connect() as con:
            _insert_frame(con, "post_features", frame)
        return len(frame)

    def posts_without_score(self, model_version: str) -> pd.DataFrame:
        with self.connect() as con:
            return con.execute(
                """SELECT p.post_id, p.text FROM posts p
                   WHERE NOT EXISTS (SELECT 1 FROM tone_scores t
                                     WHERE t.post_id = p.post_id AND t.model_version = ?)
                   ORDER BY p.post_id""",
                [model_version],
            ).df()

    def write_tone_scores(self, frame: pd.DataFrame) -> int:
        """Rows: post_id, model_version, the tone columns, and attributes ({attribute: probability})."""
        if frame.empty:
            return 0
        frame = frame.drop_duplicates(["post_id", "model_version"], keep="last").assign(scored_at=utcnow())
        with self.connect() as con:
            _insert_frame(con, "tone_scores", frame)
        return len(frame)

    # --- analyze ---------------------------------------------------------------------------------

    def latest_post_time(self) -> datetime | None:
        with self.connect() as con:
            row = con.execute("SELECT max(created_at) FROM posts").fetchone()
        return row[0] if row and row[0] is not None else None

    def analysis_inputs(self, start: datetime, end: datetime, model_version: str) -> dict[str, pd.DataFrame]:
        """Posts (with tone and terms), interactions and accounts of one time window: the columns the
        analysis reads, no more (7 s instead of 12 s at 1M posts, most of it the texts)."""
        with self.connect(read_only=True) as con:
            posts = con.execute(
                """SELECT p.post_id, p.author_id, p.repost_of_post_id,
                          coalesce(f.hashtags, []) AS hashtags, coalesce(f.key_terms, []) AS key_terms,
                          t.constructive, t.hostile, t.tone
                   FROM posts p
                   LEFT JOIN post_features f USING (post_id)
                   LEFT JOIN tone_scores t ON t.post_id = p.post_id AND t.model_version = ?
                   WHERE p.created_at >= ? AND p.created_at <= ?
                   ORDER BY p.created_at, p.post_id""",
                [model_version, start, end],
            ).df()
            interactions = con.execute(
                """SELECT i.interaction_id, i.kind, i.post_id, i.src_account_id, i.dst_account_id, t.hostile,
                          CASE WHEN t.tone = 'unscored' THEN NULL ELSE t.is_hostile END AS is_hostile
                   FROM interactions i
                   LEFT JOIN tone_scores t ON t.post_id = i.post_id AND t.model_version = ?
                   WHERE i.created_at >= ? AND i.created_at <= ?
                   ORDER BY i.interaction_id""",
                [model_version, start, end],
            ).df()
            accounts = con.execute("SELECT account_id, bio FROM accounts").df()
        return {"posts": posts, "interactions": interactions, "accounts": accounts}

    def write_analysis(self, analysis: dict[str, Any], tables: dict[str, pd.DataFrame]) -> None:
        """Replace one analysis (topic × window) and its result tables in a single transaction."""
        analysis_id = analysis["analysis_id"]
        with self.connect() as con:
            con.execute("BEGIN")
            con.execute("DELETE FROM analyses WHERE analysis_id = ?", [analysis_id])
            for table in ANALYSIS_TABLES:
                con.execute(f"DELETE FROM {table} WHERE analysis_id = ?", [analysis_id])
            con.execute(
                """INSERT INTO analyses (analysis_id, topic, window_start, window_end, model_version,
                       run_id, n_posts, n_accounts, n_edges, created_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [
                    analysis_id,
                    analysis["topic"],
                    analysis["window_start"],
                    analysis["window_end"],
                    analysis["model_version"],
                    analysis["run_id"],
                    analysis["n_posts"],
                    analysis["n_accounts"],
                    analysis["n_edges"],
                    utcnow(),
                ],
            )
            for table in ANALYSIS_TABLES:
                frame = tables.get(table)
                if frame is None or frame.empty:
                    continue
                _insert_frame(con, table, frame.assign(analysis_id=analysis_id))
            con.execute("COMMIT")

    # --- weekly reports --------------------------------------------------------------------------

    def record_report(self, report: dict[str, Any]) -> None:
        """Record one week's report (the `reports` columns); a rebuilt week replaces its row."""
        with self.connect() as con:
            con.execute("BEGIN")
            con.execute("DELETE FROM reports WHERE week = ?", [report["week"]])
            _insert_frame(con, "reports", _frame([report]))
            con.execute("COMMIT")

    def reports(self) -> pd.DataFrame:
        """Every recorded report, newest week first."""
        return self.query("SELECT * FROM reports ORDER BY week DESC")

    # --- inspection and publish ----------------------------------------------------------------

    def table_counts(self) -> dict[str, int]:
        with self.connect(read_only=True) as con:
            out = {}
            for table in TABLES:
                row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
                out[table] = int(row[0]) if row else 0
        return out

    def query(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        with self.connect(read_only=True) as con:
            return con.execute(sql, list(params)).df()

    def publish(
        self,
        snapshot: Path,
        *,
        pseudonymize: bool = False,
        key: bytes | None = None,
        finishing_runs: Sequence[str] = (),
    ) -> Path:
        """Write a consistent read-only copy for readers, then swap it in atomically.

        Raw payloads and the opt-out list stay behind, and so does everything of the accounts on it
        (warehouse/snapshot_privacy.py). With `pseudonymize`, every identifier that names a person
        becomes its keyed pseudonym (`key`: warehouse.privacy.load_key) and bios and links are dropped.
        """
        if pseudonymize and key is None:
            raise ValueError("publish(pseudonymize=True) needs the pseudonym key: warehouse.privacy.load_key")
        snapshot = Path(snapshot)
        snapshot.parent.mkdir(parents=True, exist_ok=True)
        tmp = snapshot.with_name(snapshot.name + ".tmp")
        tmp.unlink(missing_ok=True)
        with self.connect() as con:
            con.execute("ATTACH ? AS snap", [str(tmp)])
            con.execute("BEGIN")
            for table in TABLES:
                exclude = f" EXCLUDE ({RAW_COLUMNS[table]})" if table in RAW_COLUMNS else ""
                con.execute(f"CREATE TABLE snap.{table} AS SELECT *{exclude} FROM main.{table}")
            snapshot_privacy.drop_opted_out(con)
            if pseudonymize and key is not None:
                snapshot_privacy.pseudonymise(con, Pseudonyms(key))
            # Built from the snapshot's own tables, so it holds only what they hold (opt-outs gone,
            # pseudonyms in place).
            con.execute(WINDOW_POSTS_SQL)
            if finishing_runs:
                # The runs that are publishing this snapshot end with it; readers see them done.
                con.execute(
                    """UPDATE snap.runs SET status = 'completed', finished_at = ?
                       WHERE status = 'running' AND list_contains(?, run_id)""",
                    [utcnow(), list(finishing_runs)],
                )
            con.execute(
                "CREATE TABLE snap.snapshot_info AS SELECT ?::TIMESTAMP AS published_at, ? AS pseudonymized",
                [utcnow(), pseudonymize],
            )
            con.execute("COMMIT")
            con.execute("DETACH snap")
        os.replace(tmp, snapshot)
        return snapshot


# Every post with its hashtags and its tone from each model version an analysis used, joined once at
# publish so that the dashboard's window queries read one table (dashboard/queries.py, _WINDOW_POSTS).
# A post without a score from that version has NULL tone columns, as the LEFT JOIN it replaces gave.
# Stored in time order: the newest-first searches then skip most of the table (on 1M posts a search
# took 94-350 ms on the ordered table and 590-1,580 ms on the same rows unordered, load 2-4).
WINDOW_POSTS_SQL = """
CREATE TABLE snap.window_posts AS
SELECT m.model_version, p.post_id, p.author_id, p.created_at, p.text, p.url, p.source AS platform,
       coalesce(f.hashtags, p.hashtags) AS tags,
       list_transform(coalesce(f.hashtags, p.hashtags), lambda tag: lower(ltrim(tag, '#'))) AS tag_keys,
       t.tone, t.constructive, t.hostile, array_to_string(t.reasons, ', ') AS reasons, t.unscored_reason,
       t.reasons AS reason_list
FROM snap.posts p
CROSS JOIN (SELECT DISTINCT model_version FROM snap.analyses) m
LEFT JOIN snap.post_features f ON f.post_id = p.post_id
LEFT JOIN snap.tone_scores t ON t.post_id = p.post_id AND t.model_version = m.model_version
ORDER BY p.created_at, m.model_version
"""


def log_api_scores(path: Path, model_version: str, scored: Sequence[Any], client_token: str | None) -> None:
    """Append (text, ToneScore) pairs scored by the API to its own database: hashes and scores only."""
    rows = [
        {
            "score_id": uuid.uuid4().hex,
            "scored_at": utcnow(),
            "model_version": model_version,
            "text_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
            "constructive": score.constructive,
            "hostile": score.hostile,
            "tone": score.tone,
            "attributes": score.attributes,
            "client_token": client_token,
        }
        for text, score in scored
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        con.execute(schema_statements()["api_scores"])
        _insert_frame(con, "api_scores", _frame(rows))
    finally:
        con.close()


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    import pandas as pd  # here: a command that only imports posts (a one-line `ingest`) never loads pandas

    return pd.DataFrame(rows)


def _insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    """Insert a frame's rows by column name (columns the table lacks are left out), each JSON column
    written through its declared shape (warehouse/shapes.py); rows whose key exists are kept as they are."""
    columns = [c[0] for c in con.execute(f"DESCRIBE {table}").fetchall()]
    frame = frame[[c for c in columns if c in frame.columns]].copy()
    for column in frame.columns:
        shape = JSON_COLUMNS.get((table, column))
        if shape is not None:
            frame[column] = [shape.dump(v) for v in frame[column]]
    con.register("batch_frame", frame)
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM batch_frame ON CONFLICT DO NOTHING")
    con.unregister("batch_frame")
