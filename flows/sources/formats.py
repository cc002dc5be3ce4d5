"""The import file formats, and telling them apart by content: the keys of the first records, not the name.

The extension only decides CSV (`.csv`, `.tsv`); every JSON file, whatever it is called, is recognised
by what its first objects hold. A file nothing recognises is read as commonground JSONL, whose
quarantine reasons then say so, and the import's summary suggests `--format`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, get_args

from flows.sources.readers import first_values, open_bytes, plain_suffix

FileFormat = Literal["auto", "jsonl", "csv", "twarc2", "x-v1", "bluesky", "mastodon-json", "reddit"]
FORMATS: tuple[FileFormat, ...] = get_args(FileFormat)
# What each format reads, shown by `commonground ingest --help` and the README.
DESCRIPTIONS: dict[FileFormat, str] = {
    "auto": "tell the format apart by the file's content (the default)",
    "jsonl": "commonground's own JSON Lines, one post per line (flows/sources/jsonl.py)",
    "csv": "CSV or TSV with a column mapping (--column FIELD=COLUMN; check it with --preview)",
    "twarc2": "X API v2 as twarc2 writes it: search/timeline pages, `twarc2 flatten` and `twarc2 stream` output",
    "x-v1": "X API v1.1 tweets (twarc1, tweepy's _json, Hydrator, pre-2023 research datasets)",
    "bluesky": "Bluesky searchPosts, getAuthorFeed and getPostThread responses; JSON Lines of post views",
    "mastodon-json": "Mastodon statuses (array, lines or one), thread contexts and search results",
    "reddit": "Reddit comments and submissions, Pushshift / Arctic Shift NDJSON (.zst and .gz too)",
}
CLIENTS: dict[FileFormat, str] = {
    "jsonl": "commonground-jsonl/1",
    "csv": "commonground-csv/1",
    "twarc2": "twarc2",
    "x-v1": "x-api-v1.1-json",
    "bluesky": "bluesky-xrpc-json",
    "mastodon-json": "mastodon-api-json",
    "reddit": "reddit-dump-ndjson",
}


def _str(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    return value if isinstance(value, str) else ""


def format_of(obj: Any) -> FileFormat | None:
    """The format one parsed item belongs to, or None when its keys say nothing."""
    if isinstance(obj, list):
        return next((f for f in map(format_of, obj[:3]) if f), None)
    if not isinstance(obj, dict):
        return None
    keys = obj.keys()
    if "__twarc" in keys or ("data" in keys and {"includes", "meta", "matching_rules", "errors"} & keys):
        return "twarc2"
    if isinstance(obj.get("ancestors"), list) and isinstance(obj.get("descendants"), list):
        return "mastodon-json"
    for key in ("statuses", "posts", "feed"):  # search responses and feeds: the format of what they list
        if isinstance(obj.get(key), list) and obj[key]:
            return format_of(obj[key][0]) or ("bluesky" if key != "statuses" else None)
    thread = obj.get("thread")
    post = obj["post"] if isinstance(obj.get("post"), dict) else obj
    if isinstance(thread, dict) or _str(post, "uri").startswith("at://"):
        return "bluesky"
    if "uri" in keys and "account" in keys and "content" in keys:
        return "mastodon-json"
    if "subreddit" in keys and {"body", "title", "selftext"} & keys:
        return "reddit"
    user = obj.get("user")
    if "id_str" in keys or (isinstance(user, dict) and "screen_name" in user):
        return "x-v1"
    if ("author_id" in keys and "text" in keys) or "edit_history_tweet_ids" in keys:
        return "twarc2"  # one tweet per line, as `twarc2 flatten` writes
    return "jsonl" if isinstance(obj.get("author"), dict) else None


def detect_format(path: Path) -> FileFormat:
    """The format of a file: CSV by its extension, anything else by the keys of its first records."""
    if plain_suffix(path) in (".csv", ".tsv"):
        return "csv"
    for value in first_values(path):
        found = format_of(value)
        if found:
            return found
    with open_bytes(path) as handle:
        head = handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    if head and head[:1] not in (b"{", b"[") and (b"," in head.split(b"\n")[0] or b"\t" in head):
        return "csv"  # a delimited header line, whatever the file is called
    return "jsonl"  # each line is then quarantined with what it lacks
