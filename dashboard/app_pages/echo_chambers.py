"""Echo chambers: the map of camps and accounts, one card per camp (rename it), and the statistics.

Handles, terms and camp names come from strangers' posts or from a person typing: they are shown as
plain text (st.text, tables, chart tooltips), never as markdown or HTML.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import notes
from dashboard import queries as q
from dashboard import queries_explore as qx

TONE_COLORS = alt.Scale(domain=list(q.TONES), range=["#2e7d32", "#9e9e9e", "#c62828", "#e0e0e0"])
VOICE_DOT_SHARE = 1 / 3
CAMP_PALETTE = ["#1f77b4", "#ff7f0e", "#9467bd", "#17becf", "#8c564b", "#e377c2", "#bcbd22", "#7f7f7f"]


def map_chart(nodes: pd.DataFrame, edges: pd.DataFrame, camp_order: list[str]) -> alt.LayerChart:
    """Edges as lines under the accounts; camps coloured, constructive voices larger with a dark ring;
    drag to pan, scroll to zoom."""
    axis = alt.Axis(title=None, labels=False, ticks=False, grid=False, domain=False)
    # dot area follows endorsements; a voice is drawn at least a third as large as the most endorsed
    # account, so its ring and camp colour show
    floor = VOICE_DOT_SHARE * float(nodes["endorsements"].max() or 0)
    dots = nodes["endorsements"].where(~nodes["is_voice"], nodes["endorsements"].clip(lower=floor))
    nodes = nodes.assign(dot=dots)
    scale = alt.Scale(domain=[-1.05, 1.05])
    lines = (
        alt.Chart(edges)
        .mark_rule(strokeWidth=0.6)
        .encode(
            x=alt.X("x:Q", axis=axis, scale=scale),
            y=alt.Y("y:Q", axis=axis, scale=scale),
            x2="x2:Q",
            y2="y2:Q",
            opacity=alt.Opacity(
                "kind:N", scale=alt.Scale(domain=["endorsement", "contact"], range=[0.35, 0.12]), legend=None
            ),
            color=alt.value("#777777"),
        )
    )
    points = (
        alt.Chart(nodes)
        .mark_circle()
        .encode(
            x=alt.X("x:Q", axis=axis, scale=scale),
            y=alt.Y("y:Q", axis=axis, scale=scale),
            color=alt.Color(
                "camp:N",
                title="Camp",
                scale=alt.Scale(domain=camp_order, range=CAMP_PALETTE[: max(1, len(camp_order))]),
                legend=alt.Legend(orient="bottom", labelLimit=320, columns=2),
            ),
            size=alt.Size("dot:Q", scale=alt.Scale(range=[12, 300]), legend=None),
            stroke=alt.condition("datum.is_voice", alt.value("#111111"), alt.value(None)),
            strokeWidth=alt.condition("datum.is_voice", alt.value(1.5), alt.value(0)),
            opacity=alt.condition("datum.is_voice", alt.value(1.0), alt.value(0.75)),
            order=alt.Order("is_voice:O"),
            tooltip=[
                alt.Tooltip("handle:N", title="Account"),
                alt.Tooltip("camp:N", title="Camp"),
                alt.Tooltip("endorsements:Q", title="Endorsements received"),
                alt.Tooltip("degree:Q", title="Accounts interacted with"),
                alt.Tooltip("role:N", title="Constructive voice"),
            ],
        )
    )
    # pan and zoom: an interval selection bound to the scales (what .interactive() adds)
    return alt.LayerChart(layer=[lines, points.add_params(alt.selection_interval(bind="scales"))], height=620)


def show_map(snapshot: str, analysis_id: str, camp_order: list[str]) -> None:
    found = qx.network_map(snapshot, analysis_id)
    if found is None:
        st.info(qx.MAP_MISSING)
        return
    nodes, edges = found
    voices = int(nodes["is_voice"].sum())
    st.altair_chart(map_chart(nodes, edges, camp_order), width="stretch", key="camp_map")
    st.caption(
        f"{len(nodes):,} accounts ({voices} constructive voices, ringed; every camp's most endorsed "
        f"accounts in proportion to its size) and the {len(edges):,} strongest ties between them: dark "
        "lines are endorsements (reposts, quotes), faint ones replies and mentions. Larger dots received "
        "more endorsements. Drag to move, scroll to zoom, double-click to reset; hover for the account."
    )


def rename(analysis_id: str, camp_id: int) -> None:
    """Save the name typed into a camp card, then let every cached read pick it up."""
    label = str(st.session_state.get(f"camp_name_{camp_id}", ""))
    try:
        kept = notes.rename_camp(q.outreach_path(), analysis_id, camp_id, label)
    except ValueError as exc:
        st.session_state["camp_rename_error"] = str(exc)
        return
    st.session_state.pop("camp_rename_error", None)
    st.session_state["camp_renamed"] = (camp_id, kept)
    st.cache_data.clear()
    if kept is None:  # back to the generated label: show it in the box
        st.session_state.pop(f"camp_name_{camp_id}", None)


def camp_card(analysis_id: str, camp: pd.Series) -> None:
    camp_id = int(camp["camp_id"])
    with st.container(border=True):
        st.text(str(camp["label"]))
        st.caption(qx.insularity_in_words(camp["insularity"]))
        sizes, tone = st.columns([1, 2])
        sizes.metric("Accounts", f"{int(camp['size']):,}")
        sizes.metric("Posts", f"{int(camp['n_posts']):,}")
        shares = [camp[f"share_{t}"] for t in ("constructive", "neutral", "hostile")]
        tone.text(
            "Tone of its posts: "
            + " · ".join(
                f"{'–' if pd.isna(v) else f'{v:.0%}'} {t}"
                for v, t in zip(shares, ("constructive", "neutral", "hostile"), strict=True)
            )
        )
        tone.text(f"Talks about: {camp['top_terms'] or '–'}")
        tone.text(f"Hashtags: {camp['top_hashtags'] or '–'}")
        st.text(f"Most endorsed: {camp['top_accounts'] or 'no endorsements inside the camp'}")
        name_col, save_col = st.columns([3, 1], vertical_alignment="bottom")
        name_col.text_input(
            "Name this camp",
            value=str(camp["label"]),
            key=f"camp_name_{camp_id}",
            max_chars=notes.MAX_CAMP_NAME,
            help=f"Generated label: {camp['generated_label']}. Leave empty to go back to it.",
        )
        save_col.button("Rename", key=f"camp_rename_{camp_id}", on_click=rename, args=(analysis_id, camp_id))


def tone_mix_chart(camps: pd.DataFrame) -> alt.Chart | None:
    mix = camps.melt(
        id_vars=["label"],
        value_vars=["share_constructive", "share_neutral", "share_hostile"],
        var_name="tone",
        value_name="share",
    ).dropna(subset=["share"])
    if mix.empty:
        return None
    mix["tone"] = mix["tone"].str.removeprefix("share_")
    return (
        alt.Chart(mix)
        .mark_bar()
        .encode(
            y=alt.Y("label:N", title=None, sort=list(camps["label"]), axis=alt.Axis(labelLimit=400)),
            x=alt.X("share:Q", title="Share of posts", axis=alt.Axis(format="%"), stack="normalize"),
            color=alt.Color("tone:N", scale=TONE_COLORS, title="Tone"),
            order=alt.Order("tone:N"),
            tooltip=["label:N", "tone:N", alt.Tooltip("share:Q", format=".0%")],
        )
    )


snapshot = q.snapshot_path()
analysis = q.analysis_or_stop(snapshot)
analysis_id = str(analysis["analysis_id"])

camps = q.camps(snapshot, analysis_id)
if camps.empty:
    st.info("No camps were found in this window (the interaction network is too small or too sparse).")
    st.stop()

st.markdown(
    "Camps are groups of accounts that mostly endorse (repost or quote) each other. The map shows who "
    "sits where; the cards say what each camp is like. Give a camp a name your team will recognise: "
    "it is used on every page."
)
if "camp_renamed" in st.session_state:
    camp_id, kept = st.session_state.pop("camp_renamed")
    st.success("Camp renamed." if kept else "The camp has its generated label again.")
if "camp_rename_error" in st.session_state:
    st.error(st.session_state.pop("camp_rename_error"))

show_map(snapshot, analysis_id, list(camps["label"]))

st.subheader("The camps")
cards = st.columns(2)
for i, (_, row) in enumerate(camps.iterrows()):
    with cards[i % 2]:
        camp_card(analysis_id, row)

st.subheader("Tone mix per camp")
chart = tone_mix_chart(camps)
if chart is None:
    st.info("No tone scores for these camps yet.")
else:
    st.altair_chart(chart, width="stretch")

summary = camps.assign(closed=[qx.insularity_in_words(v).split(":")[0] for v in camps["insularity"]])
st.dataframe(
    # The camps side by side; what each talks about and who leads it are on the cards above.
    summary[["label", "size", "n_posts", "closed", "insularity", "share_constructive", "share_hostile"]],
    hide_index=True,
    width="stretch",
    column_config={
        "label": "Camp",
        "size": st.column_config.NumberColumn("Accounts"),
        "n_posts": st.column_config.NumberColumn("Posts"),
        "closed": "How closed",
        "insularity": st.column_config.ProgressColumn(
            "Endorsements from inside",
            help="Share of what the camp's members endorse (repost, quote) that comes from the camp itself",
            format="percent",
            min_value=0.0,
            max_value=1.0,
        ),
        "share_constructive": st.column_config.NumberColumn("Constructive", format="percent"),
        "share_hostile": st.column_config.NumberColumn("Hostile", format="percent"),
    },
)

with st.expander("The statistics: how segregated the network is, against chance"):
    st.markdown(
        "Each measure next to the mean and spread of the same measure on randomly rewired copies of "
        "the network (same accounts, same number of ties each). A z-score above 3 means the "
        "segregation is very unlikely to be chance."
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
                "baseline_mean": st.column_config.NumberColumn("Chance (mean)", format="%.3f"),
                "baseline_std": st.column_config.NumberColumn("Chance (spread)", format="%.3f"),
                "z": st.column_config.NumberColumn("z-score", format="%+.1f"),
            },
        )
