"""Every query the dashboard runs, in one place.

The pages read like a description of the UI; the SQL lives here. Reads go to the published
snapshot only (`Warehouse.publish`), through one read-only DuckDB connection per snapshot file, and are
cached for a minute. The one thing the dashboard writes is its own small outreach database (the
shortlist and notes), never the snapshot and never the flows' warehouse.

Every read takes the snapshot path as its first argument so that tests (and several deployments)
can point it elsewhere; `snapshot_path()` resolves it from the settings (`COMMONGROUND_SNAPSHOT`).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import streamlit as st

from dashboard import notes
from dashboard.window_scan import as_window_scan, has_table
from warehouse.settings import Settings
from warehouse.shapes import CAMPS_REACHED, EXAMPLE_POSTS, TOP_ACCOUNTS, TOP_HASHTAGS, TOP_TERMS
from warehouse.store import schema_statements

TTL_SECONDS = 60
SEARCH_LIMIT = 500
TONES = ("constructive", "neutral", "hostile", "unscored")
OUTREACH_STATUSES = ("to contact", "contacted", "replied", "declined")
EMPTY_STATE_MESSAGE = (
    "No analysis to show yet. Run `make demo` (or `commonground demo --no-dashboard`) for the bundled "
    "sample, or `commonground run` to collect, score and analyse live posts; the dashboard then reads "
    "the snapshot that the run publishes."
)


# --- where the data is ------------------------------------------------------------------------------


def snapshot_path() -> str:
    """The snapshot to read; fresh settings each time so `COMMONGROUND_SNAPSHOT` always applies."""
    path = str(Settings().snapshot_path)
    notice_new_snapshot(path)
    return path


# The file signature (inode, size, mtime) of each snapshot last read: `publish` swaps a new file in
# with os.replace, so a changed signature means every cached read is stale.
_SEEN_SNAPSHOTS: dict[str, tuple[int, int, int] | None] = {}


def notice_new_snapshot(path: str) -> bool:
    """Clear every cached read when the snapshot file changed since the last look (a republished
    snapshot shows at once, without a restart); True when it did."""
    try:
        stat = Path(path).stat()
        signature: tuple[int, int, int] | None = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
    except OSError:
        signature = None
    changed = path in _SEEN_SNAPSHOTS and _SEEN_SNAPSHOTS[path] != signature
    _SEEN_SNAPSHOTS[path] = signature
    if changed:
        st.cache_data.clear()
    return changed


def outreach_path() -> str:
    """The dashboard's own shortlist database (`COMMONGROUND_OUTREACH_DATABASE`)."""
    return str(Settings().outreach_path)


def snapshot_exists(path: str) -> bool:
    return Path(path).is_file()


# One read-only connection per snapshot file, kept open: opening a snapshot costs far more than most of
# its queries (measured by `commonground bench dashboard` on a 10k-post snapshot: 30-60 ms per read
# before any SQL). Each read takes its own cursor (DuckDB cursors may run in parallel threads, as
# Streamlit sessions do); a republished snapshot (a new file signature) gets a new connection.
_CONNECTIONS: dict[str, tuple[tuple[int, int, int], duckdb.DuckDBPyConnection]] = {}
_CONNECTIONS_LOCK = threading.Lock()


def _cursor(path: str) -> duckdb.DuckDBPyConnection:
    stat = Path(path).stat()  # a missing snapshot is an OSError, as duckdb.connect would fail
    signature = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
    with _CONNECTIONS_LOCK:
        held = _CONNECTIONS.get(path)
        if held is None or held[0] != signature:
            if held is not None:
                held[1].close()
            _CONNECTIONS[path] = (signature, duckdb.connect(path, read_only=True))
        return _CONNECTIONS[path][1].cursor()


