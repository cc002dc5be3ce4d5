"""Bluesky through atproto's real Client (login, searchPosts) against hand-written XRPC responses."""

from __future__ import annotations

import pytest

from flows.pipeline import ingest_query
from flows.sources.bluesky import BlueskySource, normalise_post_view
from flows.sources.common import Backoff, SourceUnavailable, provenance
from warehouse.store import Warehouse

from .conftest import FakeBluesky, Sleeps, counts_add_up, fixture, iso, post_view


def source(backoff: Backoff, clock: float = 1_000_000.0) -> BlueskySource:
    return BlueskySource(
        "analyst.bsky.social", "app-pass-1234", page_size=4, backoff=backoff, clock=lambda: clock
    )


def test_logs_in_pages_with_cursor_and_a_second_run_reads_only_newer_posts(
    bluesky: FakeBluesky, warehouse: Warehouse, backoff: Backoff
) -> None:
    bluesky.posts = [post_view(f"3lb{i:04d}", minutes=i) for i in range(10)]
    first = ingest_query(warehouse, source(backoff), "NHS", run_id="r1")
    assert (first.read, first.posts_stored) == (10, 10)
    assert bluesky.logins == [{"identifier": "analyst.bsky.social", "password": "app-pass-1234"}]
    assert [s.get("cursor") for s in bluesky.searches] == [None, "4", "8"]
    assert {s["q"] for s in bluesky.searches} == {"#NHS"}
    assert all(s["auth"].startswith("Bearer ") for s in bluesky.searches)
    assert warehouse.get_cursor("bluesky", "NHS") == iso(9)

    bluesky.posts.append(post_view("3lbnew1", minutes=20))
    bluesky.searches.clear()
    second = ingest_query(warehouse, source(backoff), "NHS", run_id="r2")
    # `since` is inclusive: the newest post of the first run comes back once, as a duplicate.
    assert (second.posts_stored, second.duplicates) == (1, 1)
    assert counts_add_up(second)
    assert bluesky.searches[0]["since"] == iso(9)


def test_replies_quotes_mentions_and_reposts_are_mapped(
    bluesky: FakeBluesky, warehouse: Warehouse, backoff: Backoff
) -> None:
    bluesky.posts = fixture("bluesky_search_posts.json")["posts"]
    counts = ingest_query(warehouse, source(backoff), "NHS", run_id="r1")
    assert counts.posts_stored == 2
    edges = warehouse.query(
        "SELECT kind, src_account_id, dst_account_id, coalesce(target_post_id, '-') FROM interactions"
    )
    root = "bluesky:at://did:plc:aaaa1111/app.bsky.feed.post/3lbroot0001"
    assert sorted(map(tuple, edges.itertuples(index=False))) == [
        ("mention", "bluesky:did:plc:bbbb2222", "bluesky:did:plc:aaaa1111", "-"),
        ("quote", "bluesky:did:plc:cccc3333", "bluesky:did:plc:aaaa1111", root),
        ("reply", "bluesky:did:plc:bbbb2222", "bluesky:did:plc:aaaa1111", root),
    ]
    mentioned = warehouse.query("SELECT handle FROM accounts WHERE account_id = 'bluesky:did:plc:aaaa1111'")
    assert mentioned.loc[0, "handle"] == "drjane.bsky.social"
    tags = warehouse.query("SELECT hashtags, url FROM posts WHERE native_id LIKE '%3lbreply0001'")
    assert list(tags.loc[0, "hashtags"]) == ["NHS"]
    assert tags.loc[0, "url"] == "https://bsky.app/profile/pm-leeds.bsky.social/post/3lbreply0001"

    # A feed item reposted by someone (timelines, author feeds) becomes a repost by that account.
    item = {
        "post": post_view("3lborig"),
        "reason": {
            "$type": "app.bsky.feed.defs#reasonRepost",
            "by": {"did": "did:plc:dddd4444", "handle": "nurse.bsky.social"},
            "indexedAt": iso(5),
        },
    }
    batch = normalise_post_view(item, provenance("bluesky", "NHS", "file:", "test"))
    assert batch.read == 2
    repost = batch.posts[1]
    assert (repost.author_id, repost.repost_of_post_id) == (
        "bluesky:did:plc:dddd4444",
        "bluesky:at://did:plc:aaaa1111/app.bsky.feed.post/3lborig",
    )
    assert [(i.kind.value, i.dst_account_id) for i in batch.interactions] == [
        ("repost", "bluesky:did:plc:aaaa1111")
    ]


def test_a_refused_login_says_to_use_an_app_password(
    bluesky: FakeBluesky, warehouse: Warehouse, backoff: Backoff
) -> None:
    bluesky.login_failure = FakeBluesky.error(401, "AuthenticationRequired", "Invalid identifier or password")
    with pytest.raises(SourceUnavailable, match="app password"):
        ingest_query(warehouse, source(backoff), "NHS", run_id="r1")
    assert bluesky.searches == []


@pytest.mark.parametrize(
    ("status", "error"), [(403, "Forbidden"), (400, "ExpiredToken"), (401, "InvalidToken")]
)
def test_a_refused_search_or_an_expired_session_gives_a_clear_message(
    bluesky: FakeBluesky, warehouse: Warehouse, backoff: Backoff, status: int, error: str
) -> None:
    bluesky.failures.append(
        FakeBluesky.error(status, error, "Token has expired" if "Token" in error else "no")
    )
    with pytest.raises(SourceUnavailable, match="session has expired or this account may not search"):
        ingest_query(warehouse, source(backoff), "NHS", run_id="r1")
    assert len(bluesky.searches) == 1  # not retried


def test_429_waits_for_the_reset_and_5xx_is_retried(
    bluesky: FakeBluesky, warehouse: Warehouse, backoff: Backoff, sleeps: Sleeps
) -> None:
    bluesky.posts = [post_view("3lb0001")]
    bluesky.failures += [
        FakeBluesky.error(429, "RateLimitExceeded", "slow down", {"ratelimit-reset": "1000030"}),
        FakeBluesky.error(500, "InternalServerError", "oops"),
    ]
    counts = ingest_query(warehouse, source(backoff, clock=1_000_000.0), "NHS", run_id="r1")
    assert counts.posts_stored == 1
    assert sleeps == [30.0, 4.0]


def test_a_malformed_post_is_quarantined(
    bluesky: FakeBluesky, warehouse: Warehouse, backoff: Backoff
) -> None:
    broken = post_view("3lbbad")
    del broken["author"]
    bluesky.posts = [post_view("3lb0001"), broken, post_view("3lb0002", minutes=1)]
    counts = ingest_query(warehouse, source(backoff), "NHS", run_id="r1")
    assert (counts.read, counts.posts_stored, counts.quarantined) == (3, 2, 1)
    assert counts_add_up(counts)
    assert "author" in warehouse.query("SELECT reason FROM quarantine").loc[0, "reason"]
