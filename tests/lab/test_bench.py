"""The bench's cheap sections end to end through the CLI, and the large sample generator, at test sizes."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

import lab.network.bench as network_bench
from flows.cli import main
from flows.pipeline import ingest_query, make_source, open_warehouse
from flows.sources.jsonl import normalise_post
from lab.cpu_limit import flops_per_text
from lab.dashboard.bench import query_calls, time_calls
from lab.pipeline.bench import SizeRun, StageRun, growth_exponent, project, summarise, timed_process
from lab.pipeline.standin import fill
from lab.sample.scale import write_large
from warehouse.records import Provenance
from warehouse.settings import Settings
from warehouse.store import Warehouse

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("large")
    return out, write_large(out, n_posts=3_000, n_accounts=600, seed=11, shard_posts=1_000)


def _posts(folder: Path) -> list[dict]:
    return [
        json.loads(line) for line in (folder / "conversation.jsonl").read_text(encoding="utf-8").splitlines()
    ]


def test_large_sample_is_one_structured_conversation_with_distinct_texts(large: tuple[Path, dict]) -> None:
    folder, stats = large
    posts = _posts(folder)
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    assert stats["posts"] == len(posts) == 3_000 and stats["shards"] == 3
    assert abs(stats["accounts"] - 600) <= 10 and len({p["author"]["id"] for p in posts}) == stats["accounts"]
    ids = [p["id"] for p in posts]
    assert len(set(ids)) == len(ids)
    seen: set[str] = set()
    for p in posts:  # every reference is to a post written earlier, by the author it names
        for ref in ("reply_to", "quote_of", "repost_of"):
            if ref in p:
                assert p[ref]["id"] in seen
        seen.add(p["id"])
    by_id = {p["id"]: p for p in posts}
    originals = [p["text"] for p in posts if "repost_of" not in p]
    assert stats["distinct_non_repost_text_share"] == round(len(set(originals)) / len(originals), 4) >= 0.999
    assert all(p["text"] == by_id[p["repost_of"]["id"]]["text"] for p in posts if "repost_of" in p)
    assert 0.25 < stats["repost_share"] < 0.4 and stats["cross_shard_reposts"] > 50
    # The national newsdesks are the same accounts in every shard; handles are unique overall.
    roles = Counter(a["role"] for a in truth["accounts"].values())
    assert roles["newsdesk"] == len(_newsdesk_handles(posts, truth)) == 4  # not 4 per shard
    handles = {p["author"]["id"]: p["author"]["handle"] for p in posts}
    assert len(set(handles.values())) == len(handles)
    # Regulars still endorse their own camp: the camp structure holds across shards.
    camp = {a: info["camp"] for a, info in truth["accounts"].items()}
    inside = [
        camp[p["author"]["id"]] == camp[p[k]["author_id"]]
        for p in posts
        for k in ("repost_of", "quote_of")
        if k in p and truth["accounts"][p["author"]["id"]]["role"] == "regular"
    ]
    assert sum(inside) / len(inside) > 0.85
    tones = (folder / "truth_posts.tsv").read_text(encoding="utf-8").splitlines()
    assert len(tones) == 3_000 and sum(stats["tones"].values()) == 3_000


def _newsdesk_handles(posts: list[dict], truth: dict) -> set[str]:
    return {
        p["author"]["handle"] for p in posts if truth["accounts"][p["author"]["id"]]["role"] == "newsdesk"
    }


def test_large_sample_is_seeded_and_every_post_normalises(large: tuple[Path, dict], tmp_path: Path) -> None:
    folder, _ = large
    again = write_large(tmp_path, n_posts=3_000, n_accounts=600, seed=11, shard_posts=1_000)
    assert (tmp_path / "conversation.jsonl").read_bytes() == (folder / "conversation.jsonl").read_bytes()
    assert again["posts"] == 3_000
    prov = Provenance("file", "q", "file:///x", "test", datetime(2026, 11, 29))
    for post in _posts(folder)[::20]:
        batch = normalise_post(post, default_platform="sample", provenance=prov)
        assert len(batch.posts) == 1 and not batch.quarantined


def test_bench_smoke_prints_a_table_and_writes_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        network_bench, "QUICK", {"n_accounts": 1_000, "n_interactions": 10_000, "n_rewirings": 2}
    )
    out = tmp_path / "bench.json"
    assert main(["--data-dir", str(tmp_path / "data"), "bench", "--smoke", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    report = json.loads(out.read_text(encoding="utf-8"))
    assert set(report["sections"]) == {"ingest", "network"} and report["quick"] is True
    ingest = report["sections"]["ingest"]["lines"]
    ratio = next(float(line.split()[1]) for line in ingest if line.startswith("ratio: "))
    assert ratio > 1  # batched upserts beat one INSERT per row
    assert any(
        line.startswith("network at 1,000 interactions: ") for line in report["sections"]["network"]["lines"]
    )
    assert "section" in printed and "upsert_batch" in printed and f"wrote {out}" in printed


def test_growth_exponent_summary_and_projection(tmp_path: Path) -> None:
    assert growth_exponent(10_000, 2.0, 100_000, 20.0) == pytest.approx(1.0)
    assert growth_exponent(10_000, 1.0, 100_000, 100.0) == pytest.approx(2.0)
    log = tmp_path / "x.log"
    runs = [
        SizeRun(
            n,
            [StageRun(s, t * n / 1_000, 2**20 * n // 100, 0, log) for s, t in (("ingest", 1), ("enrich", 2))],
        )
        for n in (1_000, 10_000)
    ]
    lines, rows = summarise(runs)
    assert (
        lines[0].startswith("1,000 posts: 3.0 s")
        and "growth exponent 1,000 → 10,000: ingest 1.00" in lines[-1]
    )
    assert {"posts": 10_000, "from_posts": 1_000, "stage": "total", "exponent": 1.0} in rows
    assert project(runs, 1_000_000)[0].startswith("PROJECTION (not run) for 1,000,000 posts")
    assert "0.8 h (ingest 0.3 h, enrich 0.6 h)" in project(runs, 1_000_000)[0]  # 1 and 2 s per 1,000 posts


def test_flops_per_text_counts_projections_feed_forward_and_attention() -> None:
    # MiniLM-L6 at 10 tokens: 6 layers x 10 tokens x (8·384² + 4·384·1536 + 4·10·384)
    assert flops_per_text([10], 6, 384, 1536) == 6 * 10 * (8 * 384**2 + 4 * 384 * 1536 + 4 * 10 * 384)
    assert flops_per_text([10, 30], 6, 384, 1536) > flops_per_text(
        [20], 6, 384, 1536
    )  # attention is quadratic
    assert flops_per_text([], 6, 384, 1536) == 0.0


def test_timed_process_reports_its_own_peak_memory_and_exit_status(tmp_path: Path) -> None:
    grow = timed_process("grow", [sys.executable, "-c", "x = bytearray(200 * 2**20)"], tmp_path / "a.log", {})
    small = timed_process("fail", [sys.executable, "-c", "raise SystemExit(3)"], tmp_path / "b.log", {})
    assert grow.rc == 0 and grow.peak_bytes > 200 * 2**20
    assert small.rc == 3 and small.peak_bytes < grow.peak_bytes


def test_dashboard_bench_times_every_query(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "dashboard_fixtures", ROOT / "tests" / "dashboard" / "conftest.py"
    )
    assert spec is not None and spec.loader is not None
    fixtures = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fixtures)
    fixtures._build(tmp_path / "warehouse.duckdb")
    snapshot = Warehouse(tmp_path / "warehouse.duckdb").publish(tmp_path / "snapshot.duckdb")
    timings = time_calls(query_calls(snapshot), repeats=1)
    assert {"voices", "search_posts (text)", "network_map", "post_thread"} <= set(timings)
    assert all(0 < p50 <= p95 for p50, p95 in timings.values())


def test_the_enrich_stand_in_fills_every_post_with_its_planted_tone_once(
    large: tuple[Path, dict], tmp_path: Path
) -> None:
    folder, _ = large
    posts = _posts(folder)[:600]
    lines = (folder / "conversation.jsonl").read_text(encoding="utf-8").splitlines()[:600]
    (tmp_path / "600.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    settings = Settings(data_dir=tmp_path, import_paths=[tmp_path / "600.jsonl"])
    warehouse = open_warehouse(settings)
    ingest_query(warehouse, make_source("file", settings), str(tmp_path / "600.jsonl"), "run")
    counts = fill(warehouse.path, folder / "truth_posts.tsv", "minilm-test")
    assert counts["features"] == counts["tone_scores"] == 600
    assert fill(warehouse.path, folder / "truth_posts.tsv", "minilm-test")["features"] == 0  # nothing new
    planted = dict(line.split("\t") for line in (folder / "truth_posts.tsv").read_text().splitlines())
    stored = warehouse.query("SELECT p.native_id, t.tone FROM posts p JOIN tone_scores t USING (post_id)")
    assert dict(zip(stored["native_id"], stored["tone"], strict=True)) == {
        p["id"]: planted[p["id"]] for p in posts
    }
    features = warehouse.query("SELECT hashtags, key_terms FROM post_features")
    assert sum(map(len, features["hashtags"])) > 600 and sum(len(k) > 0 for k in features["key_terms"]) > 590
