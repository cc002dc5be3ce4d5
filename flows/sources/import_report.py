"""What an import did, in words: counts, the top quarantine reasons with an example line, and a loud
warning with the fix when most records of a file failed for one reason; and `--preview`'s view of how
the first records of a file map, before anything is written."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from flows.sources.common import failure_reason
from flows.sources.files import FileSource
from warehouse.records import Batch

TOP_REASONS = 3
MOST = 0.5  # "most records failed for one reason" means more than this share of those read


_LINE = re.compile(r"^line \d+(, item \d+)?: ")


def reason_key(reason: str) -> str:
    """A reason without its line, quoted values, ids and the hint after `;` (the example keeps it), so
    the same failure groups together."""
    reason = _LINE.sub("", reason).split("; ")[0]
    reason = re.sub(r"'[^']*'|\"[^\"]*\"", "…", reason)
    return re.sub(r"\b\d{5,}\b|(?<=column )\d+|(?<=line )\d+|(?<=item )\d+", "N", reason)


def top_reasons(rows: Iterable[tuple[str, int | None]]) -> list[tuple[str, int, str, int | None]]:
    """(reason key, how many, an example reason, its line) for the commonest reasons, most first."""
    counts: Counter[str] = Counter()
    examples: dict[str, tuple[str, int | None]] = {}
    for reason, line in rows:
        key = reason_key(reason)
        counts[key] += 1
        examples.setdefault(key, (reason, line))
    return [(key, n, *examples[key]) for key, n in counts.most_common(TOP_REASONS)]


def suggestion(key: str, fmt: str | None) -> str:
    """The fix that usually cures a reason that failed most of a file."""
    if "day and month" in key or "--date-format" in key:
        return "give the dates' layout with --date-format (the example says which layout fits)."
    if "no column" in key or "names columns" in key:
        return "map the columns with --column FIELD=COLUMN and check with --preview."
    if "invalid JSON" in key or "not UTF-8" in key:
        return "check the file is whole (not cut short) and UTF-8, or name its format with --format."
    if fmt in (None, "jsonl") and ("missing" in key or "expected" in key):
        return (
            "the file was read as commonground JSONL; if it is an export of another tool, name it with "
            "--format (twarc2, x-v1, bluesky, mastodon-json, reddit, csv: see `commonground ingest --help`)."
        )
    if "missing" in key or "malformed" in key:
        return "the records lack what this format needs: check --format, and --column for CSV."
    return "see the example reason; `commonground ingest --path FILE --preview` shows how records map."


def describe_import(
    path: str, counts: dict[str, Any], quarantined: Sequence[tuple[str, int | None]], fmt: str | None
) -> list[str]:
    """Lines that say what importing one file did, and what to do about what failed."""
    read = int(counts.get("read", 0))
    lines = [
        f"{path}: read {read} — stored {counts.get('posts_stored', 0)} "
        f"(of which {counts.get('edits', 0)} edits), duplicates {counts.get('duplicates', 0)}, "
        f"conflicts {counts.get('conflicts', 0)}, quarantined {counts.get('quarantined', 0)}"
        + (f" (read as {fmt})" if fmt else "")
    ]
    reasons = top_reasons(quarantined)
    if reasons:
        lines.append("  why records were not stored (commonest first):")
    for key, n, example, line in reasons:
        where = f"line {line}" if line is not None else "e.g."
        lines.append(f"    {n} × {key[:160]}")
        lines.append(f"        {where}: {_LINE.sub('', example)[:300]}")
    if reasons and read and reasons[0][1] > MOST * read:
        key, n = reasons[0][0], reasons[0][1]
        lines.append(
            f"  WARNING: {n} of the {read} records of {path} failed for this one reason: {key[:120]}. "
            f"Fix: {suggestion(key, fmt)}"
        )
    return lines


def preview(source: FileSource, path: Path, rows: int = 5) -> list[str]:
    """How the first records of a file map to posts, without writing anything."""
    fmt = source.format_of(path)
    lines = [f"{path}: read as {fmt}"]
    shown = 0
    for line_no, _, normalise in source.lines(path):
        if shown == 0 and source.mapping is not None and fmt == "csv":
            lines += ["  columns:", *source.mapping.describe()]
        shown += 1
        try:
            batch = normalise()
        except Exception as exc:  # as the import would: that record is quarantined, the rest go on
            lines.append(f"  line {line_no}: NOT STORED — {failure_reason(exc)[:300]}")
        else:
            lines += _mapped(line_no, batch)
        if shown >= rows:
            break
    if shown == 0:
        lines.append("  (no records)")
    return lines


def _mapped(line_no: int, batch: Batch) -> list[str]:
    names = {a.account_id: a.handle for a in batch.accounts}
    out = []
    for post in batch.posts:
        links = [
            f"{label} {target}"
            for label, target in (
                ("reply to", post.reply_to_post_id),
                ("quote of", post.quote_of_post_id),
                ("repost of", post.repost_of_post_id),
            )
            if target
        ]
        text = post.text.replace("\n", " ")
        out.append(
            f"  line {line_no}: {post.post_id} by {names.get(post.author_id) or '(handle unknown)'} "
            f"[{post.author_id}] at {post.created_at:%Y-%m-%d %H:%M:%S} UTC"
            + (f"; {', '.join(links)}" if links else "")
        )
        out.append(f"      {text[:100]!r}")
    for q in batch.quarantined:
        out.append(f"  line {line_no}: NOT STORED — {q.reason[:300]}")
    edges = Counter(i.kind.value for i in batch.interactions)
    if edges:
        out.append("      interactions: " + ", ".join(f"{k} {n}" for k, n in sorted(edges.items())))
    return out
