"""Constructive voices: who is constructive and reaches across camps, why, and a shortlist to contact.

Handles, names, bios and post text are personal data written by strangers: they are shown with
`st.dataframe` and `st.text` only, never rendered as markdown or HTML.
"""

from __future__ import annotations

import streamlit as st

from dashboard import queries as q

snapshot = q.snapshot_path()
outreach = q.outreach_path()
analysis = q.analysis_or_stop(snapshot)
analysis_id = str(analysis["analysis_id"])
pseudonymized = q.is_pseudonymized(snapshot)

voices = q.voices(snapshot, analysis_id)
if voices.empty:
    st.info("No constructive voices were ranked in this window (too few posts per account, or none scored).")
    st.stop()

st.markdown(
    "Accounts ranked by how constructive their posts are, how much they engage constructively with "
    "other camps (bridging), and how rarely they are hostile. Pick someone to read their posts before "
    "adding them to the shortlist."
)

camp_filter_col, role_filter_col, score_filter_col = st.columns(3)
camp_options = ["All camps", *q.camp_labels(snapshot, analysis_id).values()]
camp = camp_filter_col.selectbox("Home camp", camp_options, key="voices_camp")
role_options = ["All roles", *sorted({r for r in voices["role_label"] if r})]
role = role_filter_col.selectbox(
    "Stakeholder role", role_options, key="voices_role", help="As the account describes itself in its bio."
)
lowest = float(voices["score"].min())
min_score = score_filter_col.number_input(
    "Minimum score", value=min(0.0, lowest), step=0.05, format="%.2f", key="voices_min_score"
)

shown = voices[voices["score"] >= min_score]
if camp != "All camps":
    shown = shown[shown["home_camp_label"] == camp]
if role != "All roles":
    shown = shown[shown["role_label"] == role]

st.dataframe(
    shown[
        [
            "rank",
            "handle",
            "display_name",
            "role_label",
            "score",
            "constructiveness",
            "bridging",
            "hostility",
            "n_posts",
            "home_camp_label",
            "camps_reached",
            "reasons",
        ]
    ],
    hide_index=True,
    width="stretch",
    column_config={
        "rank": st.column_config.NumberColumn("Rank"),
        "handle": "Handle",
        "display_name": "Name",
        "role_label": "Role",
        "score": st.column_config.NumberColumn("Score", format="%.3f"),
        "constructiveness": st.column_config.NumberColumn("Constructive", format="%.2f"),
        "bridging": st.column_config.NumberColumn("Bridging", format="%.2f"),
        "hostility": st.column_config.NumberColumn("Hostility", format="%.2f"),
        "n_posts": st.column_config.NumberColumn("Posts"),
        "home_camp_label": "Home camp",
        "camps_reached": "Camps reached (constructive engagements)",
        "reasons": "Why",
    },
)
st.caption(f"{len(shown)} of {len(voices)} ranked accounts shown.")

if shown.empty:
    st.stop()

st.subheader("A closer look")
handles = dict(zip(shown["account_id"], shown["handle"], strict=True))
ranks = dict(zip(shown["account_id"], shown["rank"], strict=True))
account_id = st.selectbox(
    "Account",
    list(handles),
    format_func=lambda account: f"#{ranks[account]} {handles[account]}",
    key="voices_account",
)
person = shown[shown["account_id"] == account_id].iloc[0]

profile_col, reasons_col = st.columns(2)
with profile_col:
    st.caption("Handle and name")
    st.text(f"{person['handle']}  ({person['display_name'] or 'no display name'})")
    st.caption("Bio")
    if pseudonymized:
        st.text("(hidden: this snapshot is pseudonymized)")
    else:
        st.text(person["bio"] if isinstance(person["bio"], str) and person["bio"] else "(no bio)")
    if isinstance(person["url"], str) and person["url"]:
        st.caption("Profile")
        st.text(person["url"])
with reasons_col:
    st.caption("Why they rank here")
    st.text(person["reasons"])
    st.caption("Camps reached")
    st.text(person["camps_reached"] or "(none)")

st.caption("Example posts")
examples = q.example_posts(snapshot, analysis_id, str(account_id))
if examples.empty:
    st.text("(no example posts recorded)")
else:
    st.dataframe(
        examples[["created_at", "tone", "reasons", "constructive", "hostile", "text"]],
        hide_index=True,
        width="stretch",
        column_config={
            "created_at": st.column_config.DatetimeColumn("Time", format="D MMM YYYY, HH:mm"),
            "tone": "Tone",
            "reasons": st.column_config.TextColumn(
                "Why", help="The attributes that drove the tone, strongest first (or why it was not scored)"
            ),
            "constructive": st.column_config.NumberColumn("Constructive", format="%.2f"),
            "hostile": st.column_config.NumberColumn("Hostile", format="%.2f"),
            "text": st.column_config.TextColumn("Post", width="large"),
        },
    )

st.subheader("Shortlist")
current = q.shortlist(outreach)
existing = current[current["account_id"] == account_id]
status_col, note_col = st.columns([1, 3])
status = status_col.selectbox(
    "Status",
    q.OUTREACH_STATUSES,
    index=q.OUTREACH_STATUSES.index(existing["status"].iloc[0])
    if not existing.empty and existing["status"].iloc[0] in q.OUTREACH_STATUSES
    else 0,
    key=f"shortlist_status_{account_id}",
)
note = note_col.text_area(
    "Note",
    value=str(existing["note"].iloc[0] or "") if not existing.empty else "",
    placeholder="Why contact them, what to ask, who knows them…",
    key=f"shortlist_note_{account_id}",
)
add_col, remove_col = st.columns(2)
if add_col.button(
    "Update shortlist" if not existing.empty else "Add to shortlist", type="primary", key="shortlist_add"
):
    q.save_to_shortlist(outreach, str(account_id), status=status, note=note)
    st.success("Saved to the shortlist.")
    current = q.shortlist(outreach)
if not existing.empty and remove_col.button("Remove from shortlist", key="shortlist_remove"):
    q.remove_from_shortlist(outreach, str(account_id))
    st.success("Removed from the shortlist.")
    current = q.shortlist(outreach)

if current.empty:
    st.info("The shortlist is empty. Pick an account above and add it with a note.")
else:
    names = q.account_handles(snapshot, tuple(sorted(current["account_id"])))
    listed = current.merge(names, on="account_id", how="left")
    listed["handle"] = listed["handle"].fillna(listed["account_id"])
    listed["in_this_ranking"] = listed["account_id"].isin(voices["account_id"])
    st.dataframe(
        listed[["handle", "display_name", "status", "note", "updated_at", "in_this_ranking"]],
        hide_index=True,
        width="stretch",
        column_config={
            "handle": "Handle",
            "display_name": "Name",
            "status": "Status",
            "note": "Note",
            "updated_at": st.column_config.DatetimeColumn("Updated", format="D MMM YYYY, HH:mm"),
            "in_this_ranking": st.column_config.CheckboxColumn("In this week's ranking"),
        },
    )
    st.caption(f"Stored in the dashboard's own database ({outreach}), never in the snapshot.")
