"""The dashboard's shell: the window switch, a republished snapshot, tiny warehouses, --data-dir,
access control, no Deploy button, and no personal text rendered as markdown or HTML anywhere."""

from __future__ import annotations

import os
import shutil
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from flows import cli
from warehouse.store import Warehouse

APP = Path(__file__).resolve().parents[2] / "dashboard" / "streamlit_app.py"
PAGES = (
    "app_pages/overview.py",
    "app_pages/constructive_voices.py",
    "app_pages/echo_chambers.py",
    "app_pages/conversations.py",
    "app_pages/data_health.py",
)
HOSTILE_BIO = "<script>alert('x')</script> **bold** [link](javascript:alert(1))"  # Dev's bio in conftest.py
# What strangers wrote in conftest.py: post texts and bios (handles and names go through st.text too).
PERSONAL = [
    HOSTILE_BIO,
    "GP in Leeds. Views my own.",
    "Our GP practice cut the waiting list by 20% with triage",
    "Happy to share the triage protocol with any practice",
    "Agree with @ada, the triage idea worked for my mum too",
    "Carers need a voice in digital health design",
    "You lot are useless and should be sacked",
]


def run_page(page: str, at: AppTest | None = None) -> AppTest:
    at = at or AppTest.from_file(str(APP), default_timeout=30)
    at.switch_page(page)
    at.run(timeout=30)
    assert not at.exception, [e.value for e in at.exception]
    return at


def captions(at: AppTest) -> str:
    return "\n".join(c.value for c in at.caption)


def walk(node: Any) -> Iterator[Any]:
    yield node
    for child in getattr(node, "children", {}).values():
        yield from walk(child)


def test_window_switch_is_kept_and_every_page_follows_it(app_env: Path) -> None:
    at = run_page("app_pages/overview.py")
    switch = at.sidebar.radio(key="window_days")
    assert list(switch.options) == ["Last 7 days", "Last 30 days"]
    assert "last 7 days: 01 Mar 2025 00:00 – 08 Mar 2025 00:00 UTC" in captions(at)
    switch.set_value(30).run()
    assert not at.exception
    assert "last 30 days: 06 Feb 2025 00:00 – 08 Mar 2025 00:00 UTC" in captions(at)
    assert any("1.5× more than chance" in t.value for t in at.text)  # the month's polarization
    # another page, same session: the choice holds, and the month's ranking shows (Finn only posted then)
    at = run_page("app_pages/constructive_voices.py", at)
    assert at.sidebar.radio(key="window_days").value == 30
    assert list(at.dataframe[0].value["handle"]) == ["@finn@old.example", "@ada@nhs.social"]
    at.sidebar.radio(key="window_days").set_value(7).run()
    assert len(at.dataframe[0].value) == 3


def test_no_run_ids_on_screen(app_env: Path) -> None:
    for page in PAGES:
        at = run_page(page)
        shown = "\n".join(str(e.value) for e in walk(at._tree) if isinstance(getattr(e, "value", None), str))
        assert "run-2" not in shown and "run-1" not in shown, page


