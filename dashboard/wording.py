"""Plain words for what the analysis measured: reasons, segregation, measures, runs and ages.

No Streamlit and no SQL here: small functions from numbers to sentences, so the pages read like a
description of the UI and the sentences can be tested one by one.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta
from typing import Any

# A camp counts as reached when it gave at least this much constructive engagement (one reply or repost).
REACHED_AT_LEAST = 1.0
# Below this baseline the rewired networks show no camps at all, and a ratio would be meaningless.
MIN_BASELINE = 0.05
MAX_RATIO = 20.0

# measure → (name people read, what it means). The headline repeats modularity and is not listed.
MEASURES = {
    "modularity": (
        "How closed the camps are (modularity)",
        "0 = endorsements fall across camps as chance would have them; towards 1 = they stay inside camps.",
    ),
    "ei_index": (
        "Outside vs inside ties (E-I index)",
        "-1 = every tie stays inside a camp, +1 = every tie crosses to another camp.",
    ),
    "rwc": (
        "Random walk controversy",
        "0 to 1: how likely a random walk that starts in one of the two largest camps ends at a "
        "prominent account of the same camp rather than the other.",
    ),
    "boundary": (
        "Boundary polarization",
        "-0.5 to 0.5: whether the accounts on the border between the two largest camps link inwards "
        "(positive) or across (negative).",
    ),
    "hostility_across_camps": (
        "Hostility across camps",
        "How much more often replies across camps are hostile than replies inside a camp; the chance "
        "column shuffles reply tone at random.",
    ),
    "share_hostile_across": (
        "Hostile replies across camps",
        "Share of replies to another camp that are hostile.",
    ),
    "share_hostile_within": (
        "Hostile replies inside camps",
        "Share of replies inside a camp that are hostile.",
    ),
}

FLOWS = {
    "pipeline": "Full run",
    "ingest": "Collect posts",
    "enrich": "Score tone",
    "analyze": "Map camps and voices",
    "publish": "Publish for the dashboard",
    "report": "Weekly report",
}
STATUS = {
    "completed": "finished",
    "failed": "failed",
    "running": "did not finish (or still running)",
    "interrupted": "stopped before it finished (the process ended; the next run went on)",
}
# Counts a run reports, in words, in the order they are read.
COUNTS = {
    "read": "posts read",
    "posts_stored": "new posts",
    "duplicates": "already known",
    "quarantined": "could not be read",
    "accounts": "accounts",
    "interactions": "interactions",
    "scored": "posts scored",
    "features": "posts analysed for words",
    "posts": "posts in window",
    "camps": "camps",
    "voices": "voices ranked",
}


def voice_reason(constructive_posts: int, own_posts: int, camps_reached: int) -> str:
    """One sentence: e.g. 'Writes constructively (8 of 10 posts) and is engaged with by 3 camps.'"""
    if own_posts:
        writes = f"Writes constructively ({constructive_posts} of {own_posts} post{'s' * (own_posts != 1)})"
    else:
        writes = "Ranked on posts outside this window"
    if camps_reached >= 2:
        return f"{writes} and is engaged with constructively by {camps_reached} camps."
    if camps_reached == 1:
        return f"{writes}; engaged with constructively by one camp so far."
    return f"{writes}; no camp has engaged with them constructively yet."


def voice_reason_short(constructive_posts: int, own_posts: int, camps_reached: int) -> str:
    """The same in a table cell: e.g. '8/10 constructive · 3 camps'."""
    writes = f"{constructive_posts}/{own_posts} constructive" if own_posts else "no posts this window"
    camps = {0: "no camp yet", 1: "1 camp"}.get(camps_reached, f"{camps_reached} camps")
    return f"{writes} · {camps}"


def n_camps_reached(reached: dict[int, float]) -> int:
    return sum(1 for weight in reached.values() if weight >= REACHED_AT_LEAST)


def segregation(value: float | None, baseline: float | None, z: float | None) -> str:
    """The headline measure against chance, as one sentence."""
    if value is None or baseline is None or _missing(value) or _missing(baseline):
        return "There were too few endorsements to compare with chance."
    if z is not None and not _missing(z) and z < 2:
        return "Endorsements stay inside camps about as often as chance would give: no clear echo chambers."
    if baseline < MIN_BASELINE:
        return (
            "Endorsements stay inside camps far more than chance would give: the same network shuffled "
            "at random shows no camps at all."
        )
    ratio = value / baseline
    if ratio >= MAX_RATIO:
        return f"Endorsements stay inside camps over {MAX_RATIO:.0f}× more than chance would give."
    return f"Endorsements stay inside camps {ratio:.1f}× more than chance would give."


def measure_name(measure: str) -> tuple[str, str]:
    """(readable name, what it means) of a polarization measure."""
    return MEASURES.get(measure, (measure.replace("_", " ").capitalize(), ""))


def run_counts(counts: Any) -> str:
    """A run's counts (the JSON the runs table keeps) as a short line, e.g. '3,200 posts read · 4 could
    not be read'."""
    if isinstance(counts, str):
        try:
            counts = json.loads(counts)
        except ValueError:
            return ""
    if not isinstance(counts, dict):
        return ""
    parts = [
        f"{int(counts[key]):,} {words}"
        for key, words in COUNTS.items()
        if isinstance(counts.get(key), int | float) and not isinstance(counts.get(key), bool)
    ]
    notices = counts.get("notices")
    if isinstance(notices, list) and notices:
        parts.append(f"{len(notices)} notice{'s' * (len(notices) != 1)}")
    return " · ".join(parts)


def run_status(status: str, message: Any) -> str:
    words = STATUS.get(status, status)
    if status == "failed" and isinstance(message, str) and message:
        return f"{words}: {message[:200]}"
    return words


def duration(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None or _missing(start) or _missing(end):
        return "–"
    seconds = max((end - start).total_seconds(), 0.0)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def age(then: datetime, now: datetime) -> str:
    """'5 minutes ago', '3 hours ago', '2 days ago'."""
    delta = max(now - then, timedelta(0))
    for unit, seconds in (("day", 86400), ("hour", 3600), ("minute", 60)):
        n = int(delta.total_seconds() // seconds)
        if n >= 1:
            return f"{n} {unit}{'s' * (n != 1)} ago"
    return "just now"


def window_name(days: int) -> str:
    return "Last 7 days" if days == 7 else f"Last {days} days"


def _missing(value: Any) -> bool:
    try:
        return value is None or (isinstance(value, float) and math.isnan(value)) or bool(value != value)
    except (TypeError, ValueError):
        return False
