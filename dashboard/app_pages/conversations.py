"""Conversations: search the window's posts, read one in full with its thread, and say if its tone is right.

Post text, handles and bios are personal data written by strangers: they are shown in tables and with
st.text only, never as markdown or HTML.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import queries as q
from dashboard import queries_explore as qx
from dashboard.feedback_form import tone_feedback_form, tone_feedback_list

PREVIEW_CHARS = 90


def filters(snapshot: str, analysis_id: str) -> dict[str, Any]:
    """The search form: text, tone, reason, camp, hashtag, platform, days."""
    labels = q.camp_labels(snapshot, analysis_id)
    choices = qx.window_choices(snapshot, analysis_id)
    text_col, tone_col, reason_col = st.columns([2, 1, 1])
    text = text_col.text_input("Text contains", placeholder="e.g. waiting list", key="conversations_text")
    tones = tone_col.multiselect("Tone", q.TONES, key="conversations_tones")
    attribute = reason_col.selectbox(
        "Reasons include",
        [None, *choices["attributes"]],
        format_func=lambda a: "Any reason" if a is None else a.replace("_", " "),
        key="conversations_attribute",
        help="The attributes the tone model found in the post, e.g. evidence, a proposal, an insult",
    )
    camp_col, hashtag_col, platform_col, days_col = st.columns(4)
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
    platform = platform_col.selectbox(
        "Platform",
        [None, *choices["platforms"]],
        format_func=lambda p: "All platforms" if p is None else p,
        key="conversations_platform",
    )
    days: tuple[date, date] | None = None
    if choices["days"]:
        first, last = choices["days"]
        if st.session_state.get("conversations_days_of") != analysis_id:  # another window: its own days
            st.session_state.pop("conversations_days", None)
            st.session_state["conversations_days_of"] = analysis_id
        picked = days_col.date_input(
            "Days", value=(first, last), min_value=first, max_value=last, key="conversations_days"
        )
        if isinstance(picked, tuple | list) and len(picked) == 2:
            days = (picked[0], picked[1])
    return {
        "text": text.strip(),
        "tones": tuple(tones),
        "camp_id": camp_id,
        "hashtag": hashtag,
        "attribute": attribute,
        "platform": platform,
        "days": days,
    }


def results_table(posts: pd.DataFrame) -> None:
    st.dataframe(
        # The post early and wide so it reads without scrolling sideways; its hashtags are in its text.
        posts[["created_at", "author", "tone", "text", "reasons", "camp", "platform"]],
        hide_index=True,
        width="stretch",
        column_config={
            "created_at": st.column_config.DatetimeColumn("Time", format="D MMM YYYY, HH:mm"),
            "author": st.column_config.TextColumn("Author", width="small"),
            "camp": "Author's camp",
            "tone": st.column_config.TextColumn("Tone", width="small"),
            "reasons": st.column_config.TextColumn(
                "Why", help="The attributes that drove the tone, strongest first (or why it was not scored)"
            ),
            "text": st.column_config.TextColumn("Post", width="large"),
            "platform": "Platform",
        },
    )
    if len(posts) >= q.SEARCH_LIMIT:
        st.caption(
            f"Showing the newest {q.SEARCH_LIMIT} matching posts; narrow the search to see older ones."
        )
    else:
        st.caption(f"{len(posts)} matching posts in this window.")


def preview(row: pd.Series) -> str:
    words = " ".join(str(row["text"]).split())
    short = words if len(words) <= PREVIEW_CHARS else words[: PREVIEW_CHARS - 1] + "…"
    return f"{row['created_at']:%d %b %H:%M} · {row['author']} · {row['tone'] or 'no tone'} · {short}"


def show_post(post: pd.Series, role: str, pseudonymized: bool) -> None:
    """One post of a thread in full: who, when, tone and why, the text, and a link to the original."""
    with st.container(border=True):
        tone = post["tone"] if pd.notna(post["tone"]) else "no tone score"
        why = f" ({post['reasons']})" if pd.notna(post["reasons"]) and post["reasons"] else ""
        st.caption(role)
        st.text(f"{post['author']} · {post['created_at']:%d %b %Y, %H:%M} · {post['platform']} · {tone}{why}")
        st.text(str(post["text"]))
        if pd.notna(post["url"]) and str(post["url"]).startswith(("https://", "http://")):
            st.link_button("Open the original", str(post["url"]))
        elif pseudonymized:
            st.caption("No link to the original: this snapshot is pseudonymised.")
        else:
            st.caption("The source gave no link to the original post.")


def thread_view(snapshot: str, analysis: dict[str, Any], post_id: str, pseudonymized: bool) -> None:
    thread = qx.post_thread(snapshot, str(analysis["analysis_id"]), post_id)
    if thread["post"].empty:
        st.info("This post is no longer in the snapshot.")
        return
    post = thread["post"].iloc[0]
    if thread["parent"].empty:
        st.caption("Not a reply (or what it replies to was not collected).")
    else:
        show_post(thread["parent"].iloc[0], "In reply to", pseudonymized)
    show_post(post, "The post", pseudonymized)
    tone_feedback_form({str(k): v for k, v in post.items()}, analysis.get("model_version"), key=post_id)
    replies = thread["replies"]
    st.caption(f"{len(replies)} repl{'y' if len(replies) == 1 else 'ies'} collected")
    for _, reply in replies.iterrows():
        show_post(reply, "Reply", pseudonymized)


snapshot = q.snapshot_path()
analysis = q.analysis_or_stop(snapshot)
analysis_id = str(analysis["analysis_id"])

chosen = filters(snapshot, analysis_id)
posts = q.search_posts(
    snapshot,
    analysis_id,
    text=chosen["text"],
    tones=chosen["tones"],
    camp_id=chosen["camp_id"],
    hashtag=chosen["hashtag"],
    attribute=chosen["attribute"],
    platform=chosen["platform"],
    days=chosen["days"],
)
if posts.empty:
    st.info("No posts in this window match these filters.")
else:
    results_table(posts)
    st.subheader("Read a post and its thread")
    previews = {str(row["post_id"]): preview(row) for _, row in posts.iterrows()}
    post_id = st.selectbox("Post", list(previews), format_func=previews.__getitem__, key="conversations_post")
    if post_id is not None:
        thread_view(snapshot, analysis, str(post_id), q.is_pseudonymized(snapshot))

st.subheader("Tone feedback")
tone_feedback_list()
