"""Mastodon through the real Mastodon.py against hand-written hashtag timelines of several instances."""

from __future__ import annotations

import json

import pytest
import responses

from flows.pipeline import ingest_query
from flows.sources.common import Backoff, RateLimiter, html_to_text
from flows.sources.mastodon import MastodonSource
from warehouse.store import Warehouse

from .conftest import FakeMastodon, Sleeps, counts_add_up, mastodon_status


def source(instances: list[str], backoff: Backoff, **kwargs: object) -> MastodonSource:
    return MastodonSource(instances, page_size=3, backoff=backoff, sleep=backoff.sleep, **kwargs)  # type: ignore[arg-type]


def test_pages_down_with_max_id_then_a_second_run_reads_only_newer_statuses(
    http: responses.RequestsMock, warehouse: Warehouse, backoff: Backoff
) -> None:
    fake = FakeMastodon("mastodon.social", [mastodon_status(i, minutes=i) for i in range(1, 10)]).install(
        http
    )
    first = ingest_query(warehouse, source(["mastodon.social"], backoff), "NHS", run_id="r1")
    assert (first.read, first.posts_stored) == (9, 9)
    assert [r.get("max_id") for r in fake.requests] == [None, "7", "4", "1"]  # 3 pages, then an empty one
    assert json.loads(warehouse.get_cursor("mastodon", "NHS") or "") == {"mastodon.social": "9"}

    # Later runs page forward from the cursor with min_id; one cut short by max_pages leaves no gap.
    fake.statuses += [mastodon_status(i, minutes=i) for i in range(10, 15)]
    fake.requests.clear()
    second = ingest_query(warehouse, source(["mastodon.social"], backoff, max_pages=1), "NHS", run_id="r2")
    assert (second.read, second.posts_stored, second.duplicates) == (3, 3, 0)
    assert [r["min_id"] for r in fake.requests] == ["9"]
    assert json.loads(warehouse.get_cursor("mastodon", "NHS") or "") == {"mastodon.social": "12"}
    fake.requests.clear()
    third = ingest_query(warehouse, source(["mastodon.social"], backoff), "NHS", run_id="r3")
    assert (third.read, third.posts_stored, third.duplicates) == (2, 2, 0)
    assert [r["min_id"] for r in fake.requests] == ["12", "14"]
    assert warehouse.table_counts()["posts"] == 14
    row = warehouse.query("SELECT text, hashtags, source_url, client_version FROM posts ORDER BY created_at")
    assert row.loc[0, "text"] == "Waiting lists are down where practices share data #NHS"
    assert list(row.loc[0, "hashtags"]) == ["nhs"]
    assert row.loc[0, "source_url"].startswith("https://mastodon.social/api/v1/timelines/tag/NHS?")
    assert row.loc[0, "client_version"].startswith("Mastodon.py/")


def test_one_status_through_two_instances_is_stored_once_and_boosts_replies_mentions_are_typed(
    http: responses.RequestsMock, warehouse: Warehouse, backoff: Backoff
) -> None:
    original = mastodon_status(100, text="Share the data")
    # The same status as a second instance federates it: its own local id, the same URI.
    federated = mastodon_status(7001, seen_on="mstdn.science", native_id=100, text="Share the data")
    mention = {"id": "5", "username": "drjane", "url": "https://mastodon.social/@drjane", "acct": "drjane"}
    reply = mastodon_status(
        101,
        user="pm",
        text="Which practices?",
        minutes=2,
        in_reply_to_id="100",
        in_reply_to_account_id=original["account"]["id"],
        mentions=[mention | {"id": original["account"]["id"]}],
    )
    boost = mastodon_status(
        7002, seen_on="mstdn.science", home="mstdn.science", user="sam", text="", minutes=3, reblog=federated
    )
    boost["uri"] += "/activity"
    FakeMastodon("mastodon.social", [original, reply]).install(http)
    FakeMastodon("mstdn.science", [federated, boost]).install(http)

    counts = ingest_query(
        warehouse, source(["mastodon.social", "mstdn.science"], backoff), "NHS", run_id="r1"
    )
    # read: 2 on the first instance; the federated copy, the boost and the boosted status on the second.
    assert (counts.read, counts.posts_stored, counts.duplicates) == (5, 3, 2)
    assert counts_add_up(counts)
    assert warehouse.table_counts()["posts"] == 3
    edges = warehouse.query(
        "SELECT kind, src_account_id, dst_account_id, coalesce(target_post_id, '-') FROM interactions"
    )
    got = sorted(map(tuple, edges.itertuples(index=False)))
    uri = "mastodon:https://mastodon.social/users/drjane/statuses/100"
    assert got == [
        ("mention", "mastodon:pm@mastodon.social", "mastodon:drjane@mastodon.social", "-"),
        ("reply", "mastodon:pm@mastodon.social", "mastodon:drjane@mastodon.social", uri),
        ("repost", "mastodon:sam@mstdn.science", "mastodon:drjane@mastodon.social", uri),
    ]
    accounts = warehouse.query("SELECT account_id, bio, followers_count FROM accounts ORDER BY 1")
    assert list(accounts["account_id"]) == [
        "mastodon:drjane@mastodon.social",
        "mastodon:pm@mastodon.social",
        "mastodon:sam@mstdn.science",
    ]
    assert accounts.loc[0, "bio"] == "GP in Leeds. Views my own."  # the mention stub did not overwrite it
    boosted = warehouse.query("SELECT text, repost_of_post_id FROM posts WHERE author_id LIKE '%sam%'")
    assert (boosted.loc[0, "text"], boosted.loc[0, "repost_of_post_id"]) == ("Share the data #NHS", uri)


