"""How long the warehouse keeps what it collected, and a consistent copy of it: retention, backup, restore."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from warehouse.deletions import delete_orphan_accounts, delete_posts, record_deletions
from warehouse.locks import run_lock
from warehouse.records import utcnow
from warehouse.shapes import EXAMPLE_POSTS
from warehouse.store import ANALYSIS_TABLES, Warehouse

BACKUP_INFO = "backup_info"  # the manifest table inside a backup file; never restored


@dataclass
class Deleted:
    """Rows deleted per table (what `retention` and `compliance` print), and anything to tell the user."""

    tables: dict[str, int] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    file_bytes: tuple[int, int] | None = None  # the warehouse file before and after compaction

    def add(self, counts: dict[str, int]) -> None:
        for table, n in counts.items():
            self.tables[table] = self.tables.get(table, 0) + n

    def as_counts(self) -> dict[str, Any]:
        counts: dict[str, Any] = {"deleted": dict(self.tables), "notices": list(self.notices)}
        if self.file_bytes is not None:
            counts["file_bytes_before"], counts["file_bytes_after"] = self.file_bytes
        return counts


def retention_cutoff(days: int, now: datetime | None = None) -> datetime:
    """Rows older than this go (UTC, without zone, as every time in the warehouse)."""
    if days < 1:
        raise ValueError(f"retention keeps at least 1 day, not {days}")
    return (now or utcnow()) - timedelta(days=days)


def apply_retention(
    warehouse: Warehouse, days: int, *, dry_run: bool = False, now: datetime | None = None
) -> Deleted:
    """Delete what is older than `days` (posts by created_at, with their tone scores, features, older
    versions and interactions both ways; quarantined payloads; raw account payloads; accounts left with
    no posts and no interactions; analyses whose window ended before), then rewrite the file so the
    deleted rows' bytes are gone from it (`compact`). With `dry_run`, the same deletions run in a transaction that is rolled back: the counts are
    exactly what a real run would delete."""
    cutoff = retention_cutoff(days, now)
    done = Deleted()
    with warehouse.connect() as con:
        con.execute("BEGIN")
        old = [
            str(r[0])
            for r in con.execute("SELECT post_id FROM posts WHERE created_at < ?", [cutoff]).fetchall()
        ]
        done.add(delete_posts(con, old))
        done.add(
            {
                "post_versions": _count(
                    con, "DELETE FROM post_versions WHERE coalesce(version_at, created_at) < ?", [cutoff]
                ),
                "quarantine": _count(con, "DELETE FROM quarantine WHERE quarantined_at < ?", [cutoff]),
                "accounts.raw": _count(
                    con, "UPDATE accounts SET raw = NULL WHERE raw IS NOT NULL AND retrieved_at < ?", [cutoff]
                ),
            }
        )
        done.add({"accounts": delete_orphan_accounts(con)})
        done.add(_delete_old_analyses(con, cutoff))
        done.add({"voices.example_posts": prune_example_posts(con)})
        old_reports = _count(con, "SELECT count(*) FROM reports WHERE week_end <= ?", [cutoff])
        con.execute("ROLLBACK" if dry_run else "COMMIT")
    if not dry_run and done.tables.get("posts"):
        done.file_bytes = compact(warehouse)
    if old_reports:
        done.notices.append(
            f"{old_reports} weekly report(s) cover weeks older than {days} days; their files (with post "
            "texts) stay under data_dir/reports/ until you delete them."
        )
    done.tables = {t: n for t, n in done.tables.items() if n}
    return done


def _delete_old_analyses(con: duckdb.DuckDBPyConnection, cutoff: datetime) -> dict[str, int]:
    """An analysis of a window that ended before the cutoff describes posts that are gone: it goes whole."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE old_analyses AS SELECT analysis_id FROM analyses WHERE window_end < ?",
        [cutoff],
    )
    counts = {}
    for table in (*ANALYSIS_TABLES, "analyses"):
        counts[table] = _count(
            con, f"DELETE FROM {table} WHERE analysis_id IN (SELECT analysis_id FROM old_analyses)"
        )
    con.execute("DROP TABLE old_analyses")
    return counts


