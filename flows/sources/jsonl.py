"""Normalise commonground's own JSONL import format into records.

One JSON object per line, one post per object::

    {"id": "1001",                                  # required, unique within the platform
     "created_at": "2026-11-16T08:12:00Z",          # required: ISO 8601, RFC 2822, epoch s or ms (naive = UTC)
     "edited_at": "2026-11-16T09:00:00Z",           # optional: when this version was written (an edit)
     "text": "…",                                   # required; a repost carries the reposted text
     "author": {"id": "a17", "handle": "drjane",    # required: id and handle
                "display_name": "Dr Jane", "bio": "GP in Leeds", "followers": 1200},
     "platform": "sample",                          # optional (default: the file source name)
     "url": "https://…", "lang": "en",              # optional
     "reply_to":  {"id": "999", "author_id": "a3"}, # optional: the post replied to and its author (if known)
     "quote_of":  {"id": "…",   "author_id": "…"},  # optional
     "repost_of": {"id": "…",   "author_id": "…"},  # optional
     "mentions": [{"id": "a5", "handle": "nhsengland"}],  # optional
     "hashtags": ["NHS", "GPcrisis"]}               # optional (enrich also extracts them from text)

Ids of authors, mentions and referenced posts are platform-native; the warehouse qualifies
them with the platform name so two platforms never collide.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flows.sources.common import interaction_adder, stub_account
from flows.sources.dates import EARLIEST, latest, parse_timestamp
from warehouse.records import (
    Account,
    Batch,
    InteractionKind,
    Post,
    Provenance,
    qualified,
)

FORMAT_VERSION = "commonground-jsonl/1"
# `json.dumps(…, ensure_ascii=False, sort_keys=True, default=str)`, built once rather than per payload.
_dump = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=str).encode


def _required_str(obj: dict[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if type(value) is str and (key == "text" or value.strip()):
        return value  # nearly every value: one test
    if value is None or (isinstance(value, str) and not value.strip() and key != "text"):
        raise ValueError(f"missing required field {where}{key!r}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise ValueError(f"field {where}{key!r} must be a string, got {type(value).__name__}")
    return value


def _time(value: Any, field: str, date_format: str | None) -> datetime:
    """`parse_timestamp`, with the layout nearly every export writes (`2026-11-16T08:12:00Z`) read
    first in one step (a sixth of normalising a post went on trying layouts); any other value, or one
    out of range, goes the whole way, for its checks and its error."""
    if (
        date_format is None
        and type(value) is str
        and len(value) == 20
        and value[10] == "T"
        and value[19] == "Z"
    ):
        try:
            parsed = datetime.fromisoformat(value[:19])
        except ValueError:
            return parse_timestamp(value, field, date_format)
        if EARLIEST <= parsed <= latest():
            return parsed
    return parse_timestamp(value, field, date_format)


def _ref(obj: dict[str, Any], key: str) -> tuple[str, str | None] | None:
    """(post id, its author's id) of a referenced post; the author may be unknown (no edge is made)."""
    ref = obj.get(key)
    if ref is None:
        return None
    if not isinstance(ref, dict):
        raise ValueError(f"{key!r} must be an object with 'id' and 'author_id'")
    author = ref.get("author_id")
    return _required_str(ref, "id", f"{key}."), _required_str(ref, "author_id", f"{key}.") if author else None


def normalise_post(
    obj: Any, *, default_platform: str, provenance: Provenance, date_format: str | None = None
) -> Batch:
    """Turn one JSONL object into a post, its author, mentioned accounts and interactions.

    `date_format` (strptime codes) reads times written in a layout of their own, such as `06/01/14`.
    Raises ValueError, naming the field, on anything it does not recognise.
    """
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object per line, got {type(obj).__name__}")
    platform = obj.get("platform") or default_platform
    if not isinstance(platform, str) or not platform.strip():
        raise ValueError("'platform' must be a non-empty string")
    native_id = _required_str(obj, "id", "")
    text = _required_str(obj, "text", "")
    created_at = _time(obj.get("created_at"), "created_at", date_format)
    edited = obj.get("edited_at")
    version_at = _time(edited, "edited_at", date_format) if edited not in (None, "") else None
    author = _author(obj, platform, provenance)
    hashtags = obj.get("hashtags") or []
    if not isinstance(hashtags, list) or not all(isinstance(h, str) for h in hashtags):
        raise ValueError("'hashtags' must be a list of strings")
    mentions = obj.get("mentions") or []
    if not isinstance(mentions, list):
        raise ValueError("'mentions' must be a list of objects with 'id' and 'handle'")
    refs = {kind: _ref(obj, key) for kind, key in REFERENCES.items()}
    post = Post(
        post_id=qualified(platform, native_id),
        source=platform,
        native_id=native_id,
        author_id=author.account_id,
        created_at=created_at,
        text=text,
        lang=_optional_str(obj, "lang"),
        url=_optional_str(obj, "url"),
        reply_to_post_id=_target(platform, refs[InteractionKind.REPLY]),
        quote_of_post_id=_target(platform, refs[InteractionKind.QUOTE]),
        repost_of_post_id=_target(platform, refs[InteractionKind.REPOST]),
        hashtags=tuple(h.lstrip("#") for h in hashtags),
        provenance=provenance,
        raw=_dump(obj),
        version_at=version_at,
    )
    batch = Batch(read=1)
    batch.accounts.append(author)
    batch.posts.append(post)
    edge = interaction_adder(batch, platform, post.post_id, author.account_id, created_at)
    for kind, ref in refs.items():
        if ref:
            edge(kind, ref[1], qualified(platform, ref[0]))
    for m in mentions:
        mentioned = _mentioned(m, platform, provenance)
        edge(InteractionKind.MENTION, mentioned.native_id, None)
        batch.accounts.append(mentioned)
    return batch


# The reference fields of a post, in the order their interactions are recorded.
REFERENCES = {
    InteractionKind.REPLY: "reply_to",
    InteractionKind.QUOTE: "quote_of",
    InteractionKind.REPOST: "repost_of",
}


def _optional_str(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    return value if isinstance(value, str) else None


def _target(platform: str, ref: tuple[str, str | None] | None) -> str | None:
    return qualified(platform, ref[0]) if ref else None


def _author(obj: dict[str, Any], platform: str, provenance: Provenance) -> Account:
    author = obj.get("author")
    if not isinstance(author, dict):
        raise ValueError("missing required object 'author' with 'id' and 'handle'")
    native = _required_str(author, "id", "author.")
    handle = _required_str(author, "handle", "author.")
    followers = author.get("followers")
    if followers is not None and not isinstance(followers, int):
        raise ValueError("'author.followers' must be an integer")
    return Account(
        account_id=qualified(platform, native),
        source=platform,
        native_id=native,
        handle=handle.lstrip("@"),
        display_name=str(author.get("display_name") or handle),
        bio=str(author.get("bio") or ""),
        followers_count=followers,
        url=_optional_str(author, "url"),
        provenance=provenance,
        raw=_dump(author),
    )


def _mentioned(m: Any, platform: str, provenance: Provenance) -> Account:
    if not isinstance(m, dict):
        raise ValueError("each mention must be an object with 'id' and 'handle'")
    native = _required_str(m, "id", "mentions[].")
    handle = _required_str(m, "handle", "mentions[].").lstrip("@")
    return stub_account(platform, native, handle, provenance, _dump(m))
