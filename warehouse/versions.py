"""Repeats of a post: the same content is a duplicate, a newer version an edit, anything else a conflict.

A post read again (later in the same file, or in a later run) is compared with the copy already kept.
Same content: a duplicate. Other content, and the payloads date their versions (`version_at`) apart:
an edit, so the newest version is kept as the post and the older one recorded in `post_versions`.
Other content and nothing to say which is newer: a conflict, quarantined with both versions while the
copy already kept stays.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from warehouse.records import Quarantined, stable_id, utcnow

# What makes two copies of a post the same post: counts, handles and other payload noise are left out.
CONTENT = (
    "author_id",
    "created_at",
    "text",
    "reply_to_post_id",
    "quote_of_post_id",
    "repost_of_post_id",
    "version_at",
)
Row = dict[str, Any]


@dataclass
class Plan:
    """What to write for one batch's posts, and how each post read was counted."""

    current: dict[str, Row] = field(default_factory=dict)  # post_id → the version to keep as the post
    changed: set[str] = field(default_factory=set)  # posts whose kept row comes from this batch
    versions: list[Row] = field(default_factory=list)  # older versions to record
    conflicts: list[Quarantined] = field(default_factory=list)
    stored: int = 0
    duplicates: int = 0
    newer: int = 0  # edits that replaced the kept version
    older: int = 0  # edits older than the kept version (recorded unless recorded already)


def version_time(row: Row) -> datetime:
    return row["version_at"] or row["created_at"]


def _same(key: str, a: Any, b: Any) -> bool:
    # Instances other than a post's home keep its times to the second (Mastodon federation).
    if isinstance(a, datetime) and isinstance(b, datetime):
        return a.replace(microsecond=0) == b.replace(microsecond=0)
    return bool(a == b)


def _differs(kept: Row, other: Row) -> list[str]:
    return [key for key in CONTENT if not _same(key, kept.get(key), other.get(key))]


def plan_posts(rows: list[Row], stored: dict[str, Row], lines: list[int | None], run_id: str) -> Plan:
    """Decide, in the order read, what each post row of a batch is against what is stored or read before."""
    plan = Plan(current=dict(stored))
    for row, line in zip(rows, lines, strict=True):
        pid = row["post_id"]
        kept = plan.current.get(pid)
        if kept is None:
            plan.current[pid], row["_line"] = row, line
            plan.changed.add(pid)
            plan.stored += 1
            continue
        differs = _differs(kept, row)
        if not differs:
            plan.duplicates += 1
            continue
        edited = kept.get("version_at") is not None or row.get("version_at") is not None
        if not edited or version_time(kept) == version_time(row):
            plan.conflicts.append(_conflict(kept, row, line, differs, run_id))
        elif version_time(row) > version_time(kept):
            plan.versions.append(version_row(kept, run_id))
            plan.current[pid], row["_line"] = row, line
            plan.changed.add(pid)
            plan.newer += 1
        else:
            plan.versions.append(version_row(row, run_id))
            plan.older += 1
    return plan


def version_row(row: Row, run_id: str) -> Row:
    """A row of `post_versions`: one version of a post that is not (or no longer) the one kept."""
    return {
        "version_id": stable_id(row["post_id"], version_time(row).isoformat(), row["text"]),
        "post_id": row["post_id"],
        "version_at": row.get("version_at"),
        "created_at": row["created_at"],
        "text": row["text"],
        "source_url": row.get("source_url"),
        "retrieved_at": row.get("retrieved_at"),
        "raw": row.get("raw"),
        "replaced_at": utcnow(),
        "run_id": run_id,
    }


def _conflict(kept: Row, other: Row, line: int | None, differs: list[str], run_id: str) -> Quarantined:
    if kept.get("_line") is not None:
        where = f"line {kept['_line']}"
    elif kept.get("query") == other.get("query"):
        where = "earlier in this file, or an earlier import of it"
    else:
        where = f"from {kept.get('query') or 'an earlier import'}"
    reason = (
        f"conflict: post {other['native_id']} was read before ({where}) with other {', '.join(differs)}, "
        "and neither payload dates its version (as an edit would); the first copy was kept and both are "
        "here. Check the export for mixed sources, or remove the copy that is wrong and import again"
    )
    if line is not None:
        reason = f"line {line}: {reason}"
    both = {"kept": _payload(kept), "conflicting": _payload(other)}
    raw = json.dumps(both, ensure_ascii=False, sort_keys=True, default=str)
    return Quarantined(
        quarantine_id=stable_id("conflict", other["post_id"], raw),
        source=other["source"],
        origin=str(other.get("query") or other.get("source_url") or ""),
        line_no=line,
        reason=reason,
        raw=raw,
    )


def _payload(row: Row) -> Any:
    raw = row.get("raw")
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return {key: row.get(key) for key in CONTENT}
