"""The weekly report, built by the real flow from a warehouse the real pipeline filled (sample week 2026-W47)."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from flows.cli import main
from flows.options import RunOptions
from flows.pipeline import pipeline
from flows.report import weekly_report
from flows.report.build import ReportInputs, gather
from flows.report.content import segregation
from flows.report.render import write_report
from flows.report.week import IsoWeek, last_complete_week, parse_week
from lab.sample.generate import generate_conversation
from models.tone import tone_model_version
from tests.warehouse.test_privacy import leaks, people, whole_words
from warehouse.privacy import pseudonyms
from warehouse.store import Warehouse

pytestmark = pytest.mark.slow

WEEK = "2026-W47"  # the generated sample's week
SCRIPT = "<script>alert(1)</script>"
SECTIONS = (
    "suggestions",
    "headline",
    "trend",
    "camps",
    "segregation",
    "voices",
    "voice-changes",
    "top-posts",
    "hashtags",
    "shortlist",
    "provenance",
)


def _week_sql(sql: str, warehouse: Warehouse, *params: Any) -> pd.DataFrame:
    week = parse_week(WEEK)
    return warehouse.query(sql, [week.start, week.end, *params])


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, prefect_harness: None) -> dict[str, Any]:
    """A small generated week through the real pipeline; the week's most constructive post then carries
    a script tag; then the report, timed."""
    sample = generate_conversation(seed=7, n_accounts=60, n_posts=300)
    data_dir = tmp_path_factory.mktemp("report")
    path = data_dir / "conversation.jsonl"
    path.write_text("\n".join(json.dumps(p) for p in sample.posts) + "\n", encoding="utf-8")
    options = RunOptions(data_dir=data_dir, import_paths=[path])
    with pytest.MonkeyPatch.context() as env:
        env.setenv("COMMONGROUND_POLARIZATION_REWIRINGS", "5")
        pipeline(options)
    warehouse = Warehouse(data_dir / "commonground.duckdb")
    version = tone_model_version()
    top = _week_sql(
        """SELECT p.post_id FROM posts p JOIN tone_scores t USING (post_id)
           WHERE p.created_at >= ? AND p.created_at < ? AND p.repost_of_post_id IS NULL
             AND t.model_version = ? AND t.tone = 'constructive'
           ORDER BY t.constructive DESC, p.post_id LIMIT 1""",
        warehouse,
        version,
    )["post_id"].iloc[0]
    with warehouse.connect() as con:
        con.execute("UPDATE posts SET text = text || ? WHERE post_id = ?", [f" {SCRIPT}", top])
    started = time.perf_counter()
    counts = weekly_report(WEEK, RunOptions(data_dir=data_dir))
    seconds = time.perf_counter() - started
    folder = Path(counts["folder"])
    return {
        "data_dir": data_dir,
        "warehouse": warehouse,
        "counts": counts,
        "folder": folder,
        "seconds": seconds,
        "html": (folder / "report.html").read_text(encoding="utf-8"),
        "model_version": version,
    }


def _pdf_text(path: Path) -> str:
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    )
    return " ".join(text.stdout.split())


def test_files_and_sections(built: dict[str, Any]) -> None:
    folder, html = built["folder"], built["html"]
    assert folder == built["data_dir"] / "reports" / WEEK
    expected = ["report.html", "report.pdf", "voices.csv", "camps.csv", "top_posts.csv", "hashtags.csv"]
    assert built["counts"]["files"] == [*expected, "posts.parquet"]
    assert sorted(p.name for p in folder.iterdir()) == sorted(built["counts"]["files"])
    for section in SECTIONS:
        assert f'id="{section}"' in html, section
    assert "suggestions for a person to review, not verdicts about anyone" in html
    assert html.count('src="data:image/png;base64,') == 2  # tone trend and camp tone mix
    assert "Too little data" not in html
    assert built["seconds"] < 60, built["seconds"]


def test_post_text_is_escaped(built: dict[str, Any]) -> None:
    html = built["html"]
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html.lower()


def test_pdf_has_the_headline_numbers_and_a_voice(built: dict[str, Any]) -> None:
    text = _pdf_text(built["folder"] / "report.pdf")
    wh = built["warehouse"]
    numbers = _week_sql(
        "SELECT count(*) AS posts, count(DISTINCT author_id) AS accounts FROM posts "
        "WHERE created_at >= ? AND created_at < ?",
        wh,
    ).iloc[0]
    assert f"posts {numbers['posts']:,}" in text
    assert f"accounts posting {numbers['accounts']:,}" in text
    first = wh.query(
        """SELECT v.account_id, a.display_name FROM voices v JOIN accounts a USING (account_id)
           JOIN reports r ON r.analysis_id = v.analysis_id WHERE r.week = ? ORDER BY v.rank LIMIT 1""",
        [WEEK],
    ).iloc[0]
    # Reports are pseudonymised by default: the top voice by the pseudonym of its account.
    names = pseudonyms(RunOptions(data_dir=built["data_dir"]).settings())
    assert f"1. {names.account(first['account_id'])}" in text
    assert first["display_name"] not in text
    assert "Week 2026-W47" in text


def test_csv_and_parquet_rows_equal_the_warehouse(built: dict[str, Any]) -> None:
    wh, folder = built["warehouse"], built["folder"]
    analysis_id = wh.reports()["analysis_id"].iloc[0]
    voices = wh.query("SELECT count(*) AS n FROM voices WHERE analysis_id = ?", [analysis_id])["n"].iloc[0]
    camps = wh.query("SELECT count(*) AS n FROM community_profiles WHERE analysis_id = ?", [analysis_id])
    tags = _week_sql(
        """SELECT count(DISTINCT tag) AS n FROM (SELECT unnest(f.hashtags) AS tag FROM posts p
           JOIN post_features f USING (post_id) WHERE p.created_at >= ? AND p.created_at < ?)""",
        wh,
    )
    constructive = _week_sql(
        """SELECT count(*) AS n FROM posts p JOIN tone_scores t USING (post_id)
           WHERE p.created_at >= ? AND p.created_at < ? AND p.repost_of_post_id IS NULL
             AND t.model_version = ? AND t.tone = 'constructive'""",
        wh,
        built["model_version"],
    )
    scored = _week_sql(
        """SELECT count(*) AS n FROM posts p JOIN tone_scores t USING (post_id)
           WHERE p.created_at >= ? AND p.created_at < ? AND t.model_version = ?""",
        wh,
        built["model_version"],
    )
    assert voices > 0
    assert len(pd.read_csv(folder / "voices.csv")) == voices
    assert len(pd.read_csv(folder / "camps.csv")) == camps["n"].iloc[0] > 1
    assert len(pd.read_csv(folder / "hashtags.csv")) == tags["n"].iloc[0] > 0
    assert len(pd.read_csv(folder / "top_posts.csv")) == min(50, constructive["n"].iloc[0])
    parquet = pd.read_parquet(folder / "posts.parquet")
    assert len(parquet) == scored["n"].iloc[0] == 300
    assert set(parquet["model_version"]) == {built["model_version"]}


def test_rerun_replaces_files_and_keeps_one_record(built: dict[str, Any]) -> None:
    wh, folder, data_dir = built["warehouse"], built["folder"], built["data_dir"]
    before = {p.name: p.stat().st_ino for p in folder.iterdir()}
    counts = weekly_report(WEEK, RunOptions(data_dir=data_dir))
    after = {p.name: p.stat().st_ino for p in folder.iterdir()}
    assert after.keys() == before.keys()
    assert all(after[name] != before[name] for name in before)  # new files, not edited ones
    assert [p.name for p in (data_dir / "reports").iterdir()] == [WEEK]  # no temporary folder left
    records = wh.reports()
    assert list(records["week"]) == [WEEK]
    assert records["run_id"].iloc[0] == counts["run_id"] != built["counts"]["run_id"]
    assert list(records["files"].iloc[0]) == counts["files"]
    snapshot = Warehouse(data_dir / "snapshot.duckdb").query("SELECT week, run_id FROM reports")
    assert list(snapshot["run_id"]) == [counts["run_id"]]  # the dashboard sees it at once
    built["html"] = (folder / "report.html").read_text(encoding="utf-8")


def test_a_failed_build_leaves_the_old_report(built: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.report import render

    data_dir, folder = built["data_dir"], built["folder"]
    old = (folder / "report.html").read_bytes()
    settings = RunOptions(data_dir=data_dir).settings()
    inputs = ReportInputs(
        built["warehouse"], settings, built["model_version"], "run-x", datetime(2026, 11, 30)
    )
    report = gather(inputs, parse_week(WEEK))

    def broken_pdf(html: str, path: Path) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(render, "render_pdf", broken_pdf)
    with pytest.raises(OSError, match="disk full"):
        write_report(report, data_dir / "reports")
    assert (folder / "report.html").read_bytes() == old
    assert [p.name for p in (data_dir / "reports").iterdir()] == [WEEK]


def test_a_week_without_data_says_so(built: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = built["data_dir"]
    assert main(["--data-dir", str(data_dir), "report", "--week", "2026-W30"]) == 0
    out = capsys.readouterr().out
    assert "2026-W30 has too little data (0 posts)" in out
    assert str(data_dir / "reports" / "2026-W30" / "report.pdf") in out
    html = (data_dir / "reports" / "2026-W30" / "report.html").read_text(encoding="utf-8")
    assert "Too little data this week" in html
    assert 'id="camps"' not in html and 'id="voices"' not in html
    assert "Too little data this week" in _pdf_text(data_dir / "reports" / "2026-W30" / "report.pdf")
    assert len(pd.read_csv(data_dir / "reports" / "2026-W30" / "voices.csv")) == 0
    record = built["warehouse"].query("SELECT enough_data, n_posts FROM reports WHERE week = '2026-W30'")
    assert record.to_dict("records") == [{"enough_data": False, "n_posts": 0}]


def test_bad_week_is_refused_before_anything_runs(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["report", "--week", "2026-47"])
    assert stop.value.code == 2
    assert "'2026-47' is not an ISO week: write it as YYYY-Www, e.g. 2026-W47." in capsys.readouterr().err


def test_pseudonymised_report_and_snapshot_name_nobody(
    built: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Exports are pseudonymised by default; with pseudonymize_handles the snapshot is too: no account id,
    handle, post id, post or profile link or mention of the warehouse in any file or any snapshot column."""
    shutil.copy(built["data_dir"] / "commonground.duckdb", tmp_path / "commonground.duckdb")
    monkeypatch.setenv("COMMONGROUND_PSEUDONYMIZE_HANDLES", "true")
    counts = weekly_report(WEEK, RunOptions(data_dir=tmp_path))
    folder = Path(counts["folder"])
    warehouse = Warehouse(tmp_path / "commonground.duckdb")
    exported = {
        n: (folder / n).read_text(encoding="utf-8") for n in counts["files"] if n.endswith((".html", ".csv"))
    }
    exported["report.pdf"] = _pdf_text(folder / "report.pdf")
    exported["posts.parquet"] = pd.read_parquet(folder / "posts.parquet").to_csv()
    needles = people(warehouse)
    assert len(needles) > 300
    pattern = whole_words(needles)
    for name, text in exported.items():
        assert not pattern.search(text), (name, pattern.search(text))
    assert leaks(tmp_path / "snapshot.duckdb", needles) == {}
    # The same pseudonyms as the dashboard's snapshot, from the key file made on first use.
    names = pseudonyms(RunOptions(data_dir=tmp_path).settings())
    accounts = warehouse.query("SELECT account_id FROM accounts")["account_id"]
    voices = pd.read_csv(folder / "voices.csv")
    assert set(voices["handle"]) == set(voices["account_id"]) <= {names.account(a) for a in accounts}
    snap = set(Warehouse(tmp_path / "snapshot.duckdb").query("SELECT account_id FROM accounts")["account_id"])
    assert set(voices["account_id"]) <= snap
    assert (tmp_path / "secrets" / "pseudonym.key").stat().st_mode & 0o777 == 0o600
    assert "Handles and names are pseudonyms" in exported["report.html"]


