"""Bluesky: `app.bsky.feed.searchPosts` through atproto's `Client`, logged in with a handle and app password.

Anonymous search has been refused since 2025, so a session is required. Posts are normalised from the
JSON the server sent (one bad post is quarantined, not the page); the cursor between runs is the newest
`sortAt` time seen, passed back as `since`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from functools import partial
from typing import Any

from atproto import Client, exceptions, models

from flows.sources.base import Page
from flows.sources.common import (
    Backoff,
    Clock,
    PlatformSource,
    Sleep,
    SourceUnavailable,
    client_version,
    dump,
    interaction_adder,
    normalise_each,
    provenance,
    quarantine,
    redact_in_loggers,
    require,
    stub_account,
)
from flows.sources.dates import parse_timestamp
from warehouse.records import (
    Account,
    Batch,
    InteractionKind,
    Post,
    Provenance,
    qualified,
)

SOURCE = "bluesky"
CLIENT = client_version("atproto")
SEARCH = "app.bsky.feed.searchPosts"
REPOST_REASON = "app.bsky.feed.defs#reasonRepost"


def did_of(at_uri: str) -> str:
    """The account (DID) of an `at://did/collection/rkey` URI."""
    if not at_uri.startswith("at://") or at_uri.count("/") < 4:
        raise ValueError(f"not an at:// record URI: {at_uri[:80]!r}")
    return at_uri.split("/")[2]


def _account(profile: Any, prov: Provenance, where: str) -> Account:
    did = require(profile, "did", str, where)
    handle = require(profile, "handle", str, where)
    followers = profile.get("followersCount")
    return Account(
        account_id=qualified(SOURCE, did),
        source=SOURCE,
        native_id=did,
        handle=handle,
        display_name=str(profile.get("displayName") or handle),
        bio=str(profile.get("description") or ""),
        followers_count=followers if isinstance(followers, int) else None,
        url=f"https://bsky.app/profile/{handle}",
        provenance=prov,
        raw=dump(profile),
    )


def _quoted_uri(embed: Any) -> str | None:
    if not isinstance(embed, dict):
        return None
    kind = embed.get("$type")
    if kind == "app.bsky.embed.record":
        return require(embed.get("record"), "uri", str, "record.embed.record.")
    if kind == "app.bsky.embed.recordWithMedia":
        inner = embed.get("record")
        return require(
            inner.get("record") if isinstance(inner, dict) else None, "uri", str, "embed.record.record."
        )
    return None


def _mentions(record: dict[str, Any]) -> list[tuple[str, str]]:
    """(did, handle) of each mention facet; the handle is the text the facet spans (byte offsets)."""
    text = record["text"].encode("utf-8")
    found = []
    for facet in record.get("facets") or []:
        for feature in facet.get("features") or [] if isinstance(facet, dict) else []:
            if isinstance(feature, dict) and feature.get("$type") == "app.bsky.richtext.facet#mention":
                index = facet.get("index") or {}
                span = text[index.get("byteStart", 0) : index.get("byteEnd", 0)].decode("utf-8", "replace")
                found.append((require(feature, "did", str, "facet."), span.lstrip("@") or feature["did"]))
    return found


def _tags(record: dict[str, Any]) -> tuple[str, ...]:
    tags = [t for t in record.get("tags") or [] if isinstance(t, str)]
    for facet in record.get("facets") or []:
        for feature in facet.get("features") or [] if isinstance(facet, dict) else []:
            if isinstance(feature, dict) and feature.get("$type") == "app.bsky.richtext.facet#tag":
                tags.append(str(feature.get("tag")))
    return tuple(dict.fromkeys(tags))


def normalise_post_view(item: Any, prov: Provenance) -> Batch:
    """A `postView` (or a `feedViewPost` {post, reason}) → posts, accounts and typed interactions.

    A feed item reposted by someone (`reason` = reasonRepost) also yields the repost as a post.
    Raises ValueError on anything that is not a post view.
    """
    if isinstance(item, dict) and "post" in item and "uri" not in item:
        batch = normalise_post_view(item["post"], prov)
        reason = item.get("reason")
        if isinstance(reason, dict) and reason.get("$type") == REPOST_REASON:
            batch.extend(_repost(reason, batch.posts[0], prov))
        return batch
    uri = require(item, "uri", str)
    author = _account(item.get("author"), prov, "author.")
    record = require(item, "record", dict)
    if record.get("$type") not in (None, "app.bsky.feed.post"):
        raise ValueError(f"record is a {record.get('$type')!r}, not an app.bsky.feed.post")
    text = record.get("text")
    if not isinstance(text, str):
        raise ValueError("missing or malformed field 'record.text'")
    created_at = parse_timestamp(record.get("createdAt"))
    post_id = qualified(SOURCE, uri)
    batch = Batch(read=1, accounts=[author])

    edge = interaction_adder(batch, SOURCE, post_id, author.account_id, created_at)

    reply_to = quote_of = None
    reply = record.get("reply")
    if reply is not None:
        parent_uri = require(
            require(reply, "parent", dict, "record.reply."), "uri", str, "record.reply.parent."
        )
        reply_to = qualified(SOURCE, parent_uri)
        edge(InteractionKind.REPLY, did_of(parent_uri), reply_to)
    quoted = _quoted_uri(record.get("embed"))
    if quoted is not None:
        quote_of = qualified(SOURCE, quoted)
        edge(InteractionKind.QUOTE, did_of(quoted), quote_of)
    for did, handle in _mentions(record):
        edge(InteractionKind.MENTION, did, None)
        batch.accounts.append(stub_account(SOURCE, did, handle, prov, dump({"did": did, "handle": handle})))
    langs = record.get("langs")
    batch.posts.append(
        Post(
            post_id=post_id,
            source=SOURCE,
            native_id=uri,
            author_id=author.account_id,
            created_at=created_at,
            text=text,
            lang=langs[0] if isinstance(langs, list) and langs and isinstance(langs[0], str) else None,
            url=f"https://bsky.app/profile/{author.handle}/post/{uri.rsplit('/', 1)[-1]}",
            reply_to_post_id=reply_to,
            quote_of_post_id=quote_of,
            repost_of_post_id=None,
            hashtags=_tags(record),
            provenance=prov,
            raw=dump(item),
            version_at=_indexed_at(item),
        )
    )
    return batch


def _indexed_at(item: dict[str, Any]) -> datetime | None:
    """When the server indexed this record: a later record of the same post is its newer version."""
    try:
        return parse_timestamp(item.get("indexedAt"), "indexedAt")
    except ValueError:
        return None


THREAD_POST = "app.bsky.feed.defs#threadViewPost"
UNREADABLE = {
    "app.bsky.feed.defs#notFoundPost": "not found (deleted)",
    "app.bsky.feed.defs#blockedPost": "blocked",
}


def thread_posts(thread: Any) -> list[Any]:
    """The nodes of a getPostThread `thread`: ancestors from the root down, the post, then its replies
    depth first. Walked without recursion: threads can be deeper than Python's stack."""
    ancestors: list[Any] = []
    node = thread.get("parent") if isinstance(thread, dict) else None
    while isinstance(node, dict):
        ancestors.append(node)
        node = node.get("parent")
    found: list[Any] = []
    stack = [thread]
    while stack:
        node = stack.pop()
        found.append(node)
        replies = node.get("replies") if isinstance(node, dict) else None
        stack.extend(reversed(replies) if isinstance(replies, list) else [])
    return [*reversed(ancestors), *found]


