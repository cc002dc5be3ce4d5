"""The only code that reads or writes the DuckDB warehouse: upserts, lineage, analysis results, publish."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from warehouse.records import Account, Batch, Interaction, Post, Quarantined

TABLES = (
    "accounts",
    "posts",
    "interactions",
    "quarantine",
    "cursors",
    "post_features",
    "tone_scores",
    "analyses",
    "communities",
    "community_profiles",
    "polarization",
    "voices",
    "account_roles",
    "runs",
)
# Tables whose rows belong to one analysis (topic × window); a re-run replaces them whole.
ANALYSIS_TABLES = ("communities", "community_profiles", "polarization", "voices", "account_roles")
# Columns that hold personal raw payloads; the published snapshot leaves them out.
RAW_COLUMNS = {"accounts": "raw", "posts": "raw", "quarantine": "raw"}


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def schema_sql() -> str:
    return resources.files("warehouse").joinpath("schema.sql").read_text(encoding="utf-8")


@dataclass
class UpsertCounts:
    """What one batch did to the warehouse; read = stored + duplicates + quarantined.

    `accounts` and `interactions` count rows new to the warehouse."""

    read: int = 0
    posts_stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    accounts: int = 0
    interactions: int = 0

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

    def __init__(self, path: Path, *, store_raw: bool = True) -> None:
        self.path = Path(path)
        self.store_raw = store_raw

    @contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        if read_only and not self.path.exists():
            raise FileNotFoundError(
                f"No warehouse at {self.path}. Run `commonground run` (or `commonground demo`) first."
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(self.path), read_only=read_only)
        try:
            yield con
        finally:
            con.close()

    def init(self) -> None:
        with self.connect() as con:
            con.execute(schema_sql())

    # --- ingest --------------------------------------------------------------------------------

    def upsert_batch(self, batch: Batch, *, run_id: str, query: str = "") -> UpsertCounts:
        """Write one normalised batch idempotently and say what it did."""
        counts = UpsertCounts(read=batch.read, quarantined=len(batch.quarantined))
        posts = _last_per_key([self._post_row(p) for p in batch.posts], "post_id")
        accounts = self._merge_accounts(batch.accounts)
        interactions = _last_per_key([_interaction_row(i) for i in batch.interactions], "interaction_id")
        quarantined = _last_per_key([_quarantine_row(q, run_id) for q in batch.quarantined], "quarantine_id")
        with self.connect() as con:
            con.execute("BEGIN")
            if posts:
                frame = pa.Table.from_pylist(posts, schema=_POST_SCHEMA)
                con.register("batch_posts", frame)
                new = con.execute(
                    "SELECT count(*) FROM batch_posts b ANTI JOIN posts p USING (post_id)"
                ).fetchone()
                counts.posts_stored = int(new[0]) if new else 0
                con.execute("INSERT INTO posts SELECT * FROM batch_posts ON CONFLICT (post_id) DO NOTHING")
                con.unregister("batch_posts")
            counts.duplicates = len(batch.posts) - counts.posts_stored
            if accounts:
                con.register("batch_accounts", pa.Table.from_pylist(accounts, schema=_ACCOUNT_SCHEMA))
                new = con.execute(
                    "SELECT count(*) FROM batch_accounts b ANTI JOIN accounts a USING (account_id)"
                ).fetchone()
                counts.accounts = int(new[0]) if new else 0
                # A mention-only stub (no bio, no followers) never overwrites a fuller profile.
                con.execute(
                    """
                    INSERT INTO accounts SELECT * FROM batch_accounts
                    ON CONFLICT (account_id) DO UPDATE SET
                        handle = excluded.handle,
                        display_name = CASE WHEN excluded.followers_count IS NULL AND excluded.bio = ''
                                            THEN accounts.display_name ELSE excluded.display_name END,
                        bio = CASE WHEN excluded.bio = '' THEN accounts.bio ELSE excluded.bio END,
                        followers_count = coalesce(excluded.followers_count, accounts.followers_count),
                        url = coalesce(excluded.url, accounts.url),
                        retrieved_at = excluded.retrieved_at
                    """
                )
                con.unregister("batch_accounts")
            if interactions:
                con.register("batch_inter", pa.Table.from_pylist(interactions, schema=_INTERACTION_SCHEMA))
                new = con.execute(
                    "SELECT count(*) FROM batch_inter b ANTI JOIN interactions i USING (interaction_id)"
                ).fetchone()
                counts.interactions = int(new[0]) if new else 0
                con.execute("INSERT INTO interactions SELECT * FROM batch_inter ON CONFLICT DO NOTHING")
                con.unregister("batch_inter")
            if quarantined:
                con.register("batch_q", pa.Table.from_pylist(quarantined, schema=_QUARANTINE_SCHEMA))
                con.execute("INSERT INTO quarantine SELECT * FROM batch_q ON CONFLICT DO NOTHING")
                con.unregister("batch_q")
            con.execute("COMMIT")
        return counts

    def _post_row(self, p: Post) -> dict[str, Any]:
        prov = p.provenance
        return {
            "post_id": p.post_id,
            "source": p.source,
            "native_id": p.native_id,
            "author_id": p.author_id,
            "created_at": p.created_at,
            "text": p.text,
            "lang": p.lang,
            "url": p.url,
            "reply_to_post_id": p.reply_to_post_id,
            "quote_of_post_id": p.quote_of_post_id,
            "repost_of_post_id": p.repost_of_post_id,
            "hashtags": list(p.hashtags),
            "query": prov.query,
            "source_url": prov.url,
            "client_version": prov.client_version,
            "retrieved_at": prov.retrieved_at,
            "raw": p.raw if self.store_raw else None,
        }

    def _merge_accounts(self, accounts: Sequence[Account]) -> list[dict[str, Any]]:
        merged: dict[str, dict[str, Any]] = {}
        for a in accounts:
            row = {
                "account_id": a.account_id,
                "source": a.source,
                "native_id": a.native_id,
                "handle": a.handle,
                "display_name": a.display_name,
                "bio": a.bio,
                "followers_count": a.followers_count,
                "url": a.url,
                "query": a.provenance.query,
                "source_url": a.provenance.url,
                "client_version": a.provenance.client_version,
                "retrieved_at": a.provenance.retrieved_at,
                "raw": a.raw if self.store_raw else None,
            }
            old = merged.get(a.account_id)
            is_stub = a.followers_count is None and not a.bio
            if old is None or not is_stub:
                merged[a.account_id] = row
        return list(merged.values())

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
                """INSERT INTO cursors VALUES (?, ?, ?, ?)
                   ON CONFLICT (source, query) DO UPDATE SET cursor = excluded.cursor,
                   updated_at = excluded.updated_at""",
                [source, query, cursor, utcnow()],
            )

    # --- read budgets ----------------------------------------------------------------------------

    def record_reads(self, run_id: str, source: str, query: str, posts_read: int) -> None:
        """Posts one page read from a platform: a paid API's budget is the sum of these."""
        with self.connect() as con:
            con.execute(
                "INSERT INTO source_reads VALUES (?, ?, ?, ?, ?)",
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
                [run_id, flow, utcnow(), json.dumps(params or {}, default=str)],
            )
        return run_id

    def finish_run(
        self, run_id: str, *, status: str, counts: dict[str, Any] | None = None, message: str = ""
    ) -> None:
        with self.connect() as con:
            con.execute(
                "UPDATE runs SET finished_at = ?, status = ?, counts = ?, message = ? WHERE run_id = ?",
                [utcnow(), status, json.dumps(counts or {}, default=str), message, run_id],
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
            con.register("batch_features", frame)
            con.execute(
                """INSERT INTO post_features
                   SELECT post_id, hashtags, mentions, urls, entities::JSON, key_terms, lang, n_words
                   FROM batch_features ON CONFLICT DO NOTHING"""
            )
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
        """Rows: post_id, model_version, the tone columns, and attributes (a JSON string)."""
        if frame.empty:
            return 0
        frame = frame.drop_duplicates(["post_id", "model_version"], keep="last").copy()
        frame["scored_at"] = utcnow()
        with self.connect() as con:
            con.register("batch_scores", frame)
            con.execute(
                """INSERT INTO tone_scores
                   SELECT post_id, model_version, constructive, hostile, is_constructive, is_hostile,
                          tone, attributes::JSON, scored_at FROM batch_scores
                   ON CONFLICT DO NOTHING"""
            )
        return len(frame)

    # --- analyze ---------------------------------------------------------------------------------

    def latest_post_time(self) -> datetime | None:
        with self.connect() as con:
            row = con.execute("SELECT max(created_at) FROM posts").fetchone()
        return row[0] if row and row[0] is not None else None

    def analysis_inputs(self, start: datetime, end: datetime, model_version: str) -> dict[str, pd.DataFrame]:
        """Posts (with tone and terms), interactions and accounts of one time window."""
        with self.connect(read_only=True) as con:
            posts = con.execute(
                """SELECT p.post_id, p.author_id, p.created_at, p.text, p.repost_of_post_id,
                          p.reply_to_post_id, p.quote_of_post_id,
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
                """SELECT i.interaction_id, i.kind, i.post_id, i.src_account_id, i.dst_account_id,
                          i.target_post_id, i.created_at, t.constructive, t.hostile, t.is_hostile
                   FROM interactions i
                   LEFT JOIN tone_scores t ON t.post_id = i.post_id AND t.model_version = ?
                   WHERE i.created_at >= ? AND i.created_at <= ?
                   ORDER BY i.interaction_id""",
                [model_version, start, end],
            ).df()
            accounts = con.execute(
                "SELECT account_id, handle, display_name, bio, followers_count FROM accounts"
            ).df()
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
                frame = frame.assign(analysis_id=analysis_id)
                columns = [c[0] for c in con.execute(f"DESCRIBE {table}").fetchall()]
                con.register("batch_result", frame[columns])
                con.execute(f"INSERT INTO {table} SELECT * FROM batch_result")
                con.unregister("batch_result")
            con.execute("COMMIT")

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
        self, snapshot: Path, *, pseudonymize: bool = False, finishing_runs: Sequence[str] = ()
    ) -> Path:
        """Write a consistent read-only copy for readers, then swap it in atomically.

        Raw payloads stay behind; with `pseudonymize`, handles and names become stable pseudonyms and
        bios (which often name people) are dropped.
        """
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
            if pseudonymize:
                con.execute(
                    """UPDATE snap.accounts SET
                         handle = 'member-' || substr(sha256(account_id), 1, 8),
                         display_name = 'member-' || substr(sha256(account_id), 1, 8),
                         bio = NULL, url = NULL"""
                )
                # Mentions inside post text name people too.
                con.execute(
                    r"UPDATE snap.posts SET text = regexp_replace(text, '@[A-Za-z0-9_.@-]+', '@user', 'g'), url = NULL"
                )
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


def _interaction_row(i: Interaction) -> dict[str, Any]:
    return {
        "interaction_id": i.interaction_id,
        "source": i.source,
        "kind": i.kind.value,
        "post_id": i.post_id,
        "src_account_id": i.src_account_id,
        "dst_account_id": i.dst_account_id,
        "target_post_id": i.target_post_id,
        "created_at": i.created_at,
    }


def _quarantine_row(q: Quarantined, run_id: str) -> dict[str, Any]:
    return {
        "quarantine_id": q.quarantine_id,
        "source": q.source,
        "origin": q.origin,
        "line_no": q.line_no,
        "reason": q.reason,
        "raw": q.raw,
        "run_id": run_id,
        "quarantined_at": utcnow(),
    }


_TS = pa.timestamp("us")
_POST_SCHEMA = pa.schema(
    [
        ("post_id", pa.string()),
        ("source", pa.string()),
        ("native_id", pa.string()),
        ("author_id", pa.string()),
        ("created_at", _TS),
        ("text", pa.string()),
        ("lang", pa.string()),
        ("url", pa.string()),
        ("reply_to_post_id", pa.string()),
        ("quote_of_post_id", pa.string()),
        ("repost_of_post_id", pa.string()),
        ("hashtags", pa.list_(pa.string())),
        ("query", pa.string()),
        ("source_url", pa.string()),
        ("client_version", pa.string()),
        ("retrieved_at", _TS),
        ("raw", pa.string()),
    ]
)
_ACCOUNT_SCHEMA = pa.schema(
    [
        ("account_id", pa.string()),
        ("source", pa.string()),
        ("native_id", pa.string()),
        ("handle", pa.string()),
        ("display_name", pa.string()),
        ("bio", pa.string()),
        ("followers_count", pa.int64()),
        ("url", pa.string()),
        ("query", pa.string()),
        ("source_url", pa.string()),
        ("client_version", pa.string()),
        ("retrieved_at", _TS),
        ("raw", pa.string()),
    ]
)
_INTERACTION_SCHEMA = pa.schema(
    [
        ("interaction_id", pa.string()),
        ("source", pa.string()),
        ("kind", pa.string()),
        ("post_id", pa.string()),
        ("src_account_id", pa.string()),
        ("dst_account_id", pa.string()),
        ("target_post_id", pa.string()),
        ("created_at", _TS),
    ]
)
_QUARANTINE_SCHEMA = pa.schema(
    [
        ("quarantine_id", pa.string()),
        ("source", pa.string()),
        ("origin", pa.string()),
        ("line_no", pa.int64()),
        ("reason", pa.string()),
        ("raw", pa.string()),
        ("run_id", pa.string()),
        ("quarantined_at", _TS),
    ]
)
