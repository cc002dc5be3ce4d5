"""Parquet exports of scored posts and interactions, partitioned by date and platform, incrementally.

Layout (Hive partitioning, which DuckDB, Spark and MotherDuck read as columns `date` and `platform`):

    OUT/posts/date=2026-11-03/platform=mastodon/part-0.parquet
    OUT/interactions/date=2026-11-03/platform=mastodon/part-0.parquet
    OUT/_manifest.json   what was exported: per partition its row count and a fingerprint of its rows

A partition is rewritten only when its fingerprint in the warehouse differs from the manifest's (new
posts, an edit, a new score); a partition whose rows are all gone (deleted, opted out) is removed.
What is exported depends on the tone model version, the pseudonyms' key and the opt-out list: when
any of them changes, everything is exported again. Each file is written beside its final name and
renamed into place, and the manifest is replaced after the files, so an interrupted export is
finished by the next one. Files whose names start with `_` or `.` are skipped by every reader.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from warehouse.privacy import Pseudonyms, hide_mentions, mention_pattern
from warehouse.records import utcnow
from warehouse.store import Warehouse

MANIFEST = "_manifest.json"
EXPORT_FORMAT = 1  # bump when the exported columns change: every partition is written again
PART_FILE = "part-0.parquet"
SAFE_VALUE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}")

# Accounts on the opt-out list (warehouse/opt_outs.py), their posts and reposts of them: never exported.
OPT_OUTS = "(SELECT account_id FROM opt_outs)"
GONE_POSTS = f"""(SELECT post_id FROM posts WHERE author_id IN {OPT_OUTS}
   OR repost_of_post_id IN (SELECT post_id FROM posts WHERE author_id IN {OPT_OUTS}))"""

# Each dataset: its rows with `date` and `platform` last (the partition columns, kept out of the files).
POSTS_SQL = """
SELECT p.post_id, p.author_id, p.created_at, p.text, p.lang, p.url,
       p.reply_to_post_id, p.quote_of_post_id, p.repost_of_post_id, p.hashtags,
       t.model_version, t.constructive, t.hostile, t.is_constructive, t.is_hostile, t.tone,
       t.reasons, CAST(t.attributes AS VARCHAR) AS attributes, t.unscored_reason,
       CAST(p.created_at AS DATE) AS date, p.source AS platform
FROM posts p
LEFT JOIN tone_scores t ON t.post_id = p.post_id AND t.model_version = $model_version
{where}"""
INTERACTIONS_SQL = """
SELECT i.interaction_id, i.kind, i.post_id, i.src_account_id, i.dst_account_id, i.target_post_id,
       i.created_at, CAST(i.created_at AS DATE) AS date, i.source AS platform
