"""The reads behind "this week": headline numbers of any window, tone over time, and what each voice wrote.

Like `queries`, every read takes the snapshot path first, opens it read-only and is cached; a
republished snapshot clears the cache (`queries.notice_new_snapshot`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import queries as q
from dashboard import wording
from warehouse.shapes import CAMPS_REACHED

# How tone over time can be split, in the words of the selector.
SPLITS = {"tone": "all posts", "hashtag": "hashtag", "platform": "platform", "camp": "camp"}
MAX_GROUPS = 6  # lines in one chart before it stops being readable

# Posts of one window with their tone under one model version (three parameters: model version,
# window start, window end); own posts and reposts alike, as the analysis counts them.
_POSTS_IN = """
WITH wp AS (
    SELECT p.post_id, p.author_id, p.created_at, p.source AS platform,
           coalesce(f.hashtags, p.hashtags, []::VARCHAR[]) AS tags, t.tone
    FROM posts p
    LEFT JOIN post_features f ON f.post_id = p.post_id
    LEFT JOIN tone_scores t ON t.post_id = p.post_id AND t.model_version = ?
    WHERE p.created_at >= ? AND p.created_at <= ?
)
"""


@st.cache_data(ttl=q.TTL_SECONDS, show_spinner=False)
def window_numbers(path: str, model_version: str, start: datetime, end: datetime) -> dict[str, Any]:
    """posts, people (who posted), scored, share_constructive, share_hostile of one window."""
    frame = q._read(
        path,
        _POSTS_IN
        + """
        , judged AS (SELECT *, tone IN ('constructive', 'neutral', 'hostile') AS ok FROM wp)
        SELECT count(*) AS posts, count(DISTINCT author_id) AS people, count(*) FILTER (WHERE ok) AS scored,
               avg(CASE WHEN ok THEN (tone = 'constructive')::INTEGER END) AS share_constructive,
               avg(CASE WHEN ok THEN (tone = 'hostile')::INTEGER END) AS share_hostile
        FROM judged
        """,
        [model_version, start, end],
    )
    row = frame.iloc[0]
    numbers: dict[str, Any] = {key: int(row[key]) for key in ("posts", "people", "scored")}
    for key in ("share_constructive", "share_hostile"):
        numbers[key] = None if pd.isna(row[key]) else float(row[key])
    return numbers


_GROUPS = {
    "tone": ("'All posts'", ""),
    "platform": ("wp.platform", ""),
    "camp": (
        # The camp id here; its label (a person's rename first) is applied after the query.
        "coalesce(c.camp_id::VARCHAR, 'no camp')",
        "LEFT JOIN communities c ON c.account_id = wp.author_id AND c.analysis_id = ?",
    ),
    "hashtag": ("'#' || lower(ltrim(u.tag, '#'))", "CROSS JOIN unnest(wp.tags) AS u(tag)"),
}


@st.cache_data(ttl=q.TTL_SECONDS, show_spinner=False)
def tone_over_time(path: str, analysis_id: str, by: str) -> pd.DataFrame:
    """day, group, tone, posts: the scored posts of the analysis window per day, split `by` one of
    SPLITS (the largest MAX_GROUPS groups; 'tone' is one group, all posts)."""
    if by not in _GROUPS:
        raise ValueError(f"Split tone over time by one of {', '.join(SPLITS)}, not {by!r}.")
    group, join = _GROUPS[by]
    analysis = q._read(
        path,
        "SELECT model_version, window_start, window_end FROM analyses WHERE analysis_id = ?",
        [analysis_id],
    )
    if analysis.empty:
        return pd.DataFrame(columns=["day", "group", "tone", "posts"])
    params: list[Any] = list(analysis.iloc[0]) + ([analysis_id] if "?" in join else [])
    frame = q._read(
        path,
        _POSTS_IN
        + f"""
        SELECT date_trunc('day', wp.created_at) AS day, {group} AS "group", wp.tone, count(*) AS posts
        FROM wp {join}
        WHERE wp.tone IN ('constructive', 'neutral', 'hostile')
        GROUP BY ALL ORDER BY day, "group", wp.tone
        """,
        params,
    )
    if by == "camp":
        labels = q.camp_labels(path, analysis_id)
        frame["group"] = [labels.get(int(g), f"camp {g}") if g.isdigit() else g for g in frame["group"]]
    largest = frame.groupby("group")["posts"].sum().sort_values(ascending=False).head(MAX_GROUPS).index
    return frame[frame["group"].isin(set(largest))].reset_index(drop=True)


@st.cache_data(ttl=q.TTL_SECONDS, show_spinner=False)
def voice_facts(path: str, analysis_id: str) -> pd.DataFrame:
    """Per ranked voice: platform, own_posts (scored, reposts left out), constructive_posts, the
    hashtags it used in the window (lower-case, without '#') and n_camps it reached (at least one
    constructive engagement from each)."""
    frame = q._read(
        path,
        """WITH a AS (SELECT window_start, window_end, model_version AS mv FROM analyses WHERE analysis_id = ?)
           SELECT v.account_id, any_value(acc.source) AS platform,
                  count(t.post_id) FILTER (WHERE p.repost_of_post_id IS NULL AND t.tone <> 'unscored')
                      AS own_posts,
                  count(t.post_id) FILTER (WHERE p.repost_of_post_id IS NULL AND t.tone = 'constructive')
                      AS constructive_posts,
                  list_distinct(flatten(list(coalesce(f.hashtags, p.hashtags, []::VARCHAR[])))) AS hashtags,
                  any_value(v.camps_reached) AS camps_reached
           FROM voices v CROSS JOIN a
           LEFT JOIN accounts acc ON acc.account_id = v.account_id
           LEFT JOIN posts p ON p.author_id = v.account_id
                AND p.created_at >= a.window_start AND p.created_at <= a.window_end
           LEFT JOIN post_features f ON f.post_id = p.post_id
           LEFT JOIN tone_scores t ON t.post_id = p.post_id AND t.model_version = a.mv
           WHERE v.analysis_id = ?
           GROUP BY v.account_id""",
        [analysis_id, analysis_id],
    )
    reached = [CAMPS_REACHED.load(value) or {} for value in frame.pop("camps_reached")]
    frame["n_camps"] = [wording.n_camps_reached(r) for r in reached]
    frame["hashtags"] = [
        sorted({str(tag).lstrip("#").lower() for tag in tags if tag}) if tags is not None else []
        for tags in frame["hashtags"]
    ]
    return frame
