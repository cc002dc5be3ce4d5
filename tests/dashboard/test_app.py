"""The dashboard, page by page, on a small hand-written snapshot (streamlit.testing.v1.AppTest)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.dashboard.conftest import open_app

APP = Path(__file__).resolve().parents[2] / "dashboard" / "streamlit_app.py"
ANALYSIS = "uk-healthcare:2025-03-01T00:00:00:2025-03-08T00:00:00"  # as in conftest.py
HOSTILE_BIO = "<script>alert('x')</script> **bold** [link](javascript:alert(1))"  # Dev's bio in conftest.py

PAGES = (
    "app_pages/overview.py",
    "app_pages/constructive_voices.py",
    "app_pages/echo_chambers.py",
    "app_pages/conversations.py",
    "app_pages/data_health.py",
)
# Overview, voices and data health are tested in test_overview.py, test_voices.py and test_data_health.py.


def open_page(page: str) -> AppTest:
    return open_app(page)


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


# The Echo chambers and Conversations pages: tests/dashboard/test_echo_chambers.py, test_conversations.py
# and test_feedback.py.


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
    assert len(handles) == 3 and all(re.fullmatch(r"member-[0-9a-f]{16}", h) for h in handles)
    texts = [t.value for t in at.text]
    assert "GP in Leeds. Views my own." not in texts  # bios can name people: hidden with pseudonyms
    assert not any("@ada" in t for t in texts)
    st.cache_data.clear()


def test_dashboard_never_renders_html() -> None:
    root = APP.parent
    for source in [*root.glob("*.py"), *root.glob("app_pages/*.py")]:
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


@pytest.mark.parametrize("page", PAGES)
def test_every_page_works_on_a_pseudonymised_snapshot_and_names_nobody(
    page: str, pseudonymized_snapshot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.dashboard.conftest import ACCOUNTS

    monkeypatch.setenv("COMMONGROUND_SNAPSHOT", str(pseudonymized_snapshot))
    monkeypatch.setenv("COMMONGROUND_OUTREACH_DATABASE", str(tmp_path / "outreach.duckdb"))
    st.cache_data.clear()
    at = open_page(page)  # raises nothing: ids still join across the pseudonymised tables
    shown = all_text(at) + "".join(frame.value.to_csv() for frame in at.dataframe)
    st.cache_data.clear()
    for account_id, handle, name, _bio, _camp in ACCOUNTS:
        local = "@" + handle.split("@")[1]  # '@ada', as mentions in post text name her
        assert account_id not in shown and handle not in shown and local not in shown, page
        assert name not in shown or " " not in name, page  # "Dr Ada"; short names are common words
    if page != "app_pages/data_health.py":
        assert re.search(r"member-[0-9a-f]{16}|post-[0-9a-f]{16}", shown) or not at.dataframe, page