def normalise_thread_node(node: Any, prov: Provenance) -> Batch:
    """One node of a thread: a post, or a post the server did not return (a ValueError saying why)."""
    kind = node.get("$type") if isinstance(node, dict) else None
    kind = kind if isinstance(kind, str) else None
    if kind in UNREADABLE:
        raise ValueError(
            f"the thread names {str(node.get('uri'))[:120]} but the server returned it as {UNREADABLE[kind]}"
        )
    if kind == THREAD_POST or (isinstance(node, dict) and "post" in node and "uri" not in node):
        return normalise_post_view(node.get("post"), prov)
    return normalise_post_view(node, prov)


def normalise_bluesky_item(obj: Any, prov: Provenance, origin: str, line_no: int) -> Batch:
    """A file item: a searchPosts (`posts`), getAuthorFeed or getTimeline (`feed`) or getPostThread
    (`thread`) response, or one post view or feed item (a line of JSON Lines)."""
    lists = {"posts": normalise_post_view, "feed": normalise_post_view, "thread": normalise_thread_node}
    for key, normalise in lists.items():
        value = obj.get(key) if isinstance(obj, dict) else None
        if key == "thread" and isinstance(value, dict):
            value = thread_posts(value)
        if isinstance(value, list):
            return normalise_each(
                value, partial(normalise, prov=prov), source=SOURCE, origin=origin, line_no=line_no
            )
    if isinstance(obj, dict) and str(obj.get("$type")) in (THREAD_POST, *UNREADABLE):
        return normalise_thread_node(obj, prov)
    return normalise_post_view(obj, prov)


def _repost(reason: dict[str, Any], original: Post, prov: Provenance) -> Batch:
    by = _account(reason.get("by"), prov, "reason.by.")
    at = parse_timestamp(reason.get("indexedAt"))
    uri = reason.get("uri")
    native = uri if isinstance(uri, str) else f"{by.native_id}/repost/{original.native_id}"
    post_id = qualified(SOURCE, native)
    post = Post(
        post_id, SOURCE, native, by.account_id, at, original.text, original.lang, None, None, None,
        original.post_id, original.hashtags, prov, dump(reason),
    )  # fmt: skip
    batch = Batch(read=1, accounts=[by], posts=[post])
    interaction_adder(batch, SOURCE, post_id, by.account_id, at)(
        InteractionKind.REPOST, original.author_id.removeprefix(f"{SOURCE}:"), original.post_id
    )
    return batch