def test_a_republished_snapshot_shows_without_restart(
    snapshot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(snapshot.parent / "warehouse.duckdb", warehouse)  # the fixture's warehouse, to publish again
    snapshot = Warehouse(warehouse).publish(tmp_path / "snapshot.duckdb")
    monkeypatch.setenv("COMMONGROUND_SNAPSHOT", str(snapshot))
    monkeypatch.setenv("COMMONGROUND_OUTREACH_DATABASE", str(tmp_path / "outreach.duckdb"))
    st.cache_data.clear()
    at = run_page("app_pages/overview.py")
    assert "Topic uk-healthcare ·" in captions(at)
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("UPDATE analyses SET topic = 'uk-healthcare-republished'")
    finally:
        con.close()
    Warehouse(warehouse).publish(snapshot)
    at.run()  # the same session, no restart, well inside the cache's minute
    assert "Topic uk-healthcare-republished ·" in captions(at)
    st.cache_data.clear()


@pytest.mark.parametrize("page", ["app_pages/overview.py", "app_pages/constructive_voices.py"])
def test_a_tiny_warehouse_says_there_is_too_little_to_judge(
    tiny_snapshot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, page: str
) -> None:
    monkeypatch.setenv("COMMONGROUND_SNAPSHOT", str(tiny_snapshot))
    monkeypatch.setenv("COMMONGROUND_OUTREACH_DATABASE", str(tmp_path / "outreach.duckdb"))
    st.cache_data.clear()
    at = run_page(page)
    assert len(at.warning) == 1
    assert "Too little data to judge: this window has 2 posts by 1 account" in at.warning[0].value
    assert not at.metric and not at.dataframe


def test_the_small_fixture_is_called_a_sketch(app_env: Path) -> None:
    at = run_page("app_pages/overview.py")
    assert "A small sample (9 posts by 5 accounts)" in captions(at)
    assert "Rankings are suggestions for a person to review, not verdicts about anyone." in captions(at)


def _start_dashboard(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Run the CLI's dashboard command with the streamlit subprocess caught: its command and env."""
    for key in (
        "PREFECT_HOME",
        "PREFECT_SERVER_ANALYTICS_ENABLED",
        "HF_HUB_OFFLINE",
        "TRANSFORMERS_OFFLINE",
        "DO_NOT_TRACK",
    ):
        monkeypatch.setenv(key, os.environ.get(key, "x"))
    for key in ("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "TOKENIZERS_PARALLELISM"):
        monkeypatch.setenv(key, os.environ.get(key, "1"))
    seen: dict[str, Any] = {}

    def call(command: list[str], env: dict[str, str]) -> int:
        seen.update(command=command, env=env)
        return 0

    monkeypatch.setattr(cli.subprocess, "call", call)
    assert cli.main(argv) == 0
    return seen


def test_data_dir_reaches_the_dashboard(
    snapshot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "elsewhere"
    data_dir.mkdir()
    shutil.copy(snapshot, data_dir / "snapshot.duckdb")
    for key in ("COMMONGROUND_SNAPSHOT", "COMMONGROUND_OUTREACH_DATABASE", "COMMONGROUND_DATA_DIR"):
        monkeypatch.delenv(key, raising=False)
    seen = _start_dashboard(["--data-dir", str(data_dir), "dashboard", "--port", "8599"], monkeypatch)
    env = seen["env"]
    assert env["COMMONGROUND_DATA_DIR"] == str(data_dir)
    assert env["COMMONGROUND_SNAPSHOT"] == str(data_dir / "snapshot.duckdb")
    assert env["COMMONGROUND_OUTREACH_DATABASE"] == str(data_dir / "outreach.duckdb")
    command = seen["command"]
    assert command[command.index("--client.toolbarMode") + 1] in ("viewer", "minimal")  # no Deploy button
    # the app, in the environment the subprocess gets, opens that folder's snapshot and writes its shortlist there
    for key in ("COMMONGROUND_DATA_DIR", "COMMONGROUND_SNAPSHOT", "COMMONGROUND_OUTREACH_DATABASE"):
        monkeypatch.setenv(key, env[key])
    st.cache_data.clear()
    at = run_page("app_pages/constructive_voices.py")
    assert "Topic uk-healthcare" in captions(at)
    at.button(key="shortlist_add").click().run()
    assert (data_dir / "outreach.duckdb").is_file()
    st.cache_data.clear()


def test_committed_config_hides_the_deploy_button() -> None:
    config = tomllib.loads((APP.parent / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["toolbarMode"] in ("viewer", "minimal")


def test_password_from_secrets_guards_every_page(app_env: Path) -> None:
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.secrets["auth"] = {"password": "correct horse"}
    at.run()
    assert not at.exception
    assert not at.metric and not at.dataframe
    at.text_input(key="access_password").input("wrong").run()
    assert any("not right" in e.value for e in at.error)
    assert not at.metric
    at.text_input(key="access_password").input("correct horse").run()
    assert not at.exception
    assert {m.label for m in at.metric} >= {"Posts", "Hostile posts"}
    run_page("app_pages/data_health.py", at)  # signed in for the session
    assert any(m.label == "Snapshot published" for m in at.metric)


def test_no_access_control_by_default(app_env: Path) -> None:
    at = run_page("app_pages/overview.py")
    assert not at.text_input and any(m.label == "Posts" for m in at.metric)


def test_login_with_an_email_allowlist(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMMONGROUND_DASHBOARD_ALLOWED_EMAILS", '["Ada@Example.org"]')
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.user = {"is_logged_in": False}
    at.run()
    assert not at.exception
    assert at.button(key="access_login").label == "Sign in" and not at.metric
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.user = {"is_logged_in": True, "email": "eve@example.org"}
    at.run()
    assert any("not on the dashboard's list" in e.value for e in at.error) and not at.metric
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.user = {"is_logged_in": True, "email": "ada@example.org"}
    at.run()
    assert not at.exception and any(m.label == "Posts" for m in at.metric)


@pytest.mark.parametrize("page", PAGES)
def test_no_personal_text_is_rendered_as_markdown_or_html(app_env: Path, page: str) -> None:
    at = run_page(page)
    if page.endswith("constructive_voices.py"):
        at.selectbox(key="voices_account").select("mastodon:4").run()  # the hostile bio on screen
        assert HOSTILE_BIO in [t.value for t in at.text]
    rendered = 0
    for element in walk(at._tree):
        proto = getattr(element, "proto", None)
        assert getattr(element, "type", "") != "html", page
        if proto is None or not hasattr(proto, "allow_html") or not hasattr(proto, "body"):
            continue
        rendered += 1
        for personal in PERSONAL:
            assert personal not in proto.body, (page, personal)
        assert not (proto.allow_html and any(p in proto.body for p in PERSONAL))
    assert rendered > 0  # the walk did reach the markdown
