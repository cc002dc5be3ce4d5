"""Every query the dashboard runs, in one place.

The pages read like a description of the UI; the SQL lives here. Reads go to the published
snapshot only (`Warehouse.publish`), through a short-lived read-only DuckDB connection, and are
cached for a minute. The one thing the dashboard writes is its own small outreach database (the
shortlist and notes), never the snapshot and never the flows' warehouse.

Every read takes the snapshot path as its first argument so that tests (and several deployments)
can point it elsewhere; `snapshot_path()` resolves it from the settings (`COMMONGROUND_SNAPSHOT`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import streamlit as st

from warehouse.records import utcnow
from warehouse.settings import Settings
from warehouse.shapes import CAMPS_REACHED, EXAMPLE_POSTS, TOP_ACCOUNTS, TOP_HASHTAGS, TOP_TERMS
from warehouse.store import schema_statements

TTL_SECONDS = 60
SEARCH_LIMIT = 500
TONES = ("constructive", "neutral", "hostile", "unscored")
OUTREACH_STATUSES = ("shortlisted", "contacted", "replied", "declined", "not a fit")
EMPTY_STATE_MESSAGE = (
    "No analysis to show yet. Run `make demo` (or `commonground demo --no-dashboard`) for the bundled "
    "sample, or `commonground run` to collect, score and analyse live posts; the dashboard then reads "
    "the snapshot that the run publishes."
)


# --- where the data is ------------------------------------------------------------------------------


def snapshot_path() -> str:
    """The snapshot to read; fresh settings each time so `COMMONGROUND_SNAPSHOT` always applies."""
    return str(Settings().snapshot_path)


def outreach_path() -> str:
    """The dashboard's own shortlist database (`COMMONGROUND_OUTREACH_DATABASE`)."""
    return str(Settings().outreach_path)


def snapshot_exists(path: str) -> bool:
    return Path(path).is_file()


