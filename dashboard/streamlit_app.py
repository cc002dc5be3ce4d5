"""commonground dashboard: who is constructive, which camps exist, who bridges them.

Run with `commonground dashboard` (or `streamlit run dashboard/streamlit_app.py`). It reads only the
published snapshot (`COMMONGROUND_SNAPSHOT`) and writes only its own shortlist database
(`COMMONGROUND_OUTREACH_DATABASE`).
"""

from __future__ import annotations

import streamlit as st

from dashboard import queries as q

st.set_page_config(page_title="commonground", page_icon="🤝", layout="wide")

page = st.navigation(
    [
        st.Page("app_pages/overview.py", title="Overview", icon="🏠", default=True),
        st.Page("app_pages/constructive_voices.py", title="Constructive voices", icon="🌱"),
        st.Page("app_pages/echo_chambers.py", title="Echo chambers", icon="🫧"),
        st.Page("app_pages/conversations.py", title="Conversations", icon="💬"),
    ]
)

st.title(page.title)

snapshot = q.snapshot_path()
analysis = q.current_analysis(snapshot)
if analysis is None:
    st.info(q.EMPTY_STATE_MESSAGE, icon="ℹ️")
    st.caption(f"Looked for a snapshot at `{snapshot}`.")
    st.stop()

window = f"{analysis['window_start']:%d %b %Y %H:%M} – {analysis['window_end']:%d %b %Y %H:%M} UTC"
st.caption(
    f"Topic **{analysis['topic']}** · window {window} · "
    f"tone model {analysis['model_version'] or 'unknown'} · analysed {analysis['created_at']:%d %b %Y %H:%M}"
)
if q.is_pseudonymized(snapshot):
    st.caption("Handles and display names in this snapshot are pseudonyms (member-…), not the real accounts.")

page.run()
