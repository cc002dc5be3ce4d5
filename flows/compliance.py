"""Deletion compliance: ask each platform which stored posts their authors deleted.

Mastodon answers `GET /api/v1/statuses/:id` on the status' home instance with 404 `{"error":"Record not
found"}` (or 410) once it is deleted; Bluesky's `app.bsky.feed.getPosts` leaves deleted posts out, and
`getPostThread` then answers 400 `NotFound`; X checks ids in batch compliance jobs (create a job, upload
the ids, poll it, download JSON Lines of `{id, action: "delete", reason}`). Requests go through each
source's own client, rate limits and backoff (flows/sources/). The flows that apply the verdicts are in
flows/lifecycle.py.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import requests

from flows.sources.common import Backoff, Sleep, SourceUnavailable, TransientSourceError

if TYPE_CHECKING:  # the platform clients are imported only when a platform is checked
    from flows.sources.bluesky import BlueskySource
    from flows.sources.mastodon import MastodonSource
    from flows.sources.x import XSource

# A stored post: (post_id, native_id).
Stored = tuple[str, str]
# A status URI Mastodon minted: its home instance and id there (a boost's URI ends in /activity).
STATUS_URI = re.compile(r"^https://(?P<host>[^/]+)/users/[^/]+/statuses/(?P<id>\d+)(?:/activity)?$")
BLUESKY_POST = "/app.bsky.feed.post/"
GET_POSTS_MAX = 25  # app.bsky.feed.getPosts takes at most 25 URIs


@dataclass
class Verdicts:
    """What a check found: posts deleted on the platform (post_id, reason), and what it could not tell."""

    checked: int = 0
    deleted: list[tuple[str, str]] = field(default_factory=list)
    unchecked: int = 0
    notices: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, Any]:
        return {"checked": self.checked, "found_deleted": len(self.deleted), "unchecked": self.unchecked}


# --- Mastodon -------------------------------------------------------------------------------------


def mastodon_hosts(posts: Sequence[Stored]) -> list[str]:
    """The home instances of these statuses, to ask each about its own."""
    return sorted({m["host"] for _, uri in posts if (m := STATUS_URI.match(uri))})


def check_mastodon(source: MastodonSource, posts: Sequence[Stored]) -> Verdicts:
    """Ask each status' home instance for it (through `MastodonSource`'s clients, limiters and backoff).
    404 and 410 mean deleted (404 also when it is no longer public). An instance that answers 401/403,
    or keeps failing, is noted and its posts are left as they are."""
    found = Verdicts()
    skipped: set[str] = set()
    for post_id, uri in posts:
        match = STATUS_URI.match(uri)
        if match is None or match["host"] in skipped:
            found.unchecked += 1
            continue
        host = match["host"]
        try:
            code = _mastodon_status(source, host, match["id"])
        except TransientSourceError as exc:
            code, why = 0, f"kept failing ({exc})"
        else:
            why = f"refused to show statuses ({code})"
        if code in (200, 404, 410):
            found.checked += 1
            if code != 200:
                found.deleted.append((post_id, f"mastodon: {code} from {host}"))
            continue
        skipped.add(host)
        found.unchecked += 1
        found.notices.append(f"{host} {why}; its posts were not checked.")
    return found


def _mastodon_status(source: MastodonSource, host: str, status_id: str) -> int:
    """The HTTP status `GET /api/v1/statuses/:id` answers on the status' home instance."""
    from mastodon import MastodonAPIError, MastodonNotFoundError

    api, _ = source.client(host)

    def ask() -> int:
        source.limiters[host].wait()
        try:
            api.status(status_id)
        except MastodonNotFoundError:
            return 404
        except MastodonAPIError as exc:
            code = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else None
            if code in (401, 403, 410):
                return code
            raise
        return 200

    return int(source.backoff.call(f"mastodon {host} status {status_id}", ask, _mastodon_transient))


def _mastodon_transient(exc: Exception) -> float | None:
    from mastodon import MastodonNetworkError, MastodonRatelimitError, MastodonServerError

    if isinstance(exc, MastodonRatelimitError | MastodonServerError | MastodonNetworkError):
        return 0.0
    return None


# --- Bluesky --------------------------------------------------------------------------------------


def check_bluesky(source: BlueskySource, posts: Sequence[Stored]) -> Verdicts:
    """`getPosts` 25 at a time; a post it leaves out is asked for with `getPostThread`, which says
    `NotFound` (deleted) or returns it as blocked (not ours to judge: kept, with a notice)."""
    from atproto import models

    found = Verdicts()
    feed_posts = [(pid, uri) for pid, uri in posts if BLUESKY_POST in uri]
    found.unchecked = len(posts) - len(feed_posts)  # reposts are records getPosts does not return
    if not feed_posts:
        return found
    source.login()
    for start in range(0, len(feed_posts), GET_POSTS_MAX):
        chunk = feed_posts[start : start + GET_POSTS_MAX]
        params = models.AppBskyFeedGetPosts.Params(uris=[uri for _, uri in chunk])
        body = _bluesky_query(source, "app.bsky.feed.getPosts", params)
        returned = {p.get("uri") for p in body.get("posts", []) if isinstance(p, dict)}
        found.checked += len(chunk)
        for post_id, uri in chunk:
            if uri in returned:
                continue
            verdict = _bluesky_thread_verdict(source, uri)
            if verdict is None:
                found.notices.append(f"bluesky: {uri} is blocked or hidden from this account; kept.")
            else:
                found.deleted.append((post_id, verdict))
    return found


