"""The dashboard, page by page, on a small hand-written snapshot (streamlit.testing.v1.AppTest)."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[2] / "dashboard" / "streamlit_app.py"
ANALYSIS = "uk-healthcare:2025-03-01T00:00:00:2025-03-08T00:00:00"  # as in conftest.py
HOSTILE_BIO = "<script>alert('x')</script> **bold** [link](javascript:alert(1))"  # Dev's bio in conftest.py

PAGES = (
    "app_pages/overview.py",
    "app_pages/constructive_voices.py",
    "app_pages/echo_chambers.py",
    "app_pages/conversations.py",
)


def open_page(page: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.switch_page(page)
    at.run(timeout=30)
    assert not at.exception, [e.value for e in at.exception]
    return at


def all_text(at: AppTest) -> str:
    """Every markdown-ish string the page rendered (titles, captions, markdown, alerts, text)."""
    parts = [e.value for e in (*at.title, *at.subheader, *at.caption, *at.markdown, *at.text)]
    parts += [e.value for e in (*at.info, *at.success, *at.warning, *at.error)]
    return "\n".join(str(p) for p in parts)


def markdown_text(at: AppTest) -> str:
    """Only what Streamlit renders as markdown (where untrusted text must never go)."""
    parts = [e.value for e in (*at.title, *at.subheader, *at.caption, *at.markdown)]
    parts += [e.value for e in (*at.info, *at.success, *at.warning, *at.error)]
    return "\n".join(str(p) for p in parts)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders(app_env: Path, page: str) -> None:
    at = open_page(page)
    text = all_text(at)
    assert "uk-healthcare" in text
    assert "01 Mar 2025 00:00 – 08 Mar 2025 00:00" in text
    assert "minilm-heads-test" in text
    assert "pseudonym" not in text
    assert HOSTILE_BIO not in markdown_text(at)


def test_overview(app_env: Path) -> None:
    at = open_page("app_pages/overview.py")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Posts"] == "9"
    assert metrics["Accounts"] == "5"
    assert metrics["Camps"] == "2"
    # 5 constructive and 2 hostile of the 8 scored posts inside the window; the French post is not judged
    assert metrics["Constructive posts"] == "62%"
    assert metrics["Hostile posts"] == "25%"
    assert any(
        "8 of 9 posts in the window have a tone score (1 could not be judged" in c.value for c in at.caption
    )
    constructive = next(m for m in at.metric if m.label == "Constructive posts")
    assert "Share of the scored posts" in constructive.help  # a share of the posts it judged
    assert metrics["Observed (headline)"] == "0.62"
    assert metrics["Random-rewiring baseline"] == "0.31"
    assert metrics["z-score"] == "+6.2"
    text = all_text(at).lower()
    assert "how segregated the endorsement network is, compared with chance" in text
    assert "controversy" not in text
    camps = at.dataframe[0].value
    assert list(camps["label"]) == ["Patients & carers", "Clinicians & GPs"]
    assert any("Last run: run — completed" in s.value for s in at.success)


def test_voices_table_and_filters(app_env: Path) -> None:
    at = open_page("app_pages/constructive_voices.py")
    table = at.dataframe[0].value
    assert len(table) == 3  # the old analysis' voice is not shown
    assert table.iloc[0]["handle"] == "@ada@nhs.social"
    assert table.iloc[0]["home_camp_label"] == "Clinicians & GPs"
    assert table.iloc[0]["camps_reached"] == "Patients & carers (3)"
    assert "@finn@old.example" not in set(table["handle"])

    at.selectbox(key="voices_camp").select("Patients & carers").run()
    assert not at.exception
    assert list(at.dataframe[0].value["handle"]) == ["@cara@med.example", "@dev@med.example"]

    at.selectbox(key="voices_camp").select("All camps")
    at.number_input(key="voices_min_score").set_value(0.5).run()
    assert not at.exception
    assert list(at.dataframe[0].value["handle"]) == ["@ada@nhs.social", "@cara@med.example"]


def test_voices_show_and_filter_by_stakeholder_role(app_env: Path) -> None:
    at = open_page("app_pages/constructive_voices.py")
    table = at.dataframe[0].value
    assert dict(zip(table["handle"], table["role_label"], strict=True))["@ada@nhs.social"] == "GP"
    at.selectbox(key="voices_role").select("Patient or carer").run()
    assert not at.exception
    assert len(at.dataframe[0].value) == 1


def test_voice_detail_shows_example_posts_and_reasons(app_env: Path) -> None:
    at = open_page("app_pages/constructive_voices.py")
    examples = at.dataframe[1].value
    # in the order voices.example_posts names them
    assert list(examples["text"]) == [
        "Happy to share the triage protocol with any practice",
        "Our GP practice cut the waiting list by 20% with triage",
    ]
    assert list(examples["reasons"]) == ["evidence, solution"] * 2  # why each was called constructive
    texts = [t.value for t in at.text]
    assert any("engaged 3 times with Patients & carers" in t for t in texts)
    assert "GP in Leeds. Views my own." in texts


def test_untrusted_bio_is_plain_text(app_env: Path) -> None:
    at = open_page("app_pages/constructive_voices.py")
    at.selectbox(key="voices_account").select("mastodon:4").run()
    assert not at.exception
    assert HOSTILE_BIO in [t.value for t in at.text]
    assert HOSTILE_BIO not in markdown_text(at)


def test_shortlist_writes_outreach_database_only(app_env: Path, snapshot: Path) -> None:
    at = open_page("app_pages/constructive_voices.py")
    assert any("shortlist is empty" in i.value for i in at.info)
    at.selectbox(key="voices_account").select("mastodon:3").run()
    at.selectbox(key="shortlist_status_mastodon:3").select("contacted")
    at.text_area(key="shortlist_note_mastodon:3").input("Ask about the patient panel")
    at.button(key="shortlist_add").click().run()
    assert not at.exception
    assert any("Saved" in s.value for s in at.success)

    shortlist = at.dataframe[-1].value
    assert list(shortlist["handle"]) == ["@cara@med.example"]
    assert list(shortlist["note"]) == ["Ask about the patient panel"]

    con = duckdb.connect(str(app_env), read_only=True)
    try:
        rows = con.execute("SELECT account_id, status, note, updated_at FROM outreach").fetchall()
    finally:
        con.close()
    assert [r[:3] for r in rows] == [("mastodon:3", "contacted", "Ask about the patient panel")]
    assert rows[0][3] is not None

    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    finally:
        con.close()
    assert "outreach" not in tables

    # a fresh session sees the saved note and can remove the entry
    at = open_page("app_pages/constructive_voices.py")
    at.selectbox(key="voices_account").select("mastodon:3").run()
    assert at.text_area(key="shortlist_note_mastodon:3").value == "Ask about the patient panel"
    at.button(key="shortlist_remove").click().run()
    assert not at.exception
    con = duckdb.connect(str(app_env), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM outreach").fetchone() == (0,)
    finally:
        con.close()


def test_echo_chambers(app_env: Path) -> None:
    at = open_page("app_pages/echo_chambers.py")
    camps = at.dataframe[0].value
    assert list(camps["label"]) == ["Patients & carers", "Clinicians & GPs"]
    by_label = camps.set_index("label")
    # JSON lists become readable lines; account ids become handles, with their endorsement counts
    assert by_label.loc["Clinicians & GPs", "top_hashtags"] == "gp (0.31), nhs (0.12)"
    assert by_label.loc["Clinicians & GPs", "top_terms"] == "triage (0.40), waiting (0.20)"
    assert by_label.loc["Clinicians & GPs", "top_accounts"] == "@ada@nhs.social (4), @ben@nhs.social (1)"
    assert by_label.loc["Patients & carers", "top_hashtags"] == "nhs (0.40), patientvoice (0.10)"
    assert by_label.loc["Patients & carers", "top_terms"] == "carer (0.20)"
    assert by_label.loc["Patients & carers", "top_accounts"] == "@cara@med.example (4)"
    measures = at.dataframe[1].value
    assert list(measures["measure"]) == ["headline", "assortativity", "ei_index"]
    assert {"value", "baseline_mean", "baseline_std", "z"} <= set(measures.columns)
    assert "compared with chance" in all_text(at)


def test_conversations_search_and_filters(app_env: Path) -> None:
    at = open_page("app_pages/conversations.py")
    posts = at.dataframe[0].value
    assert len(posts) == 9  # the February post is outside the window
    assert posts.iloc[0]["text"] == "Agree with @ada, the triage idea worked for my mum too"
    assert posts.iloc[0]["reasons"] == "evidence, solution"

    at.text_input(key="conversations_text").input("WAITING").run()
    assert not at.exception
    texts = list(at.dataframe[0].value["text"])
    assert len(texts) == 3 and all("waiting" in t.lower() for t in texts)

    at.text_input(key="conversations_text").input("20%").run()
    assert list(at.dataframe[0].value["text"]) == ["Our GP practice cut the waiting list by 20% with triage"]

    at.text_input(key="conversations_text").input("").run()
    at.multiselect(key="conversations_tones").select("hostile").run()
    assert set(at.dataframe[0].value["author"]) == {"@eve@troll.example"}

    assert set(at.dataframe[0].value["reasons"]) == {"insult, dismissive"}
    at.multiselect(key="conversations_tones").unselect("hostile")
    at.multiselect(key="conversations_tones").select("unscored").run()
    unscored = at.dataframe[0].value
    assert list(unscored["text"]) == ["Les urgences débordent encore ce soir."]
    assert list(unscored["reasons"]) == ["not English (fr)"]  # why it has no tone score
    assert unscored["constructive"].isna().all()
    at.multiselect(key="conversations_tones").unselect("unscored")
    at.selectbox(key="conversations_camp").set_value(0).run()
    assert not at.exception
    assert set(at.dataframe[0].value["camp"]) == {"Clinicians & GPs"}
    assert len(at.dataframe[0].value) == 3

    at.selectbox(key="conversations_camp").set_value(None)
    at.selectbox(key="conversations_hashtag").set_value("patientvoice").run()
    assert not at.exception
    assert list(at.dataframe[0].value["author"]) == ["@cara@med.example"]

    at.text_input(key="conversations_text").input("no such words anywhere").run()
    assert any("No posts" in i.value for i in at.info)


@pytest.mark.parametrize("page", PAGES)
def test_empty_state_when_snapshot_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, page: str
) -> None:
    monkeypatch.setenv("COMMONGROUND_SNAPSHOT", str(tmp_path / "nothing-here.duckdb"))
    monkeypatch.setenv("COMMONGROUND_OUTREACH_DATABASE", str(tmp_path / "outreach.duckdb"))
    st.cache_data.clear()
    at = open_page(page)
    assert len(at.info) == 1
    assert "make demo" in at.info[0].value and "commonground run" in at.info[0].value
    assert not (tmp_path / "nothing-here.duckdb").exists()


@pytest.mark.parametrize("page", PAGES)
def test_empty_state_when_snapshot_has_no_analysis(
    empty_snapshot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, page: str
) -> None:
    monkeypatch.setenv("COMMONGROUND_SNAPSHOT", str(empty_snapshot))
    monkeypatch.setenv("COMMONGROUND_OUTREACH_DATABASE", str(tmp_path / "outreach.duckdb"))
    st.cache_data.clear()
    at = open_page(page)
    assert len(at.info) == 1
    assert "commonground demo --no-dashboard" in at.info[0].value


def test_pseudonymized_snapshot_says_so(
    pseudonymized_snapshot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMMONGROUND_SNAPSHOT", str(pseudonymized_snapshot))
    monkeypatch.setenv("COMMONGROUND_OUTREACH_DATABASE", str(tmp_path / "outreach.duckdb"))
    st.cache_data.clear()
    at = open_page("app_pages/constructive_voices.py")
    assert any("pseudonym" in c.value for c in at.caption)
    handles = list(at.dataframe[0].value["handle"])
    assert len(handles) == 3 and all(re.fullmatch(r"member-[0-9a-f]{8}", h) for h in handles)
    texts = [t.value for t in at.text]
    assert "GP in Leeds. Views my own." not in texts  # bios can name people: hidden with pseudonyms
    assert not any("@ada" in t for t in texts)
    st.cache_data.clear()


def test_dashboard_never_renders_html() -> None:
    root = APP.parent
    for source in [APP, *root.glob("app_pages/*.py"), root / "queries.py"]:
        code = source.read_text(encoding="utf-8")
        assert "unsafe_allow_html" not in code, source
        assert "st.html" not in code, source
        assert "use_container_width" not in code, source


def test_queries_read_only_the_snapshot(snapshot: Path) -> None:
    from dashboard import queries as q

    st.cache_data.clear()
    analysis = q.current_analysis(str(snapshot))
    assert analysis is not None and analysis["analysis_id"] == ANALYSIS
    assert q.search_posts(str(snapshot), ANALYSIS, text="a_b").empty  # '_' is literal, not a wildcard
    st.cache_data.clear()
