"""Conversations page: search and filters, the thread view, links to the original, text never as markdown."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.dashboard.conftest import APP, POSTS, open_app

PAGE = "app_pages/conversations.py"


def open_page() -> AppTest:
    return open_app(PAGE)


def results(at: AppTest) -> list[str]:
    return list(at.dataframe[0].value["text"])


def markdown_text(at: AppTest) -> str:
    """Everything Streamlit renders as markdown (where post text must never go)."""
    parts = [e.value for e in (*at.title, *at.subheader, *at.caption, *at.markdown)]
    parts += [e.value for e in (*at.info, *at.success, *at.warning, *at.error)]
    return "\n".join(str(p) for p in parts)


def test_search_and_filters(app_env: Path) -> None:
    at = open_page()
    assert len(results(at)) == 9  # the February post is outside the window
    assert results(at)[0] == "Agree with @ada, the triage idea worked for my mum too"

    at.text_input(key="conversations_text").input("WAITING").run()
    assert len(results(at)) == 3 and all("waiting" in t.lower() for t in results(at))
    at.text_input(key="conversations_text").input("20%").run()
    assert results(at) == ["Our GP practice cut the waiting list by 20% with triage"]  # % is literal
    at.text_input(key="conversations_text").input("").run()

    at.multiselect(key="conversations_tones").select("hostile").run()
    assert set(at.dataframe[0].value["author"]) == {"@eve@troll.example"}
    at.multiselect(key="conversations_tones").unselect("hostile").select("unscored").run()
    assert results(at) == ["Les urgences débordent encore ce soir."]
    assert list(at.dataframe[0].value["reasons"]) == ["not English (fr)"]
    at.multiselect(key="conversations_tones").unselect("unscored").run()

    # the tone model's reasons: posts whose reasons include "insult"
    attribute = at.selectbox(key="conversations_attribute")
    assert {"evidence", "solution", "insult", "dismissive"} <= set(attribute.options)
    attribute.set_value("insult").run()
    assert sorted(results(at)) == [
        "Another day of lies from managers",
        "You lot are useless and should be sacked",
    ]
    at.selectbox(key="conversations_attribute").set_value("evidence").run()
    assert len(results(at)) == 5

    at.selectbox(key="conversations_attribute").set_value(None)
    at.selectbox(key="conversations_camp").set_value(0).run()
    assert set(at.dataframe[0].value["camp"]) == {"Clinicians & GPs"} and len(results(at)) == 3
    at.selectbox(key="conversations_camp").set_value(None)
    at.selectbox(key="conversations_hashtag").set_value("patientvoice").run()
    assert list(at.dataframe[0].value["author"]) == ["@cara@med.example"]
    at.selectbox(key="conversations_hashtag").set_value(None).run()

    assert at.selectbox(key="conversations_platform").options == ["All platforms", "mastodon"]
    at.selectbox(key="conversations_platform").set_value("mastodon").run()
    assert len(results(at)) == 9

    # days, inclusive: 5 March holds the first two posts (09:00 and 14:00)
    at.date_input(key="conversations_days").set_value((dt.date(2025, 3, 5), dt.date(2025, 3, 5))).run()
    assert sorted(results(at)) == [
        "Happy to share the triage protocol with any practice",
        "Our GP practice cut the waiting list by 20% with triage",
    ]
    at.text_input(key="conversations_text").input("no such words anywhere").run()
    assert any("No posts" in i.value for i in at.info)


def test_thread_view_shows_what_a_post_replies_to_and_its_replies(app_env: Path) -> None:
    at = open_page()
    post = at.selectbox(key="conversations_post")
    assert post.value == "mastodon:108"  # the newest match opens first
    shown = [t.value for t in at.text]
    # the reply field: 108 answers 101, shown above it in full
    assert shown.index("Our GP practice cut the waiting list by 20% with triage") < shown.index(
        "Agree with @ada, the triage idea worked for my mum too"
    )
    assert "In reply to" in [c.value for c in at.caption]
    links = at.get("link_button")
    assert [link.proto.url for link in links] == ["https://nhs.social/@x/101", "https://nhs.social/@x/108"]

    # a reply known only from the interactions table: 106 replies to 104
    at.selectbox(key="conversations_post").set_value("mastodon:104").run()
    assert not at.exception
    shown = [t.value for t in at.text]
    assert shown.index("Patients deserve clearer waiting times, here is what helped us") < shown.index(
        "You lot are useless and should be sacked"
    )
    assert "1 reply collected" in [c.value for c in at.caption]
    assert any(re.match(r"@eve@troll\.example · 06 Mar 2025, 16:00 · mastodon · hostile", t) for t in shown)


def test_post_text_is_never_markdown_or_html(app_env: Path) -> None:
    at = open_page()
    for post_id in ("mastodon:108", "mastodon:104", "mastodon:106"):
        at.selectbox(key="conversations_post").set_value(post_id).run()
        rendered = markdown_text(at)
        for _pid, _author, _h, text, *_rest in POSTS:
            assert text not in rendered
        assert "@ada@nhs.social" not in rendered and "@eve@troll.example" not in rendered
    source = (APP.parent / PAGE).read_text(encoding="utf-8")
    assert "unsafe_allow_html" not in source and "st.html" not in source


def test_pseudonymised_snapshot_has_no_links(
    pseudonymized_snapshot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMMONGROUND_SNAPSHOT", str(pseudonymized_snapshot))
    monkeypatch.setenv("COMMONGROUND_OUTREACH_DATABASE", str(tmp_path / "outreach.duckdb"))
    st.cache_data.clear()
    at = open_page()
    assert not at.get("link_button")
    assert any("pseudonymised" in c.value for c in at.caption)
    assert not any("@ada" in t.value for t in at.text)  # mentions in post text are pseudonymised too
    st.cache_data.clear()
