"""The record types every source normalises into: `Post`, `Account`, `Interaction`, with provenance.

A record is self-contained: it carries the raw payload it was built from and where and when that
payload came from, so any row in the warehouse can be traced back and re-derived.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from enum import StrEnum
from operator import attrgetter
from typing import Any


class InteractionKind(StrEnum):
    """How one account engaged with another. Reposts and quotes endorse; replies and mentions contact."""

    REPLY = "reply"
    QUOTE = "quote"
    REPOST = "repost"
    MENTION = "mention"


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where and when a payload was fetched, and by which client."""

    source: str
    query: str
    url: str
    client_version: str
    retrieved_at: datetime


@dataclass(frozen=True, slots=True)
class Account:
    account_id: str
    source: str
    native_id: str
    handle: str
    display_name: str
    bio: str
    followers_count: int | None
    url: str | None
    provenance: Provenance
    raw: str


@dataclass(frozen=True, slots=True)
class Post:
    post_id: str
    source: str
    native_id: str
    author_id: str
    created_at: datetime
    text: str
    lang: str | None
    url: str | None
    reply_to_post_id: str | None
    quote_of_post_id: str | None
    repost_of_post_id: str | None
    hashtags: tuple[str, ...]
    provenance: Provenance
    raw: str
    # When this version of the post was written, where the payload says so (Mastodon `edited_at`, the
    # place in X's edit history, Bluesky `indexedAt`, Reddit `edited`): a repeat of the post with other
    # content is then an edit, the newest version kept. None: a repeat with other content is a conflict.
    version_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Interaction:
    """A typed edge from the account that acted to the account acted upon, made by one post."""

    interaction_id: str
    source: str
    kind: InteractionKind
    post_id: str
    src_account_id: str
    dst_account_id: str
    target_post_id: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Quarantined:
    """A payload that could not be normalised, kept whole with the reason."""

    quarantine_id: str
    source: str
    origin: str
    line_no: int | None
    reason: str
    raw: str


@dataclass(slots=True)
class Batch:
    """What normalising a page or a file yields; every input payload ends up in exactly one list."""

    posts: list[Post] = field(default_factory=list)
    accounts: list[Account] = field(default_factory=list)
    interactions: list[Interaction] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)
    read: int = 0
    # The file line each post came from (in the order of `posts`; None where unknown), so a conflict's
    # reason names its lines. Only file sources know lines.
    lines: list[int | None] = field(default_factory=list)

    def extend(self, other: Batch) -> None:
        if len(self.lines) != len(self.posts):
            self.lines = self.post_lines()
        self.lines.extend(other.lines if len(other.lines) == len(other.posts) else other.post_lines())
        self.posts.extend(other.posts)
        self.accounts.extend(other.accounts)
        self.interactions.extend(other.interactions)
        self.quarantined.extend(other.quarantined)
        self.read += other.read

    def post_lines(self) -> list[int | None]:
        """`lines`, one per post."""
        return [*self.lines, *[None] * (len(self.posts) - len(self.lines))][: len(self.posts)]


def _pickled_by_fields(*kinds: type) -> None:
    """Pickle records as (type, field values): the dataclass default for slotted classes calls Python
    per record, and a large import sends every page from its worker process (flows/sources/parallel.py)."""
    for kind in kinds:
        values = attrgetter(*(f.name for f in fields(kind)))
        kind.__reduce__ = lambda record, values=values: (type(record), values(record))  # type: ignore[method-assign,assignment,misc]


_pickled_by_fields(Provenance, Account, Post, Interaction, Quarantined)


def utcnow() -> datetime:
    """Now in UTC without zone, as every time in the warehouse."""
    return datetime.now(UTC).replace(tzinfo=None)


def stable_id(*parts: Any) -> str:
    """A short deterministic id from its parts, so re-ingesting the same thing gives the same key."""
    # surrogatepass: a lone surrogate in a broken payload still hashes (it is quarantined, not a crash).
    text = "\x1f".join(str(p) for p in parts)
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return digest[:24]


def interaction_id(post_id: str, kind: InteractionKind, dst_account_id: str) -> str:
    return stable_id(post_id, kind.value, dst_account_id)


def qualified(source: str, native_id: str) -> str:
    """The warehouse key of a native id: ids are only unique within one platform."""
    return f"{source}:{native_id}"
