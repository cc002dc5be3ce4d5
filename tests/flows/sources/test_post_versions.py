"""A post read again: identical is a duplicate, a dated newer version an edit (newest kept, older
recorded), anything else a conflict (quarantined with both versions, first copy kept); in one file and
across runs, on real DuckDB."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pandas as pd

from flows.pipeline import ingest_query
from flows.sources.files import FileSource
from warehouse.store import UpsertCounts, Warehouse

from .conftest import counts_add_up

REAL = Path(__file__).resolve().parents[2] / "fixtures" / "real"


def _post(text: str, **extra: Any) -> dict[str, Any]:
    author = {"id": "a", "handle": "drjane", "bio": "GP", "followers": 3}
    return {
        "id": "1",
        "created_at": "2026-11-16T09:00:00Z",
        "text": text,
        "author": author,
        "platform": "t",
        **extra,
    }


def _import(warehouse: Warehouse, path: Path, lines: list[Any], run_id: str = "r1") -> UpsertCounts:
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    counts = ingest_query(warehouse, FileSource(), str(path), run_id=run_id)
    assert counts_add_up(counts), counts
    return counts


def test_a_repeat_with_other_content_and_no_edit_date_is_a_conflict(
    tmp_path: Path, warehouse: Warehouse
) -> None:
    counts = _import(
        warehouse, tmp_path / "a.jsonl", [_post("first words"), _post("other words"), _post("first words")]
    )
    assert (counts.read, counts.posts_stored, counts.conflicts, counts.duplicates) == (3, 1, 1, 1)
    assert warehouse.query("SELECT text FROM posts")["text"].tolist() == ["first words"]
    q = warehouse.query("SELECT line_no, reason, raw FROM quarantine")
    assert q.loc[0, "line_no"] == 2
    assert q.loc[0, "reason"].startswith("line 2: conflict: post 1 was read before (earlier in this file")
    assert "with other text" in q.loc[0, "reason"]
    both = json.loads(q.loc[0, "raw"])
    assert (both["kept"]["text"], both["conflicting"]["text"]) == ("first words", "other words")
    again = _import(
        warehouse, tmp_path / "a.jsonl", [_post("first words"), _post("other words")], run_id="r2"
    )
    assert (again.duplicates, again.conflicts) == (1, 1)
    assert warehouse.table_counts()["quarantine"] == 1


def test_dated_versions_keep_the_newest_in_either_order(tmp_path: Path, warehouse: Warehouse) -> None:
    old = _post("Clinic open 9-1")
    new = _post("Clinic open 9-12", edited_at="2026-11-16T09:30:00Z")
    counts = _import(warehouse, tmp_path / "a.jsonl", [new, old])  # the newer version comes first
    assert (counts.posts_stored, counts.edits, counts.duplicates, counts.conflicts) == (2, 1, 0, 0)
    assert warehouse.query("SELECT text FROM posts")["text"].tolist() == ["Clinic open 9-12"]
    assert warehouse.query("SELECT text FROM post_versions")["text"].tolist() == ["Clinic open 9-1"]
    again = _import(warehouse, tmp_path / "b.jsonl", [old, new], run_id="r2")
    assert (again.posts_stored, again.duplicates) == (0, 2)  # both versions known: nothing new
    assert warehouse.table_counts()["posts"] == 1


def test_a_mastodon_edit_in_a_later_run_replaces_the_post_and_what_came_of_it(
    tmp_path: Path, warehouse: Warehouse
) -> None:
    edited = json.loads((REAL / "mastodon/edited_status.json").read_text())
    before = copy.deepcopy(edited) | {"edited_at": None, "content": "<p>first draft @nobody</p>"}
    before["mentions"] = [
        {"id": "9", "username": "nobody", "acct": "nobody@example.org", "url": "https://example.org/@nobody"}
    ]
    first = _import(warehouse, tmp_path / "v1.jsonl", [before])
    assert (first.posts_stored, first.interactions) == (1, 1)
    post_id = warehouse.query("SELECT post_id FROM posts")["post_id"][0]
    warehouse.write_features(pd.DataFrame([{"post_id": post_id, "lang": "en", "n_words": 2}]))
    second = _import(warehouse, tmp_path / "v2.json", [edited], run_id="r2")
    assert (second.posts_stored, second.edits, second.conflicts) == (1, 1, 0)
    kept = warehouse.query("SELECT text, version_at FROM posts")
    assert (
        kept.loc[0, "text"] != "first draft @nobody"
        and str(kept.loc[0, "version_at"]) == "2023-05-28 12:09:44"
    )
    older = warehouse.query("SELECT text FROM post_versions")["text"].tolist()
    assert len(older) == 1 and older[0].endswith("first draft @nobody")  # after the content warning
    assert warehouse.table_counts()["interactions"] == 0  # the mention was in the older text only
    assert warehouse.table_counts()["post_features"] == 0  # derived again from the newest text


def test_an_x_edit_history_makes_one_post_of_its_versions(tmp_path: Path, warehouse: Warehouse) -> None:
    page = json.loads((REAL / "twarc2/quoted_edit.jsonl").read_text())
    tweet = page["data"][0]
    edit = copy.deepcopy(page)
    later = str(int(tweet["id"]) + 2**22 * 60_000)  # a snowflake id a minute later
    edit["data"][0].update(
        id=later,
        text=tweet["text"] + " (edited)",
        created_at="2022-10-03T18:01:23.000Z",
        edit_history_tweet_ids=[tweet["id"], later],
    )
    counts = _import(warehouse, tmp_path / "edits.jsonl", [page, edit])
    assert (counts.read, counts.posts_stored, counts.edits) == (2, 2, 1)
    kept = warehouse.query("SELECT post_id, text, created_at, version_at, url FROM posts")
    assert kept.loc[0, "post_id"] == f"x:{tweet['id']}" and kept.loc[0, "text"].endswith("(edited)")
    assert str(kept.loc[0, "created_at"]) == "2022-10-03 18:00:23" and kept.loc[0, "url"].endswith(later)


def test_an_unknown_author_gets_its_handle_when_it_is_seen_and_keeps_it(
    tmp_path: Path, warehouse: Warehouse
) -> None:
    page = json.loads((REAL / "twarc2/quoted_edit.jsonl").read_text())
    author = page["data"][0]["author_id"]
    without = copy.deepcopy(page)
    without["includes"]["users"] = [u for u in page["includes"]["users"] if u["id"] != author]
    _import(warehouse, tmp_path / "a.jsonl", [without])
    handle = "SELECT handle FROM accounts WHERE account_id = ?"
    assert warehouse.query(handle, [f"x:{author}"])["handle"][0] == ""
    _import(warehouse, tmp_path / "b.jsonl", [page], run_id="r2")
    known = warehouse.query(handle, [f"x:{author}"])["handle"][0]
    assert known
    _import(warehouse, tmp_path / "c.jsonl", [without], run_id="r3")
    assert warehouse.query(handle, [f"x:{author}"])["handle"][0] == known
