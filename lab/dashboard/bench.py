"""`commonground bench dashboard`: p50 / p95 of every dashboard query against one snapshot.

Each cached query of dashboard/queries.py and dashboard/queries_explore.py is called through its
uncached function (`__wrapped__`), so every call reads the snapshot as a page's first visit does. The
arguments are the ones the pages pass: the newest analysis, its top voice, one of its posts, and the
search page's filters.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

TARGET_P95_MS = 300.0


def _raw(fn: Any) -> Callable[..., Any]:
    return getattr(fn, "__wrapped__", fn)


def query_calls(snapshot: Path) -> dict[str, Callable[[], Any]]:
    """Name → a call with the arguments a page would use, for every query a page runs."""
    import streamlit.logger

    streamlit.logger.set_log_level("error")  # no "No runtime found" warning per cached query
    from dashboard import queries as q
    from dashboard import queries_explore as qe

    path = str(snapshot)
    frame = _raw(q.latest_analysis)(path)
    if frame.empty:
        raise ValueError(f"{snapshot} holds no analysis; run `commonground analyze` and `publish` first")
    aid = str(frame.iloc[0]["analysis_id"])
    voices = _raw(q.voices)(path, aid)
    account = str(voices.iloc[0]["account_id"]) if not voices.empty else ""
    accounts = tuple(str(a) for a in voices["account_id"].head(50)) if not voices.empty else ()
    examples = _raw(q.example_posts)(path, aid, account) if account else None
    post = str(examples.iloc[0]["post_id"]) if examples is not None and not examples.empty else ""
    tags = _raw(q.window_hashtags)(path, aid)
    return {
        "snapshot_info": lambda: _raw(q.snapshot_info)(path),
        "analysis_windows": lambda: _raw(q.analysis_windows)(path),
        "latest_analysis": lambda: _raw(q.latest_analysis)(path),
        "tone_summary": lambda: _raw(q.tone_summary)(path, aid),
        "tone_per_day": lambda: _raw(q.tone_per_day)(path, aid),
        "last_runs": lambda: _raw(q.last_runs)(path),
        "camp_labels": lambda: _raw(q.camp_labels)(path, aid),
        "camps": lambda: _raw(q.camps)(path, aid),
        "polarization": lambda: _raw(q.polarization)(path, aid),
        "voices": lambda: _raw(q.voices)(path, aid),
        "example_posts": lambda: _raw(q.example_posts)(path, aid, account),
        "account_handles": lambda: _raw(q.account_handles)(path, accounts),
        "window_hashtags": lambda: _raw(q.window_hashtags)(path, aid),
        "search_posts (no filter)": lambda: _raw(q.search_posts)(path, aid),
        "search_posts (text)": lambda: _raw(q.search_posts)(path, aid, "waiting"),
        "search_posts (hashtag, hostile)": lambda: _raw(q.search_posts)(
            path, aid, tones=("hostile",), hashtag=tags[0] if tags else None
        ),
        "reports": lambda: _raw(q.reports)(path),
        "network_map": lambda: _raw(qe.network_map)(path, aid),
        "window_choices": lambda: _raw(qe.window_choices)(path, aid),
        "post_thread": lambda: _raw(qe.post_thread)(path, aid, post),
    }


def time_calls(calls: dict[str, Callable[[], Any]], repeats: int) -> dict[str, tuple[float, float]]:
    """p50 and p95 in milliseconds per query, after one untimed call (the OS file cache warms up)."""
    out = {}
    for name, call in calls.items():
        call()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            call()
            times.append((time.perf_counter() - start) * 1000)
        out[name] = (float(np.percentile(times, 50)), float(np.percentile(times, 95)))
    return out


def run(quick: bool = False, snapshot: Path | None = None) -> list[str]:
    if snapshot is None or not snapshot.exists():
        return [f"dashboard: skipped (no snapshot; got {snapshot}): run the e2e section or pass --snapshot"]
    timings = time_calls(query_calls(snapshot), repeats=5 if quick else 20)
    worst = max(p95 for _, p95 in timings.values())
    lines = [f"snapshot: {snapshot} ({snapshot.stat().st_size / 1024**2:.0f} MiB)"]
    lines += [f"{name}: p50 {p50:.0f} ms, p95 {p95:.0f} ms" for name, (p50, p95) in timings.items()]
    verdict = "within" if worst < TARGET_P95_MS else "OVER"
    lines.append(f"worst p95: {worst:.0f} ms ({verdict} the {TARGET_P95_MS:.0f} ms target)")
    return lines
