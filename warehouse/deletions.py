"""Posts their authors deleted: recorded by hash, refused by every ingest, removed with what derives from them.

`store.Warehouse.upsert_batch` calls `skip_deleted` inside its transaction; `warehouse/lifecycle.py`
deletes (compliance, retention) through `delete_posts`. Neither imports the store, so both can be used there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import replace

import duckdb

from warehouse.records import Batch, utcnow

# What derives from a post, keyed by its post_id; `interactions` also go where they point at it.
DERIVED_TABLES = ("tone_scores", "post_features", "post_versions")


def post_hash(post_id: str) -> str:
    """The key `deletions` keeps instead of the post id (an id can embed a handle)."""
    return hashlib.sha256(post_id.encode("utf-8", "surrogatepass")).hexdigest()


def deleted_hashes(con: duckdb.DuckDBPyConnection, post_ids: Iterable[str | None]) -> set[str]:
    """The hashes among these posts' that are recorded in `deletions`."""
    hashes = sorted({post_hash(p) for p in post_ids if p})
    if not hashes:
        return set()
    rows = con.execute(
        "SELECT post_hash FROM deletions WHERE post_hash IN (SELECT unnest(?::VARCHAR[]))", [hashes]
    ).fetchall()
    return {str(r[0]) for r in rows}


def skip_deleted(con: duckdb.DuckDBPyConnection, batch: Batch) -> tuple[Batch, int]:
    """The batch without posts recorded as deleted, reposts of them (a repost carries their text), and
    accounts only those posts brought in; and how many posts it left out."""
    if not batch.posts:
        return batch, 0
    gone = deleted_hashes(con, [id_ for p in batch.posts for id_ in (p.post_id, p.repost_of_post_id)])
    if not gone:
        return batch, 0
    removed = {
        p.post_id
        for p in batch.posts
        if post_hash(p.post_id) in gone or (p.repost_of_post_id and post_hash(p.repost_of_post_id) in gone)
    }
    kept = [
        (p, line) for p, line in zip(batch.posts, batch.post_lines(), strict=True) if p.post_id not in removed
    ]
    interactions = [i for i in batch.interactions if i.post_id not in removed]
    used = {p.author_id for p, _ in kept} | {
        a for i in interactions for a in (i.src_account_id, i.dst_account_id)
    }
    brought = {p.author_id for p in batch.posts if p.post_id in removed}
    brought |= {
        a for i in batch.interactions if i.post_id in removed for a in (i.src_account_id, i.dst_account_id)
    }
    accounts = [a for a in batch.accounts if a.account_id in used or a.account_id not in brought]
    filtered = replace(
        batch,
        posts=[p for p, _ in kept],
        lines=[line for _, line in kept],
        interactions=interactions,
        accounts=accounts,
    )
    return filtered, len(removed)


def record_deletions(
    con: duckdb.DuckDBPyConnection, deleted: Sequence[tuple[str, str]], *, source: str
) -> int:
    """Remember these (post_id, reason) as deleted, by the post's hash only; how many were new to the list."""
    if not deleted:
        return 0
    rows = sorted({post_hash(post_id): reason for post_id, reason in deleted}.items())
    before = con.execute("SELECT count(*) FROM deletions").fetchone()
    con.execute(
        """INSERT INTO deletions (post_hash, source, reason, deleted_at)
           SELECT h, ?, r, ? FROM (SELECT unnest(?::VARCHAR[]) AS h, unnest(?::VARCHAR[]) AS r)
           ON CONFLICT DO NOTHING""",
        [source, utcnow(), [h for h, _ in rows], [r for _, r in rows]],
    )
    after = con.execute("SELECT count(*) FROM deletions").fetchone()
    return int(after[0] if after else 0) - int(before[0] if before else 0)


def delete_posts(con: duckdb.DuckDBPyConnection, post_ids: Sequence[str]) -> dict[str, int]:
    """Delete these posts, reposts of them, what derives from them (tone scores, features, older
    versions), the interactions they made or that point at them, and the accounts left with no post
    and no interaction. Rows deleted per table. The caller holds the transaction."""
    counts: dict[str, int] = {}
    if not post_ids:
        return counts
    con.execute("CREATE OR REPLACE TEMP TABLE doomed (post_id VARCHAR PRIMARY KEY)")
    con.execute("INSERT INTO doomed SELECT DISTINCT unnest(?::VARCHAR[])", [list(post_ids)])
    # Reposts copy the text of what they repost: they go with it.
    con.execute(
        """INSERT INTO doomed SELECT p.post_id FROM posts p JOIN doomed d ON p.repost_of_post_id = d.post_id
           ON CONFLICT DO NOTHING"""
    )
    authors = con.execute(
        "SELECT DISTINCT author_id FROM posts WHERE post_id IN (SELECT post_id FROM doomed)"
    ).fetchall()
    linked = con.execute(
        """SELECT src_account_id, dst_account_id FROM interactions
           WHERE post_id IN (SELECT post_id FROM doomed) OR target_post_id IN (SELECT post_id FROM doomed)"""
    ).fetchall()
    for table in DERIVED_TABLES:
        counts[table] = _deleted(con, f"DELETE FROM {table} WHERE post_id IN (SELECT post_id FROM doomed)")
    counts["interactions"] = _deleted(
        con,
        """DELETE FROM interactions WHERE post_id IN (SELECT post_id FROM doomed)
           OR target_post_id IN (SELECT post_id FROM doomed)""",
    )
    counts["posts"] = _deleted(con, "DELETE FROM posts WHERE post_id IN (SELECT post_id FROM doomed)")
    touched = {str(r[0]) for r in authors} | {str(a) for row in linked for a in row}
    counts["accounts"] = delete_orphan_accounts(con, touched)
    con.execute("DROP TABLE doomed")
    return counts


def delete_orphan_accounts(con: duckdb.DuckDBPyConnection, candidates: Iterable[str] | None = None) -> int:
    """Delete accounts (all, or these candidates) that no post and no interaction names any more."""
    where = ""
    params: list[object] = []
    if candidates is not None:
        ids = sorted(set(candidates))
        if not ids:
            return 0
        where = "AND accounts.account_id IN (SELECT unnest(?::VARCHAR[]))"
        params = [ids]
    return _deleted(
        con,
        f"""DELETE FROM accounts
            WHERE NOT EXISTS (SELECT 1 FROM posts p WHERE p.author_id = accounts.account_id)
            AND NOT EXISTS (SELECT 1 FROM interactions i WHERE i.src_account_id = accounts.account_id
                                                          OR i.dst_account_id = accounts.account_id)
            {where}""",
        params,
    )


def _deleted(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] = ()) -> int:
    row = con.execute(sql, list(params)).fetchone()
    return int(row[0]) if row else 0