FROM interactions i
{where}"""
POSTS_OPT_OUT = f"WHERE p.post_id NOT IN {GONE_POSTS}"
INTERACTIONS_OPT_OUT = f"""WHERE i.src_account_id NOT IN {OPT_OUTS} AND i.dst_account_id NOT IN {OPT_OUTS}
  AND i.post_id NOT IN {GONE_POSTS}"""

# How pseudonymised exports replace identifiers (the same pseudonyms as the snapshot and the report).
PSEUDONYMISED: dict[str, dict[str, str]] = {
    "posts": {
        "post_id": "post",
        "author_id": "account",
        "reply_to_post_id": "post",
        "quote_of_post_id": "post",
        "repost_of_post_id": "post",
        "text": "text",
        "url": "drop",
    },
    "interactions": {
        "interaction_id": "ref",
        "post_id": "post",
        "src_account_id": "account",
        "dst_account_id": "account",
        "target_post_id": "post",
    },
}


@dataclass
class DatasetExport:
    """What one export did to one dataset."""

    partitions: int = 0  # partitions the warehouse has now
    written: list[str] = field(
        default_factory=list
    )  # partitions (re)written, e.g. date=2026-11-03/platform=x
    removed: list[str] = field(default_factory=list)  # partitions that had no rows any more
    rows_written: int = 0
    rows: int = 0  # rows the export holds after this run


@dataclass
class ParquetExport:
    out: str
    full: bool  # everything was written again (first export, or the model, key or opt-outs changed)
    datasets: dict[str, DatasetExport]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def partition_name(date: Any, platform: str) -> str:
    """`date=YYYY-MM-DD/platform=NAME`; a platform name that is not a plain word is %-encoded, so no
    value (an imported file's platform is the user's) can reach outside the export folder."""
    safe = (
        platform
        if SAFE_VALUE.fullmatch(platform)
        else "".join(
            c if c.isascii() and c.isalnum() else "".join(f"%{b:02X}" for b in c.encode()) for c in platform
        )
    )
    return f"date={date}/platform={safe}"


def _has_opt_outs(con: duckdb.DuckDBPyConnection) -> bool:
    found = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND table_name = 'opt_outs'"
    ).fetchone()
    return bool(found and found[0])


def _opt_outs(con: duckdb.DuckDBPyConnection) -> tuple[list[str], list[str]]:
    """Opted-out account ids and handles (empty where the warehouse has no opt-out list)."""
    if not _has_opt_outs(con):
        return [], []
    rows = con.execute(
        f"SELECT o.account_id, a.handle FROM {OPT_OUTS} o LEFT JOIN accounts a USING (account_id) ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows], [r[1] for r in rows if r[1]]


def _dataset_sql(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    opted = _has_opt_outs(con)
    return {
        "posts": POSTS_SQL.format(where=POSTS_OPT_OUT if opted else ""),
        "interactions": INTERACTIONS_SQL.format(where=INTERACTIONS_OPT_OUT if opted else ""),
    }


def _fingerprints(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]
) -> dict[str, tuple[Any, str, dict[str, Any]]]:
    """Per partition name: its date, its platform, and its rows and the sum of their hashes (any new,
    changed or removed row changes the sum)."""
    rows = con.execute(
        f"""SELECT date, platform, count(*) AS n, CAST(sum(hash(r)) AS VARCHAR) AS fingerprint
            FROM ({sql}) r GROUP BY ALL ORDER BY ALL""",
        params,
    ).fetchall()
    return {partition_name(d, p): (d, p, {"rows": int(n), "fingerprint": f}) for d, p, n, f in rows}


def _header(model_version: str, names: Pseudonyms | None, opted_out: list[str]) -> dict[str, Any]:
    """What every exported row depends on besides its own columns; a change means a full export."""
    listed = "\n".join(opted_out)
    return {
        "format": EXPORT_FORMAT,
        "model_version": model_version,
        "pseudonymized": names is not None,
        # A keyed digest: says whether the key changed without saying anything about it.
        "key_check": names.ref("parquet-export-key-check") if names is not None else None,
        "opt_outs": hashlib.sha256(listed.encode("utf-8")).hexdigest()[:16] if opted_out else None,
    }


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        # A damaged manifest only costs a full export; the files it described are rewritten.
        return {}
    return manifest if isinstance(manifest, dict) else {}


def _write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    write(tmp)
    os.replace(tmp, path)


def _mapper(kind: str, names: Pseudonyms, mentions: Any) -> Callable[[Any], Any]:
    if kind == "text":
        return lambda v: names.text(hide_mentions(v, mentions))
    return {"post": names.post, "account": names.account, "ref": names.ref}[kind]


def _privatise(table: pa.Table, dataset: str, names: Pseudonyms | None, mentions: Any) -> pa.Table:
    """Pseudonyms for identifiers, no links, no mentions of people who opted out."""
    if names is None:
        if mentions is not None and "text" in table.column_names:
            text = [hide_mentions(v, mentions) for v in table.column("text").to_pylist()]
            return table.set_column(table.column_names.index("text"), "text", pa.array(text, pa.string()))
        return table
    for column, kind in PSEUDONYMISED[dataset].items():
        i = table.column_names.index(column)
        values = table.column(column).to_pylist()
        if kind == "drop":
            mapped: list[Any] = [None] * len(values)
        else:
            fn = _mapper(kind, names, mentions)
            mapped = [fn(v) for v in values]
        table = table.set_column(i, column, pa.array(mapped, pa.string()))
    return table


def _write_partition(
    con: duckdb.DuckDBPyConnection,
    target: Path,
    query: tuple[str, dict[str, Any]],
    dataset: str,
    privacy: tuple[Pseudonyms | None, Any],
) -> int:
    sql, params = query
    table = con.sql(
        f"SELECT * EXCLUDE (date, platform) FROM ({sql}) WHERE date = $date AND platform = $platform "
        "ORDER BY created_at, 1",
        params=params,
    ).to_arrow_table()
    table = _privatise(table, dataset, *privacy)
    _write_atomically(target, lambda tmp: pq.write_table(table, tmp, compression="zstd"))
    return int(table.num_rows)


def _remove_partition(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    if folder.parent.is_dir() and not any(folder.parent.iterdir()):
        folder.parent.rmdir()  # the date folder, once its last platform is gone


def _export_dataset(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    query: tuple[str, dict[str, Any]],
    old: dict[str, Any],
    privacy: tuple[Pseudonyms | None, Any],
) -> tuple[DatasetExport, dict[str, Any]]:
    """Write one dataset's new and changed partitions and remove its empty ones; its export and the
    manifest entries it leaves."""
    sql, params = query
    now = _fingerprints(con, sql, params)
    done = DatasetExport(partitions=len(now), rows=sum(entry["rows"] for _, _, entry in now.values()))
    for name, (date, platform, entry) in now.items():
        if old.get(name) == entry and (folder / name / PART_FILE).is_file():
            continue
        part = (sql, {**params, "date": date, "platform": platform})
        done.rows_written += _write_partition(con, folder / name / PART_FILE, part, folder.name, privacy)
        done.written.append(name)
    on_disk = {p.parent.relative_to(folder).as_posix() for p in _parts(folder)}
    for name in sorted((set(old) | on_disk) - set(now)):
        _remove_partition(folder / name)
        done.removed.append(name)
    return done, {name: entry for name, (_, _, entry) in now.items()}


def export_parquet(
    warehouse: Warehouse, out: Path, *, model_version: str, names: Pseudonyms | None = None
) -> ParquetExport:
    """Write the partitions of posts (with their tone under `model_version`) and interactions that
    are new or changed since the last export to `out`; `names` pseudonymises them."""
    out = Path(out)
    manifest_path = out / MANIFEST
    manifest = _read_manifest(manifest_path)
    with warehouse.connect(read_only=True) as con:
        opted_out, handles = _opt_outs(con)
        header = _header(model_version, names, opted_out)
        full = manifest.get("header") != header
        before: dict[str, dict[str, Any]] = {} if full else manifest.get("datasets", {})
        privacy = (names, mention_pattern(handles))
        result = ParquetExport(str(out), full, {})
        after: dict[str, dict[str, Any]] = {}
        for dataset, sql in _dataset_sql(con).items():
            params = {"model_version": model_version} if dataset == "posts" else {}
            result.datasets[dataset], after[dataset] = _export_dataset(
                con, out / dataset, (sql, params), before.get(dataset, {}), privacy
            )
    record = {"header": header, "exported_at": utcnow().isoformat(), "datasets": after}
    text = json.dumps(record, indent=1)
    _write_atomically(manifest_path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return result


def _parts(folder: Path) -> list[Path]:
    """Partition files already in a dataset's folder (a full export removes those it does not rewrite)."""
    return sorted(folder.glob(f"date=*/platform=*/{PART_FILE}")) if folder.is_dir() else []
