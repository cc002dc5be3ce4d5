"""The reads behind Data health: runs, quarantine reasons, cursors, X reads and the snapshot itself.

Read from the snapshot like every other page (it carries runs, quarantine without payloads, cursors
and source_reads), cached, and cleared when a new snapshot is published.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import queries as q


@st.cache_data(ttl=q.TTL_SECONDS, show_spinner=False)
def runs(path: str, limit: int = 15) -> pd.DataFrame:
    """The newest runs: flow, status, started_at, finished_at, counts (JSON text), message."""
    return q._read(
        path,
        """SELECT flow, status, started_at, finished_at, counts, message FROM runs
           ORDER BY started_at DESC, run_id LIMIT ?""",
        [limit],
    )


@st.cache_data(ttl=q.TTL_SECONDS, show_spinner=False)
def quarantine_reasons(path: str) -> pd.DataFrame:
    """source, reason, records, last_seen: what could not be read, counted per reason (no payloads)."""
    return q._read(
        path,
        """SELECT source, reason, count(*) AS records, max(quarantined_at) AS last_seen FROM quarantine
           GROUP BY source, reason ORDER BY records DESC, source, reason""",
    )


@st.cache_data(ttl=q.TTL_SECONDS, show_spinner=False)
def cursors(path: str) -> pd.DataFrame:
    """source, query, cursor, updated_at: where each source × hashtag carries on next time."""
    return q._read(path, "SELECT source, query, cursor, updated_at FROM cursors ORDER BY source, query")


@st.cache_data(ttl=q.TTL_SECONDS, show_spinner=False)
def x_reads(path: str, month_start: datetime) -> dict[str, int] | None:
    """Posts read from X this calendar month and in the newest run that read any; None when the
    snapshot predates the read records (published by an older version)."""
    if "source_reads" not in q._read(path, "SELECT table_name FROM duckdb_tables()")["table_name"].values:
        return None
    frame = q._read(
        path,
        """WITH x AS (SELECT * FROM source_reads WHERE source = 'x'),
                last AS (SELECT run_id FROM x ORDER BY recorded_at DESC LIMIT 1)
           SELECT coalesce(sum(posts_read) FILTER (WHERE recorded_at >= ?), 0) AS month,
                  coalesce(sum(posts_read) FILTER (WHERE run_id IN (SELECT run_id FROM last)), 0) AS last_run
           FROM x""",
        [month_start],
    )
    return {str(key): int(value) for key, value in frame.iloc[0].items()}


@st.cache_data(ttl=q.TTL_SECONDS, show_spinner=False)
def model_versions(path: str) -> pd.DataFrame:
    """model_version, posts, unscored, last_scored: the tone scores in the snapshot per model version."""
    return q._read(
        path,
        """SELECT model_version, count(*) AS posts, count(*) FILTER (WHERE tone = 'unscored') AS unscored,
                  max(scored_at) AS last_scored
           FROM tone_scores GROUP BY model_version ORDER BY last_scored DESC""",
    )


def published_at(path: str) -> datetime | None:
    info = q.snapshot_info(path)
    if info.empty or pd.isna(info["published_at"].iloc[0]):
        return None
    value: Any = info["published_at"].iloc[0]
    return pd.Timestamp(value).to_pydatetime()