def test_an_instance_that_requires_login_is_skipped_with_a_clear_message(
    http: responses.RequestsMock, warehouse: Warehouse, backoff: Backoff
) -> None:
    closed = FakeMastodon("closed.example").install(http)
    closed.fail_next(401, {"error": "This method requires an authenticated user"})
    FakeMastodon("mastodon.social", [mastodon_status(1)]).install(http)
    src = source(["closed.example", "mastodon.social"], backoff)
    counts = ingest_query(warehouse, src, "NHS", run_id="r1")
    assert counts.posts_stored == 1
    assert len(src.notices) == 1
    assert "closed.example requires login" in src.notices[0]
    assert "COMMONGROUND_MASTODON_TOKENS" in src.notices[0]


def test_a_token_goes_only_to_its_own_instance(
    http: responses.RequestsMock, warehouse: Warehouse, backoff: Backoff
) -> None:
    mine = FakeMastodon("med-mastodon.com", [mastodon_status(1, seen_on="med-mastodon.com")]).install(http)
    other = FakeMastodon("mastodon.social", [mastodon_status(2)]).install(http)
    src = source(["med-mastodon.com", "mastodon.social"], backoff, tokens={"med-mastodon.com": "tok-med"})
    ingest_query(warehouse, src, "NHS", run_id="r1")
    assert {r["auth"] for r in mine.requests} == {"Bearer tok-med"}
    assert {r["auth"] for r in other.requests} == {""}


def test_429_waits_for_the_reset_and_a_5xx_is_retried(
    http: responses.RequestsMock, warehouse: Warehouse, backoff: Backoff, sleeps: Sleeps
) -> None:
    fake = FakeMastodon("mastodon.social", [mastodon_status(1)]).install(http)
    fake.fail_next(
        429,
        {"error": "Too many requests"},
        {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2999-01-01T00:00:00Z"},
    )
    fake.fail_next(503, "<html>Service Unavailable</html>")
    counts = ingest_query(warehouse, source(["mastodon.social"], backoff), "NHS", run_id="r1")
    assert counts.posts_stored == 1
    assert sleeps[0] == 900  # the reset is far away: waited the longest allowed single wait
    assert sleeps[1] == 4  # then the second exponential step after the 503


def test_a_malformed_status_is_quarantined_and_the_page_goes_on(
    http: responses.RequestsMock, warehouse: Warehouse, backoff: Backoff
) -> None:
    broken = {"id": "2", "created_at": "2026-11-16T09:00:00Z", "content": "<p>hi</p>", "account": "nope"}
    FakeMastodon("mastodon.social", [mastodon_status(1), broken, mastodon_status(3)]).install(http)
    counts = ingest_query(warehouse, source(["mastodon.social"], backoff), "NHS", run_id="r1")
    assert (counts.read, counts.posts_stored, counts.quarantined) == (3, 2, 1)
    assert counts_add_up(counts)
    q = warehouse.query("SELECT origin, reason, raw FROM quarantine")
    assert "uri" in q.loc[0, "reason"]
    assert json.loads(q.loc[0, "raw"])["account"] == "nope"
    assert q.loc[0, "origin"].startswith("https://mastodon.social/api/v1/timelines/tag/NHS")


def test_the_rate_limiter_keeps_to_the_window() -> None:
    now = [0.0]
    waits = Sleeps()

    def sleep(seconds: float) -> None:
        waits(seconds)
        now[0] += seconds

    limiter = RateLimiter(3, 300, clock=lambda: now[0], sleep=sleep)
    for _ in range(4):
        limiter.wait()
        now[0] += 10
    assert waits == [270.0]


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>One &amp; two</p><p>Three<br>four</p>", "One & two\n\nThree\nfour"),
        ('<p><span class="h-card"><a href="x">@<span>jane</span></a></span> hi</p>', "@jane hi"),
        ("", ""),
    ],
)
def test_html_becomes_plain_text(html: str, text: str) -> None:
    assert html_to_text(html) == text