def test_weeks_and_segregation_in_words() -> None:
    assert parse_week("2026-W47").start == datetime(2026, 11, 16)
    assert parse_week("2026-W47").end == datetime(2026, 11, 23)
    assert last_complete_week(datetime(2026, 11, 23, 0, 30)) == IsoWeek(2026, 47)  # Monday: last week
    assert last_complete_week(datetime(2026, 11, 29, 23, 59)) == IsoWeek(2026, 47)
    assert parse_week("2021-W01").previous() == IsoWeek(2020, 53)
    with pytest.raises(ValueError, match="2025 has no ISO week 53"):
        parse_week("2025-W53")
    members = pd.DataFrame({"account_id": ["a", "b", "c", "d"], "camp_id": [0, 0, 1, 1]})
    # 4 of 5 endorsements stay inside; each camp holds half the ends, so chance keeps half inside.
    edges = pd.DataFrame({"src": ["a", "b", "c", "d", "a"], "dst": ["b", "a", "d", "c", "c"]})
    seg = segregation(members, edges, pd.DataFrame(columns=["measure"]))
    assert seg is not None
    assert seg["inside"] == pytest.approx(0.8) and seg["chance"] == pytest.approx(0.5)
    assert "1.6× more than chance" in seg["sentence"]
    headline = pd.DataFrame([{"measure": "headline", "value": 0.7, "baseline_mean": 0.01, "z": 530.4}])
    seg = segregation(members, edges, headline)
    assert seg is not None
    assert "modularity is 0.70, against 0.01 on random rewirings" in seg["sentence"]
    assert "far beyond their spread (z = 530.4)" in seg["sentence"]
    assert segregation(members, edges.iloc[:0], headline) is None  # no endorsements: nothing to say
