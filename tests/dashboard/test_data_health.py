"""Data health: snapshot age, model version, runs in words, quarantine reasons, cursors and X's budget."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard import wording
from tests.dashboard.conftest import open_app

APP = Path(__file__).resolve().parents[2] / "dashboard" / "streamlit_app.py"


def open_health() -> AppTest:
    return open_app("app_pages/data_health.py")


def test_data_health_in_words(app_env: Path) -> None:
    at = open_health()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Tone model"] == "minilm-heads-test"
    assert metrics["Snapshot published"].endswith("ago") or metrics["Snapshot published"] == "just now"
    assert metrics["Newest post analysed"] == "08 Mar 2025 00:00"
    assert any("Last run: run — finished" in s.value for s in at.success)

    runs = at.dataframe[0].value
    failed = runs[runs["What"] == "Collect posts"].iloc[0]
    assert failed["Status"] == "failed: HTTPError: 503 from mastodon.social"
    assert failed["What it did"] == "120 posts read · 100 new posts · 4 could not be read"
    assert failed["Took"] == "60 s"
    assert "run-0" not in runs.to_string()  # no run ids

    quarantine = at.dataframe[1].value
    assert list(zip(quarantine["reason"], quarantine["records"], strict=True)) == [
        ("not a JSON object", 3),
        ("no author", 1),
    ]
    assert "secret" not in quarantine.to_string()  # reasons, never payloads
    assert any("4 records could not be read" in w.value for w in at.warning)

    cursors = at.dataframe[2].value
    assert cursors.iloc[0][["source", "query", "cursor"]].tolist() == ["mastodon", "NHS", "113456789"]

    budget = " ".join(t.value for t in at.text)
    assert "300 of 10,000 posts read from X this month" in budget  # last year's 200 are not counted
    assert "the last run read 300 of at most 1,000" in budget
    assert at.get("progress")[0].proto.value == 3  # percent of the month's cap


def test_x_budget_follows_the_settings(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMMONGROUND_X_MAX_READS_PER_MONTH", "600")
    at = open_health()
    assert any("300 of 600 posts read from X this month" in t.value for t in at.text)
    assert at.get("progress")[0].proto.value == 50


def test_data_health_without_an_analysis_still_shows(
    empty_snapshot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMMONGROUND_SNAPSHOT", str(empty_snapshot))
    monkeypatch.setenv("COMMONGROUND_OUTREACH_DATABASE", str(tmp_path / "outreach.duckdb"))
    st.cache_data.clear()
    at = open_health()
    assert "Snapshot published" in {m.label for m in at.metric}
    assert any("No runs recorded yet" in i.value for i in at.info)
    st.cache_data.clear()


def test_wording_of_runs_and_ages() -> None:
    assert wording.run_counts('{"read": 3200, "posts_stored": 3200, "notices": ["x"], "run_id": "abc"}') == (
        "3,200 posts read · 3,200 new posts · 1 notice"
    )
    assert wording.run_counts(None) == "" and wording.run_counts("not json") == ""
    assert wording.run_status("running", None) == "did not finish (or still running)"
    now = datetime(2025, 3, 8, 12, 0)
    assert wording.age(datetime(2025, 3, 8, 9, 0), now) == "3 hours ago"
    assert wording.age(datetime(2025, 3, 6, 12, 0), now) == "2 days ago"
    assert wording.age(now, now) == "just now"
    assert wording.duration(datetime(2025, 3, 8, 9, 0), datetime(2025, 3, 8, 9, 30)) == "30 min"
