"""Echo chambers: the camps of the interaction network, how closed each is, its tone and its topics."""

from __future__ import annotations

import altair as alt
import streamlit as st

from dashboard import queries as q

TONE_COLORS = alt.Scale(domain=list(q.TONES), range=["#2e7d32", "#9e9e9e", "#c62828"])

snapshot = q.snapshot_path()
analysis = q.analysis_or_stop(snapshot)
analysis_id = str(analysis["analysis_id"])

camps = q.camps(snapshot, analysis_id)
if camps.empty:
    st.info("No camps were found in this window (the interaction network is too small or too sparse).")
    st.stop()

st.markdown(
    "Camps are groups of accounts that mostly endorse (repost or quote) each other. "
    "**Insularity** is the share of a camp's endorsements that stay inside it; the **E-I index** runs "
    "from -1 (all interactions internal) to +1 (all external)."
)

st.dataframe(
    camps[
        [
            "label",
            "size",
            "n_posts",
            "insularity",
            "ei_index",
            "share_constructive",
            "share_neutral",
            "share_hostile",
            "top_hashtags",
            "top_terms",
            "top_accounts",
        ]
    ],
    hide_index=True,
    width="stretch",
    column_config={
        "label": "Camp",
        "size": st.column_config.NumberColumn("Accounts"),
        "n_posts": st.column_config.NumberColumn("Posts"),
        "insularity": st.column_config.NumberColumn("Insularity", format="%.2f"),
        "ei_index": st.column_config.NumberColumn("E-I index", format="%+.2f"),
        "share_constructive": st.column_config.NumberColumn("Constructive", format="percent"),
        "share_neutral": st.column_config.NumberColumn("Neutral", format="percent"),
        "share_hostile": st.column_config.NumberColumn("Hostile", format="percent"),
        "top_hashtags": "Top hashtags",
        "top_terms": "Top terms",
        "top_accounts": "Most endorsed accounts",
    },
)

st.subheader("Tone mix per camp")
tone_mix = camps.melt(
    id_vars=["label"],
    value_vars=["share_constructive", "share_neutral", "share_hostile"],
    var_name="tone",
    value_name="share",
).dropna(subset=["share"])
tone_mix["tone"] = tone_mix["tone"].str.removeprefix("share_")
if tone_mix.empty:
    st.info("No tone scores for these camps yet.")
else:
    chart = (
        alt.Chart(tone_mix)
        .mark_bar()
        .encode(
            y=alt.Y("label:N", title="Camp", sort=list(camps["label"])),
            x=alt.X("share:Q", title="Share of posts", axis=alt.Axis(format="%"), stack="normalize"),
            color=alt.Color("tone:N", scale=TONE_COLORS, title="Tone"),
            order=alt.Order("tone:N"),
            tooltip=["label:N", "tone:N", alt.Tooltip("share:Q", format=".0%")],
        )
    )
    st.altair_chart(chart, width="stretch")

st.subheader("Polarization measures")
st.markdown(
    "How segregated the endorsement network is, compared with chance: each measure next to the mean "
    "and spread of the same measure on randomly rewired copies of the network."
)
measures = q.polarization(snapshot, analysis_id)
if measures.empty:
    st.info("No polarization measures for this analysis.")
else:
    st.dataframe(
        measures,
        hide_index=True,
        width="stretch",
        column_config={
            "measure": "Measure",
            "value": st.column_config.NumberColumn("Observed", format="%.3f"),
            "baseline_mean": st.column_config.NumberColumn("Baseline mean", format="%.3f"),
            "baseline_std": st.column_config.NumberColumn("Baseline std", format="%.3f"),
            "z": st.column_config.NumberColumn("z", format="%+.1f"),
        },
    )
