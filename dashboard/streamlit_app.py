"""commonground dashboard: who is constructive, which camps exist, who bridges them.

Run with `commonground dashboard` (or `streamlit run dashboard/streamlit_app.py`). It reads only the
published snapshot (`COMMONGROUND_SNAPSHOT`) and writes only its own shortlist database
(`COMMONGROUND_OUTREACH_DATABASE`). The sidebar's window switch (7 / 30 days) is kept in
`st.session_state` and every page follows it through `queries.analysis_or_stop`.
"""

from __future__ import annotations

import streamlit as st

from dashboard import access, wording
from dashboard import queries as q

st.set_page_config(page_title="commonground", page_icon="🤝", layout="wide")
access.require_access()

page = st.navigation(
    [
        st.Page("app_pages/overview.py", title="Overview", icon="🏠", default=True),
        st.Page("app_pages/constructive_voices.py", title="Constructive voices", icon="🌱"),
        st.Page("app_pages/echo_chambers.py", title="Echo chambers", icon="🫧"),
        st.Page("app_pages/conversations.py", title="Conversations", icon="💬"),
        st.Page("app_pages/data_health.py", title="Data health", icon="🩺"),
        st.Page("app_pages/reports.py", title="Weekly reports", icon="📰"),
    ]
)

st.title(page.title)

snapshot = q.snapshot_path()
windows = q.analysis_windows(snapshot) if q.current_analysis(snapshot) is not None else []
if len(windows) > 1:
    st.sidebar.radio(
        "Time window",
        windows,
        format_func=wording.window_name,
        key=q.WINDOW_STATE_KEY,
        help="Every page shows the analysis of this many days, up to the newest post collected.",
    )
analysis = q.current_analysis(snapshot)
if analysis is not None:
    window = f"{analysis['window_start']:%d %b %Y %H:%M} – {analysis['window_end']:%d %b %Y %H:%M} UTC"
    st.caption(
        f"Topic {analysis['topic']} · {wording.window_name(int(analysis['window_days'])).lower()}: {window} · "
        f"tone model {analysis['model_version'] or 'unknown'} · analysed {analysis['created_at']:%d %b %Y %H:%M}"
    )
    if q.too_little_to_judge(analysis) is None and (
        analysis["n_posts"] < q.FEW_POSTS or analysis["n_accounts"] < q.FEW_ACCOUNTS
    ):
        st.caption(
            f"A small sample ({int(analysis['n_posts'])} posts by {int(analysis['n_accounts'])} accounts): "
            "read the numbers as a sketch, not a measurement."
        )
    st.caption("Rankings are suggestions for a person to review, not verdicts about anyone.")
    if q.is_pseudonymized(snapshot):
        st.caption(
            "Handles and display names in this snapshot are pseudonyms (member-…), not the real accounts."
        )

page.run()