def _read(path: str, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
    con = duckdb.connect(path, read_only=True)
    try:
        return con.execute(sql, list(params)).df()
    finally:
        con.close()


# --- the snapshot and its latest analysis -----------------------------------------------------------


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def snapshot_info(path: str) -> pd.DataFrame:
    """One row: published_at, pseudonymized."""
    return _read(path, "SELECT published_at, pseudonymized FROM snapshot_info LIMIT 1")


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def latest_analysis(path: str) -> pd.DataFrame:
    """The newest analysis (topic × window) as one row; empty when there is none."""
    return _read(
        path,
        """SELECT analysis_id, topic, window_start, window_end, model_version, run_id,
                  n_posts, n_accounts, n_edges, created_at
           FROM analyses ORDER BY created_at DESC, analysis_id DESC LIMIT 1""",
    )


def current_analysis(path: str) -> dict[str, Any] | None:
    """The latest analysis as a dict, or None when the snapshot is missing, unreadable or empty."""
    if not snapshot_exists(path):
        return None
    try:
        frame = latest_analysis(path)
    except duckdb.Error:
        return None
    if frame.empty:
        return None
    return {str(key): value for key, value in frame.iloc[0].items()}


def analysis_or_stop(path: str) -> dict[str, Any]:
    """The latest analysis; when there is none the page says how to make one and stops there."""
    analysis = current_analysis(path)
    if analysis is None:
        st.info(EMPTY_STATE_MESSAGE)
        st.stop()
    return analysis


def is_pseudonymized(path: str) -> bool:
    info = snapshot_info(path)
    return bool(not info.empty and info["pseudonymized"].iloc[0])


# Posts of the analysis window with their tone under the analysis' model version. Binds one
# parameter: the analysis_id.
_WINDOW_POSTS = """
WITH a AS (
    SELECT window_start, window_end, model_version AS mv FROM analyses WHERE analysis_id = ?
),
wp AS (
    SELECT p.post_id, p.author_id, p.created_at, p.text, p.url,
           coalesce(f.hashtags, p.hashtags) AS tags,
           t.tone, t.constructive, t.hostile, array_to_string(t.reasons, ', ') AS reasons, t.unscored_reason
    FROM posts p
    CROSS JOIN a
    LEFT JOIN post_features f ON f.post_id = p.post_id
    LEFT JOIN tone_scores t ON t.post_id = p.post_id AND t.model_version = a.mv
    WHERE p.created_at >= a.window_start AND p.created_at <= a.window_end
)
"""


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def tone_summary(path: str, analysis_id: str) -> pd.DataFrame:
    """One row: posts in the window, posts scored, posts the model could not judge (``unscored``: empty,
    no words, not English), and the share of each tone among the scored posts."""
    return _read(
        path,
        _WINDOW_POSTS
        + """
        , judged AS (SELECT *, tone IS NOT NULL AND tone <> 'unscored' AS ok FROM wp)
        SELECT count(*) AS posts,
               count(*) FILTER (WHERE ok) AS scored,
               count(*) FILTER (WHERE tone = 'unscored') AS unscored,
               avg(CASE WHEN NOT ok THEN NULL WHEN tone = 'constructive' THEN 1 ELSE 0 END)
                   AS share_constructive,
               avg(CASE WHEN NOT ok THEN NULL WHEN tone = 'neutral' THEN 1 ELSE 0 END) AS share_neutral,
               avg(CASE WHEN NOT ok THEN NULL WHEN tone = 'hostile' THEN 1 ELSE 0 END) AS share_hostile
        FROM judged
        """,
        [analysis_id],
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def tone_per_day(path: str, analysis_id: str) -> pd.DataFrame:
    """Columns: day, tone, posts: the tone mix of the window, day by day (scored posts only)."""
    return _read(
        path,
        _WINDOW_POSTS
        + """
        SELECT date_trunc('day', created_at) AS day, tone, count(*) AS posts
        FROM wp WHERE tone IS NOT NULL AND tone <> 'unscored'
        GROUP BY ALL ORDER BY day, tone
        """,
        [analysis_id],
    )


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def last_runs(path: str, limit: int = 5) -> pd.DataFrame:
    """The newest runs: flow, status, started_at, finished_at, message."""
    return _read(
        path,
        """SELECT flow, status, started_at, finished_at, message, run_id FROM runs
           ORDER BY started_at DESC LIMIT ?""",
        [limit],
    )


# --- camps ------------------------------------------------------------------------------------------


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def camp_labels(path: str, analysis_id: str) -> dict[int, str]:
    frame = _read(
        path,
        "SELECT camp_id, label FROM community_profiles WHERE analysis_id = ? ORDER BY size DESC, camp_id",
        [analysis_id],
    )
    return {int(camp): str(label) for camp, label in zip(frame["camp_id"], frame["label"], strict=True)}


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def camps(path: str, analysis_id: str) -> pd.DataFrame:
    """`community_profiles` of one analysis, largest camp first, the JSON lists made readable."""
    frame = _read(
        path,
        """SELECT camp_id, label, size, n_posts, insularity, ei_index,
                  share_constructive, share_neutral, share_hostile, top_hashtags, top_terms, top_accounts
           FROM community_profiles WHERE analysis_id = ? ORDER BY size DESC, camp_id""",
        [analysis_id],
    )
    tops = [TOP_ACCOUNTS.load(value) or [] for value in frame["top_accounts"]]
    handles = _handles_for(path, [a.account_id for top in tops for a in top])
    frame["top_hashtags"] = [_format_weighted(TOP_HASHTAGS.load(v)) for v in frame["top_hashtags"]]
    frame["top_terms"] = [_format_weighted(TOP_TERMS.load(v)) for v in frame["top_terms"]]
    frame["top_accounts"] = [
        ", ".join(f"{handles.get(a.account_id, a.account_id)} ({a.endorsements})" for a in top)
        for top in tops
    ]
    return frame


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def polarization(path: str, analysis_id: str) -> pd.DataFrame:
    """Every measure with its random-rewiring baseline; the headline measure first."""
    return _read(
        path,
        """SELECT measure, value, baseline_mean, baseline_std, z FROM polarization
           WHERE analysis_id = ? ORDER BY measure <> 'headline', measure""",
        [analysis_id],
    )


# --- constructive voices ----------------------------------------------------------------------------


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def voices(path: str, analysis_id: str) -> pd.DataFrame:
    """The ranked voices of one analysis with handle, name, bio, home camp and camps reached."""
    frame = _read(
        path,
        """SELECT v.rank, v.account_id, a.handle, a.display_name, a.bio, a.url, v.score,
                  v.constructiveness, v.bridging, v.hostility, v.n_posts, v.home_camp,
                  v.camps_reached, v.example_posts, v.reasons, r.role, r.evidence AS role_evidence,
                  coalesce(r.label, '') AS role_label
           FROM voices v LEFT JOIN accounts a USING (account_id)
           LEFT JOIN account_roles r ON r.analysis_id = v.analysis_id AND r.account_id = v.account_id
           WHERE v.analysis_id = ? ORDER BY v.rank, v.account_id""",
        [analysis_id],
    )
    labels = camp_labels(path, analysis_id)
    frame["handle"] = frame["handle"].fillna(frame["account_id"])
    frame["home_camp_label"] = frame["home_camp"].map(lambda camp: _camp_name(camp, labels))
    reached = [CAMPS_REACHED.load(value) or {} for value in frame["camps_reached"]]
    frame["n_camps_reached"] = [len(r) for r in reached]
    frame["camps_reached"] = [_format_reached(r, labels) for r in reached]
    return frame


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def example_posts(path: str, analysis_id: str, account_id: str) -> pd.DataFrame:
    """The posts `voices.example_posts` names for one account, in that order, with their tone."""
    ids = _read(
        path,
        "SELECT example_posts FROM voices WHERE analysis_id = ? AND account_id = ?",
        [analysis_id, account_id],
    )
    post_ids = (EXAMPLE_POSTS.load(ids["example_posts"].iloc[0]) or []) if len(ids) else []
    columns = ["created_at", "tone", "reasons", "constructive", "hostile", "text", "url", "post_id"]
    if not post_ids:
        return pd.DataFrame(columns=columns)
    frame = _read(
        path,
        """WITH a AS (SELECT model_version AS mv FROM analyses WHERE analysis_id = ?)
           SELECT p.created_at, t.tone, array_to_string(t.reasons, ', ') AS reasons, t.constructive,
                  t.hostile, p.text, p.url, p.post_id
           FROM posts p CROSS JOIN a
           LEFT JOIN tone_scores t ON t.post_id = p.post_id AND t.model_version = a.mv
           WHERE p.post_id IN (SELECT unnest(?::VARCHAR[]))""",
        [analysis_id, post_ids],
    )
    order = {post_id: i for i, post_id in enumerate(post_ids)}
    frame = frame.sort_values("post_id", key=lambda ids_: ids_.map(order)).reset_index(drop=True)
    return frame[columns]


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def account_handles(path: str, account_ids: tuple[str, ...]) -> pd.DataFrame:
    """account_id, handle, display_name for the given accounts (the shortlist's names)."""
    return _read(
        path,
        """SELECT account_id, handle, display_name FROM accounts
           WHERE account_id IN (SELECT unnest(?::VARCHAR[]))""",
        [list(account_ids)],
    )


# --- conversations ----------------------------------------------------------------------------------


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def window_hashtags(path: str, analysis_id: str, limit: int = 200) -> list[str]:
    """The most used hashtags of the window, lower-cased, most frequent first."""
    frame = _read(
        path,
        _WINDOW_POSTS
        + """
        SELECT lower(ltrim(tag, '#')) AS hashtag, count(*) AS n
        FROM (SELECT unnest(tags) AS tag FROM wp)
        WHERE tag IS NOT NULL AND tag <> ''
        GROUP BY 1 ORDER BY n DESC, hashtag LIMIT ?
        """,
        [analysis_id, limit],
    )
    return [str(tag) for tag in frame["hashtag"]]


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def search_posts(
    path: str,
    analysis_id: str,
    text: str = "",
    tones: tuple[str, ...] = (),
    camp_id: int | None = None,
    hashtag: str | None = None,
    limit: int = SEARCH_LIMIT,
) -> pd.DataFrame:
    """Posts of the analysis window matching every filter given, newest first.

    `text` is a literal substring (case-insensitive); `tones` any of constructive/neutral/hostile/unscored;
    `camp_id` the camp of the author in this analysis; `hashtag` one hashtag, with or without '#'.
    """
    where = ["TRUE"]
    params: list[Any] = [analysis_id, analysis_id]
    if text:
        where.append("wp.text ILIKE ? ESCAPE '\\'")
        params.append("%" + _escape_like(text) + "%")
    if tones:
        where.append("wp.tone IN (SELECT unnest(?::VARCHAR[]))")
        params.append(list(tones))
    if camp_id is not None:
        where.append("c.camp_id = ?")
        params.append(int(camp_id))
    if hashtag:
        where.append("EXISTS (SELECT 1 FROM unnest(wp.tags) AS u(tag) WHERE lower(ltrim(tag, '#')) = ?)")
        params.append(hashtag.strip().lstrip("#").lower())
    params.append(limit)
    frame = _read(
        path,
        _WINDOW_POSTS
        + f"""
        SELECT wp.created_at, coalesce(acc.handle, wp.author_id) AS author, cp.label AS camp, wp.tone,
               coalesce(nullif(wp.reasons, ''), wp.unscored_reason) AS reasons, wp.constructive,
               wp.hostile, wp.text, wp.tags AS hashtags, wp.url, wp.post_id
        FROM wp
        LEFT JOIN accounts acc ON acc.account_id = wp.author_id
        LEFT JOIN communities c ON c.account_id = wp.author_id AND c.analysis_id = ?
        LEFT JOIN community_profiles cp ON cp.analysis_id = c.analysis_id AND cp.camp_id = c.camp_id
        WHERE {" AND ".join(where)}
        ORDER BY wp.created_at DESC, wp.post_id
        LIMIT ?
        """,
        params,
    )
    return frame


# --- the shortlist (the dashboard's own database) ---------------------------------------------------


def _outreach(path: str) -> duckdb.DuckDBPyConnection:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(path)
    con.execute(schema_statements()["outreach"])
    return con


def shortlist(path: str) -> pd.DataFrame:
    """Everyone on the shortlist, most recently updated first (never cached: it is edited live)."""
    con = _outreach(path)
    try:
        return con.execute(
            "SELECT account_id, status, note, updated_at FROM outreach ORDER BY updated_at DESC, account_id"
        ).df()
    finally:
        con.close()


def save_to_shortlist(path: str, account_id: str, *, status: str, note: str) -> datetime:
    """Add an account to the shortlist or update its status and note."""
    now = utcnow()
    con = _outreach(path)
    try:
        con.execute(
            """INSERT INTO outreach (account_id, status, note, updated_at) VALUES (?, ?, ?, ?)
               ON CONFLICT (account_id) DO UPDATE SET
                   status = excluded.status, note = excluded.note, updated_at = excluded.updated_at""",
            [account_id, status, note, now],
        )
    finally:
        con.close()
    return now


def remove_from_shortlist(path: str, account_id: str) -> None:
    con = _outreach(path)
    try:
        con.execute("DELETE FROM outreach WHERE account_id = ?", [account_id])
    finally:
        con.close()


# --- helpers (no SQL) -------------------------------------------------------------------------------


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _format_weighted(items: list[tuple[str, float]] | None) -> str:
    """[(term, weight), …] as one line, most distinctive first."""
    return ", ".join(f"{name} ({weight:.2f})" for name, weight in items or [])


def _handles_for(path: str, ids: list[str]) -> dict[str, str]:
    if not ids:
        return {}
    frame = _read(
        path,
        "SELECT account_id, handle FROM accounts WHERE account_id IN (SELECT unnest(?::VARCHAR[]))",
        [sorted(set(ids))],
    )
    return dict(zip(frame["account_id"], frame["handle"], strict=True))


def _camp_name(camp: Any, labels: dict[int, str]) -> str:
    if camp is None or pd.isna(camp):
        return "no camp"
    return labels.get(int(camp), f"camp {int(camp)}")


def _format_reached(reached: dict[int, float], labels: dict[int, str]) -> str:
    """{camp_id: constructive engagements} as 'Label (n), ...', most engaged camp first."""
    items = sorted(
        ((_camp_name(camp, labels), count) for camp, count in reached.items()), key=lambda p: (-p[1], p[0])
    )
    return ", ".join(f"{name} ({count:g})" for name, count in items)
