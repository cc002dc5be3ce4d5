"""What every platform source shares: provenance, per-item quarantine, HTML to text, politeness, errors."""

from __future__ import annotations

import json
import logging
import re
import reprlib
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from html import unescape
from html.parser import HTMLParser
from importlib import metadata
from typing import Any, TypeVar

from flows.sources.base import Source
from warehouse.records import (
    Account,
    Batch,
    Interaction,
    InteractionKind,
    Provenance,
    Quarantined,
    interaction_id,
    qualified,
    stable_id,
    utcnow,
)

T = TypeVar("T")
Sleep = Callable[[float], None]
Clock = Callable[[], float]


class PlatformSource(Source):
    """A source that talks to a platform: it collects notices (instances skipped, caps reached) for the run."""

    def __init__(self) -> None:
        self.notices: list[str] = []

    def notice(self, message: str) -> None:
        logging.getLogger(f"flows.sources.{self.name}").warning(message)
        self.notices.append(message)


class TransientSourceError(RuntimeError):
    """A request kept failing in a way that may pass (429, 5xx, timeout): worth retrying the task later."""


class SourceUnavailable(RuntimeError):
    """A platform refused us in a way retrying will not fix (login, permission): the message says what to do."""


def client_version(distribution: str) -> str:
    """`Name/version` of the client library that fetched a payload, for provenance."""
    try:
        return f"{distribution}/{metadata.version(distribution)}"
    except metadata.PackageNotFoundError:
        return f"{distribution}/unknown"


def provenance(source: str, query: str, url: str, client: str) -> Provenance:
    return Provenance(source=source, query=query, url=url, client_version=client, retrieved_at=utcnow())


def dump(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, default=str)


_SHOWN = reprlib.Repr()  # how a payload that JSON cannot write is kept: deep enough, and bounded
_SHOWN.maxlevel, _SHOWN.maxstring, _SHOWN.maxother = 50, 10_000, 10_000
_SHOWN.maxlist = _SHOWN.maxdict = 1_000


def dump_anyway(obj: Any) -> str:
    """`dump(obj)` for a payload being quarantined, which may be what broke: JSON nested too deeply to
    write, keys of mixed types. It is then kept as far as Python can show it, with what stopped it."""
    try:
        return dump(obj)
    except Exception as exc:
        return f"(not writable as JSON: {type(exc).__name__}) {_SHOWN.repr(obj)}"


def failure_reason(exc: Exception) -> str:
    """Why one record failed, in words. A ValueError is a normaliser's own reason; anything else is
    named by its type, since it is a payload nothing expected (or a bug of ours) and worth reporting."""
    if isinstance(exc, ValueError):
        return str(exc)
    if isinstance(exc, RecursionError):
        return f"RecursionError: the payload is nested too deeply to read ({exc})"
    return f"{type(exc).__name__}: {exc} (unexpected: please report it with this record)"


def quarantine(source: str, origin: str, line_no: int | None, reason: str, raw: str) -> Batch:
    """A batch holding one payload that could not be normalised; it still counts as read."""
    record = Quarantined(
        quarantine_id=stable_id(source, origin, line_no, raw),
        source=source,
        origin=origin,
        line_no=line_no,
        reason=reason,
        raw=raw,
    )
    return Batch(quarantined=[record], read=1)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _clean(value: Any) -> Any:
    return _SURROGATE.sub("\ufffd", value) if isinstance(value, str) else value


def repaired(batch: Batch) -> Batch:
    """The batch with lone surrogates (half an emoji, from `\\ud83d` in a cut JSON string) replaced by
    U+FFFD in every text: they cannot be stored as UTF-8, and one broken character should not cost a post."""
    records: list[list[Any]] = [batch.posts, batch.accounts, batch.interactions, batch.quarantined]
    for group in records:
        for index, record in enumerate(group):
            values = [getattr(record, f) for f in record.__dataclass_fields__]
            if not _SURROGATE.search("".join(v for v in values if isinstance(v, str))):
                continue  # nearly every record: one search instead of one per field
            fields = dict(zip(record.__dataclass_fields__, values, strict=True))
            broken = {f: _clean(v) for f, v in fields.items() if isinstance(v, str) and _SURROGATE.search(v)}
            if broken:
                group[index] = replace(record, **broken)
    return batch


def normalise_each(
    items: Iterable[Any],
    normalise: Callable[[Any], Batch],
    *,
    source: str,
    origin: str,
    line_no: int | None = None,
) -> Batch:
    """Normalise every item of a page; one that fails, however (a bug of ours included), is quarantined
    with the reason and the rest go on.

    Items are numbered from 1; `line_no` is the file line holding the whole page, when there is one."""
    batch = Batch()
    for index, item in enumerate(items, start=1):
        try:
            batch.extend(repaired(normalise(item)))
        except Exception as exc:
            where = f"line {line_no}, item {index}" if line_no is not None else f"item {index}"
            line = line_no if line_no is not None else index
            reason = f"{where}: {failure_reason(exc)}"
            batch.extend(repaired(quarantine(source, origin, line, reason, dump_anyway(item))))
    return batch


