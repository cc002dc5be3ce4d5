"""The JSONL file source: normalising, quarantining bad lines, idempotent upserts into real DuckDB."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flows.pipeline import ingest_query
from flows.sources.files import FileSource
from warehouse.records import InteractionKind
from warehouse.store import Warehouse


def _post(pid: str, author: str, text: str = "Some words about #NHS", **extra: object) -> dict:
    return {
        "id": pid,
        "created_at": "2026-11-16T09:00:00Z",
        "text": text,
        "author": {"id": author, "handle": f"h{author}", "bio": "GP in Leeds", "followers": 10},
        "platform": "t",
        **extra,
    }


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    wh = Warehouse(tmp_path / "wh.duckdb")
    wh.init()
    return wh


def test_interactions_are_typed_and_point_at_the_right_accounts(tmp_path: Path, warehouse: Warehouse) -> None:
    lines = [
        json.dumps(_post("1", "a")),
        json.dumps(
            _post(
                "2",
                "b",
                "Agree @ha",
                reply_to={"id": "1", "author_id": "a"},
                mentions=[{"id": "a", "handle": "ha"}],
            )
        ),
        json.dumps(_post("3", "c", "Some words about #NHS", repost_of={"id": "1", "author_id": "a"})),
        json.dumps(_post("4", "d", "Worth reading", quote_of={"id": "1", "author_id": "a"})),
    ]
    path = _write(tmp_path / "in.jsonl", lines)
    counts = ingest_query(warehouse, FileSource(), str(path), run_id="r1")
    assert (counts.read, counts.posts_stored, counts.quarantined, counts.duplicates) == (4, 4, 0, 0)
    edges = warehouse.query(
        "SELECT kind, src_account_id, dst_account_id, coalesce(target_post_id, '-') FROM interactions"
    )
    got = sorted(map(tuple, edges.itertuples(index=False)))
    assert got == sorted(
        [
            (InteractionKind.REPLY.value, "t:b", "t:a", "t:1"),
            (InteractionKind.MENTION.value, "t:b", "t:a", "-"),
            (InteractionKind.REPOST.value, "t:c", "t:a", "t:1"),
            (InteractionKind.QUOTE.value, "t:d", "t:a", "t:1"),
        ]
    )
    prov = warehouse.query(
        "SELECT source, query, client_version, retrieved_at, raw FROM posts WHERE post_id='t:2'"
    )
    assert prov.loc[0, "query"] == str(path)
    assert prov.loc[0, "client_version"].startswith("commonground-jsonl/")
    assert json.loads(prov.loc[0, "raw"])["reply_to"]["id"] == "1"


def test_bad_lines_are_quarantined_with_reason_and_the_run_goes_on(
    tmp_path: Path, warehouse: Warehouse
) -> None:
    good = [json.dumps(_post(str(i), f"u{i}")) for i in range(5)]
    bad = [
        "{not json",
        json.dumps({"id": "x", "text": "no author", "created_at": "2026-11-16T09:00:00Z"}),
        json.dumps(_post("y", "u9") | {"created_at": "yesterday"}),
        "[1, 2, 3]",
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(("\n".join(good[:2] + bad + good[2:]) + "\n").encode() + b'{"id": "\xff\xfe"}\n')
    counts = ingest_query(warehouse, FileSource(), str(path), run_id="r1")
    assert counts.read == 10
    assert counts.posts_stored == 5
    assert counts.quarantined == 5
    assert counts.posts_stored + counts.quarantined + counts.duplicates == counts.read
    q = warehouse.query("SELECT line_no, reason, raw FROM quarantine ORDER BY line_no")
    assert list(q["line_no"]) == [3, 4, 5, 6, 10]
    assert "invalid JSON" in q.loc[0, "reason"]
    assert "author" in q.loc[1, "reason"]
    assert "created_at" in q.loc[2, "reason"]
    assert "JSON object" in q.loc[3, "reason"]
    assert "UTF-8" in q.loc[4, "reason"]
    assert q.loc[0, "raw"] == "{not json"


def test_reingesting_never_duplicates(tmp_path: Path, warehouse: Warehouse) -> None:
    lines = [json.dumps(_post(str(i), f"u{i % 3}", mentions=[{"id": "m", "handle": "hm"}])) for i in range(6)]
    lines.append("broken")
    path = _write(tmp_path / "in.jsonl", lines)
    first = ingest_query(warehouse, FileSource(), str(path), run_id="r1")
    before = warehouse.table_counts()
    second = ingest_query(warehouse, FileSource(), str(path), run_id="r2")
    assert warehouse.table_counts() == before
    assert (first.posts_stored, second.posts_stored, second.duplicates, second.quarantined) == (6, 0, 6, 1)


def test_duplicate_lines_in_one_batch_are_counted_once(tmp_path: Path, warehouse: Warehouse) -> None:
    line = json.dumps(_post("1", "a"))
    path = _write(tmp_path / "dup.jsonl", [line, line, line])
    counts = ingest_query(warehouse, FileSource(), str(path), run_id="r1")
    assert (counts.read, counts.posts_stored, counts.duplicates) == (3, 1, 2)
    assert warehouse.table_counts()["posts"] == 1


def test_a_mention_stub_never_overwrites_a_full_profile(tmp_path: Path, warehouse: Warehouse) -> None:
    lines = [
        json.dumps(_post("1", "a")),
        json.dumps(_post("2", "b", "hello @ha", mentions=[{"id": "a", "handle": "ha"}])),
    ]
    ingest_query(warehouse, FileSource(), str(_write(tmp_path / "in.jsonl", lines)), run_id="r1")
    row = warehouse.query("SELECT bio, followers_count FROM accounts WHERE account_id = 't:a'")
    assert (row.loc[0, "bio"], row.loc[0, "followers_count"]) == ("GP in Leeds", 10)


def test_missing_file_says_what_to_do(tmp_path: Path, warehouse: Warehouse) -> None:
    with pytest.raises(FileNotFoundError, match="COMMONGROUND_IMPORT_PATHS"):
        ingest_query(warehouse, FileSource(), str(tmp_path / "nope.jsonl"), run_id="r1")
