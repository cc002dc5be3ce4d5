"""The opt-out list on every surface: the CLI, analyze (never ranked), publish (nothing of them in any
snapshot table), the dashboard's pages, the weekly report's files."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard import shortlist
from flows.analysis import analyse_window, without_opted_out
from flows.cli import main
from flows.report.build import ReportInputs, gather
from flows.report.render import write_report
from flows.report.week import parse_week
from tests.dashboard.conftest import open_app
from tests.dashboard.test_voices import _downloads
from tests.warehouse.test_privacy import MODEL, build_sample_warehouse, leaks, sample_settings, whole_words
from warehouse import opt_outs
from warehouse.store import Warehouse

WEEK = "2026-W47"  # the bundled sample's week


def _voices(warehouse: Warehouse) -> pd.DataFrame:
    return warehouse.query(
        """SELECT v.account_id, a.handle, v.rank FROM voices v JOIN accounts a USING (account_id)
           WHERE v.analysis_id = (SELECT max(analysis_id) FROM analyses) ORDER BY v.rank"""
    )


@pytest.fixture(scope="module")
def opted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The sample's first posts analysed; the top voice opts out (by handle, through the CLI) and the
    analysis runs again; then the new top voice opts out too (by id) before publish and the report."""
    root = tmp_path_factory.mktemp("opt-out")
    warehouse = build_sample_warehouse(root, lines=400)
    first = _voices(warehouse).iloc[0]
    assert main(["--data-dir", str(root), "opt-out", "add", f"@{first['handle']}", "--note", "asked"]) == 0
    settings = sample_settings(root)
    span = warehouse.query("SELECT min(created_at) AS a, max(created_at) AS b FROM posts").iloc[0]
    analyse_window(warehouse, settings, (span["a"], span["b"]), MODEL, "run-again")
    second = _voices(warehouse).iloc[0]
    assert main(["--data-dir", str(root), "opt-out", "add", second["account_id"]]) == 0
    snapshot = warehouse.publish(root / "snapshot.duckdb")
    plain = sample_settings(root, pseudonymize_exports=False)  # real handles: what must be missing shows
    report = gather(
        ReportInputs(warehouse, plain, MODEL, "run-report", datetime(2026, 11, 30)), parse_week(WEEK)
    )
    folder, files = write_report(report, root / "reports")
    gone = [first, second]
    ids = [a["account_id"] for a in gone]
    posts = warehouse.query("SELECT post_id, url FROM posts WHERE list_contains(?, author_id)", [ids])
    return {
        "warehouse": warehouse,
        "snapshot": snapshot,
        "first": first,
        "second": second,
        "needles": [*ids, *(a["handle"] for a in gone), *posts["post_id"], *posts["url"]],
        "report": {name: folder / name for name in files},
    }


def test_the_cli_adds_lists_and_removes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    warehouse = Warehouse(tmp_path / "commonground.duckdb")
    warehouse.init()
    with warehouse.connect() as con:
        con.execute(
            """INSERT INTO accounts (account_id, source, native_id, handle) VALUES
               ('mastodon:1', 'mastodon', '1', 'drjane@mastodon.social'),
               ('x:2', 'x', '2', 'twin'), ('bluesky:3', 'bluesky', '3', 'twin')"""
        )
    run = ["--data-dir", str(tmp_path), "opt-out"]
    assert main([*run, "add", "@DrJane", "--note", "email 3 Nov"]) == 0
    assert "mastodon:1 is on the opt-out list" in capsys.readouterr().out
    assert main([*run, "add", "twin"]) == 2
    assert (
        "'twin' is the handle of 2 accounts (bluesky:3, x:2): give the account id" in capsys.readouterr().err
    )
    assert main([*run, "add", "nobody"]) == 2
    assert "No account with handle or id 'nobody'" in capsys.readouterr().err
    assert main([*run, "add", "x:99"]) == 0  # not collected yet: kept out when it is
    assert "not in the warehouse yet" in capsys.readouterr().out
    assert main([*run, "list"]) == 0
    listing = capsys.readouterr().out
    assert "2 account(s)" in listing and "mastodon:1 @drjane@mastodon.social" in listing
    assert "email 3 Nov" in listing and "x:99" in listing
    assert opt_outs.account_ids(warehouse) == {"mastodon:1", "x:99"}
    assert main([*run, "remove", "@drjane@mastodon.social"]) == 0
    assert main([*run, "remove", "mastodon:1"]) == 1
    assert opt_outs.account_ids(warehouse) == {"x:99"}


def test_analyze_never_ranks_them(opted: dict[str, Any]) -> None:
    wh, first = opted["warehouse"], opted["first"]
    voices = _voices(wh)
    assert first["account_id"] not in set(voices["account_id"]) and len(voices) > 5
    latest = "(SELECT max(analysis_id) FROM analyses)"
    for table in ("communities", "network_layout", "account_roles"):
        found = wh.query(
            f"SELECT count(*) AS n FROM {table} WHERE analysis_id = {latest} AND account_id = ?",
            [first["account_id"]],
        )
        assert found["n"].iloc[0] == 0, table


