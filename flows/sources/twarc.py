"""twarc2 / X API v2 JSONL imports, through the live X source's normaliser so both store the same records."""

from __future__ import annotations

from typing import Any

from flows.sources import x
from flows.sources.common import parse_timestamp, subobject
from warehouse.records import Batch, Provenance


def twarc_provenance(line: dict[str, Any], fallback: Provenance) -> Provenance:
    """twarc2 stamps every page with where and when it came from (`__twarc`); keep that."""
    stamp = line.get("__twarc")
    if not isinstance(stamp, dict):
        return fallback
    try:
        retrieved = parse_timestamp(stamp.get("retrieved_at"))
    except ValueError:
        retrieved = fallback.retrieved_at
    return Provenance(
        source=x.SOURCE,
        query=fallback.query,
        url=str(stamp.get("url") or fallback.url),
        client_version=f"twarc/{stamp.get('version', 'unknown')}",
        retrieved_at=retrieved,
    )


def _page_of_flattened(tweet: dict[str, Any]) -> dict[str, Any]:
    """`twarc2 flatten` writes one tweet per line with users and referenced tweets inlined."""
    users = [tweet["author"]] if isinstance(tweet.get("author"), dict) else []
    tweets = []
    for ref in tweet.get("referenced_tweets") or []:
        if isinstance(ref, dict) and "text" in ref:
            tweets.append(ref)
            if isinstance(ref.get("author"), dict):
                users.append(ref["author"])
    entities = subobject(tweet, "entities")
    users += [m for m in entities.get("mentions") or [] if isinstance(m, dict) and "id" in m]
    if isinstance(tweet.get("in_reply_to_user"), dict):
        users.append(tweet["in_reply_to_user"])
    return {"data": [tweet], "includes": {"users": users, "tweets": tweets}}


def normalise_twarc_line(obj: Any, fallback: Provenance, origin: str, line_no: int) -> Batch:
    """A twarc2 line: a whole API response page, or one flattened tweet. Bad tweets are quarantined."""
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object per line, got {type(obj).__name__}")
    prov = twarc_provenance(obj, fallback)
    page = obj if "data" in obj or "meta" in obj else _page_of_flattened(obj)
    return x.normalise_x_page(page, prov, origin, line_no=line_no)
