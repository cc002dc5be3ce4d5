"""The reads behind the echo-chamber map and the Conversations page (the map, threads, filter choices).

Kept beside `queries.py` (whose helpers, window and camp labels they use) so that each module stays
readable in one sitting; the same rules hold: the published snapshot only, read-only, cached a minute.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd
import streamlit as st

from dashboard.queries import _WINDOW_POSTS, TTL_SECONDS, _camp_name, _read, camp_labels

MAP_MISSING = (
    "This snapshot has no network map yet: it was analysed before maps were stored. Run "
    "`commonground analyze` and `commonground publish` (or `commonground run`) to lay it out."
)
# The columns a post has wherever the Conversations page shows one (a result, a thread's posts).
_POST_COLUMNS = """p.post_id, p.created_at, coalesce(acc.handle, p.author_id) AS author, p.source AS platform,
       t.tone, coalesce(nullif(array_to_string(t.reasons, ', '), ''), t.unscored_reason) AS reasons,
       t.constructive, t.hostile, p.text, p.url, p.reply_to_post_id"""


# --- the echo-chamber map ---------------------------------------------------------------------------


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def network_map(path: str, analysis_id: str) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """The stored map of one analysis: nodes (account_id, handle, x, y, camp, endorsements, degree,
    is_voice, voice_rank) and edges (x, y, x2, y2, kind, weight); None when the snapshot has none."""
    try:
        nodes = _read(
            path,
            """SELECT l.account_id, coalesce(a.handle, l.account_id) AS handle, l.x, l.y, l.camp_id,
                      l.endorsements, l.degree, l.is_voice, v.rank AS voice_rank
               FROM network_layout l
               LEFT JOIN accounts a USING (account_id)
               LEFT JOIN voices v ON v.analysis_id = l.analysis_id AND v.account_id = l.account_id
               WHERE l.analysis_id = ? ORDER BY l.is_voice, l.account_id""",
            [analysis_id],
        )
        edges = _read(
            path,
            """SELECT s.x, s.y, d.x AS x2, d.y AS y2, e.kind, e.weight
               FROM network_layout_edges e
               JOIN network_layout s ON s.analysis_id = e.analysis_id AND s.account_id = e.src_account_id
               JOIN network_layout d ON d.analysis_id = e.analysis_id AND d.account_id = e.dst_account_id
               WHERE e.analysis_id = ? ORDER BY e.kind DESC, e.weight""",
            [analysis_id],
        )
    except duckdb.CatalogException:
        return None
    if nodes.empty:
        return None
    labels = camp_labels(path, analysis_id)
    nodes["camp"] = [_camp_name(c, labels) for c in nodes["camp_id"]]
    nodes["role"] = [
        f"constructive voice #{int(rank)}" if voice and pd.notna(rank) else ""
        for voice, rank in nodes[["is_voice", "voice_rank"]].values
    ]
    return nodes, edges


def insularity_in_words(insularity: Any) -> str:
    """A camp's insularity (share of its members' endorsements that stay inside) as a sentence."""
    if insularity is None or pd.isna(insularity):
        return "Too few endorsements to say how closed it is."
    share = float(insularity)
    if share >= 0.8:
        grade = "Very closed"
    elif share >= 0.6:
        grade = "Mostly closed"
    elif share >= 0.4:
        grade = "Mixed"
    else:
        grade = "Open"
    return f"{grade}: {share:.0%} of what its members endorse comes from inside the camp."


# --- conversations: filter choices and threads ------------------------------------------------------


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def window_choices(path: str, analysis_id: str) -> dict[str, list[Any]]:
    """What the filters offer: the reasons the tone model gave in this window (most frequent first),
    the platforms, and the first and last day with posts."""
    reasons = _read(
        path,
        _WINDOW_POSTS
        + """SELECT reason, count(*) AS n FROM (SELECT unnest(reason_list) AS reason FROM wp)
             WHERE reason IS NOT NULL GROUP BY 1 ORDER BY n DESC, reason""",
        [analysis_id],
    )
    platforms = _read(
        path, _WINDOW_POSTS + "SELECT DISTINCT platform FROM wp ORDER BY platform", [analysis_id]
    )
    days = _read(
        path,
        _WINDOW_POSTS + "SELECT min(created_at)::DATE AS first, max(created_at)::DATE AS last FROM wp",
        [analysis_id],
    )
    span = (
        [] if days.empty or pd.isna(days["first"].iloc[0]) else [days["first"].iloc[0], days["last"].iloc[0]]
    )
    return {
        "attributes": [str(r) for r in reasons["reason"]],
        "platforms": [str(p) for p in platforms["platform"]],
        "days": [pd.Timestamp(d).date() for d in span],
    }


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def post_thread(path: str, analysis_id: str, post_id: str) -> dict[str, pd.DataFrame]:
    """One post with what it replies to (``parent``, at most one) and its replies, oldest first; tone
    under the analysis' model. Replies come from the posts' reply field and from reply interactions,
    so a thread holds together whichever of the two a source filled."""
    posts = f"""
        WITH a AS (SELECT model_version AS mv FROM analyses WHERE analysis_id = ?)
        SELECT {_POST_COLUMNS}
        FROM posts p CROSS JOIN a
        LEFT JOIN accounts acc ON acc.account_id = p.author_id
        LEFT JOIN tone_scores t ON t.post_id = p.post_id AND t.model_version = a.mv
    """
    post = _read(path, posts + "WHERE p.post_id = ?", [analysis_id, post_id])
    parent = _read(
        path,
        posts
        + """WHERE p.post_id IN (
                 SELECT reply_to_post_id FROM posts WHERE post_id = ?
                 UNION SELECT target_post_id FROM interactions WHERE kind = 'reply' AND post_id = ?)
             ORDER BY p.created_at LIMIT 1""",
        [analysis_id, post_id, post_id],
    )
    replies = _read(
        path,
        posts
        + """WHERE p.post_id IN (
                 SELECT post_id FROM posts WHERE reply_to_post_id = ?
                 UNION SELECT post_id FROM interactions WHERE kind = 'reply' AND target_post_id = ?)
             ORDER BY p.created_at, p.post_id""",
        [analysis_id, post_id, post_id],
    )
    return {"post": post, "parent": parent, "replies": replies}
