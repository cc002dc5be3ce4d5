"""The "is this tone right?" form, for any page that shows a post's tone (saved by dashboard/notes.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import notes, shortlist
from dashboard import queries as q

NOT_SAID = "(not sure)"


def tone_feedback_form(post: Mapping[str, Any], model_version: str | None, *, key: str) -> None:
    """Two choices and a save button under one post; `key` keeps forms of several posts apart."""
    tone = None if pd.isna(post.get("tone")) else str(post.get("tone"))
    with st.form(key=f"tone_feedback_{key}", border=True):
        st.caption(f"The model called this post {tone or 'not scored'}. Is that right?")
        left, right = st.columns(2)
        verdict = left.radio(
            "This tone is", notes.VERDICTS, horizontal=True, key=f"tone_verdict_{key}", index=None
        )
        corrected = right.selectbox(
            "The right tone (when it is wrong)",
            [NOT_SAID, *notes.FEEDBACK_TONES],
            key=f"tone_corrected_{key}",
        )
        submitted = st.form_submit_button("Save feedback")
    if not submitted:
        return
    if verdict is None:
        st.warning("Choose whether the tone is right or wrong, then save.")
        return
    notes.save_tone_feedback(
        q.outreach_path(),
        post_id=str(post["post_id"]),
        text=str(post["text"]),
        model_version=model_version,
        model_tone=tone,
        verdict=str(verdict),
        corrected_tone=None if corrected == NOT_SAID else str(corrected),
    )
    st.success("Thanks: feedback saved. It is listed under Tone feedback below, ready to export.")


def tone_feedback_list() -> None:
    """Every piece of feedback saved in this dashboard, with a CSV download for `commonground eval`."""
    feedback = notes.tone_feedback(q.outreach_path())
    if feedback.empty:
        st.caption("No tone feedback yet: open a post above and say whether its tone is right.")
        return
    right = int((feedback["verdict"] == "right").sum())
    st.caption(
        f"{len(feedback)} posts judged: the model's tone was right on {right} of them. Download the CSV "
        "and run `commonground eval --labels FILE` to measure a model against these labels."
    )
    st.dataframe(
        feedback,
        hide_index=True,
        width="stretch",
        column_config={
            "post_id": None,
            "text": st.column_config.TextColumn("Post", width="large"),
            "model_version": "Model",
            "model_tone": "Model's tone",
            "verdict": "Verdict",
            "corrected_tone": "Right tone",
            "created_at": st.column_config.DatetimeColumn("Saved", format="D MMM YYYY, HH:mm"),
        },
    )
    st.download_button(
        "Download tone feedback (CSV)",
        notes.tone_feedback_csv(feedback, shortlist.export_names()),
        file_name="commonground-tone-feedback.csv",
        mime="text/csv",
        key="tone_feedback_download",
    )
