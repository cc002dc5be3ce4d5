"""twarc2 / X API v2 JSONL imports, through the live X source's normaliser so both store the same records."""

from __future__ import annotations

from typing import Any

from flows.sources import x
from flows.sources.common import subobject
from flows.sources.dates import parse_timestamp
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
    refs = tweet.get("referenced_tweets")
    for ref in refs if isinstance(refs, list) else []:
        if isinstance(ref, dict) and "text" in ref:
            tweets.append(ref)
            if isinstance(ref.get("author"), dict):
                users.append(ref["author"])
    entities = subobject(tweet, "entities")
    mentions = entities.get("mentions")
    users += [m for m in mentions if isinstance(m, dict) and "id" in m] if isinstance(mentions, list) else []
    if isinstance(tweet.get("in_reply_to_user"), dict):
        users.append(tweet["in_reply_to_user"])
    return {"data": [tweet], "includes": {"users": users, "tweets": tweets}}


def normalise_twarc_line(obj: Any, fallback: Provenance, origin: str, line_no: int) -> Batch:
    """A twarc2 line: a whole API response page (search, timelines), one message of the filtered stream
    (`data` is one tweet), or one flattened tweet (`twarc2 flatten`). Bad tweets are quarantined."""
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object per line, got {type(obj).__name__}")
    prov = twarc_provenance(obj, fallback)
    page = obj if {"data", "meta", "errors"} & obj.keys() else _page_of_flattened(obj)
    return x.normalise_x_page(page, prov, origin, line_no=line_no)
