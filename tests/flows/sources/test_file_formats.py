"""File imports beyond commonground JSONL: CSV with a column mapping, twarc2 JSONL, Mastodon API dumps."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.pipeline import ingest_query
from flows.sources.files import FileSource, detect_format
from warehouse.store import Warehouse

from .conftest import counts_add_up

IMPORTS = Path(__file__).resolve().parents[2] / "fixtures" / "imports"
CSV_COLUMNS = {
    "id": "post id",
    "created_at": "when",
    "text": "body",
    "author_id": "user id",
    "author_handle": "user",
    "author_followers": "followers",
    "reply_to_id": "in reply to",
    "reply_to_author_id": "in reply to user",
    "hashtags": "tags",
}


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("posts.csv", "csv"), ("twarc2.jsonl", "twarc2"), ("mastodon_dump.json", "mastodon-json")],
)
def test_formats_are_told_apart(name: str, fmt: str) -> None:
    assert detect_format(IMPORTS / name) == fmt


def test_csv_rows_map_through_the_columns_and_bad_rows_are_quarantined_by_line(warehouse: Warehouse) -> None:
    src = FileSource(platform="forum", csv_columns=CSV_COLUMNS)
    counts = ingest_query(warehouse, src, str(IMPORTS / "posts.csv"), run_id="r1")
    assert (counts.read, counts.posts_stored, counts.quarantined) == (4, 2, 2)
    assert counts_add_up(counts)
    reply = warehouse.query("SELECT text, reply_to_post_id, hashtags FROM posts WHERE post_id = 'forum:c2'")
    assert (
        reply.loc[0, "text"] == "@drjane which audit?\nKeen to read it"
    )  # a quoted newline stays in the row
    assert reply.loc[0, "reply_to_post_id"] == "forum:c1"
    edges = warehouse.query("SELECT kind, src_account_id, dst_account_id FROM interactions")
    assert list(map(tuple, edges.itertuples(index=False))) == [("reply", "forum:u2", "forum:u1")]
    q = warehouse.query("SELECT line_no, reason FROM quarantine ORDER BY line_no")
    assert list(q["line_no"]) == [5, 6]  # the two-line row 2 shifts the rows after it
    assert "author.'id'" in q.loc[0, "reason"]
    assert "whole number" in q.loc[1, "reason"]


def test_csv_without_a_mapped_column_says_how_to_map_it(warehouse: Warehouse) -> None:
    with pytest.raises(ValueError, match="--column FIELD=COLUMN"):
        ingest_query(warehouse, FileSource(), str(IMPORTS / "posts.csv"), run_id="r1")


def test_twarc2_pages_and_flattened_tweets_keep_their_provenance(warehouse: Warehouse) -> None:
    counts = ingest_query(warehouse, FileSource(), str(IMPORTS / "twarc2.jsonl"), run_id="r1")
    assert (counts.read, counts.posts_stored, counts.quarantined) == (4, 3, 1)
    posts = warehouse.query("SELECT post_id, client_version, retrieved_at FROM posts ORDER BY post_id")
    assert set(posts["client_version"]) == {"twarc/2.14.0"}
    assert str(posts.loc[0, "retrieved_at"]) == "2026-11-16 10:00:00"
    edges = warehouse.query("SELECT kind, src_account_id FROM interactions WHERE dst_account_id = 'x:2001'")
    assert sorted(map(tuple, edges.itertuples(index=False))) == [
        ("mention", "x:2002"),
        ("mention", "x:2003"),
        ("mention", "x:2004"),
        ("reply", "x:2003"),
        ("reply", "x:2004"),
        ("repost", "x:2002"),
    ]
    q = warehouse.query("SELECT line_no, reason FROM quarantine")
    assert (q.loc[0, "line_no"], q.loc[0, "reason"].split(":")[0]) == (3, "line 3")


def test_a_mastodon_dump_links_replies_by_uri_and_matches_live_ids(warehouse: Warehouse) -> None:
    counts = ingest_query(warehouse, FileSource(), str(IMPORTS / "mastodon_dump.json"), run_id="r1")
    assert (counts.read, counts.posts_stored, counts.quarantined) == (3, 2, 1)
    reply = warehouse.query(
        "SELECT author_id, reply_to_post_id, text FROM posts WHERE native_id LIKE '%/555'"
    )
    assert reply.loc[0, "author_id"] == "mastodon:kim@med-mastodon.com"
    assert reply.loc[0, "reply_to_post_id"] == (
        "mastodon:https://mastodon.social/users/drjane/statuses/113500000000000001"
    )
    assert reply.loc[0, "text"] == "@drjane which practices?"
    q = warehouse.query("SELECT line_no, reason FROM quarantine")
    assert q.loc[0, "line_no"] == 123  # the line the third status of the array starts on
    assert "uri" in q.loc[0, "reason"]
