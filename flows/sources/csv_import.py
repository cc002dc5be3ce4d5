"""CSV imports: each row becomes a commonground JSONL object through a column mapping, then one post.

Our fields (left) are read from your columns (right); by default a column has the field's name::

    id, created_at, text, author_id, author_handle             required
    author_display_name, author_bio, author_followers, platform, url, lang,
    reply_to_id, reply_to_author_id, quote_of_id, quote_of_author_id,
    repost_of_id, repost_of_author_id, hashtags (separated by spaces or commas)

Set `COMMONGROUND_CSV_COLUMNS='{"text": "body", "author_handle": "user"}'` or pass `--column text=body`.
"""

from __future__ import annotations

import re
from typing import Any

FIELDS = (
    "id",
    "created_at",
    "text",
    "author_id",
    "author_handle",
    "author_display_name",
    "author_bio",
    "author_followers",
    "platform",
    "url",
    "lang",
    "reply_to_id",
    "reply_to_author_id",
    "quote_of_id",
    "quote_of_author_id",
    "repost_of_id",
    "repost_of_author_id",
    "hashtags",
)


def check_mapping(mapping: dict[str, str]) -> dict[str, str]:
    """The full field → column mapping; unknown fields are an error that lists the known ones."""
    unknown = sorted(set(mapping) - set(FIELDS))
    if unknown:
        raise ValueError(f"unknown CSV field(s) {unknown}; known fields: {', '.join(FIELDS)}")
    return {field: mapping.get(field, field) for field in FIELDS}


def row_to_object(row: dict[str | None, Any], mapping: dict[str, str]) -> dict[str, Any]:
    """One CSV row → the commonground JSONL object `normalise_post` reads. Raises ValueError on a bad row."""
    if None in row:
        raise ValueError(f"row has {len(row[None])} more cell(s) than the header")

    def cell(field: str) -> str:
        value = row.get(mapping[field])
        return value.strip() if isinstance(value, str) else ""

    obj: dict[str, Any] = {
        "id": cell("id"),
        "created_at": cell("created_at"),
        "text": row.get(mapping["text"]),
    }
    followers = cell("author_followers")
    if followers and not followers.isdigit():
        raise ValueError(f"{mapping['author_followers']!r} must be a whole number, got {followers[:20]!r}")
    obj["author"] = {
        "id": cell("author_id"),
        "handle": cell("author_handle"),
        "display_name": cell("author_display_name") or None,
        "bio": cell("author_bio"),
        "followers": int(followers) if followers else None,
    }
    for field in ("platform", "url", "lang"):
        if cell(field):
            obj[field] = cell(field)
    for ref in ("reply_to", "quote_of", "repost_of"):
        if cell(f"{ref}_id"):
            obj[ref] = {"id": cell(f"{ref}_id"), "author_id": cell(f"{ref}_author_id")}
    if cell("hashtags"):
        obj["hashtags"] = [t for t in re.split(r"[\s,]+", cell("hashtags")) if t]
    return obj
