"""Overview, "this week": who to contact now and why, then the numbers, the tone over time and the camps.

Handles, names, bios and post text are personal data written by strangers: shown with st.text (or in
dataframes) only, never as markdown or HTML.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import queries as q
from dashboard import shortlist, trends, wording

TONE_COLORS = alt.Scale(
    domain=["constructive", "neutral", "hostile"], range=["#2e7d32", "#9e9e9e", "#c62828"]
)
TOP_PEOPLE = 5
FLASH_KEY = "overview_flash"

snapshot = q.snapshot_path()
outreach = q.outreach_path()
analysis = q.analysis_or_stop(snapshot)
analysis_id = str(analysis["analysis_id"])
days = int(analysis["window_days"])
pseudonymized = q.is_pseudonymized(snapshot)


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _points(now: float | None, before: float | None) -> str | None:
    """A change in share as percentage points, or None when there is nothing to compare with."""
    if now is None or before is None:
        return None
    return f"{(now - before) * 100:+.0f} pts"


def _person_card(person: pd.Series, facts: dict[Any, Any] | None, listed: dict[str, str]) -> None:
    account_id = str(person["account_id"])
    with st.container(border=True):
        name_col, action_col = st.columns([4, 1])
        with name_col:
            st.text(
                f"#{int(person['rank'])}  {person['handle']}  ·  {person['display_name'] or 'no name given'}"
            )
            st.caption(f"Role: {person['role_label'] or 'not stated in their bio'}")
            own, good, camps = (
                (int(facts["own_posts"]), int(facts["constructive_posts"]), int(facts["n_camps"]))
                if facts is not None
                else (0, 0, 0)
            )
            st.text(wording.voice_reason(good, own, camps))
            st.caption("Camps reached (constructive engagements)")
            st.text(person["camps_reached"] or "none yet")
        with action_col:
            if account_id in listed:
                st.button(
                    f"On the shortlist ({listed[account_id]})",
                    key=f"overview_listed_{account_id}",
                    disabled=True,
                )
            elif st.button("Add to shortlist", key=f"overview_add_{account_id}", type="primary"):
                shortlist.save(outreach, account_id, status="to contact", note="")
                st.session_state[FLASH_KEY] = "Added to the shortlist with the status “to contact”."
                st.rerun()
        _best_post(account_id, person)


def _best_post(account_id: str, person: pd.Series) -> None:
    examples = q.example_posts(snapshot, analysis_id, account_id)
    if examples.empty:
        st.caption("No example post recorded.")
        return
    best = examples.iloc[0]
    st.caption(f"Their best post ({best['created_at']:%d %b %H:%M}, {best['tone'] or 'not scored'})")
    st.text(str(best["text"]))
    post_col, profile_col, _ = st.columns([1, 1, 3])
    if isinstance(best["url"], str) and best["url"]:
        post_col.link_button("Open the post", best["url"])
    if isinstance(person["url"], str) and person["url"]:
        profile_col.link_button("Open the profile", person["url"])
    if pseudonymized:
        st.caption(
            "No links: this snapshot is pseudonymised, so posts and profiles cannot be opened from here."
        )


def _headline_numbers() -> None:
    now = trends.window_numbers(
        snapshot, str(analysis["model_version"]), analysis["window_start"], analysis["window_end"]
    )
    shift = timedelta(days=days)
    before = trends.window_numbers(
        snapshot,
        str(analysis["model_version"]),
        analysis["window_start"] - shift,
        analysis["window_end"] - shift,
    )
    comparable = before["posts"] > 0
    posts_col, people_col, camps_col, constructive_col, hostile_col = st.columns(5)
    posts_col.metric(
        "Posts", f"{now['posts']:,}", f"{now['posts'] - before['posts']:+,}" if comparable else None
    )
    people_col.metric(
        "People posting",
        f"{now['people']:,}",
        f"{now['people'] - before['people']:+,}" if comparable else None,
    )
    camps_col.metric("Camps", len(q.camp_labels(snapshot, analysis_id)))
    constructive_col.metric(
        "Constructive posts",
        _percent(now["share_constructive"]),
        _points(now["share_constructive"], before["share_constructive"]) if comparable else None,
        help=(
            "Share of the scored posts that reason, give evidence, propose, ask a real question or share an "
            "experience, respectfully and without hostility. Compare camps and weeks rather than reading it as "
            "a level (models/weights/MODEL_CARD.md)."
        ),
    )
    hostile_col.metric(
        "Hostile posts",
        _percent(now["share_hostile"]),
        _points(now["share_hostile"], before["share_hostile"]) if comparable else None,
        delta_color="inverse",
        help="Share of the scored posts that insult, antagonise, dismiss or generalise unfairly.",
    )
    unscored = now["posts"] - now["scored"]
    st.caption(
        f"Changes compare with the {days} days before. "
        if comparable
        else f"No posts in the {days} days before this window, so there is no change to show. "
    )
    st.caption(
        f"{now['scored']:,} of {now['posts']:,} posts in the window have a tone score"
        + (
            f" ({unscored:,} could not be judged: empty, only emoji or links, or not English)."
            if unscored
            else "."
        )
    )


def _tone_chart(frame: pd.DataFrame, by: str) -> alt.Chart:
    legend = alt.Legend(orient="bottom", labelLimit=400, columns=2, title=None)
    if by == "tone":
        return (
            alt.Chart(frame)
            .mark_bar()
            .encode(
                x=alt.X("yearmonthdate(day):T", title="Day", axis=alt.Axis(format="%d %b", labelAngle=0)),
                y=alt.Y("posts:Q", title="Posts"),
                color=alt.Color("tone:N", scale=TONE_COLORS, legend=legend),
                tooltip=[alt.Tooltip("yearmonthdate(day):T", title="Day"), "tone:N", "posts:Q"],
            )
        )
    return (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X("yearmonthdate(day):T", title="Day", axis=alt.Axis(format="%d %b", labelAngle=0)),
            y=alt.Y("share:Q", title="Constructive share of posts", axis=alt.Axis(format="%")),
            color=alt.Color("group:N", legend=legend),
            tooltip=[
                alt.Tooltip("yearmonthdate(day):T", title="Day"),
                alt.Tooltip("group:N", title=trends.SPLITS[by].capitalize()),
                alt.Tooltip("share:Q", title="Constructive", format=".0%"),
                alt.Tooltip("posts:Q", title="Scored posts"),
            ],
        )
    )


def _tone_over_time() -> None:
    by = st.radio(
        "Split by",
        list(trends.SPLITS),
        format_func=lambda key: trends.SPLITS[key],
        horizontal=True,
        key="overview_tone_by",
    )
    frame = trends.tone_over_time(snapshot, analysis_id, by)
    if frame.empty:
        st.info("No scored posts in this window yet.")
        return
    if by != "tone":
        good = (frame["tone"] == "constructive").astype(int) * frame["posts"]
        frame = frame.assign(good=good).groupby(["day", "group"], as_index=False)[["posts", "good"]].sum()
        frame["share"] = frame["good"] / frame["posts"]
        st.caption(f"The {trends.MAX_GROUPS} largest groups at most; points show each day's share.")
    st.altair_chart(_tone_chart(frame, by), width="stretch")


def _segregation() -> None:
    measures = q.polarization(snapshot, analysis_id)
    if measures.empty:
        st.info("This analysis has no segregation measures (too few endorsements to compare with chance).")
        return
    head = measures.iloc[0]
    st.text(wording.segregation(head["value"], head["baseline_mean"], head["z"]))
    with st.expander("The statistics behind this sentence"):
        rows: list[dict[str, Any]] = []
        for row in measures[measures["measure"] != "headline"].itertuples(index=False):
            name, meaning = wording.measure_name(str(row.measure))
            rows.append(
                {
                    "Measure": name,
                    "What it means": meaning,
                    "This network": _number(row.value),
                    "By chance": _number(row.baseline_mean),
                    "Distance from chance": _number(row.z, "{:+.1f} spreads"),
                }
            )
        st.dataframe(
            pd.DataFrame(rows),
            hide_index=True,
            width="stretch",
            column_config={
                "What it means": st.column_config.TextColumn(width="large"),
                "By chance": st.column_config.TextColumn(
                    help="The same measure on the network with its endorsements shuffled at random "
                    "(each account keeps its number of ties), averaged over the shuffles."
                ),
                "Distance from chance": st.column_config.TextColumn(
                    help="How many standard deviations of the shuffles this network is away from them "
                    "(a z-score); beyond ±2 is unlikely to be chance."
                ),
            },
        )
        st.caption("A closed network says nothing about who is right; it says who listens to whom.")


def _number(value: Any, template: str = "{:.2f}") -> str:
    return "–" if value is None or pd.isna(value) else template.format(float(value))


st.subheader(f"Worth contacting now ({wording.window_name(days).lower()})")
if FLASH_KEY in st.session_state:
    st.success(st.session_state.pop(FLASH_KEY))
voices = q.voices(snapshot, analysis_id)
if voices.empty:
    st.info("No constructive voices were ranked in this window (too few posts per account, or none scored).")
else:
    facts = trends.voice_facts(snapshot, analysis_id).set_index("account_id").to_dict("index")
    current = shortlist.entries(outreach)
    listed = dict(zip(current["account_id"], current["status"], strict=True))
    for _, person in voices.head(TOP_PEOPLE).iterrows():
        _person_card(person, facts.get(person["account_id"]), listed)
    st.caption("More people, filters and notes on the Constructive voices page.")

st.subheader("The numbers")
_headline_numbers()

st.subheader("Tone over time")
_tone_over_time()

st.subheader("How divided is the conversation?")
_segregation()
