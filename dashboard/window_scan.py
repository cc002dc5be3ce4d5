"""The window's posts as one scan of the snapshot's `window_posts` table (used by queries._read)."""

from __future__ import annotations

from typing import Any

import duckdb

# The posts of a window as one range scan of `window_posts`, which publish writes into the snapshot
# already joined (warehouse/store.py, WINDOW_POSTS_SQL), with the window's bounds bound as values: on
# 1M posts, joining posts, post_features and tone_scores per read took 0.7-5.8 s a query (p95, load
# 3-4), and even the joined table took 0.3-0.5 s while its bounds came from a join; as values, every
# window query's p95 was under 230 ms (quiet; README, "Benchmarks").
_WINDOW_SCAN = """
WITH wp AS NOT MATERIALIZED (
    SELECT w.* EXCLUDE (model_version) FROM window_posts w
    WHERE w.model_version IS NOT DISTINCT FROM ? AND w.created_at >= ? AND w.created_at <= ?
)
"""


def as_window_scan(cursor: duckdb.DuckDBPyConnection, rest: str, params: list[Any]) -> tuple[str, list[Any]]:
    """A query that began with queries._WINDOW_POSTS (`rest` is what followed it) reading `window_posts`;
    its first parameter, the analysis, becomes the analysis's model version and window (no rows for an
    unknown analysis, as before)."""
    window = cursor.execute(
        "SELECT model_version, window_start, window_end FROM analyses WHERE analysis_id = ?", params[:1]
    ).fetchone()
    bounds = list(window) if window else [None, None, None]
    return _WINDOW_SCAN + rest, [*bounds, *params[1:]]


def has_table(cursor: duckdb.DuckDBPyConnection, table: str) -> bool:
    found = cursor.execute("SELECT 1 FROM duckdb_tables() WHERE table_name = ? LIMIT 1", [table]).fetchall()
    return bool(found)