def _sort_at(item: Any) -> str | None:
    """The time searchPosts sorts and filters by: the earlier of createdAt and indexedAt."""
    if not isinstance(item, dict):
        return None
    times = []
    record = item.get("record")
    for value in (item.get("indexedAt"), record.get("createdAt") if isinstance(record, dict) else None):
        try:
            times.append(parse_timestamp(value))
        except ValueError:
            continue
    return min(times).isoformat(timespec="milliseconds") + "Z" if times else None


class BlueskySource(PlatformSource):
    """`#tag` through searchPosts, newest first, since the newest post of the previous run."""

    name = SOURCE

    def __init__(
        self,
        handle: str,
        app_password: str,
        *,
        service: str = "https://bsky.social",
        page_size: int = 100,
        max_pages: int = 25,
        backoff: Backoff | None = None,
        clock: Clock = time.time,
        sleep: Sleep = time.sleep,
    ) -> None:
        super().__init__()
        redact_in_loggers(["httpx", "httpcore", "atproto", "atproto_client"], [app_password])
        self.handle = handle
        self._password = app_password
        self.client = Client(base_url=service.rstrip("/") + "/xrpc")
        self.page_size = page_size
        self.max_pages = max_pages
        self.clock = clock
        self.backoff = backoff or Backoff(attempts=4, base_seconds=2, max_wait_seconds=900, sleep=sleep)
        self._logged_in = False

    def login(self) -> None:
        try:
            self.backoff.call(
                "bluesky login",
                lambda: self.client.login(self.handle, self._password, fetch_bsky_profile=False),
                self._transient_wait,
            )
        except (exceptions.UnauthorizedError, exceptions.BadRequestError) as exc:
            raise SourceUnavailable(
                f"Bluesky refused the login for {self.handle} ({exc}). Check COMMONGROUND_BLUESKY_HANDLE and "
                "that COMMONGROUND_BLUESKY_APP_PASSWORD is an app password (Settings → Privacy and security "
                "→ App passwords), not the account password."
            ) from None
        self._logged_in = True

    def fetch(self, query: str, since: str | None = None) -> Iterator[Page]:
        if not self._logged_in:
            self.login()
        tag = query.lstrip("#")
        cursor: str | None = None
        newest = since
        pending: Page | None = None
        for _ in range(self.max_pages):
            params = models.AppBskyFeedSearchPosts.Params(
                q=f"#{tag}", sort="latest", limit=self.page_size, cursor=cursor, since=since
            )
            body = self._search(tag, params)
            origin = f"{self.client._base_url}/{SEARCH}"
            page_prov = provenance(SOURCE, tag, origin, CLIENT)
            posts = body.get("posts") if isinstance(body, dict) else None
            if not isinstance(posts, list):
                batch = quarantine(SOURCE, origin, None, "page not understood: no 'posts' list", dump(body))
            else:
                batch = normalise_each(
                    posts, partial(normalise_post_view, prov=page_prov), source=SOURCE, origin=origin
                )
                stamps = [s for s in map(_sort_at, posts) if s]
                newest = max([newest or "", *stamps]) or None
            if pending is not None:
                yield pending
            pending = Page(batch=batch)
            cursor = body.get("cursor") if isinstance(body, dict) else None
            if not posts or not cursor:
                break
        if pending is not None:
            pending.cursor = newest
            yield pending

    def _search(self, tag: str, params: models.AppBskyFeedSearchPosts.Params) -> Any:
        try:
            response = self.backoff.call(
                f"bluesky #{tag}",
                lambda: self.client.invoke_query(SEARCH, params=params, output_encoding="application/json"),
                self._transient_wait,
            )
        except (exceptions.UnauthorizedError, exceptions.BadRequestError) as exc:
            status = exc.response.status_code if exc.response is not None else None
            if status == 400 and "Token" not in str(exc):
                raise
            raise SourceUnavailable(
                f"Bluesky refused the search ({exc}): the session has expired or this account may not "
                "search. Run again to log in afresh; if it persists, create a new app password and set "
                "COMMONGROUND_BLUESKY_APP_PASSWORD."
            ) from None
        return response.content

    def _transient_wait(self, exc: Exception) -> float | None:
        if isinstance(exc, exceptions.RateLimitExceededError):
            headers = exc.response.headers if exc.response is not None else {}
            reset = headers.get("ratelimit-reset")
            return max(0.0, float(reset) - self.clock()) if reset and str(reset).isdigit() else 0.0
        if isinstance(exc, exceptions.NetworkError):  # timeouts, transport errors, 502
            return 0.0
        if isinstance(exc, exceptions.RequestException) and exc.response is not None:
            return 0.0 if exc.response.status_code >= 500 else None
        return None