def prune_example_posts(con: duckdb.DuckDBPyConnection) -> int:
    """Take deleted posts out of the voices' example posts (the rest of the analysis stands); rows changed."""
    rows = con.execute(
        """SELECT v.analysis_id, v.account_id, v.example_posts FROM voices v
           WHERE EXISTS (SELECT 1 FROM unnest(CAST(v.example_posts AS VARCHAR[])) AS e(post_id)
                         WHERE e.post_id NOT IN (SELECT post_id FROM posts))"""
    ).fetchall()
    for analysis_id, account_id, raw in rows:
        ids = EXAMPLE_POSTS.load(raw) or []
        present = con.execute(
            "SELECT post_id FROM posts WHERE post_id IN (SELECT unnest(?::VARCHAR[]))", [ids]
        ).fetchall()
        kept = [p for p in ids if p in {r[0] for r in present}]
        con.execute(
            "UPDATE voices SET example_posts = ? WHERE analysis_id = ? AND account_id = ?",
            [EXAMPLE_POSTS.dump(kept), analysis_id, account_id],
        )
    return len(rows)


def delete_deleted_posts(warehouse: Warehouse, deleted: Sequence[tuple[str, str]], *, source: str) -> Deleted:
    """Hard-delete posts their authors removed from the platform ((post_id, reason) pairs), remember
    them so no ingest brings them back, and compact the file so their bytes are gone from it."""
    done = Deleted()
    with warehouse.connect() as con:
        con.execute("BEGIN")
        done.add({"deletions": record_deletions(con, deleted, source=source)})
        done.add(delete_posts(con, sorted({post_id for post_id, _ in deleted})))
        done.add({"voices.example_posts": prune_example_posts(con)})
        con.execute("COMMIT")
    if done.tables.get("posts"):
        done.file_bytes = compact(warehouse)
    done.tables = {t: n for t, n in done.tables.items() if n}
    return done


def compact(warehouse: Warehouse) -> tuple[int, int]:
    """Rewrite the warehouse into a fresh file and swap it in; its size before and after. DuckDB reuses
    the space of deleted rows, but their bytes stay in the file until their row group is rewritten (a
    CHECKPOINT freed 2 of 54 blocks after deleting half the sample): a copy holds only live rows."""
    path = warehouse.path
    before = path.stat().st_size
    tmp = path.with_name(path.name + ".compact.tmp")
    tmp.unlink(missing_ok=True)
    with warehouse.connect() as con:
        con.execute("CHECKPOINT")
        catalog = str(_one(con, "SELECT current_database()"))
        con.execute("ATTACH ? AS compacted", [str(tmp)])
        con.execute(f'COPY FROM DATABASE "{catalog}" TO compacted')
        con.execute("DETACH compacted")
        # Swapped while this connection still holds the lock, so no writer starts in between; it writes
        # nothing after the CHECKPOINT, so the old file it closes is simply dropped.
        os.replace(tmp, path)
    return before, path.stat().st_size


# --- backup and restore ---------------------------------------------------------------------------


def table_checksums(con: duckdb.DuckDBPyConnection, catalog: str | None = None) -> dict[str, list[int | str]]:
    """Per table: [rows, an order-independent hash of every row's content]."""
    catalog = catalog or str(_one(con, "SELECT current_database()"))
    tables = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'main' "
        "AND table_name <> ? ORDER BY table_name",
        [catalog, BACKUP_INFO],
    ).fetchall()
    out: dict[str, list[int | str]] = {}
    for (table,) in tables:
        rows, digest = con.execute(
            f'SELECT count(*), coalesce(sum(hash(t)), 0) FROM "{catalog}".main."{table}" t'
        ).fetchone() or (0, 0)
        out[str(table)] = [int(rows), str(digest)]
    return out