def _bluesky_thread_verdict(source: BlueskySource, uri: str) -> str | None:
    from atproto import exceptions, models

    params = models.AppBskyFeedGetPostThread.Params(uri=uri, depth=0, parent_height=0)
    try:
        body = _bluesky_query(source, "app.bsky.feed.getPostThread", params)
    except exceptions.BadRequestError as exc:
        content = exc.response.content if exc.response is not None else None
        if getattr(content, "error", None) == "NotFound":
            return "bluesky: NotFound"
        raise
    kind = (body.get("thread") or {}).get("$type")
    if kind == "app.bsky.feed.defs#notFoundPost":
        return "bluesky: notFoundPost"
    return None


def _bluesky_query(source: BlueskySource, nsid: str, params: Any) -> dict[str, Any]:
    response = source.backoff.call(
        f"bluesky {nsid}",
        lambda: source.client.invoke_query(nsid, params=params, output_encoding="application/json"),
        source._transient_wait,
    )
    content = response.content
    if not isinstance(content, dict):
        raise SourceUnavailable(f"Bluesky answered {nsid} with something that is not JSON.")
    return content


# --- X --------------------------------------------------------------------------------------------


def parse_x_results(lines: Iterator[str] | Sequence[str], origin: str) -> Verdicts:
    """A compliance job's result file (JSON Lines `{id, action, reason, ...}`): every `delete` action is a
    deletion; other actions (e.g. `scrub_geo`) ask nothing of us. A line that is not such an object is
    counted and named, never fatal."""
    found = Verdicts()
    bad: list[int] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            tweet_id, action = str(item["id"]), str(item["action"])
        except (ValueError, KeyError, TypeError):
            bad.append(number)
            continue
        found.checked += 1
        if action == "delete":
            found.deleted.append((f"x:{tweet_id}", f"x: {item.get('reason') or 'deleted'}"))
    if bad:
        found.notices.append(
            f"{origin}: {len(bad)} line(s) are not compliance results (first: line {bad[0]})."
        )
    return found


class XComplianceJob:
    """One batch compliance job through tweepy's client (`XSource.client`), its backoff and its token
    redaction: create → upload ids → poll → download."""

    def __init__(
        self,
        source: XSource,
        *,
        poll_seconds: float,
        max_wait_seconds: float,
        sleep: Sleep = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source = source
        self.backoff: Backoff = source.backoff
        self.poll_seconds = poll_seconds
        self.max_wait_seconds = max_wait_seconds
        self.sleep = sleep
        self.clock = clock

    def _api(self, what: str, call: Callable[[], Any]) -> dict[str, Any]:
        import tweepy

        try:
            body = self.backoff.call(f"x compliance: {what}", call, self.source._transient_wait)
        except (tweepy.Unauthorized, tweepy.Forbidden) as exc:
            raise SourceUnavailable(
                f"X refused the compliance job ({exc.response.status_code}): check COMMONGROUND_X_BEARER_TOKEN "
                "and that your X API plan includes batch compliance."
            ) from None
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            raise SourceUnavailable(f"X answered {what} without a job: {str(body)[:200]}")
        return data

    def start(self, tweet_ids: Sequence[str]) -> str:
        """Create a job and upload the ids to it; the job's id."""
        job = self._api("create job", lambda: self.source.client.create_compliance_job(type="tweets"))
        body = "\n".join(tweet_ids) + "\n"

        def upload() -> None:
            response = requests.put(
                job["upload_url"], data=body.encode(), headers={"Content-Type": "text/plain"}, timeout=120
            )
            response.raise_for_status()

        self.backoff.call("x compliance: upload ids", upload, self.source._transient_wait)
        return str(job["id"])

    def wait(self, job_id: str) -> dict[str, Any]:
        """Poll until the job is complete; a failed job or one still running after the bound says so."""
        started = self.clock()
        while True:
            job = self._api("job status", lambda: self.source.client.get_compliance_job(job_id))
            status = job.get("status")
            if status == "complete":
                return job
            if status in ("failed", "expired"):
                raise SourceUnavailable(
                    f"X compliance job {job_id} {status}: {job.get('error', 'no reason given')}"
                )
            if self.clock() - started >= self.max_wait_seconds:
                raise TransientSourceError(
                    f"X compliance job {job_id} is still {status} after {self.max_wait_seconds:.0f} s; run "
                    f"`commonground compliance --source x --x-job {job_id}` later to apply its result."
                )
            self.sleep(self.poll_seconds)

    def results(self, job: dict[str, Any]) -> Verdicts:
        def download() -> str:
            response = requests.get(job["download_url"], timeout=300)
            response.raise_for_status()
            return response.text

        text = self.backoff.call("x compliance: download results", download, self.source._transient_wait)
        return parse_x_results(text.splitlines(), f"X compliance job {job.get('id')}")
