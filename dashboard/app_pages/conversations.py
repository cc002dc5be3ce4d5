"""Conversations: search the posts of the window by text, tone, the author's camp and hashtag.

Post text is personal data written by strangers: it is shown in a table only, never as markdown.
"""

from __future__ import annotations

import streamlit as st

from dashboard import queries as q

snapshot = q.snapshot_path()
analysis = q.analysis_or_stop(snapshot)
analysis_id = str(analysis["analysis_id"])

labels = q.camp_labels(snapshot, analysis_id)
text_col, tone_col = st.columns([2, 1])
text = text_col.text_input("Text contains", placeholder="e.g. waiting list", key="conversations_text")
tones = tone_col.multiselect("Tone", q.TONES, key="conversations_tones")
camp_col, hashtag_col = st.columns(2)
camp_id = camp_col.selectbox(
    "Author's camp",
    [None, *labels],
    format_func=lambda camp: "All camps" if camp is None else labels[camp],
    key="conversations_camp",
)
hashtag = hashtag_col.selectbox(
    "Hashtag",
    [None, *q.window_hashtags(snapshot, analysis_id)],
    format_func=lambda tag: "All hashtags" if tag is None else f"#{tag}",
    key="conversations_hashtag",
)

posts = q.search_posts(
    snapshot, analysis_id, text=text.strip(), tones=tuple(tones), camp_id=camp_id, hashtag=hashtag
)
if posts.empty:
    st.info("No posts in this window match these filters.")
    st.stop()

st.dataframe(
    posts[["created_at", "author", "camp", "tone", "reasons", "constructive", "hostile", "text", "hashtags"]],
    hide_index=True,
    width="stretch",
    column_config={
        "created_at": st.column_config.DatetimeColumn("Time", format="D MMM YYYY, HH:mm"),
        "author": "Author",
        "camp": "Author's camp",
        "tone": "Tone",
        "reasons": st.column_config.TextColumn(
            "Why", help="The attributes that drove the tone, strongest first (or why it was not scored)"
        ),
        "constructive": st.column_config.NumberColumn("Constructive", format="%.2f"),
        "hostile": st.column_config.NumberColumn("Hostile", format="%.2f"),
        "text": st.column_config.TextColumn("Post", width="large"),
        "hashtags": st.column_config.ListColumn("Hashtags"),
    },
)
if len(posts) >= q.SEARCH_LIMIT:
    st.caption(f"Showing the newest {q.SEARCH_LIMIT} matching posts; narrow the search to see older ones.")
else:
    st.caption(f"{len(posts)} matching posts in this window.")
