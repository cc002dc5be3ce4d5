"""What the weekly report reads from the warehouse: one week's posts, the analyses that cover it, lineage.

Every read opens the warehouse read-only through `Warehouse.connect`; times are UTC, a week is
`[start, end)`. The report's flow (flows/report) decides what to show; this module only fetches.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from warehouse.shapes import CAMPS_REACHED, EXAMPLE_POSTS, RUN_COUNTS
from warehouse.store import Warehouse

# The week's posts with author and tone under one model version (parameters: model_version, start, end).
_WEEK_POSTS = """
SELECT p.post_id, p.author_id, coalesce(nullif(a.handle, ''), p.author_id) AS handle,
       coalesce(a.display_name, '') AS display_name, p.source, p.created_at, p.text, p.url,
       p.repost_of_post_id IS NOT NULL AS is_repost,
       coalesce(f.hashtags, list_transform(coalesce(p.hashtags, []), lambda h: lower(h))) AS hashtags,
       t.tone, t.constructive, t.hostile, coalesce(t.reasons, []) AS reasons, t.unscored_reason
FROM posts p
LEFT JOIN accounts a ON a.account_id = p.author_id
LEFT JOIN post_features f ON f.post_id = p.post_id
LEFT JOIN tone_scores t ON t.post_id = p.post_id AND t.model_version = ?
WHERE p.created_at >= ? AND p.created_at < ?
ORDER BY p.created_at, p.post_id
"""


def week_posts(warehouse: Warehouse, start: datetime, end: datetime, model_version: str) -> pd.DataFrame:
    """Posts created in `[start, end)`, with handle, hashtags and their tone under `model_version`
    (`tone` is NULL for a post that model has not scored yet, 'unscored' for one it could not judge)."""
    with warehouse.connect(read_only=True) as con:
        return con.execute(_WEEK_POSTS, [model_version, start, end]).df()


def analyses_overlapping(warehouse: Warehouse, start: datetime, end: datetime) -> pd.DataFrame:
    """Every analysis whose window overlaps `[start, end)`, with the overlap in seconds."""
    with warehouse.connect(read_only=True) as con:
        return con.execute(
            """SELECT *, epoch(least(window_end, ?::TIMESTAMP) - greatest(window_start, ?::TIMESTAMP))
                         AS overlap_seconds
               FROM analyses WHERE window_start < ? AND window_end > ?
               ORDER BY created_at DESC, analysis_id""",
            [end, start, end, start],
        ).df()


def analysis_results(warehouse: Warehouse, analysis_id: str) -> dict[str, pd.DataFrame]:
    """One analysis' camps (profiles), polarization, ranked voices (with handles) and camp members."""
    with warehouse.connect(read_only=True) as con:
        profiles = con.execute(
            "SELECT * FROM community_profiles WHERE analysis_id = ? ORDER BY size DESC, camp_id",
            [analysis_id],
        ).df()
        polarization = con.execute("SELECT * FROM polarization WHERE analysis_id = ?", [analysis_id]).df()
        voices = con.execute(
            """SELECT v.*, coalesce(nullif(a.handle, ''), v.account_id) AS handle,
                      coalesce(a.display_name, '') AS display_name, r.label AS role
               FROM voices v LEFT JOIN accounts a USING (account_id)
               LEFT JOIN account_roles r ON r.analysis_id = v.analysis_id AND r.account_id = v.account_id
               WHERE v.analysis_id = ? ORDER BY v.rank, v.account_id""",
            [analysis_id],
        ).df()
        members = con.execute(
            "SELECT account_id, camp_id FROM communities WHERE analysis_id = ? AND camp_id IS NOT NULL",
            [analysis_id],
        ).df()
    reached = [CAMPS_REACHED.load(v) or {} for v in voices["camps_reached"]]
    examples = [EXAMPLE_POSTS.load(v) or [] for v in voices["example_posts"]]
    voices["camps_reached"] = pd.Series(reached, index=voices.index, dtype=object)
    voices["example_posts"] = pd.Series(examples, index=voices.index, dtype=object)
    return {"profiles": profiles, "polarization": polarization, "voices": voices, "members": members}


def endorsements(warehouse: Warehouse, start: datetime, end: datetime) -> pd.DataFrame:
    """Reposts and quotes made in `[start, end)`: src, dst (account ids)."""
    with warehouse.connect(read_only=True) as con:
        return con.execute(
            """SELECT src_account_id AS src, dst_account_id AS dst FROM interactions
               WHERE kind IN ('repost', 'quote') AND created_at >= ? AND created_at < ?""",
            [start, end],
        ).df()


def posts_by_id(warehouse: Warehouse, post_ids: list[str], model_version: str) -> pd.DataFrame:
    """post_id, created_at, text, tone, constructive, reasons of the given posts."""
    with warehouse.connect(read_only=True) as con:
        return con.execute(
            """SELECT p.post_id, p.created_at, p.text, t.tone, t.constructive, coalesce(t.reasons, []) AS reasons
               FROM posts p LEFT JOIN tone_scores t ON t.post_id = p.post_id AND t.model_version = ?
               WHERE list_contains(?, p.post_id)""",
            [model_version, post_ids],
        ).df()


def collection_runs(warehouse: Warehouse, start: datetime, end: datetime) -> pd.DataFrame:
    """The ingest runs that stored the week's posts (a post's `retrieved_at` falls inside the run),
    with their counts (read, posts_stored, quarantined, …) and the X posts they read."""
    with warehouse.connect(read_only=True) as con:
        runs = con.execute(
            """SELECT r.run_id, r.started_at, r.finished_at, r.status, r.params, r.counts,
                      (SELECT coalesce(sum(s.posts_read), 0) FROM source_reads s
                       WHERE s.run_id = r.run_id AND s.source = 'x') AS x_reads
               FROM runs r
               WHERE r.flow = 'ingest' AND EXISTS (
                   SELECT 1 FROM posts p WHERE p.created_at >= ? AND p.created_at < ?
                   AND p.retrieved_at >= r.started_at
                   AND p.retrieved_at <= coalesce(r.finished_at, p.retrieved_at))
               ORDER BY r.started_at""",
            [start, end],
        ).df()
    counts = [RUN_COUNTS.load(c) or {} for c in runs["counts"]]
    for key in ("read", "posts_stored", "quarantined", "duplicates"):
        runs[key] = [int(c.get(key, 0) or 0) for c in counts]
    return runs.drop(columns=["counts"])


def shortlist(path: Path) -> pd.DataFrame | None:
    """The dashboard's shortlist (account_id, status, updated_at; notes stay behind), or None when its
    database does not exist yet. Raises duckdb.IOException while the dashboard holds it for writing."""
    if not Path(path).is_file():
        return None
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = {row[0] for row in con.execute("SHOW TABLES").fetchall()}
        if "outreach" not in tables:
            return pd.DataFrame(columns=["account_id", "status", "updated_at"])
        return con.execute("SELECT account_id, status, updated_at FROM outreach ORDER BY account_id").df()
    finally:
        con.close()