def backup(warehouse: Warehouse, out: Path, *, force: bool = False) -> dict[str, Any]:
    """Copy the warehouse into one DuckDB file, consistent because it is written inside one connection
    that holds the warehouse's lock (no writer can run meanwhile), with a manifest of table checksums.
    Secrets (the pseudonym key) are not in the warehouse, so not in the backup."""
    out = Path(out)
    if out.exists() and not force:
        raise ValueError(f"{out} exists: give another --out, or --force to replace it.")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.unlink(missing_ok=True)
    with warehouse.connect() as con:
        catalog = str(_one(con, "SELECT current_database()"))
        con.execute("ATTACH ? AS backup_copy", [str(tmp)])
        con.execute(f'COPY FROM DATABASE "{catalog}" TO backup_copy')
        sums = table_checksums(con, catalog)
        con.execute(
            f"CREATE TABLE backup_copy.{BACKUP_INFO} AS SELECT ?::TIMESTAMP AS created_at, ? AS source, "
            "?::JSON AS checksums",
            [utcnow(), str(warehouse.path), json.dumps(sums)],
        )
        con.execute("DETACH backup_copy")
    os.replace(tmp, out)
    return {"backup": str(out), "bytes": out.stat().st_size, "tables": sums}


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest of a backup file, or a ValueError saying the file is not one."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No backup at {path}.")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise ValueError(
            f"{path} is not a DuckDB file ({exc}); give a file written by `commonground backup`."
        ) from None
    try:
        row = con.execute(f"SELECT created_at, source, checksums FROM {BACKUP_INFO}").fetchone()
    except duckdb.CatalogException:
        raise ValueError(f"{path} is not a commonground backup (it has no {BACKUP_INFO} table).") from None
    finally:
        con.close()
    if row is None:
        raise ValueError(f"{path} has an empty {BACKUP_INFO} table: it is not a complete backup.")
    return {"created_at": row[0], "source": row[1], "tables": json.loads(row[2])}


def restore(backup_file: Path, warehouse: Warehouse, *, force: bool = False) -> dict[str, Any]:
    """Replace the warehouse with a backup, after checking every table against the backup's manifest.
    Refuses to replace an existing warehouse without `force`."""
    manifest = read_manifest(backup_file)
    target = warehouse.path
    if target.exists() and not force:
        raise ValueError(
            f"{target} exists: restoring would replace it. Back it up first (`commonground backup`), then "
            "run `commonground restore FILE --force`."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".restore.tmp")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    try:
        con.execute("ATTACH ? AS backup_src (READ_ONLY)", [str(backup_file)])
        con.execute(f'COPY FROM DATABASE backup_src TO "{_one(con, "SELECT current_database()")}"')
        con.execute("DETACH backup_src")
        con.execute(f"DROP TABLE {BACKUP_INFO}")
        restored = table_checksums(con)
    finally:
        con.close()
    if restored != manifest["tables"]:
        tmp.unlink(missing_ok=True)
        raise ValueError(
            f"{backup_file}: the restored tables do not match the backup's manifest; nothing was replaced."
        )
    # No run may be writing while the file is swapped (the run lock, warehouse/locks.py); the connection
    # proves no other process has it open, and closing it folds any WAL in before the swap.
    with run_lock(target, flow="restore", wait_seconds=warehouse.run_lock_wait_seconds):
        if target.exists():
            with warehouse.connect():
                pass
        Path(str(target) + ".wal").unlink(missing_ok=True)
        os.replace(tmp, target)
    return {
        "restored": str(target),
        "from": str(backup_file),
        "backup_created_at": manifest["created_at"],
        "tables": restored,
    }


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> int:
    row = con.execute(sql, list(params)).fetchone()
    return int(row[0]) if row else 0


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    row = con.execute(sql).fetchone()
    return row[0] if row else None