def _read(path: str, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
    cursor = _cursor(path)
    try:
        if sql.startswith(_WINDOW_POSTS) and has_table(cursor, "window_posts"):
            sql, params = as_window_scan(cursor, sql[len(_WINDOW_POSTS) :], list(params))
        return cursor.execute(sql, list(params)).df()
    finally:
        cursor.close()


# --- the snapshot and its latest analysis -----------------------------------------------------------


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def snapshot_info(path: str) -> pd.DataFrame:
    """One row: published_at, pseudonymized."""
    return _read(path, "SELECT published_at, pseudonymized FROM snapshot_info LIMIT 1")


# --- the window every page shows (the sidebar switch in streamlit_app.py) ---------------------------

# session_state key of the window length (days) the person chose; every page follows it.
WINDOW_STATE_KEY = "window_days"
# Below these an analysis cannot say anything: no camps to compare, no one to rank.
MIN_POSTS_TO_JUDGE = 5
MIN_ACCOUNTS_TO_JUDGE = 3
# Below these the pages still show, under a note that the numbers are a sketch.
FEW_POSTS = 100
FEW_ACCOUNTS = 20
_WINDOW_DAYS_SQL = "CAST(round(epoch(window_end - window_start) / 86400) AS INTEGER)"


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def analysis_windows(path: str) -> list[int]:
    """The window lengths (days) analysed in this snapshot; the newest analysis' length first."""
    frame = _read(
        path,
        f"""SELECT {_WINDOW_DAYS_SQL} AS days, max(created_at) AS newest FROM analyses
            GROUP BY 1 ORDER BY newest DESC, days""",
    )
    return [int(days) for days in frame["days"]]


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def latest_analysis(path: str, days: int | None = None) -> pd.DataFrame:
    """The newest analysis (topic × window), of `days` days when given, as one row; empty when none."""
    return _read(
        path,
        f"""SELECT analysis_id, topic, window_start, window_end, model_version, run_id,
                  n_posts, n_accounts, n_edges, created_at, {_WINDOW_DAYS_SQL} AS window_days
           FROM analyses WHERE ?::INTEGER IS NULL OR {_WINDOW_DAYS_SQL} = ?::INTEGER
           ORDER BY created_at DESC, analysis_id DESC LIMIT 1""",
        [days, days],
    )


def chosen_window_days() -> int | None:
    """The window length the person chose in the sidebar (None: the newest analysis)."""
    try:
        days = st.session_state.get(WINDOW_STATE_KEY)
    except (AttributeError, RuntimeError):  # outside a Streamlit run (a plain script or test)
        return None
    return int(days) if isinstance(days, int | float) else None


def current_analysis(path: str) -> dict[str, Any] | None:
    """The newest analysis of the chosen window as a dict (the newest of any window when that length
    was not analysed), or None when the snapshot is missing, unreadable or empty."""
    if not snapshot_exists(path):
        return None
    try:
        frame = latest_analysis(path, chosen_window_days())
        if frame.empty:
            frame = latest_analysis(path)
    except duckdb.Error:
        return None
    if frame.empty:
        return None
    return {str(key): value for key, value in frame.iloc[0].items()}


def too_little_to_judge(analysis: dict[str, Any]) -> str | None:
    """Why this analysis is too small to say anything, in plain words; None when it is not."""
    posts, accounts = int(analysis["n_posts"]), int(analysis["n_accounts"])
    if posts >= MIN_POSTS_TO_JUDGE and accounts >= MIN_ACCOUNTS_TO_JUDGE:
        return None
    return (
        f"Too little data to judge: this window has {posts} post{'s' * (posts != 1)} by {accounts} "
        f"account{'s' * (accounts != 1)}, and camps or constructive voices need at least "
        f"{MIN_POSTS_TO_JUDGE} posts by {MIN_ACCOUNTS_TO_JUDGE} accounts. Collect more "
        "(`commonground ingest`, then `commonground run`), or choose a longer window in the sidebar."
    )


def analysis_or_stop(path: str) -> dict[str, Any]:
    """The chosen window's analysis; when there is none, or it is too small to judge, the page says
    what to do and stops there."""
    analysis = current_analysis(path)
    if analysis is None:
        st.info(EMPTY_STATE_MESSAGE)
        st.stop()
    reason = too_little_to_judge(analysis)
    if reason is not None:
        st.warning(reason, icon="⚠️")
        st.stop()
    return analysis


def is_pseudonymized(path: str) -> bool:
    info = snapshot_info(path)
    return bool(not info.empty and info["pseudonymized"].iloc[0])


# Posts of the analysis window with their tone under the analysis' model version. Binds one
# parameter: the analysis_id. `_read` runs it as a scan of `window_posts` where the snapshot has it.
_WINDOW_POSTS = """
WITH a AS (
    SELECT window_start, window_end, model_version AS mv FROM analyses WHERE analysis_id = ?
),
wp AS (
    SELECT p.post_id, p.author_id, p.created_at, p.text, p.url, p.source AS platform,
           coalesce(f.hashtags, p.hashtags) AS tags,
           list_transform(coalesce(f.hashtags, p.hashtags), lambda tag: lower(ltrim(tag, '#'))) AS tag_keys,
           t.tone, t.constructive, t.hostile, array_to_string(t.reasons, ', ') AS reasons, t.unscored_reason,
           t.reasons AS reason_list
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
    """{camp_id: label}, largest camp first: the name a person gave the camp (dashboard/notes.py) where
    there is one, else the generated label. Renaming clears the cache, so every page shows the new name."""
    frame = _read(
        path,
        "SELECT camp_id, label FROM community_profiles WHERE analysis_id = ? ORDER BY size DESC, camp_id",
        [analysis_id],
    )
    renamed = notes.camp_names(outreach_path(), analysis_id)
    return {
        int(camp): renamed.get(int(camp), str(label))
        for camp, label in zip(frame["camp_id"], frame["label"], strict=True)
    }


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
    labels = camp_labels(path, analysis_id)
    frame["generated_label"] = frame["label"]
    frame["label"] = [labels.get(int(camp), str(label)) for camp, label in frame[["camp_id", "label"]].values]
    # names only, most distinctive first: the c-TF-IDF weights mean nothing to a reader
    frame["top_hashtags"] = [_names(TOP_HASHTAGS.load(v), prefix="#") for v in frame["top_hashtags"]]
    frame["top_terms"] = [_names(TOP_TERMS.load(v)) for v in frame["top_terms"]]
    frame["top_accounts"] = [
        ", ".join(f"{handles.get(a.account_id, a.account_id)} ({_endorsements(a.endorsements)})" for a in top)
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
        SELECT tag AS hashtag, count(*) AS n
        FROM (SELECT unnest(tag_keys) AS tag FROM wp)
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
    *,
    attribute: str | None = None,
    platform: str | None = None,
    days: tuple[date, date] | None = None,
) -> pd.DataFrame:
    """Posts of the analysis window matching every filter given, newest first.

    `text` is a literal substring (case-insensitive); `tones` any of constructive/neutral/hostile/unscored;
    `camp_id` the camp of the author in this analysis; `hashtag` one hashtag, with or without '#';
    `attribute` one of the reasons the tone model gave (e.g. ``evidence``); `platform` the post's source;
    `days` the first and last day (inclusive, UTC).
    """
    where, params = _post_filters(analysis_id, text, tones, camp_id, hashtag, attribute, platform, days)
    # The newest matches first, then their authors' handles and camps: joined for `limit` rows, not for
    # every post of the window (on 1M posts that join was most of a search's 2-5 s).
    frame = _read(
        path,
        _WINDOW_POSTS
        + f"""
        , hits AS (
            SELECT * FROM wp WHERE {" AND ".join(where)} ORDER BY wp.created_at DESC, wp.post_id LIMIT ?
        )
        SELECT h.created_at, coalesce(acc.handle, h.author_id) AS author, c.camp_id, h.tone,
               coalesce(nullif(h.reasons, ''), h.unscored_reason) AS reasons, h.constructive,
               h.hostile, h.text, h.tags AS hashtags, h.platform, h.url, h.post_id
        FROM hits h
        LEFT JOIN accounts acc ON acc.account_id = h.author_id
        LEFT JOIN communities c ON c.account_id = h.author_id AND c.analysis_id = ?
        ORDER BY h.created_at DESC, h.post_id
        """,
        [analysis_id, *params, limit, analysis_id],
    )
    labels = camp_labels(path, analysis_id)
    camp = [None if pd.isna(c) else labels.get(int(c), f"camp {int(c)}") for c in frame["camp_id"]]
    frame.insert(2, "camp", camp)
    return frame.drop(columns=["camp_id"])


def _post_filters(
    analysis_id: str,
    text: str,
    tones: tuple[str, ...],
    camp_id: int | None,
    hashtag: str | None,
    attribute: str | None,
    platform: str | None,
    days: tuple[date, date] | None,
) -> tuple[list[str], list[Any]]:
    """The WHERE clauses of `search_posts` and their parameters, in order."""
    clauses: list[tuple[str, Any]] = [("TRUE", None)]
    if text:
        clauses.append(("wp.text ILIKE ? ESCAPE '\\'", "%" + _escape_like(text) + "%"))
    if tones:
        clauses.append(("wp.tone IN (SELECT unnest(?::VARCHAR[]))", list(tones)))
    if camp_id is not None:
        members = "SELECT account_id FROM communities WHERE analysis_id = ? AND camp_id = ?"
        clauses.append((f"wp.author_id IN ({members})", [analysis_id, int(camp_id)]))
    if hashtag:
        tag = hashtag.strip().lstrip("#").lower()
        clauses.append(("list_contains(wp.tag_keys, ?)", tag))
    if attribute:
        clauses.append(("list_contains(wp.reason_list, ?)", attribute))
    if platform:
        clauses.append(("wp.platform = ?", platform))
    if days is not None:
        clauses.append(("wp.created_at >= ?::DATE", days[0]))
        clauses.append(("wp.created_at < ?::DATE + INTERVAL 1 DAY", days[1]))
    values: list[Any] = []
    for sql, value in clauses:  # a clause with two `?` takes a list of two values
        if "?" in sql:
            values += value if sql.count("?") > 1 else [value]
    return [sql for sql, _ in clauses], values


# --- the shortlist (the dashboard's own database) ---------------------------------------------------


def _outreach(path: str) -> duckdb.DuckDBPyConnection:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(path)
    con.execute(schema_statements()["outreach"])
    return con


# The shortlist itself (entries, history, export) is in dashboard/shortlist.py.


# --- reports ----------------------------------------------------------------------------------------


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def reports(path: str) -> pd.DataFrame:
    """The weekly reports recorded in the snapshot, newest week first; empty when none (or when the
    snapshot predates reports)."""
    columns = ["week", "week_start", "week_end", "folder", "files", "enough_data", "n_posts", "n_accounts"]
    columns += ["analysis_id", "model_version", "pseudonymized", "generated_at"]
    has_table = _read(path, "SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = 'reports'")
    if not int(has_table["n"].iloc[0]):
        return pd.DataFrame(columns=columns)
    return _read(path, f"SELECT {', '.join(columns)} FROM reports ORDER BY week DESC")


def report_file(folder: str, name: str) -> bytes | None:
    """One file of a report's folder, or None when it is gone; only plain names inside that folder."""
    if Path(name).name != name or name.startswith("."):
        return None
    file = Path(folder) / name
    return file.read_bytes() if file.is_file() else None


# --- helpers (no SQL) -------------------------------------------------------------------------------


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _names(items: list[tuple[str, float]] | None, prefix: str = "") -> str:
    """[(term, weight), …] as one line of names, most distinctive first."""
    return ", ".join(f"{prefix}{name.lstrip('#')}" if prefix else name for name, _weight in items or [])


def _endorsements(n: int) -> str:
    return f"{n} endorsement{'s' * (n != 1)}"


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
    return ", ".join(f"{name} ({count:.0f})" for name, count in items)
