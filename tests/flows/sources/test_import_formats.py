"""Every import format from real recorded payloads (tests/fixtures/real) and from payloads written in the
APIs' documented shapes (tests/fixtures/written): exact counts, interactions and timestamps, real DuckDB."""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path

import pytest
import zstandard

from flows.pipeline import ingest_query
from flows.sources.files import FileSource
from flows.sources.formats import DESCRIPTIONS, FORMATS, detect_format
from warehouse.settings import ImportFormat
from warehouse.store import UpsertCounts, Warehouse

from .conftest import counts_add_up

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
REAL, WRITTEN = FIXTURES / "real", FIXTURES / "written"


def imported(warehouse: Warehouse, path: Path, run_id: str = "r1", **options: str) -> UpsertCounts:
    counts = ingest_query(warehouse, FileSource(**options), str(path), run_id=run_id)  # type: ignore[arg-type]
    assert counts_add_up(counts), counts
    return counts


def counted(c: UpsertCounts) -> tuple[int, int, int, int, int, int]:
    """(read, stored, duplicates, conflicts, quarantined, edits)"""
    return c.read, c.posts_stored, c.duplicates, c.conflicts, c.quarantined, c.edits


def edges(warehouse: Warehouse) -> dict[str, int]:
    frame = warehouse.query("SELECT kind, count(*) AS n FROM interactions GROUP BY kind")
    return dict(zip(frame["kind"], frame["n"], strict=True))


def post(warehouse: Warehouse, post_id: str) -> dict[str, object]:
    frame = warehouse.query("SELECT * FROM posts WHERE post_id = ?", [post_id])
    assert len(frame) == 1, f"{post_id} not stored"
    return dict(frame.iloc[0])


@pytest.mark.parametrize(
    ("path", "fmt"),
    [
        (REAL / "twarc2/withheld_page_excerpt.jsonl", "twarc2"),
        (REAL / "twarc2/flat_excerpt.jsonl", "twarc2"),
        (REAL / "twarc2/stream_excerpt.jsonl", "twarc2"),
        (REAL / "mastodon/hashtag_fosstodon.json", "mastodon-json"),
        (REAL / "mastodon/hashtag_mastodon_social.jsonl", "mastodon-json"),
        (REAL / "mastodon/context_thread_excerpt.json", "mastodon-json"),
        (REAL / "mastodon/edited_status.json", "mastodon-json"),
        (REAL / "bluesky/thread_view_post_with_embed_media.json", "bluesky"),
        (WRITTEN / "x_v1/tweets.jsonl", "x-v1"),
        (WRITTEN / "x_v1/search_tweets.json", "x-v1"),
        (WRITTEN / "bluesky/get_author_feed.json", "bluesky"),
        (WRITTEN / "bluesky/get_post_thread.json", "bluesky"),
        (WRITTEN / "bluesky/post_views.jsonl", "bluesky"),
        (FIXTURES / "sources/bluesky_search_posts.json", "bluesky"),
        (WRITTEN / "reddit/doctorsuk_sample.ndjson", "reddit"),
        (WRITTEN / "csv/tweets_uk_dates.csv", "csv"),
    ],
)
def test_formats_are_told_apart_by_content(path: Path, fmt: str, tmp_path: Path) -> None:
    assert detect_format(path) == fmt
    renamed = tmp_path / "export.txt"  # the name says nothing: the content does
    renamed.write_bytes(path.read_bytes())
    assert detect_format(renamed) == fmt


def test_the_format_lists_agree() -> None:
    assert ImportFormat.__args__ == FORMATS  # type: ignore[attr-defined]
    assert set(DESCRIPTIONS) == set(FORMATS)


def test_twarc2_page_with_withheld_authors_keeps_every_post(warehouse: Warehouse) -> None:
    counts = imported(warehouse, REAL / "twarc2/withheld_page_excerpt.jsonl")
    assert counted(counts) == (6, 6, 0, 0, 0, 0)
    assert edges(warehouse) == {"repost": 6}
    stubs = warehouse.query("SELECT account_id, handle, display_name FROM accounts WHERE handle = ''")
    assert sorted(stubs["account_id"]) == [
        "x:1228027987439702016",
        "x:1257335293415432193",
        "x:1358082450635829249",
    ]
    withheld = post(warehouse, "x:1404392948771561479")
    assert withheld["author_id"] == "x:1257335293415432193"
    assert withheld["created_at"] == datetime(2021, 6, 14, 10, 59, 6)
    assert withheld["url"] == "https://x.com/i/status/1404392948771561479"


def test_twarc2_stream_lines_hold_one_tweet_each(warehouse: Warehouse) -> None:
    counts = imported(warehouse, REAL / "twarc2/stream_excerpt.jsonl")
    assert counted(counts) == (4, 3, 0, 0, 1, 0)
    assert edges(warehouse) == {"mention": 2, "reply": 2}
    reply = post(warehouse, "x:1377650093109743620")
    assert reply["created_at"] == datetime(2021, 4, 1, 15, 52, 32)
    assert reply["client_version"].startswith("twarc/")
    q = warehouse.query("SELECT line_no, reason FROM quarantine")
    assert (q.loc[0, "line_no"], q.loc[0, "reason"]) == (
        4,
        "line 4: invalid JSON: Expecting ',' delimiter at column 45",
    )


