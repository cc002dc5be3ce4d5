"""X: recent search through tweepy's v2 `Client` and `Paginator`, within a read budget, since a cursor.

X bills every post read, so the source is given how many posts it may read and stops cleanly there.
`normalise_x_page` reads a v2 response page (`data`, `includes`, `meta`); twarc2 JSONL files use it too.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flows.sources.base import Page
from flows.sources.common import (
    Backoff,
    Clock,
    PlatformSource,
    Sleep,
    SourceUnavailable,
    client_version,
    dump,
    dump_anyway,
    failure_reason,
    interaction_adder,
    normalise_each,
    provenance,
    quarantine,
    redact_in_loggers,
    require,
    subobject,
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

SOURCE = "x"
CLIENT = client_version("tweepy")
SEARCH_URL = "https://api.twitter.com/2/tweets/search/recent"
MIN_PAGE = 10  # the API refuses max_results below 10
TWEET_FIELDS = [
    "id",
    "text",
    "author_id",
    "created_at",
    "conversation_id",
    "in_reply_to_user_id",
    "lang",
    "referenced_tweets",
    "entities",
    "public_metrics",
    "note_tweet",
]
EXPANSIONS = [
    "author_id",
    "referenced_tweets.id",
    "referenced_tweets.id.author_id",
    "entities.mentions.username",
    "in_reply_to_user_id",
]
USER_FIELDS = ["id", "name", "username", "description", "public_metrics", "url"]
KINDS = {
    "replied_to": InteractionKind.REPLY,
    "quoted": InteractionKind.QUOTE,
    "retweeted": InteractionKind.REPOST,
}


def _account(user: dict[str, Any], prov: Provenance) -> Account:
    native = str(require(user, "id", (str, int), "user."))
    username = require(user, "username", str, "user.")
    followers = subobject(user, "public_metrics").get("followers_count")
    return Account(
        account_id=qualified(SOURCE, native),
        source=SOURCE,
        native_id=native,
        handle=username,
        display_name=str(user.get("name") or username),
        bio=str(user.get("description") or ""),
        followers_count=followers if isinstance(followers, int) else None,
        url=f"https://x.com/{username}",
        provenance=prov,
        raw=dump(user),
    )


@dataclass(frozen=True)
class TweetVersion:
    """Which post a tweet is a version of (`edit_version`), and its own id and times."""

    post_native: str
    native: str
    created_at: datetime
    version_at: datetime | None


def tweet_post(
    tweet: dict[str, Any],
    version: TweetVersion,
    author: Account,
    text: str,
    links: dict[InteractionKind, str],
    hashtags: tuple[str, ...],
    prov: Provenance,
) -> Post:
    """The post of a tweet, v2 or v1.1 alike, so the same tweet read either way is the same row."""
    return Post(
        post_id=qualified(SOURCE, version.post_native),
        source=SOURCE,
        native_id=version.post_native,
        author_id=author.account_id,
        created_at=version.created_at,
        text=text,
        lang=tweet.get("lang") if isinstance(tweet.get("lang"), str) else None,
        url=f"https://x.com/{author.handle or 'i'}/status/{version.native}",
        reply_to_post_id=links.get(InteractionKind.REPLY),
        quote_of_post_id=links.get(InteractionKind.QUOTE),
        repost_of_post_id=links.get(InteractionKind.REPOST),
        hashtags=hashtags,
        provenance=prov,
        raw=dump(tweet),
        version_at=version.version_at,
    )


def _hashtags(entities: dict[str, Any]) -> tuple[str, ...]:
    tags = entities.get("hashtags")
    found = tags if isinstance(tags, list) else []
    return tuple(h["tag"] for h in found if isinstance(h, dict) and isinstance(h.get("tag"), str))


def unknown_author(native: str, prov: Provenance, why: Any = None) -> Account:
    """An author X did not return (withheld, suspended, deleted): its id is known, its handle is not.

    The empty handle never replaces a handle the warehouse knows (`_upsert_accounts`)."""
    raw = dump(why if why is not None else {"id": native})
    return Account(qualified(SOURCE, native), SOURCE, native, "", f"unknown X account {native}", "", None,
                   f"https://x.com/i/user/{native}", prov, raw)  # fmt: skip


def edit_version(native: str, chain: Any, created_at: datetime) -> tuple[str, datetime, datetime | None]:
    """(post id, created_at, version_at) of a tweet in its edit history (`edit_history_tweet_ids`).

    Every edit of a tweet is a new tweet id; the first id of the history names the post, so the
    versions of one tweet are one post, the newest kept. The post was created when its first id was
    (read from the snowflake id); each version was written at its own `created_at`. Without an edit
    history the payload cannot date versions apart (version_at None)."""
    ids = [str(i) for i in chain] if isinstance(chain, list) else []
    if not ids or native not in ids:
        return native, created_at, None
    first = ids[0]
    if first == native:
        return native, created_at, created_at
    original = created_at
    if first.isdigit() and len(first) < 20:
        # X writes created_at to the second; the snowflake knows milliseconds.
        snowflake = datetime.fromtimestamp(id_time(first), UTC).replace(tzinfo=None, microsecond=0)
        original = min(created_at, snowflake)
    return first, original, created_at


def normalise_tweet(
    tweet: Any,
    users: dict[str, dict[str, Any]],
    tweets: dict[str, dict[str, Any]],
    prov: Provenance,
    missing_users: dict[str, Any] | None = None,
) -> Batch:
    """One v2 tweet, with the page's `includes` as lookups, → post, accounts and typed interactions.

    An author missing from `includes` (withheld, suspended) becomes an account known only by its id,
    with the page's `errors` entry for it as its payload. Raises ValueError on a tweet that is not a
    v2 tweet object.
    """
    native = str(require(tweet, "id", (str, int)))
    text = require(tweet, "text", str)
    author_native = str(require(tweet, "author_id", (str, int)))
    post_native, created_at, version_at = edit_version(
        native, tweet.get("edit_history_tweet_ids"), parse_timestamp(tweet.get("created_at"))
    )
    if author_native in users:
        author = _account(users[author_native], prov)
    else:
        author = unknown_author(author_native, prov, (missing_users or {}).get(author_native))
    post_id = qualified(SOURCE, post_native)
    batch = Batch(read=1, accounts=[author])
    by_username = {str(u.get("username") or "").lower(): u for u in users.values() if isinstance(u, dict)}
    note = tweet.get("note_tweet")
    if isinstance(note, dict) and isinstance(note.get("text"), str):
        text = note["text"]  # long posts: `text` is cut at 280 characters

    edge = interaction_adder(batch, SOURCE, post_id, author.account_id, created_at)

    links: dict[InteractionKind, str] = {}
    refs = tweet.get("referenced_tweets") or []
    if not isinstance(refs, list):
        raise ValueError("'referenced_tweets' must be a list of {type, id}")
    for ref in refs:
        kind = KINDS.get(require(ref, "type", str, "referenced_tweets[]."))
        if kind is None:
            raise ValueError(f"unknown referenced tweet type {ref['type']!r}")
        target_native = str(require(ref, "id", (str, int), "referenced_tweets[]."))
        target = tweets.get(target_native, {})
        dst = target.get("author_id")
        if dst is None and kind is InteractionKind.REPLY:
            dst = tweet.get("in_reply_to_user_id")
        links[kind] = qualified(SOURCE, target_native)
        edge(kind, str(dst) if dst is not None else None, links[kind])
        if kind is InteractionKind.REPOST and isinstance(target.get("text"), str):
            text = target["text"]  # a retweet's own text is a truncated "RT @user: …"
    entities = subobject(tweet, "entities")
    for mention in entities.get("mentions") or []:
        username = require(mention, "username", str, "entities.mentions[].")
        user = by_username.get(username.lower())
        mention_id = mention.get("id") or (user or {}).get("id")
        if mention_id is None:
            continue  # a mention we cannot tie to an account id
        edge(InteractionKind.MENTION, str(mention_id), None)
        if user is not None:
            batch.accounts.append(_account(user, prov))
    hashtags = _hashtags(entities)
    batch.posts.append(
        tweet_post(
            tweet,
            TweetVersion(post_native, native, created_at, version_at),
            author,
            text,
            links,
            hashtags,
            prov,
        )
    )
    return batch


def _listed(obj: dict[str, Any], key: str) -> list[Any]:
    value = obj.get(key)
    return value if isinstance(value, list) else []


def normalise_x_page(page: Any, prov: Provenance, origin: str, line_no: int | None = None) -> Batch:
    """A v2 search response page → records; a bad tweet is quarantined, a bad page raises ValueError."""
    if not isinstance(page, dict) or not ({"data", "meta", "errors"} & page.keys()):
        raise ValueError("not an X API v2 response page (no 'data' or 'meta')")
    data = page.get("data") or []
    if isinstance(data, dict):
        data = [data]  # the filtered stream: one tweet per message
    includes = page.get("includes") or {}
    if not isinstance(data, list) or not isinstance(includes, dict):
        raise ValueError("'data' must be a tweet or a list of tweets and 'includes' an object")
    users = {str(u["id"]): u for u in _listed(includes, "users") if isinstance(u, dict) and "id" in u}
    tweets = {str(t["id"]): t for t in _listed(includes, "tweets") if isinstance(t, dict) and "id" in t}
    missing = {
        str(e["value"]): e
        for e in _listed(page, "errors")
        if isinstance(e, dict) and "value" in e and e.get("resource_type") == "user"
    }
    return normalise_each(
        data,
        lambda t: normalise_tweet(t, users, tweets, prov, missing),
        source=SOURCE,
        origin=origin,
        line_no=line_no,
    )


X_EPOCH_MS = 1288834974657  # post ids are snowflakes: (id >> 22) + this = creation time in ms
SEARCH_WINDOW_SECONDS = 7 * 24 * 3600 - 3600  # recent search covers 7 days; keep an hour's margin


def id_time(post_id: str) -> float:
    """When a post with this id was created (unix seconds), read from the snowflake id."""
    return ((int(post_id) >> 22) + X_EPOCH_MS) / 1000


@dataclass
class XCursor:
    """Where the next run resumes: posts newer than ``since_id``, plus ``gaps`` ``(since_id, until_id)``
    of older posts a run left unread because it reached the read cap.

    Stored as the plain ``since_id`` when there is no gap (as earlier versions stored it), else as JSON."""

    since_id: str | None = None
    gaps: list[tuple[str | None, str]] = field(default_factory=list)

    @classmethod
    def load(cls, raw: str | None) -> XCursor:
        if not raw or not raw.lstrip().startswith("{"):
            return cls(raw or None)
        data = json.loads(raw)
        gaps = [(None if lo is None else str(lo), str(hi)) for lo, hi in data.get("gaps", [])]
        return cls(data.get("since_id"), gaps)

    def dump(self) -> str | None:
        if not self.gaps:
            return self.since_id
        return json.dumps({"since_id": self.since_id, "gaps": [list(g) for g in self.gaps]})


@dataclass
class _Range:
    """One search: newest first, posts with since_id < id < until_id."""

    since_id: str | None
    until_id: str | None
    newest: str | None = None
    oldest: str | None = None
    finished: bool = False


class XSource(PlatformSource):
    """`#tag` on X's recent search (last 7 days), newest first down to the stored cursor.

    When the read cap stops a run part-way, the posts it did not reach are remembered as a gap in the
    cursor and read first by the next run (before they age out of the 7-day search window), so a cap
    costs time, not posts. A cursor older than the window is dropped with a notice: X refuses such a
    ``since_id``, and the posts in between can no longer be searched."""

    name = SOURCE

    def __init__(
        self,
        bearer_token: str,
        *,
        max_reads: int,
        page_size: int = 100,
        backoff: Backoff | None = None,
        clock: Clock = time.time,
        sleep: Sleep = time.sleep,
    ) -> None:
        super().__init__()
        import tweepy  # here, not at the top: a file import (twarc2) reads X's shapes without the client

        # tweepy logs request headers, the bearer token among them, at DEBUG.
        redact_in_loggers(["tweepy", "tweepy.client", "urllib3"], [bearer_token])
        self.client = tweepy.Client(bearer_token=bearer_token, return_type=dict, wait_on_rate_limit=False)
        self.max_reads = max_reads
        self.page_size = page_size
        self.clock = clock
        self.backoff = backoff or Backoff(attempts=4, base_seconds=2, max_wait_seconds=900, sleep=sleep)
        self.read = 0
        self.stopped_at_cap = False

    def fetch(self, query: str, since: str | None = None) -> Iterator[Page]:
        tag = query.lstrip("#")
        state = self._within_window(tag, XCursor.load(since))
        gaps = [_Range(lo, hi) for lo, hi in state.gaps]  # oldest posts first: they age out first
        new = _Range(state.since_id, None)
        pending: Page | None = None
        for rng in [*gaps, new]:
            for page in self._search(tag, rng):
                if pending is not None:
                    yield pending
                pending = page
            if self.stopped_at_cap:
                break
        left = [(g.since_id, g.oldest or g.until_id or "") for g in gaps if not g.finished]
        if not new.finished and new.oldest is not None:
            left.append((new.since_id, new.oldest))  # the newest posts were read, older ones were not
        cursor = XCursor(new.newest or state.since_id, left)
        if pending is None:
            pending = Page(batch=Batch())
        pending.cursor = cursor.dump()
        yield pending

    def _within_window(self, tag: str, state: XCursor) -> XCursor:
        oldest_allowed = self.clock() - SEARCH_WINDOW_SECONDS
        since = state.since_id
        if since is not None and id_time(since) < oldest_allowed:
            self.notice(
                f"x #{tag}: the last post read is older than X's 7-day search window, so posts between "
                "then and a week ago can no longer be collected; reading the whole window. Run at least "
                "every 6 days to avoid this."
            )
            since = None
        gaps = []
        for lo, hi in state.gaps:
            if id_time(hi) < oldest_allowed:
                self.notice(f"x #{tag}: unread posts older than X's 7-day search window were given up.")
                continue
            gaps.append((None if lo is not None and id_time(lo) < oldest_allowed else lo, hi))
        return XCursor(since, gaps)

    def _search(self, tag: str, rng: _Range) -> Iterator[Page]:
        import tweepy

        pages = iter(
            tweepy.Paginator(
                self.client.search_recent_tweets,
                f"#{tag}",
                since_id=rng.since_id,
                until_id=rng.until_id,
                tweet_fields=TWEET_FIELDS,
                expansions=EXPANSIONS,
                user_fields=USER_FIELDS,
                max_results=self.page_size,
            )
        )
        while True:
            left = self.max_reads - self.read
            if left < MIN_PAGE:
                self._stop_at_cap(tag)
                return
            pages.kwargs["max_results"] = min(self.page_size, left)
            try:
                body = self.backoff.call(f"x #{tag}", lambda: next(pages), self._transient_wait)
            except StopIteration:
                rng.finished = True
                return
            except (tweepy.Unauthorized, tweepy.Forbidden) as exc:
                raise SourceUnavailable(
                    f"X refused the search ({exc.response.status_code}): check COMMONGROUND_X_BEARER_TOKEN "
                    "and that your X API plan includes recent search."
                ) from None
            prov = provenance(SOURCE, tag, SEARCH_URL, CLIENT)
            try:
                batch = normalise_x_page(body, prov, SEARCH_URL)
            except Exception as exc:  # a page nothing expected is quarantined whole; the search goes on
                reason = f"page not understood: {failure_reason(exc)}"
                batch = quarantine(SOURCE, SEARCH_URL, None, reason, dump_anyway(body))
            self.read += batch.read
            meta = body.get("meta") if isinstance(body, dict) else None
            if isinstance(meta, dict):
                if rng.newest is None and meta.get("newest_id"):
                    rng.newest = str(meta["newest_id"])
                if meta.get("oldest_id"):
                    rng.oldest = str(meta["oldest_id"])
            yield Page(batch=batch)

    def _stop_at_cap(self, tag: str) -> None:
        self.stopped_at_cap = True
        notice = (
            f"x #{tag}: stopped at the read cap ({self.read} posts read of {self.max_reads} allowed for this "
            "run); the posts it did not reach are read first by the next run. X bills every post read; "
            "raise COMMONGROUND_X_MAX_READS_PER_RUN or COMMONGROUND_X_MAX_READS_PER_MONTH to read more."
        )
        self.notice(notice)

    def _transient_wait(self, exc: Exception) -> float | None:
        import requests
        import tweepy

        if isinstance(exc, tweepy.TooManyRequests):
            reset = getattr(exc, "reset_time", None)
            return max(0.0, reset - self.clock()) if reset else 0.0
        if isinstance(exc, tweepy.TwitterServerError | requests.Timeout | requests.ConnectionError):
            return 0.0
        return None