def interaction_adder(
    batch: Batch, source: str, post_id: str, author_id: str, created_at: datetime
) -> Callable[[InteractionKind, str | None, str | None], None]:
    """`add(kind, dst_native_id, target_post_id)`: a typed edge from this post's author into `batch`.

    An unknown target account (None) or the author itself adds nothing."""

    def add(kind: InteractionKind, dst_native: str | None, target: str | None) -> None:
        if dst_native is None:
            return
        dst = qualified(source, dst_native)
        if dst != author_id:
            edge = Interaction(
                interaction_id(post_id, kind, dst), source, kind, post_id, author_id, dst, target, created_at
            )
            batch.interactions.append(edge)

    return add


def stub_account(
    source: str, native_id: str, handle: str, prov: Provenance, raw: str, url: str | None = None
) -> Account:
    """An account known only by a mention; its own posts fill in the rest (see `upsert_batch`)."""
    return Account(qualified(source, native_id), source, native_id, handle, handle, "", None, url, prov, raw)


def require(obj: Any, key: str, kind: type | tuple[type, ...], where: str = "") -> Any:
    """`obj[key]` when it has the expected type, else a ValueError naming the field."""
    if not isinstance(obj, dict):
        raise ValueError(f"expected an object{' at ' + where if where else ''}, got {type(obj).__name__}")
    value = obj.get(key)
    if not isinstance(value, kind) or (isinstance(value, str) and not value.strip()):
        raise ValueError(f"missing or malformed field {where}{key!r}: {str(value)[:60]!r}")
    return value


def subobject(obj: dict[str, Any], key: str) -> dict[str, Any]:
    """`obj[key]` when it is an object, else an empty one (for optional parts of a payload)."""
    value = obj.get(key)
    return value if isinstance(value, dict) else {}


class _TextExtractor(HTMLParser):
    """Paragraphs and line breaks become newlines; every other tag is dropped and entities decoded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "p" and self.parts:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(html: str) -> str:
    """Plain text of a Mastodon status body (HTML), keeping paragraph breaks."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = "".join(parser.parts).split("\n")
    return unescape("\n".join(line.strip() for line in lines)).strip()


class RateLimiter:
    """At most `max_calls` per `period` seconds (a sliding window), waiting with the injected sleep."""

    def __init__(
        self, max_calls: int, period: float, *, clock: Clock = time.monotonic, sleep: Sleep = time.sleep
    ):
        self.max_calls = max_calls
        self.period = period
        self.clock = clock
        self.sleep = sleep
        self.calls: deque[float] = deque()

    def wait(self) -> None:
        now = self.clock()
        while self.calls and now - self.calls[0] >= self.period:
            self.calls.popleft()
        if len(self.calls) >= self.max_calls:
            self.sleep(self.period - (now - self.calls[0]))
            self.calls.popleft()
        self.calls.append(self.clock())


class Backoff:
    """Retries one request on transient errors, waiting what the platform asks or exponentially."""

    def __init__(
        self, *, attempts: int, base_seconds: float, max_wait_seconds: float, sleep: Sleep = time.sleep
    ) -> None:
        self.attempts = attempts
        self.base_seconds = base_seconds
        self.max_wait_seconds = max_wait_seconds
        self.sleep = sleep
        self.waited: list[float] = []

    def call(
        self, what: str, request: Callable[[], T], transient_wait: Callable[[Exception], float | None]
    ) -> T:
        """`transient_wait(exc)` says how long to wait before retrying (0 for "back off exponentially"),
        or None when the error will not pass by waiting, in which case it propagates at once."""
        for attempt in range(1, self.attempts + 1):
            try:
                return request()
            except Exception as exc:
                wait = transient_wait(exc)
                if wait is None:
                    raise
                if attempt == self.attempts:
                    raise TransientSourceError(
                        f"{what}: still failing after {attempt} tries ({exc})"
                    ) from exc
                wait = wait or self.base_seconds * 2 ** (attempt - 1)
                wait = min(max(wait, 0.0), self.max_wait_seconds)
                logging.getLogger(__name__).warning(
                    "%s: %s; retrying in %.0f s (try %d of %d)",
                    what,
                    type(exc).__name__,
                    wait,
                    attempt + 1,
                    self.attempts,
                )
                self.waited.append(wait)
                self.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover


MIN_SECRET_LENGTH = 8


class RedactSecrets(logging.Filter):
    """Replaces secret values in log records, for client libraries that log request headers at DEBUG."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = list(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(s in message for s in self.secrets):
            for secret in self.secrets:
                message = message.replace(secret, "[redacted]")
            record.msg, record.args = message, None
        return True


def redact_in_loggers(names: Iterable[str], secrets: Iterable[str]) -> None:
    """Install (once per logger) a filter that hides these secrets."""
    # Real tokens are long; hiding every "t" of a test token would garble all logs.
    secrets = [s for s in secrets if len(s) >= MIN_SECRET_LENGTH]
    for name in names:
        logger = logging.getLogger(name)
        for existing in logger.filters:
            if isinstance(existing, RedactSecrets):
                existing.secrets = list(dict.fromkeys([*existing.secrets, *secrets]))
                break
        else:
            logger.addFilter(RedactSecrets(secrets))
