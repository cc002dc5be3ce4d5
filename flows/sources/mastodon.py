"""Mastodon: public hashtag timelines of several instances through Mastodon.py, one status stored once.

A status is keyed by its ActivityPub URI, so the same status read through two instances is one post.
An account is keyed by its full address (`user@domain`), for the same reason. Statuses are normalised
from the JSON the server sent (Mastodon.py's own entities are lossy: ids become ints, unknown fields go),
so the same `normalise_status` also reads Mastodon API JSON dumps.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import requests
from mastodon import (
    Mastodon,
    MastodonAPIError,
    MastodonNetworkError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
)

from flows.sources.base import Page
from flows.sources.common import (
    Backoff,
    PlatformSource,
    RateLimiter,
    Sleep,
    failure_reason,
    normalise_each,
    provenance,
    quarantine,
)
from flows.sources.mastodon_status import (
    CLIENT,
    SOURCE,
    USER_AGENT,
    StatusContext,
    normalise_status,
)
from warehouse.records import (
    Batch,
)


class _KeepBody(requests.Session):
    """Remembers the last response, so statuses are normalised from the bytes the server sent."""

    last: requests.Response | None = None

    def request(self, method: str, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        self.last = super().request(method, url, *args, **kwargs)
        return self.last


def _instance_host(instance: str) -> str:
    return urlparse(instance).netloc if "://" in instance else instance.strip("/")


class MastodonSource(PlatformSource):
    """Reads `#tag` on every configured instance; an instance that wants a login is skipped with a notice.

    The cursor is a JSON object `{instance: newest status id stored}`, one entry per instance; see
    `_instance_pages` for how it moves without leaving gaps.
    """

    name = SOURCE

    def __init__(
        self,
        instances: list[str],
        tokens: dict[str, str] | None = None,
        *,
        page_size: int = 40,
        max_pages: int = 25,
        requests_per_window: int = 300,
        window_seconds: float = 300,
        backoff: Backoff | None = None,
        sleep: Sleep = time.sleep,
    ) -> None:
        super().__init__()
        self.instances = [_instance_host(i) for i in instances]
        self.tokens = {_instance_host(k): v for k, v in (tokens or {}).items()}
        self.page_size = page_size
        self.max_pages = max_pages
        self.sleep = sleep
        self.backoff = backoff or Backoff(attempts=4, base_seconds=2, max_wait_seconds=900, sleep=sleep)
        self.limiters = {
            i: RateLimiter(requests_per_window, window_seconds, sleep=sleep) for i in self.instances
        }
        self._clients: dict[str, tuple[Mastodon, _KeepBody]] = {}

    def client(self, instance: str) -> tuple[Mastodon, _KeepBody]:
        if instance not in self._clients:
            session = _KeepBody()
            api = Mastodon(
                api_base_url=f"https://{instance}",
                access_token=self.tokens.get(instance),
                ratelimit_method="throw",  # we wait ourselves, with a sleep tests can replace
                version_check_mode="none",
                mastodon_version="4.0.0",  # skips the version probe: one request fewer per instance
                session=session,
                user_agent=USER_AGENT,
                request_timeout=30,
            )
            self._clients[instance] = (api, session)
        return self._clients[instance]

    def fetch(self, query: str, since: str | None = None) -> Iterator[Page]:
        tag = query.lstrip("#")
        cursors: dict[str, str] = json.loads(since) if since else {}
        for instance in self.instances:
            try:
                yield from self._instance_pages(instance, tag, cursors)
            except (MastodonUnauthorizedError, MastodonAPIError) as exc:
                if isinstance(exc, MastodonServerError) or _status(exc) not in (401, 403, 422):
                    raise
                notice = (
                    f"{instance} requires login to read hashtag timelines; skipped it. To include it, give "
                    f'a token: COMMONGROUND_MASTODON_TOKENS=\'{{"{instance}": "…"}}\''
                )
                self.notice(notice)

    def _instance_pages(self, instance: str, tag: str, cursors: dict[str, str]) -> Iterator[Page]:
        """First run: newest first, down with `max_id`, the cursor set once at the end. Later runs:
        forward from the cursor with `min_id`, oldest new page first, so the cursor moves page by
        page and a run cut short by `max_pages` (or a failure) leaves no gap for the next."""
        api, session = self.client(instance)
        since_id = cursors.get(instance)
        ctx = StatusContext(instance=instance, provenance=provenance(SOURCE, tag, "", CLIENT))
        max_id: str | None = None
        newest: str | None = since_id
        pending: Page | None = None
        for _ in range(self.max_pages):
            params = {"min_id": newest} if since_id else {"max_id": max_id}
            page = self._page(api, session, instance, tag, ctx, params)
            if page is None:
                break
            ids, batch = page
            if since_id:
                newest = max([newest or "0", *ids], key=_id_int) if ids else newest
                cursors[instance] = newest or since_id
                yield Page(batch=batch, cursor=json.dumps(cursors, sort_keys=True))
            else:
                newest = max([newest or "0", *ids], key=_id_int) if ids else newest
                max_id = min(ids, key=_id_int) if ids else max_id
                if pending is not None:
                    yield pending
                pending = Page(batch=batch)
            if not ids:
                break
        if pending is not None and newest:
            cursors[instance] = newest
            pending.cursor = json.dumps(cursors, sort_keys=True)
        if pending is not None:
            yield pending

    def _page(
        self,
        api: Mastodon,
        session: _KeepBody,
        instance: str,
        tag: str,
        ctx: StatusContext,
        params: dict[str, str | None],
    ) -> tuple[list[str], Batch] | None:
        """One timeline page: its status ids and records; None when the timeline has no more."""
        body, url = self._request(api, session, instance, tag, **params)
        try:
            statuses = json.loads(body)
            if not isinstance(statuses, list):
                raise ValueError(f"expected a list of statuses, got {type(statuses).__name__}")
        except (ValueError, RecursionError) as exc:
            return [], quarantine(SOURCE, url, None, f"page not understood: {failure_reason(exc)}", body)
        if not statuses:
            return None
        ctx.provenance = provenance(SOURCE, tag, url, CLIENT)
        # Oldest first, so a reply's parent on the same page is seen before the reply.
        ordered = sorted(statuses, key=_id_order)
        batch = normalise_each(ordered, lambda s: normalise_status(s, ctx), source=SOURCE, origin=url)
        return [str(s["id"]) for s in statuses if isinstance(s, dict) and "id" in s], batch

    def _request(
        self, api: Mastodon, session: _KeepBody, instance: str, tag: str, **params: str | None
    ) -> tuple[str, str]:
        def once() -> tuple[str, str]:
            self.limiters[instance].wait()
            # The last good answer said the window is used up: wait for its reset (a 429 was waited for).
            ok = session.last is not None and session.last.status_code == 200
            if (
                ok
                and api.ratelimit_remaining is not None
                and api.ratelimit_remaining <= 0
                and api.ratelimit_reset
            ):
                self.sleep(max(0.0, min(api.ratelimit_reset - time.time(), self.backoff.max_wait_seconds)))
            try:
                api.timeline_hashtag(tag, limit=self.page_size, **params)
            except MastodonAPIError:
                # A 200 whose body Mastodon.py cannot parse is quarantined by the caller, not fatal.
                if session.last is None or session.last.status_code != 200:
                    raise
            response = session.last
            assert response is not None
            return response.text, str(response.url)

        def transient_wait(exc: Exception) -> float | None:
            if isinstance(exc, MastodonRatelimitError):
                reset = api.ratelimit_reset
                return max(0.0, reset - time.time()) if reset else 0.0
            if isinstance(exc, MastodonServerError | MastodonNetworkError):
                return 0.0
            return None

        return self.backoff.call(f"mastodon {instance} #{tag}", once, transient_wait)


def _status(exc: MastodonAPIError) -> int | None:
    code = exc.args[1] if len(exc.args) > 1 else None
    return code if isinstance(code, int) else None


def _id_int(value: str) -> int:
    # Mastodon ids are at most 20 digits; a longer "id" is junk (and past 4,300 digits int() refuses).
    return int(value) if value.isdigit() and len(value) <= 40 else 0


def _id_order(status: Any) -> int:
    return _id_int(str(status.get("id", ""))) if isinstance(status, dict) else 0
