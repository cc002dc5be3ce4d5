"""Overview: the size of this week's conversation, its tone, its camps and how segregated it is."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import queries as q

TONE_COLORS = alt.Scale(domain=list(q.TONES), range=["#2e7d32", "#9e9e9e", "#c62828"])

snapshot = q.snapshot_path()
analysis = q.analysis_or_stop(snapshot)
analysis_id = str(analysis["analysis_id"])

summary = q.tone_summary(snapshot, analysis_id).iloc[0]
camps = q.camps(snapshot, analysis_id)


def _fmt(value: Any, spec: str) -> str:
    return "–" if value is None or pd.isna(value) else format(float(value), spec)


posts_col, accounts_col, camps_col, constructive_col, hostile_col = st.columns(5)
posts_col.metric("Posts", f"{int(analysis['n_posts']):,}")
accounts_col.metric("Accounts", f"{int(analysis['n_accounts']):,}")
camps_col.metric("Camps", len(camps))
constructive_col.metric(
    "Constructive posts",
    _fmt(summary["share_constructive"], ".0%"),
    help=(
        "Share of the scored posts that reason, give evidence, propose, ask a real question or share an "
        "experience, respectfully and without hostility. Compare camps and weeks rather than reading it as "
        "a level (models/weights/MODEL_CARD.md)."
    ),
)
hostile_col.metric("Hostile posts", _fmt(summary["share_hostile"], ".0%"))
st.caption(
    f"{int(summary['scored']):,} of {int(summary['posts']):,} posts in the window have a tone score"
    + (
        f" ({int(summary['unscored']):,} could not be judged: empty, only emoji or links, or not English)"
        if int(summary["unscored"])
        else ""
    )
    + "; "
    f"the interaction network has {int(analysis['n_edges']):,} edges."
)

st.subheader("How segregated is the conversation?")
measures = q.polarization(snapshot, analysis_id)
if measures.empty:
    st.info("This analysis has no polarization measures (too few interactions to compare with chance).")
else:
    headline = measures.iloc[0]
    value_col, baseline_col, z_col = st.columns(3)
    value_col.metric(f"Observed ({headline['measure']})", _fmt(headline["value"], ".2f"))
    baseline_col.metric("Random-rewiring baseline", _fmt(headline["baseline_mean"], ".2f"))
    z_col.metric("z-score", _fmt(headline["z"], "+.1f"))
    st.markdown(
        "This measures how segregated the endorsement network is, compared with chance: the observed value "
        "against the same network with its edges rewired at random. A large positive z means camps endorse "
        "mostly themselves; it says nothing about who is right."
    )

st.subheader("Tone mix per day")
per_day = q.tone_per_day(snapshot, analysis_id)
if per_day.empty:
    st.info("No scored posts in this window yet.")
else:
    chart = (
        alt.Chart(per_day)
        .mark_bar()
        .encode(
            x=alt.X("yearmonthdate(day):T", title="Day"),
            y=alt.Y("posts:Q", title="Posts"),
            color=alt.Color("tone:N", scale=TONE_COLORS, title="Tone"),
            order=alt.Order("tone:N"),
            tooltip=[alt.Tooltip("yearmonthdate(day):T", title="Day"), "tone:N", "posts:Q"],
        )
    )
    st.altair_chart(chart, width="stretch")

st.subheader("Largest camps")
if camps.empty:
    st.info("No camps were found in this window.")
else:
    st.dataframe(
        camps[
            ["label", "size", "n_posts", "insularity", "share_constructive", "share_hostile", "top_hashtags"]
        ],
        hide_index=True,
        width="stretch",
        column_config={
            "label": "Camp",
            "size": st.column_config.NumberColumn("Accounts"),
            "n_posts": st.column_config.NumberColumn("Posts"),
            "insularity": st.column_config.NumberColumn("Insularity", format="%.2f"),
            "share_constructive": st.column_config.NumberColumn("Constructive", format="percent"),
            "share_hostile": st.column_config.NumberColumn("Hostile", format="percent"),
            "top_hashtags": "Top hashtags",
        },
    )

st.subheader("Last runs")
runs = q.last_runs(snapshot)
if runs.empty:
    st.info("No runs recorded in this snapshot.")
else:
    latest = runs.iloc[0]
    status = str(latest["status"])
    line = f"Last run: {latest['flow']} — {status}, started {latest['started_at']:%d %b %Y %H:%M} UTC"
    if status == "completed":
        st.success(line)
    elif status == "failed":
        st.error(line)
    else:
        st.warning(line)
    st.dataframe(runs, hide_index=True, width="stretch")