def test_twarc2_flattened_and_edit_history(warehouse: Warehouse) -> None:
    assert counted(imported(warehouse, REAL / "twarc2/flat_excerpt.jsonl")) == (3, 3, 0, 0, 0, 0)
    assert edges(warehouse) == {"mention": 3, "reply": 1, "repost": 1}
    assert counted(imported(warehouse, REAL / "twarc2/quoted_edit.jsonl")) == (1, 1, 0, 0, 0, 0)
    quoting = post(warehouse, "x:1576995594388000768")
    assert quoting["version_at"] == quoting["created_at"] == datetime(2022, 10, 3, 18, 0, 23)
    assert quoting["quote_of_post_id"] is not None and quoting["reply_to_post_id"] is not None
    assert edges(warehouse) == {"mention": 4, "reply": 2, "repost": 1, "quote": 1}


def test_x_v1_tweets_nest_retweets_and_quotes_and_keep_full_text(warehouse: Warehouse) -> None:
    counts = imported(warehouse, WRITTEN / "x_v1/tweets.jsonl")
    # 7 lines: the retweet and the quote each carry a whole second tweet (9 read); the retweeted
    # tweet is line 1 again (a duplicate); line 6 edits line 5; line 7's date is not a date.
    assert counted(counts) == (9, 7, 1, 0, 1, 1)
    assert edges(warehouse) == {"mention": 3, "reply": 1, "repost": 1, "quote": 1}
    first = post(warehouse, "x:522476213435179008")
    assert first["created_at"] == datetime(2014, 10, 12, 18, 32, 49)  # Sun Oct 12 18:32:49 +0000 2014
    assert len(first["text"]) > 140 and first["hashtags"].tolist() == ["NHS"]
    retweet = post(warehouse, "x:522490000000000002")
    assert retweet["repost_of_post_id"] == "x:522476213435179008" and retweet["text"] == first["text"]
    quote = post(warehouse, "x:522700000000000004")
    assert quote["text"].endswith("what worked for us #GP")  # extended_tweet.full_text, not the cut text
    assert quote["quote_of_post_id"] == "x:522400000000000003"
    edited = post(warehouse, "x:1600000000000000000")  # the edit is kept under the first id of its history
    assert edited["text"].startswith("Flu clinic this Saturday 9-1")
    assert edited["url"].endswith("/status/1600000500000000000")
    assert warehouse.query("SELECT text FROM post_versions")["text"].tolist() == [
        "Flu clinic this Saturday at the surgery, no appointment needed #NHS"
    ]


def test_x_v1_search_response_pretty_printed(warehouse: Warehouse) -> None:
    assert counted(imported(warehouse, WRITTEN / "x_v1/search_tweets.json")) == (2, 2, 0, 0, 0, 0)
    assert edges(warehouse) == {"mention": 2, "reply": 1}


def test_bluesky_feed_thread_search_and_post_view_lines(warehouse: Warehouse) -> None:
    assert counted(imported(warehouse, WRITTEN / "bluesky/get_author_feed.json")) == (4, 4, 0, 0, 0, 0)
    assert edges(warehouse) == {"mention": 1, "reply": 1, "repost": 1, "quote": 1}
    thread = imported(warehouse, WRITTEN / "bluesky/get_post_thread.json", run_id="r2")
    assert counted(thread) == (4, 1, 2, 0, 1, 0)  # parent and post known from the feed; one not found
    q = warehouse.query("SELECT line_no, reason FROM quarantine")
    assert q.loc[0, "line_no"] == 1 and "returned it as not found (deleted)" in q.loc[0, "reason"]
    carol = post(warehouse, "bluesky:at://did:plc:carolpm00000000000000c/app.bsky.feed.post/3l2carolrep4a")
    assert carol["created_at"] == datetime(2024, 9, 2, 10, 0)  # 11:00+01:00 stored in UTC
    views = imported(warehouse, WRITTEN / "bluesky/post_views.jsonl", run_id="r3")
    assert counted(views) == (3, 1, 2, 0, 0, 1)  # the third line is a later record of the first post
    root = post(warehouse, "bluesky:at://did:plc:bobnurse0000000000000b/app.bsky.feed.post/3l2bobroot00a")
    assert "Retention is up 12%" in str(root["text"])
    search = imported(warehouse, FIXTURES / "sources/bluesky_search_posts.json", run_id="r4")
    assert counted(search) == (2, 2, 0, 0, 0, 0)


def test_bluesky_real_thread_response(warehouse: Warehouse) -> None:
    assert counted(imported(warehouse, REAL / "bluesky/thread_view_post_with_embed_media.json")) == (
        1,
        1,
        0,
        0,
        0,
        0,
    )
    only = warehouse.query("SELECT created_at, quote_of_post_id FROM posts")
    assert only.loc[0, "created_at"] == datetime(2023, 9, 28, 12, 49, 36, 735000)
    assert str(only.loc[0, "quote_of_post_id"]).endswith("/app.bsky.feed.post/3kahesw26il2z")


