"""X through tweepy's real v2 Client and Paginator against a hand-written recent-search endpoint."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
import responses

from flows.pipeline import ingest_query
from flows.sources.common import Backoff, SourceUnavailable
from flows.sources.x import XSource
from warehouse.store import Warehouse

from .conftest import FakeX, Sleeps, counts_add_up, fixture, tweet


def source(backoff: Backoff, max_reads: int = 1_000, clock: float = 1_000_000.0) -> XSource:
    return XSource("x-bearer", max_reads=max_reads, page_size=10, backoff=backoff, clock=lambda: clock)


def test_pages_with_next_token_then_a_second_run_reads_only_newer_posts(
    http: responses.RequestsMock, warehouse: Warehouse, backoff: Backoff
) -> None:
    fake = FakeX([tweet(100 + i, minutes=i) for i in range(25)]).install(http)
    first = ingest_query(warehouse, source(backoff), "NHS", run_id="r1")
    assert (first.read, first.posts_stored) == (25, 25)
    assert [r.get("next_token") for r in fake.requests] == [None, "10", "20"]
    request = fake.requests[0]
    assert request["query"] == "#NHS"
    assert "referenced_tweets.id.author_id" in request["expansions"]
    assert "entities.mentions.username" in request["expansions"]
    assert request["auth"] == "Bearer x-bearer"
    assert warehouse.get_cursor("x", "NHS") == "124"

    fake.tweets += [tweet(200, minutes=30), tweet(201, minutes=31)]
    fake.requests.clear()
    second = ingest_query(warehouse, source(backoff), "NHS", run_id="r2")
    assert (second.read, second.posts_stored, second.duplicates) == (2, 2, 0)
    assert [r["since_id"] for r in fake.requests] == ["124"]
    assert warehouse.get_cursor("x", "NHS") == "201"
    assert warehouse.posts_read_since("x", datetime(2000, 1, 1)) == 27


def test_retweets_replies_quotes_and_mentions_become_typed_interactions(
    http: responses.RequestsMock, warehouse: Warehouse, backoff: Backoff
) -> None:
    page = fixture("x_search_recent_page.json")
    quote = tweet(
        1860000000000000004,
        author="2003",
        text="Worth reading",
        minutes=6,
        referenced_tweets=[{"type": "quoted", "id": "1860000000000000001"}],
    )
    FakeX([*page["data"], quote], extra_tweets=page["includes"]["tweets"]).install(http)
    counts = ingest_query(warehouse, source(backoff), "NHS", run_id="r1")
    assert (counts.read, counts.posts_stored) == (3, 3)
    edges = warehouse.query(
        "SELECT kind, src_account_id, dst_account_id, coalesce(target_post_id, '-') FROM interactions"
    )
    original = "x:1860000000000000001"
    assert sorted(map(tuple, edges.itertuples(index=False))) == [
        ("mention", "x:2002", "x:2001", "-"),
        ("mention", "x:2003", "x:2001", "-"),
        ("quote", "x:2003", "x:2001", original),
        ("reply", "x:2003", "x:2001", original),
        ("repost", "x:2002", "x:2001", original),
    ]
    retweet = warehouse.query(
        "SELECT text, repost_of_post_id, url FROM posts WHERE post_id = 'x:1860000000000000003'"
    )
    # The retweet keeps the full original text, not X's truncated "RT @drjane: …".
    assert retweet.loc[0, "text"].startswith("Waiting lists are down where practices share data and staff")
    assert retweet.loc[0, "url"] == "https://x.com/samcares/status/1860000000000000003"
    users = warehouse.query("SELECT handle, followers_count FROM accounts ORDER BY handle")
    assert list(users["handle"]) == ["drjane", "pm_leeds", "samcares"]
    assert users.loc[0, "followers_count"] == 1200


def test_429_waits_for_the_reset_header_and_5xx_is_retried(
    http: responses.RequestsMock, warehouse: Warehouse, backoff: Backoff, sleeps: Sleeps
) -> None:
    fake = FakeX([tweet(1)]).install(http)
    fake.fail_next(429, {"title": "Too Many Requests"}, {"x-rate-limit-reset": "1000042"})
    fake.fail_next(503, {"title": "Service Unavailable"})
    counts = ingest_query(warehouse, source(backoff, clock=1_000_000.0), "NHS", run_id="r1")
    assert counts.posts_stored == 1
    assert sleeps == [42.0, 4.0]
    assert len(fake.requests) == 3


def test_a_bad_request_is_not_retried(
    http: responses.RequestsMock, warehouse: Warehouse, backoff: Backoff
) -> None:
    fake = FakeX([tweet(1)]).install(http)
    fake.fail_next(401, {"title": "Unauthorized", "detail": "Unauthorized", "status": 401})
    with pytest.raises(SourceUnavailable, match="COMMONGROUND_X_BEARER_TOKEN"):
        ingest_query(warehouse, source(backoff), "NHS", run_id="r1")
    assert len(fake.requests) == 1


def test_the_read_cap_stops_the_run_cleanly_and_says_so(
    http: responses.RequestsMock, warehouse: Warehouse, backoff: Backoff
) -> None:
    fake = FakeX([tweet(100 + i) for i in range(40)]).install(http)
    src = source(backoff, max_reads=25)
    counts = ingest_query(warehouse, src, "NHS", run_id="r1")
    # Two pages of 10; 5 left is under the smallest page X serves, so the run stops there.
    assert [r["max_results"] for r in fake.requests] == ["10", "10"]
    assert (counts.read, counts.posts_stored) == (20, 20)
    assert src.stopped_at_cap
    assert "read cap" in src.notices[0]
    assert warehouse.posts_read_since("x", datetime(2000, 1, 1), run_id="r1") == counts.read


def test_a_capped_run_leaves_a_gap_that_the_next_run_reads_first(
    http: responses.RequestsMock, warehouse: Warehouse, backoff: Backoff
) -> None:
    fake = FakeX([tweet(100 + i, minutes=i) for i in range(40)]).install(http)
    first = source(backoff, max_reads=25)
    counts = ingest_query(warehouse, first, "NHS", run_id="r1")
    assert counts.posts_stored == 20  # the 20 newest: 139 down to 120
    assert json.loads(warehouse.get_cursor("x", "NHS") or "") == {"since_id": "139", "gaps": [[None, "120"]]}
    assert any("read first by the next run" in n for n in first.notices)

    fake.tweets += [tweet(200, minutes=50), tweet(201, minutes=51)]
    fake.requests.clear()
    second = ingest_query(warehouse, source(backoff), "NHS", run_id="r2")
    # the gap first (older than 120, nothing older to stop at), then what is newer than 139
    assert [(r.get("until_id"), r.get("since_id")) for r in fake.requests if not r.get("next_token")] == [
        ("120", None),
        (None, "139"),
    ]
    assert (second.read, second.posts_stored, second.duplicates) == (22, 22, 0)
    stored = set(warehouse.query("SELECT native_id FROM posts WHERE source = 'x'")["native_id"])
    assert stored == {str(t["id"]) for t in fake.tweets}  # nothing lost to the cap
    assert warehouse.get_cursor("x", "NHS") == "201"  # no gap left: back to a plain since_id


def test_a_cap_inside_the_gap_keeps_what_is_left_of_it(
    http: responses.RequestsMock, warehouse: Warehouse, backoff: Backoff
) -> None:
    fake = FakeX([tweet(100 + i, minutes=i) for i in range(60)]).install(http)
    ingest_query(warehouse, source(backoff, max_reads=20), "NHS", run_id="r1")  # 159..140
    ingest_query(warehouse, source(backoff, max_reads=20), "NHS", run_id="r2")  # gap: 139..120
    assert json.loads(warehouse.get_cursor("x", "NHS") or "") == {"since_id": "159", "gaps": [[None, "120"]]}
    fake.requests.clear()
    ingest_query(warehouse, source(backoff), "NHS", run_id="r3")  # the rest of the gap, then nothing new
    assert warehouse.get_cursor("x", "NHS") == "159"
    assert len(warehouse.query("SELECT native_id FROM posts WHERE source = 'x'")) == 60


def test_a_cursor_older_than_the_search_window_is_dropped_with_a_notice(
    http: responses.RequestsMock, warehouse: Warehouse, backoff: Backoff
) -> None:
    from flows.sources.x import X_EPOCH_MS, id_time

    now = 1_790_000_000.0  # 2026-09

    def snowflake(seconds_ago: float) -> int:
        return (int((now - seconds_ago) * 1000) - X_EPOCH_MS) << 22

    day = 86_400
    old, recent = snowflake(8 * day), snowflake(2 * day)
    assert abs(id_time(str(recent)) - (now - 2 * day)) < 1
    warehouse.set_cursor("x", "NHS", str(old))
    fake = FakeX([tweet(recent), tweet(recent + 1)]).install(http)
    src = source(backoff, clock=now)
    counts = ingest_query(warehouse, src, "NHS", run_id="r1")
    assert "since_id" not in fake.requests[0]  # X answers 400 to a since_id older than 7 days
    assert counts.posts_stored == 2
    assert any("7-day search window" in n for n in src.notices)
    assert warehouse.get_cursor("x", "NHS") == str(recent + 1)


def test_a_malformed_tweet_is_quarantined_and_one_without_its_author_kept(
    http: responses.RequestsMock, warehouse: Warehouse, backoff: Backoff
) -> None:
    # 2's date is not a date; 9999 is not in includes.users (withheld or suspended): its post is kept
    # with an account known only by its id.
    FakeX([tweet(1), tweet(2, created_at="not a date"), tweet(3, author="9999")]).install(http)
    counts = ingest_query(warehouse, source(backoff), "NHS", run_id="r1")
    assert (counts.read, counts.posts_stored, counts.quarantined) == (3, 2, 1)
    assert counts_add_up(counts)
    q = warehouse.query("SELECT reason, raw FROM quarantine")
    assert "created_at" in q.loc[0, "reason"]
    assert json.loads(q.loc[0, "raw"])["id"] == "2"
    stub = warehouse.query("SELECT handle, display_name FROM accounts WHERE account_id = 'x:9999'")
    assert (stub.loc[0, "handle"], stub.loc[0, "display_name"]) == ("", "unknown X account 9999")
