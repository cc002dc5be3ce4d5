"""Normalise commonground's own JSONL import format into records.

One JSON object per line, one post per object::

    {"id": "1001",                                  # required, unique within the platform
     "created_at": "2026-11-16T08:12:00Z",          # required, ISO 8601 (naive = UTC)
     "text": "…",                                   # required; a repost carries the reposted text
     "author": {"id": "a17", "handle": "drjane",    # required: id and handle
                "display_name": "Dr Jane", "bio": "GP in Leeds", "followers": 1200},
     "platform": "sample",                          # optional (default: the file source name)
     "url": "https://…", "lang": "en",              # optional
     "reply_to":  {"id": "999", "author_id": "a3"}, # optional: the post replied to and its author
     "quote_of":  {"id": "…",   "author_id": "…"},  # optional
     "repost_of": {"id": "…",   "author_id": "…"},  # optional
     "mentions": [{"id": "a5", "handle": "nhsengland"}],  # optional
     "hashtags": ["NHS", "GPcrisis"]}               # optional (enrich also extracts them from text)

Ids of authors, mentions and referenced posts are platform-native; the warehouse qualifies
them with the platform name so two platforms never collide.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from warehouse.records import (
    Account,
    Batch,
    Interaction,
    InteractionKind,
    Post,
    Provenance,
    interaction_id,
    qualified,
)

FORMAT_VERSION = "commonground-jsonl/1"


def _required_str(obj: dict[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if value is None or (isinstance(value, str) and not value.strip() and key != "text"):
        raise ValueError(f"missing required field {where}{key!r}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise ValueError(f"field {where}{key!r} must be a string, got {type(value).__name__}")
    return value


def parse_timestamp(value: Any) -> datetime:
    """An ISO 8601 timestamp as naive UTC (the warehouse stores UTC without zone)."""
    if not isinstance(value, str):
        raise ValueError(f"created_at must be an ISO 8601 string, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"created_at is not ISO 8601: {value!r}") from exc
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def _ref(obj: dict[str, Any], key: str) -> tuple[str, str] | None:
    ref = obj.get(key)
    if ref is None:
        return None
    if not isinstance(ref, dict):
        raise ValueError(f"{key!r} must be an object with 'id' and 'author_id'")
    return _required_str(ref, "id", f"{key}."), _required_str(ref, "author_id", f"{key}.")


def normalise_post(obj: Any, *, default_platform: str, provenance: Provenance) -> Batch:
    """Turn one JSONL object into a post, its author, mentioned accounts and interactions.

    Raises ValueError, naming the field, on anything it does not recognise.
    """
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object per line, got {type(obj).__name__}")
    platform = obj.get("platform") or default_platform
    if not isinstance(platform, str):
        raise ValueError("'platform' must be a string")
    native_id = _required_str(obj, "id", "")
    text = _required_str(obj, "text", "")
    created_at = parse_timestamp(obj.get("created_at"))
    author = obj.get("author")
    if not isinstance(author, dict):
        raise ValueError("missing required object 'author' with 'id' and 'handle'")
    author_native = _required_str(author, "id", "author.")
    handle = _required_str(author, "handle", "author.")
    followers = author.get("followers")
    if followers is not None and not isinstance(followers, int):
        raise ValueError("'author.followers' must be an integer")
    hashtags = obj.get("hashtags") or []
    if not isinstance(hashtags, list) or not all(isinstance(h, str) for h in hashtags):
        raise ValueError("'hashtags' must be a list of strings")
    mentions = obj.get("mentions") or []
    if not isinstance(mentions, list):
        raise ValueError("'mentions' must be a list of objects with 'id' and 'handle'")

    raw = json.dumps(obj, ensure_ascii=False, sort_keys=True)
    post_id = qualified(platform, native_id)
    author_id = qualified(platform, author_native)
    reply = _ref(obj, "reply_to")
    quote = _ref(obj, "quote_of")
    repost = _ref(obj, "repost_of")

    batch = Batch(read=1)
    batch.accounts.append(
        Account(
            account_id=author_id,
            source=platform,
            native_id=author_native,
            handle=handle.lstrip("@"),
            display_name=str(author.get("display_name") or handle),
            bio=str(author.get("bio") or ""),
            followers_count=followers,
            url=author.get("url") if isinstance(author.get("url"), str) else None,
            provenance=provenance,
            raw=json.dumps(author, ensure_ascii=False, sort_keys=True),
        )
    )
    batch.posts.append(
        Post(
            post_id=post_id,
            source=platform,
            native_id=native_id,
            author_id=author_id,
            created_at=created_at,
            text=text,
            lang=obj.get("lang") if isinstance(obj.get("lang"), str) else None,
            url=obj.get("url") if isinstance(obj.get("url"), str) else None,
            reply_to_post_id=qualified(platform, reply[0]) if reply else None,
            quote_of_post_id=qualified(platform, quote[0]) if quote else None,
            repost_of_post_id=qualified(platform, repost[0]) if repost else None,
            hashtags=tuple(h.lstrip("#") for h in hashtags),
            provenance=provenance,
            raw=raw,
        )
    )

    def edge(kind: InteractionKind, dst_native: str, target: str | None) -> None:
        dst = qualified(platform, dst_native)
        if dst == author_id:
            return  # talking to oneself is not an interaction between accounts
        batch.interactions.append(
            Interaction(
                interaction_id=interaction_id(post_id, kind, dst),
                source=platform,
                kind=kind,
                post_id=post_id,
                src_account_id=author_id,
                dst_account_id=dst,
                target_post_id=target,
                created_at=created_at,
            )
        )

    for kind, ref in (
        (InteractionKind.REPLY, reply),
        (InteractionKind.QUOTE, quote),
        (InteractionKind.REPOST, repost),
    ):
        if ref:
            edge(kind, ref[1], qualified(platform, ref[0]))
    for m in mentions:
        if not isinstance(m, dict):
            raise ValueError("each mention must be an object with 'id' and 'handle'")
        m_native = _required_str(m, "id", "mentions[].")
        m_handle = _required_str(m, "handle", "mentions[].")
        edge(InteractionKind.MENTION, m_native, None)
        # A mentioned account is known by handle even before it posts; its own posts fill in the rest.
        batch.accounts.append(
            Account(
                account_id=qualified(platform, m_native),
                source=platform,
                native_id=m_native,
                handle=m_handle.lstrip("@"),
                display_name=m_handle.lstrip("@"),
                bio="",
                followers_count=None,
                url=None,
                provenance=provenance,
                raw=json.dumps(m, ensure_ascii=False, sort_keys=True),
            )
        )
    return batch
