"""Offline platforms for the source tests: hand-written HTTP servers shaped like each documented API.

The real client libraries (Mastodon.py and tweepy over `requests`, atproto over `httpx`) make real HTTP
requests; `responses` and `respx` answer them from payloads built on the committed examples in
`tests/fixtures/sources/` (a Mastodon status entity, an X v2 search page, a Bluesky searchPosts page).
"""

from __future__ import annotations

import base64
import copy
import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import responses
import respx

from flows.sources.common import Backoff
from warehouse.records import stable_id
from warehouse.store import Warehouse

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "sources"
T0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def iso(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Sleeps(list[float]):
    """Stands in for time.sleep: remembers each wait instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def backoff(sleeps: Sleeps) -> Backoff:
    return Backoff(attempts=3, base_seconds=2, max_wait_seconds=900, sleep=sleeps)


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    wh = Warehouse(tmp_path / "wh.duckdb")
    wh.init()
    return wh


def counts_add_up(counts: Any) -> bool:
    """read = stored + duplicates + conflicts + quarantined (edits are among the stored)."""
    total = counts.posts_stored + counts.quarantined + counts.duplicates + counts.conflicts
    return bool(counts.read == total and counts.edits <= counts.posts_stored)


# --- Mastodon -----------------------------------------------------------------------------------


def mastodon_account(user: str, home: str, seen_on: str) -> dict[str, Any]:
    account = copy.deepcopy(fixture("mastodon_status.json")["account"])
    account.update(
        id=str(int(stable_id(user, seen_on), 16) % 10**17),
        username=user,
        acct=user if home == seen_on else f"{user}@{home}",
        display_name=user.title(),
        url=f"https://{home}/@{user}",
    )
    return account


def mastodon_status(
    local_id: int,
    *,
    seen_on: str = "mastodon.social",
    home: str = "mastodon.social",
    user: str = "drjane",
    native_id: int | None = None,
    text: str = "Waiting lists are down where practices share data",
    minutes: float = 0,
    **changes: Any,
) -> dict[str, Any]:
    """A status entity as `seen_on` serves it; `native_id` is its id on its `home` instance."""
    status = fixture("mastodon_status.json")
    native = native_id or local_id
    status.update(
        id=str(local_id),
        uri=f"https://{home}/users/{user}/statuses/{native}",
        url=f"https://{home}/@{user}/{native}",
        created_at=iso(minutes),
        account=mastodon_account(user, home, seen_on),
        content=f'<p>{text} <a href="https://{seen_on}/tags/NHS" class="mention hashtag" rel="tag">#<span>NHS</span></a></p>',
    )
    status.update(changes)
    return status


class FakeEndpoint:
    """What every fake endpoint does: remember each request, answer with queued failures first."""

    def __init__(self) -> None:
        self.failures: list[tuple[int, dict[str, str], Any]] = []
        self.requests: list[dict[str, str]] = []

    def fail_next(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self.failures.append((status, headers or {}, body))

    def receive(self, request: Any) -> tuple[dict[str, str], tuple[int, dict[str, str], str] | None]:
        """The request's query parameters, and the failure to answer with, if one is queued."""
        params = {k: v[0] for k, v in parse_qs(urlparse(request.url).query).items()}
        self.requests.append({**params, "auth": request.headers.get("Authorization", "")})
        if not self.failures:
            return params, None
        status, headers, body = self.failures.pop(0)
        return params, (status, headers, body if isinstance(body, str) else json.dumps(body))


class FakeMastodon(FakeEndpoint):
    """One instance's `GET /api/v1/timelines/tag/:tag`: newest first, honouring limit, max_id, since_id."""

    def __init__(self, host: str, statuses: list[dict[str, Any]] | None = None) -> None:
        super().__init__()
        self.host = host
        self.statuses = list(statuses or [])

    def __call__(self, request: Any) -> tuple[int, dict[str, str], str]:
        params, failure = self.receive(request)
        if failure:
            return failure
        ids = sorted((s for s in self.statuses), key=lambda s: -int(s["id"]))
        if "max_id" in params:
            ids = [s for s in ids if int(s["id"]) < int(params["max_id"])]
        if "since_id" in params:
            ids = [s for s in ids if int(s["id"]) > int(params["since_id"])]
        limit = int(params.get("limit", 20))
        if "min_id" in params:  # the page immediately newer than min_id, still newest first
            ids = [s for s in ids if int(s["id"]) > int(params["min_id"])][-limit:]
        page = ids[:limit]
        reset = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
        headers = {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "299", "X-RateLimit-Reset": reset}
        if page:
            base = f"https://{self.host}/api/v1/timelines/tag/NHS"
            headers["Link"] = (
                f'<{base}?max_id={page[-1]["id"]}>; rel="next", <{base}?min_id={page[0]["id"]}>; rel="prev"'
            )
        return 200, headers, json.dumps(page)

    def install(self, rsps: responses.RequestsMock) -> FakeMastodon:
        url = re.compile(rf"https://{re.escape(self.host)}/api/v1/timelines/tag/\w+")
        rsps.add_callback(responses.GET, url, callback=self, content_type="application/json")
        return self


@pytest.fixture
def http() -> Iterator[responses.RequestsMock]:
    """Every `requests` call answered offline; an unexpected URL fails the test."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


# --- X ------------------------------------------------------------------------------------------

X_USERS = {u["id"]: u for u in fixture("x_search_recent_page.json")["includes"]["users"]}


def tweet(
    tid: int,
    author: str = "2001",
    text: str = "Staffing plan for winter #NHS",
    minutes: float = 0,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": str(tid),
        "text": text,
        "author_id": author,
        "created_at": iso(minutes),
        "lang": "en",
        "edit_history_tweet_ids": [str(tid)],
        "entities": {"hashtags": [{"start": 0, "end": 4, "tag": "NHS"}]},
        **extra,
    }


class FakeX(FakeEndpoint):
    """`GET /2/tweets/search/recent`: newest first, `max_results` per page, `next_token`, `since_id`,
    `until_id`."""

    url = "https://api.twitter.com/2/tweets/search/recent"

    def __init__(self, tweets: list[dict[str, Any]] | None = None, extra_tweets: list[dict] | None = None):
        super().__init__()
        self.tweets = list(tweets or [])
        self.extra_tweets = list(extra_tweets or [])  # referenced tweets, served in includes only

    def __call__(self, request: Any) -> tuple[int, dict[str, str], str]:
        params, failure = self.receive(request)
        if failure:
            return failure
        found = sorted(self.tweets, key=lambda t: -int(t["id"]))
        if "since_id" in params:
            found = [t for t in found if int(t["id"]) > int(params["since_id"])]
        if "until_id" in params:
            found = [t for t in found if int(t["id"]) < int(params["until_id"])]
        size = int(params.get("max_results", 10))
        offset = int(params.get("next_token", 0))
        data = found[offset : offset + size]
        meta: dict[str, Any] = {"result_count": len(data)}
        if data:
            meta.update(newest_id=data[0]["id"], oldest_id=data[-1]["id"])
        if offset + size < len(found):
            meta["next_token"] = str(offset + size)
        if not data:
            return 200, {}, json.dumps({"meta": meta})
        refs = {r["id"] for t in data for r in t.get("referenced_tweets", [])}
        included = [t for t in self.extra_tweets + self.tweets if t["id"] in refs]
        wanted = {t["author_id"] for t in data + included}
        wanted |= {m["id"] for t in data for m in t.get("entities", {}).get("mentions", [])}
        users = [X_USERS[u] for u in sorted(wanted) if u in X_USERS]
        body = {"data": data, "includes": {"users": users, "tweets": included}, "meta": meta}
        return 200, {"x-rate-limit-remaining": "449"}, json.dumps(body)

    def install(self, rsps: responses.RequestsMock) -> FakeX:
        rsps.add_callback(responses.GET, self.url, callback=self, content_type="application/json")
        return self


# --- Bluesky --------------------------------------------------------------------------------------

BSKY = "https://bsky.social/xrpc"


def jwt(exp: float, sub: str = "did:plc:me") -> str:
    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'ES256K', 'typ': 'at+jwt'})}.{part({'exp': int(exp), 'sub': sub, 'scope': 'com.atproto.appPass'})}.c2ln"


def post_view(
    rkey: str,
    did: str = "did:plc:aaaa1111",
    handle: str = "drjane.bsky.social",
    text: str = "Staffing plan for winter #NHS",
    minutes: float = 0,
    **record: Any,
) -> dict[str, Any]:
    return {
        "uri": f"at://{did}/app.bsky.feed.post/{rkey}",
        "cid": f"bafyrei{rkey}",
        "author": {"did": did, "handle": handle, "displayName": handle.split(".")[0].title(), "labels": []},
        "record": {
            "$type": "app.bsky.feed.post",
            "text": text,
            "createdAt": iso(minutes),
            "langs": ["en"],
            **record,
        },
        "replyCount": 0,
        "repostCount": 0,
        "likeCount": 0,
        "quoteCount": 0,
        "indexedAt": iso(minutes + 0.01),
        "labels": [],
    }


class FakeBluesky:
    """createSession plus `app.bsky.feed.searchPosts`: newest first, `limit`, `cursor`, `since`."""

    def __init__(self, posts: list[dict[str, Any]] | None = None) -> None:
        self.posts = list(posts or [])
        self.failures: list[httpx.Response] = []
        self.login_failure: httpx.Response | None = None
        self.searches: list[dict[str, str]] = []
        self.logins: list[dict[str, Any]] = []

    def create_session(self, request: httpx.Request) -> httpx.Response:
        self.logins.append(json.loads(request.content))
        if self.login_failure is not None:
            return self.login_failure
        body = {
            "did": "did:plc:me",
            "handle": "analyst.bsky.social",
            "accessJwt": jwt(time.time() + 3600),
            "refreshJwt": jwt(time.time() + 86400),
            "active": True,
        }
        return httpx.Response(200, json=body)

    def search(self, request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        self.searches.append({**params, "auth": request.headers.get("Authorization", "")})
        if self.failures:
            return self.failures.pop(0)
        found = sorted(self.posts, key=lambda p: p["indexedAt"], reverse=True)
        if "since" in params:
            found = [p for p in found if min(p["indexedAt"], p["record"]["createdAt"]) >= params["since"]]
        offset = int(params.get("cursor", 0))
        size = int(params.get("limit", 25))
        body: dict[str, Any] = {"posts": found[offset : offset + size], "hitsTotal": len(found)}
        if offset + size < len(found):
            body["cursor"] = str(offset + size)
        return httpx.Response(200, json=body)

    @staticmethod
    def error(status: int, error: str, message: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return httpx.Response(status, json={"error": error, "message": message}, headers=headers)


@pytest.fixture
def bluesky() -> Iterator[FakeBluesky]:
    fake = FakeBluesky()
    with respx.mock(assert_all_called=False) as router:
        router.post(f"{BSKY}/com.atproto.server.createSession").mock(side_effect=fake.create_session)
        router.get(f"{BSKY}/app.bsky.feed.searchPosts").mock(side_effect=fake.search)
        # Prefect's local API speaks httpx too: let it through.
        router.route(host="127.0.0.1").pass_through()
        router.route(host="localhost").pass_through()
        yield fake
