"""The Weekly reports page: lists the snapshot's reports and offers their files, never their text as HTML."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.dashboard.conftest import open_app
from warehouse.store import Warehouse

APP = Path(__file__).resolve().parents[2] / "dashboard" / "streamlit_app.py"
PAGE = "app_pages/reports.py"
HOSTILE = "<script>alert(1)</script>"


def _report_row(week: str, folder: Path, files: list[str], *, enough: bool, posts: int) -> dict[str, object]:
    return {
        "week": week,
        "week_start": datetime(2026, 11, 16),
        "week_end": datetime(2026, 11, 23),
        "folder": str(folder),
        "files": files,
        "enough_data": enough,
        "n_posts": posts,
        "n_accounts": 3,
        "analysis_id": None,
        "model_version": "test-model",
        "pseudonymized": False,
        "run_id": "run-1",
        "generated_at": datetime(2026, 11, 23, 7, 0),
    }


def _snapshot(root: Path, *, with_reports: bool) -> Path:
    warehouse = Warehouse(root / "warehouse.duckdb")
    warehouse.init()
    if with_reports:
        folder = root / "reports" / "2026-W47"
        folder.mkdir(parents=True)
        (folder / "report.html").write_text(f"<p>{HOSTILE}</p>", encoding="utf-8")
        (folder / "voices.csv").write_text("rank,handle\n1,ada\n", encoding="utf-8")
        # report.pdf is recorded but gone from the folder: the page says so instead of failing.
        files = ["report.html", "voices.csv", "report.pdf"]
        warehouse.record_report(_report_row("2026-W47", folder, files, enough=True, posts=120))
        warehouse.record_report(
            _report_row("2026-W46", root / "reports" / "2026-W46", [], enough=False, posts=4)
        )
    return warehouse.publish(root / "snapshot.duckdb")


@pytest.fixture
def reports_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("COMMONGROUND_SNAPSHOT", str(_snapshot(tmp_path, with_reports=True)))
    monkeypatch.setenv("COMMONGROUND_OUTREACH_DATABASE", str(tmp_path / "outreach.duckdb"))
    st.cache_data.clear()
    yield tmp_path
    st.cache_data.clear()


def _open() -> AppTest:
    return open_app(PAGE)


def test_lists_reports_newest_first_with_downloads(reports_env: Path) -> None:
    at = _open()
    listing = at.dataframe[0].value
    assert list(listing["week"]) == ["2026-W47", "2026-W46"]
    assert list(listing["posts"]) == [120, 4]
    assert at.selectbox(key="reports_week").value == "2026-W47"
    buttons = [b for b in at.get("download_button")]
    labels = [b.proto.label for b in buttons]
    assert labels == ["Download report.html", "Download voices.csv"]
    assert any("report.pdf: missing from the folder" in t.value for t in at.text)
    # The report's text is offered as a file, never rendered: the script tag appears nowhere on the page.
    rendered = [e.value for e in (*at.markdown, *at.caption, *at.text, *at.info, *at.warning)]
    assert not any(HOSTILE in str(v) for v in rendered)


def test_a_thin_week_says_so(reports_env: Path) -> None:
    at = _open()
    at.selectbox(key="reports_week").set_value("2026-W46").run()
    assert not at.exception
    assert any("too little data (4 posts)" in w.value for w in at.warning)
    assert not at.get("download_button")


def test_no_reports_yet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMMONGROUND_SNAPSHOT", str(_snapshot(tmp_path, with_reports=False)))
    monkeypatch.setenv("COMMONGROUND_OUTREACH_DATABASE", str(tmp_path / "outreach.duckdb"))
    st.cache_data.clear()
    at = _open()
    assert any("No weekly report yet" in i.value for i in at.info)
    st.cache_data.clear()


def test_report_file_reads_only_plain_names_inside_the_folder(tmp_path: Path) -> None:
    from dashboard import queries as q

    (tmp_path / "a.csv").write_text("x\n", encoding="utf-8")
    (tmp_path.parent / "secret.txt").write_text("no", encoding="utf-8")
    assert q.report_file(str(tmp_path), "a.csv") == b"x\n"
    assert q.report_file(str(tmp_path), "../secret.txt") is None
    assert q.report_file(str(tmp_path), "gone.pdf") is None