def test_mastodon_dumps_from_two_instances_are_one_conversation(warehouse: Warehouse) -> None:
    assert counted(imported(warehouse, REAL / "mastodon/hashtag_fosstodon.json")) == (2, 2, 0, 0, 0, 0)
    # The same statuses through mastodon.social (other ids, times cut to the second elsewhere).
    again = imported(warehouse, REAL / "mastodon/hashtag_mastodon_social.jsonl", run_id="r2")
    assert counted(again) == (2, 0, 2, 0, 0, 0)
    context = imported(warehouse, REAL / "mastodon/context_thread_excerpt.json", run_id="r3")
    assert counted(context) == (3, 3, 0, 0, 0, 0)
    assert edges(warehouse) == {"mention": 9, "reply": 3}
    reply = warehouse.query(
        "SELECT reply_to_post_id FROM posts WHERE author_id = 'mastodon:austinkocher@mastodon.social'"
    )
    assert reply.loc[0, "reply_to_post_id"].startswith("mastodon:https://mastodon.social/users/ginevra/")
    for name, shape in (
        ("context_mastodon_social.json", (2, 2)),
        ("quote_status.json", (2, 2)),
        ("reblog_status.json", (2, 2)),
    ):
        assert counted(imported(warehouse, REAL / "mastodon" / name, run_id=name))[:2] == shape


def test_reddit_dump_threads_by_parent_and_keeps_the_subreddit(warehouse: Warehouse, tmp_path: Path) -> None:
    counts = imported(warehouse, WRITTEN / "reddit/doctorsuk_sample.ndjson")
    assert counted(counts) == (7, 6, 0, 0, 1, 1)  # line 5 edits line 4; line 7 has no time
    assert edges(warehouse) == {"mention": 1, "reply": 4}
    posts = warehouse.query("SELECT DISTINCT source FROM posts UNION SELECT DISTINCT source FROM accounts")
    assert posts["source"].tolist() == ["reddit"]
    comment = post(warehouse, "reddit:t1_lkx0001")
    assert comment["reply_to_post_id"] == "reddit:t3_1f7abcd" and comment["hashtags"].tolist() == [
        "doctorsUK"
    ]
    assert comment["created_at"] == datetime(2024, 9, 2, 8, 50)
    assert post(warehouse, "reddit:t1_lkx0003")["text"] == "Happy to share the pilot write-up, DM me"
    deleted = post(warehouse, "reddit:t1_lkx0002")
    assert deleted["author_id"] == "reddit:[deleted]/t1_lkx0002"  # unknown, and nobody else's
    # Pushshift and Arctic Shift publish dumps compressed: the same file as .zst and .gz reads the same.
    raw = (WRITTEN / "reddit/doctorsuk_sample.ndjson").read_bytes()
    (tmp_path / "RC_2024-09.zst").write_bytes(zstandard.ZstdCompressor().compress(raw))
    (tmp_path / "RC_2024-09.ndjson.gz").write_bytes(gzip.compress(raw))
    for name in ("RC_2024-09.zst", "RC_2024-09.ndjson.gz"):
        assert detect_format(tmp_path / name) == "reddit"
        assert counted(imported(warehouse, tmp_path / name, run_id=name)) == (7, 0, 6, 0, 1, 0)


def test_csv_dates_need_their_layout_and_ids_come_from_handles(warehouse: Warehouse) -> None:
    path = WRITTEN / "csv/tweets_uk_dates.csv"
    refused = imported(warehouse, path)
    assert counted(refused) == (3, 0, 0, 0, 3, 0)
    assert "--date-format '%d/%m/%y %H:%M'" in warehouse.query("SELECT reason FROM quarantine")["reason"][0]
    counts = imported(warehouse, path, run_id="r2", date_format="%d/%m/%y %H:%M", platform="x")
    assert counted(counts) == (3, 3, 0, 0, 0, 0)
    first = post(warehouse, "x:420000000000000001")
    assert first["created_at"] == datetime(2014, 1, 6, 9, 12) and first["author_id"] == "x:drjane"
    assert post(warehouse, "x:420000000000000003")["author_id"] == "x:drjane"  # DrJane and drjane: one person
    assert post(warehouse, "x:420000000000000002")["reply_to_post_id"] == "x:420000000000000001"


def test_json_arrays_pretty_documents_and_lines_read_the_same(warehouse: Warehouse, tmp_path: Path) -> None:
    statuses = json.loads((REAL / "mastodon/hashtag_fosstodon.json").read_text())
    shapes = {
        "array.json": json.dumps(statuses),
        "pretty.json": "\n".join(json.dumps(s, indent=4) for s in statuses),
        "lines.jsonl": "\n".join(json.dumps(s) for s in statuses),
    }
    for name, text in shapes.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        assert detect_format(tmp_path / name) == "mastodon-json"
        expected = (2, 2, 0, 0, 0, 0) if name == "array.json" else (2, 0, 2, 0, 0, 0)
        assert counted(imported(warehouse, tmp_path / name, run_id=name)) == expected
