"""Constructive voices: who is constructive and reaches across camps, why, and a shortlist to contact.

Handles, names, bios and post text are personal data written by strangers: they are shown with
`st.dataframe` and `st.text` only, never rendered as markdown or HTML.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import queries as q
from dashboard import shortlist, trends, wording
from dashboard.feedback_form import tone_feedback_form

ALL = "All"
FLASH_KEY = "voices_flash"

snapshot = q.snapshot_path()
outreach = q.outreach_path()
analysis = q.analysis_or_stop(snapshot)
analysis_id = str(analysis["analysis_id"])
pseudonymized = q.is_pseudonymized(snapshot)


def _zero_to_one(label: str, explained: str) -> Any:
    """A 0-1 measure drawn as a bar, its scale in the help."""
    return st.column_config.ProgressColumn(
        label, help=explained, min_value=0.0, max_value=1.0, format="%.2f", width="small"
    )


COLUMNS = {
    "rank": st.column_config.NumberColumn(
        "#", help="Place in this window's ranking (1 = top).", width="small"
    ),
    "handle": st.column_config.TextColumn("Who", help="Handle on the platform.", width="medium"),
    "role_label": st.column_config.TextColumn(
        "Role", help="The role their bio states, if any.", width="small"
    ),
    "score": _zero_to_one(
        "Score",
        "0 to 1: how constructive they write × how rarely they are hostile × how far across camps they "
        "are engaged. Compare people with each other; even the top of a week rarely passes 0.5.",
    ),
    "bridging": _zero_to_one(
        "Bridging",
        "0 to 1: 0 = constructive engagement comes from one camp only; 1 = evenly from every camp, "
        "and plenty of it.",
    ),
    "hostility": _zero_to_one(
        "Hostility",
        "0 to 1: the average chance that one of their posts is hostile (smoothed over few posts). "
        "Lower is better.",
    ),
    "why_short": st.column_config.TextColumn(
        "Why",
        help="How many of their posts in the window were constructive, and how many camps engage with them "
        "constructively. Pick the person below for the full reasons, home camp and best posts.",
        width="medium",
    ),
}


def _filters(voices: pd.DataFrame) -> pd.DataFrame:
    hashtag_col, camp_col, role_col, platform_col = st.columns(4)
    tags = sorted({tag for tags in voices["hashtags"] for tag in tags})
    hashtag = hashtag_col.selectbox(
        "Hashtag", [ALL, *tags], key="voices_hashtag", help="Used it in this window."
    )
    camp = camp_col.selectbox(
        "Home camp", [ALL, *q.camp_labels(snapshot, analysis_id).values()], key="voices_camp"
    )
    roles = sorted({r for r in voices["role_label"] if r})
    role = role_col.selectbox(
        "Role", [ALL, *roles], key="voices_role", help="As the account describes itself."
    )
    platforms = sorted({str(p) for p in voices["platform"].dropna()})
    platform = platform_col.selectbox("Platform", [ALL, *platforms], key="voices_platform")
    shown = voices
    if hashtag != ALL:
        shown = shown[shown["hashtags"].map(lambda used: hashtag in used)]
    if camp != ALL:
        shown = shown[shown["home_camp_label"] == camp]
    if role != ALL:
        shown = shown[shown["role_label"] == role]
    if platform != ALL:
        shown = shown[shown["platform"] == platform]
    return shown


def _ranked() -> pd.DataFrame:
    voices = q.voices(snapshot, analysis_id)
    facts = trends.voice_facts(snapshot, analysis_id)
    voices = voices.merge(facts, on="account_id", how="left")
    voices["hashtags"] = voices["hashtags"].map(lambda tags: tags if isinstance(tags, list) else [])
    counts = voices[["constructive_posts", "own_posts", "n_camps"]].fillna(0).astype(int)
    voices["why"] = [wording.voice_reason(*row) for row in counts.itertuples(index=False)]
    voices["why_short"] = [wording.voice_reason_short(*row) for row in counts.itertuples(index=False)]
    return voices


def _closer_look(person: pd.Series) -> None:
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
            st.link_button("Open the profile", person["url"])
    with reasons_col:
        st.caption("Why they rank here")
        st.text(person["why"])
        st.caption("Home camp (whose endorsements they share most)")
        st.text(person["home_camp_label"])
        st.caption("Camps reached (constructive engagements)")
        st.text(person["camps_reached"] or "(none)")
        st.caption("The numbers behind it")
        st.text(
            f"Score {person['score']:.2f} · bridging {person['bridging']:.2f} · hostility {person['hostility']:.2f}"
        )
    st.caption("Their best posts, in full")
    examples = q.example_posts(snapshot, analysis_id, str(person["account_id"]))
    if examples.empty:
        st.text("(no example posts recorded)")
    for i, record in enumerate(examples.to_dict("records")):
        post = {str(key): value for key, value in record.items()}
        why = (
            post["reasons"]
            if isinstance(post["reasons"], str) and post["reasons"]
            else "no attribute stood out"
        )
        tone = post["tone"] if isinstance(post["tone"], str) else "not scored"
        with st.container(border=True):
            st.caption(f"{post['created_at']:%d %b %Y %H:%M} · {tone} · {why}")
            st.text(str(post["text"]))
            if isinstance(post["url"], str) and post["url"]:
                st.link_button("Open the post", post["url"], key=f"voices_post_link_{i}")
            with st.expander("Is this tone right?"):
                tone_feedback_form(post, analysis["model_version"], key=f"voices_{post['post_id']}")


def _shortlist_form(account_id: str, entry: dict[Any, Any] | None) -> None:
    status_key, note_key = f"shortlist_status_{account_id}", f"shortlist_note_{account_id}"
    status_col, note_col = st.columns([1, 3])
    status = status_col.selectbox(
        "Status",
        shortlist.STATUSES,
        index=shortlist.STATUSES.index(entry["status"])
        if entry and entry["status"] in shortlist.STATUSES
        else 0,
        key=status_key,
    )
    note = note_col.text_area(
        "Note",
        value=str(entry["note"] or "") if entry else "",
        placeholder="Why contact them, what to ask, who knows them…",
        key=note_key,
    )
    first_col, second_col, _ = st.columns([1, 1, 2])
    if entry is None:
        if first_col.button("Add to shortlist", type="primary", key="shortlist_add"):
            shortlist.save(outreach, account_id, status=status, note=note)
            _done("Added to the shortlist.")
        return
    if first_col.button("Update shortlist entry", type="primary", key="shortlist_update"):
        shortlist.save(outreach, account_id, status=status, note=note)
        _done("Updated the shortlist entry.")
    if second_col.button("Remove from shortlist", key="shortlist_remove"):
        shortlist.remove(outreach, account_id)
        for key in (status_key, note_key):
            st.session_state.pop(key, None)
        _done("Removed from the shortlist.")


def _done(message: str) -> None:
    """After a write: say so on the next run, and rerun so every button shows the new state."""
    st.session_state[FLASH_KEY] = message
    st.rerun()


def _shortlist_table(voices: pd.DataFrame) -> None:
    current = shortlist.entries(outreach)
    if current.empty:
        st.info("The shortlist is empty. Pick someone above and add them with a note.")
    else:
        listed = shortlist.with_names(current, snapshot, voices)
        st.dataframe(
            listed[["handle", "display_name", "status", "note", "updated_at", "in_this_ranking"]],
            hide_index=True,
            width="stretch",
            column_config={
                "handle": st.column_config.TextColumn("Who", help="Handle on the platform."),
                "display_name": st.column_config.TextColumn("Name"),
                "status": st.column_config.TextColumn(
                    "Status", help="To contact, contacted, replied, declined."
                ),
                "note": st.column_config.TextColumn("Note", width="large"),
                "updated_at": st.column_config.DatetimeColumn(
                    "Last change (UTC)", format="D MMM YYYY, HH:mm"
                ),
                "in_this_ranking": st.column_config.CheckboxColumn(
                    "Ranked now", help="Whether they are in this window's ranking."
                ),
            },
        )
        names = shortlist.export_names()
        csv_col, excel_col, _ = st.columns([1, 1, 2])
        csv_col.download_button(
            "Download CSV",
            shortlist.to_csv(listed, names),
            file_name=shortlist.file_name("csv"),
            mime="text/csv",
            key="shortlist_csv",
        )
        excel_col.download_button(
            "Download Excel",
            shortlist.to_excel(listed, names),
            file_name=shortlist.file_name("xlsx"),
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            key="shortlist_xlsx",
        )
        if names is not None:
            st.caption(
                "Downloads show pseudonyms (member-…), not handles: set COMMONGROUND_PSEUDONYMIZE_EXPORTS=false "
                "to export real handles."
            )
    _history()
    st.caption(f"Stored in the dashboard's own database ({outreach}), never in the snapshot.")


def _history() -> None:
    changes = shortlist.history(outreach)
    if changes.empty:
        return
    with st.expander(f"History of changes ({len(changes)})"):
        names = q.account_handles(snapshot, tuple(sorted(set(changes["account_id"]))))
        changes = changes.merge(names[["account_id", "handle"]], on="account_id", how="left")
        changes["handle"] = changes["handle"].fillna(shortlist.GONE)
        st.dataframe(
            changes[["changed_at", "handle", "action", "status", "note"]],
            hide_index=True,
            width="stretch",
            column_config={
                "changed_at": st.column_config.DatetimeColumn("When (UTC)", format="D MMM YYYY, HH:mm"),
                "handle": "Who",
                "action": "Change",
                "status": "Status",
                "note": st.column_config.TextColumn("Note", width="large"),
            },
        )


voices = _ranked()
if voices.empty:
    st.info("No constructive voices were ranked in this window (too few posts per account, or none scored).")
else:
    st.caption(
        "People whose posts are constructive and who are engaged with constructively by more than one camp. "
        "Hover a column title for its scale; pick someone below to read their posts before adding them."
    )
shown = _filters(voices) if not voices.empty else voices
if not voices.empty and shown.empty:
    st.info("No one in this window's ranking matches these filters. The shortlist below is unchanged.")
elif not shown.empty:
    st.dataframe(
        shown[list(COLUMNS)], hide_index=True, width="stretch", column_config=COLUMNS, key="voices_table"
    )
    st.caption(f"{len(shown)} of {len(voices)} ranked accounts shown; scroll the table to see them all.")

if FLASH_KEY in st.session_state:
    st.success(st.session_state.pop(FLASH_KEY))

st.subheader("A closer look and the shortlist")
entries: dict[Any, dict[Any, Any]] = shortlist.entries(outreach).set_index("account_id").to_dict("index")
handles = dict(zip(voices["account_id"], voices["handle"], strict=True))
ranks = dict(zip(voices["account_id"], voices["rank"], strict=True))
extra = [str(a) for a in entries if a not in set(shown["account_id"])]
extra_names = q.account_handles(snapshot, tuple(sorted(extra))) if extra else pd.DataFrame()
handles |= dict(zip(extra_names.get("account_id", []), extra_names.get("handle", []), strict=True))
extra = [a for a in extra if a in handles]  # shortlisted people the snapshot no longer holds: opted out
choices = [*shown["account_id"], *extra]
if not choices:
    st.info("Nobody to look at yet.")
else:
    account_id = str(
        st.selectbox(
            "Person",
            choices,
            format_func=lambda a: (
                (f"#{ranks[a]} " if a in ranks else "")
                + str(handles.get(a, a))
                + (" (on the shortlist)" if a in entries else "")
            ),
            key="voices_account",
        )
    )
    in_ranking = voices[voices["account_id"] == account_id]
    if in_ranking.empty:
        st.caption("Not in this window's ranking (shortlisted from another week).")
    else:
        _closer_look(in_ranking.iloc[0])
    _shortlist_form(account_id, entries.get(account_id))

st.subheader("Shortlist")
_shortlist_table(voices)
