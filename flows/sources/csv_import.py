"""CSV imports: each row becomes a commonground JSONL object through a column mapping, then one post.

Our fields (left) are read from your columns (right); by default a column has the field's name::

    id, created_at, text                                       required
    author_id, author_handle                                   at least one (an id is made from the handle)
    author_display_name, author_bio, author_followers, platform, url, lang, edited_at,
    reply_to_id, reply_to_author_id, quote_of_id, quote_of_author_id,
    repost_of_id, repost_of_author_id, hashtags (separated by spaces or commas)

Set `COMMONGROUND_CSV_COLUMNS='{"text": "body", "author_handle": "user"}'` or pass `--column text=body`.
A required field with no column of its name is found under a common export name (`tweet_id`,
`full_text`, `screen_name`, …) when exactly one such column exists; `--preview` shows what was chosen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
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
    "edited_at",
    "reply_to_id",
    "reply_to_author_id",
    "quote_of_id",
    "quote_of_author_id",
    "repost_of_id",
    "repost_of_author_id",
    "hashtags",
)
REQUIRED = ("id", "created_at", "text")
# Column names other tools export, tried (case-insensitively) when a field's own name is not a column.
ALIASES = {
    "id": ("tweet_id", "post_id", "status_id", "id_str", "message_id"),
    "created_at": ("date", "created", "timestamp", "time", "datetime", "posted_at", "created_utc"),
    "text": ("full_text", "body", "content", "tweet", "message", "post"),
    "author_id": ("user_id", "user_id_str", "author.id", "account_id"),
    "author_handle": ("screen_name", "username", "user_screen_name", "handle", "author", "user", "from_user"),
    "author_display_name": ("name", "user_name", "display_name"),
    "reply_to_id": ("in_reply_to_status_id", "in_reply_to_id", "parent_id"),
    "reply_to_author_id": ("in_reply_to_user_id", "in_reply_to_account_id"),
}


@dataclass
class ColumnMapping:
    """Which column each field is read from in one file, and what had to be guessed or derived."""

    columns: dict[str, str]
    guessed: dict[str, str] = field(default_factory=dict)
    derived_author_id: bool = False

    def describe(self) -> list[str]:
        """One line per field read, for `--preview`."""
        lines = [
            f"  {name:<20} ← {column!r}{'  (guessed from the header)' if name in self.guessed else ''}"
            for name, column in self.columns.items()
        ]
        if self.derived_author_id:
            lines.append(f"  {'author_id':<20} ← made from the handle (no author id column)")
        return lines


def check_mapping(mapping: dict[str, str]) -> dict[str, str]:
    """The full field → column mapping; unknown fields are an error that lists the known ones."""
    unknown = sorted(set(mapping) - set(FIELDS))
    if unknown:
        raise ValueError(f"unknown CSV field(s) {unknown}; known fields: {', '.join(FIELDS)}")
    return {field: mapping.get(field, field) for field in FIELDS}


def map_header(header: list[str], chosen: dict[str, str], where: str) -> ColumnMapping:
    """The mapping for a file with this header: chosen columns first, then the field's own name, then a
    common export name. Raises ValueError naming the file, the missing fields and the columns it has."""
    present = set(header)
    lower = {name.strip().lower(): name for name in header}
    wrong = [f"{f}={c!r}" for f, c in chosen.items() if c not in present]
    columns: dict[str, str] = {}
    guessed: dict[str, str] = {}
    for name in FIELDS:
        if name in chosen:
            columns[name] = chosen[name]
        elif name in present:
            columns[name] = name
        else:
            found = [lower[a] for a in ALIASES.get(name, ()) if a in lower]
            if len(found) == 1:
                columns[name] = guessed[name] = found[0]
    missing = [f for f in REQUIRED if f not in columns]
    if "author_id" not in columns and "author_handle" not in columns:
        missing.append("author_id or author_handle")
    if wrong or missing:
        problems = [f"the mapping names columns it does not have: {', '.join(wrong)}"] if wrong else []
        problems += [f"no column for {', '.join(missing)}"] if missing else []
        raise ValueError(
            f"{where}: {'; '.join(problems)}. Its columns are {', '.join(repr(h) for h in header[:30])}. "
            "Map them with `--column FIELD=COLUMN` (e.g. --column text=body) or COMMONGROUND_CSV_COLUMNS, "
            "and check with `commonground ingest --path FILE --preview`"
        )
    return ColumnMapping(columns, guessed, derived_author_id="author_id" not in columns)


def row_to_object(row: dict[str | None, Any], mapping: ColumnMapping) -> dict[str, Any]:
    """One CSV row → the commonground JSONL object `normalise_post` reads. Raises ValueError on a bad row."""
    if None in row:
        raise ValueError(f"row has {len(row[None])} more cell(s) than the header")
    columns = mapping.columns

    def cell(name: str) -> str:
        value = row.get(columns[name]) if name in columns else None
        return value.strip() if isinstance(value, str) else ""

    obj: dict[str, Any] = {
        "id": cell("id"),
        "created_at": cell("created_at"),
        "text": row.get(columns["text"]),
    }
    followers = cell("author_followers").replace(",", "")
    if followers and not followers.isdigit():
        raise ValueError(f"{columns['author_followers']!r} must be a whole number, got {followers[:20]!r}")
    handle = cell("author_handle").lstrip("@")
    # Made only when the file has no author id column: an empty cell in one is a row to fix. Handles
    # are case-insensitive on every platform we read, so the id made from one is lower case.
    author_id = cell("author_id") if mapping.derived_author_id is False else handle.lower()
    obj["author"] = {
        "id": author_id,
        "handle": handle or author_id,
        "display_name": cell("author_display_name") or None,
        "bio": cell("author_bio"),
        "followers": int(followers) if followers else None,
    }
    for name in ("platform", "url", "lang", "edited_at"):
        if cell(name):
            obj[name] = cell(name)
    for ref in ("reply_to", "quote_of", "repost_of"):
        if cell(f"{ref}_id"):
            obj[ref] = {"id": cell(f"{ref}_id"), "author_id": cell(f"{ref}_author_id")}
    if cell("hashtags"):
        obj["hashtags"] = [t for t in re.split(r"[\s,]+", cell("hashtags")) if t]
    return obj