def test_the_snapshot_holds_nothing_of_them(opted: dict[str, Any]) -> None:
    assert leaks(opted["snapshot"], opted["needles"]) == {}
    snap = Warehouse(opted["snapshot"])
    ranks = snap.query("SELECT analysis_id, list(rank ORDER BY rank) AS r FROM voices GROUP BY analysis_id")
    assert all(list(r) == list(range(1, len(r) + 1)) for r in ranks["r"])  # re-ranked without gaps
    # Others' posts stay; theirs and reposts of theirs go, and so does every row derived from them.
    wh = opted["warehouse"]
    kept = snap.query("SELECT count(*) AS n FROM posts")["n"].iloc[0]
    hidden = len(opt_outs.hidden_posts(wh))
    assert hidden > 0 and kept == wh.query("SELECT count(*) AS n FROM posts")["n"].iloc[0] - hidden
    assert snap.query("SELECT count(*) AS n FROM tone_scores")["n"].iloc[0] == kept
    tables = set(snap.query("SELECT table_name FROM duckdb_tables()")["table_name"])
    assert "opt_outs" not in tables  # the list names them: it stays in the warehouse


def _page_text(at: AppTest) -> str:
    parts = [e.value for e in (*at.title, *at.subheader, *at.caption, *at.markdown, *at.text)]
    parts += [e.value for e in (*at.info, *at.success, *at.warning, *at.error)]
    parts += [frame.value.to_csv() for frame in at.dataframe]
    parts += [str(box.options) for box in at.selectbox]
    return "\n".join(str(p) for p in parts)


@pytest.mark.parametrize(
    "page", ["app_pages/constructive_voices.py", "app_pages/conversations.py", "app_pages/overview.py"]
)
def test_dashboard_pages_never_show_them(
    opted: dict[str, Any], page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outreach = tmp_path / "outreach.duckdb"
    monkeypatch.setenv("COMMONGROUND_SNAPSHOT", str(opted["snapshot"]))
    monkeypatch.setenv("COMMONGROUND_OUTREACH_DATABASE", str(outreach))
    monkeypatch.setenv("COMMONGROUND_PSEUDONYMIZE_EXPORTS", "false")  # real handles: absent ones show
    # Shortlisted before they opted out, next to someone still in the data.
    shortlist.save(str(outreach), opted["first"]["account_id"], status="contacted", note="")
    kept = Warehouse(opted["snapshot"]).query("SELECT min(account_id) AS a FROM voices")["a"].iloc[0]
    shortlist.save(str(outreach), kept, status="to contact", note="")
    files = _downloads(monkeypatch)
    st.cache_data.clear()
    text = _page_text(open_app(page))
    st.cache_data.clear()
    assert len(text) > 500
    text += "".join(data.decode("utf-8-sig", errors="replace") for _mime, data in files.values())
    found = whole_words(opted["needles"]).search(text)
    assert found is None, found
    if page.endswith("constructive_voices.py"):
        assert len(files) == 2 and shortlist.GONE in text  # the shortlist says they left, by no name


def test_the_report_leaves_them_out(opted: dict[str, Any]) -> None:
    pattern = whole_words(opted["needles"])
    report = opted["report"]
    assert {"report.html", "voices.csv", "top_posts.csv"} <= report.keys()
    for name, path in report.items():
        text = pd.read_parquet(path).to_csv() if name.endswith(".parquet") else None
        if name.endswith((".html", ".csv")):
            text = path.read_text(encoding="utf-8")
        if text is not None:
            assert pattern.search(text) is None, (name, pattern.search(text))
    voices = pd.read_csv(report["voices.csv"])
    assert list(voices["rank"]) == list(range(1, len(voices) + 1)) and len(voices) > 5


def test_without_opted_out_drops_their_posts_reposts_and_interactions() -> None:
    posts = pd.DataFrame(
        {
            "post_id": ["p1", "p2", "p3", "p4"],
            "author_id": ["a", "b", "b", "c"],
            "repost_of_post_id": [None, "p1", None, None],
        }
    )
    interactions = pd.DataFrame(
        {
            "post_id": ["p2", "p3", "p4"],
            "src_account_id": ["b", "b", "c"],
            "dst_account_id": ["a", "c", "b"],
        }
    )
    accounts = pd.DataFrame({"account_id": ["a", "b", "c"]})
    out = without_opted_out({"posts": posts, "interactions": interactions, "accounts": accounts}, {"a"})
    assert list(out["posts"]["post_id"]) == ["p3", "p4"]
    assert list(out["interactions"]["post_id"]) == ["p3", "p4"]
    assert list(out["accounts"]["account_id"]) == ["b", "c"]
