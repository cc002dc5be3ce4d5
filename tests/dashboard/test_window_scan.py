"""The window's posts read from the snapshot's joined `window_posts` table give exactly what the joins
they replace gave, and a snapshot published before that table existed still reads (by the joins)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd

from dashboard import queries as q
from dashboard import queries_explore as qe


def _raw(fn: object) -> object:
    return getattr(fn, "__wrapped__", fn)


def _everything(path: str) -> dict[str, object]:
    aid = str(_raw(q.latest_analysis)(path).iloc[0]["analysis_id"])  # type: ignore[operator]
    tags = _raw(q.window_hashtags)(path, aid)  # type: ignore[operator]
    camp = int(_raw(q.camps)(path, aid).iloc[0]["camp_id"])  # type: ignore[operator]
    search = _raw(q.search_posts)  # type: ignore[operator]
    return {
        "summary": _raw(q.tone_summary)(path, aid),  # type: ignore[operator]
        "per_day": _raw(q.tone_per_day)(path, aid),  # type: ignore[operator]
        "tags": tags,
        "choices": _raw(qe.window_choices)(path, aid),  # type: ignore[operator]
        "all": search(path, aid),
        "text": search(path, aid, "waiting"),
        "tag+tone": search(path, aid, "", ("constructive", "neutral"), None, tags[0]),
        "camp": search(path, aid, camp_id=camp),
        "unknown analysis": _raw(q.tone_summary)(path, "no-such-analysis"),  # type: ignore[operator]
    }


def test_the_joined_window_table_reads_what_the_joins_read(snapshot: Path, tmp_path: Path) -> None:
    with duckdb.connect(str(snapshot), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM window_posts").fetchone()[0] > 0  # type: ignore[index]
    old = tmp_path / "published-before.duckdb"
    shutil.copy(snapshot, old)
    with duckdb.connect(str(old)) as con:
        con.execute("DROP TABLE window_posts")
    fast, joined = _everything(str(snapshot)), _everything(str(old))
    assert len(fast["all"]) > 0 and len(fast["camp"]) > 0 and len(fast["tag+tone"]) > 0  # type: ignore[arg-type]
    for name, value in fast.items():
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(value, joined[name], check_dtype=False, obj=name)  # type: ignore[arg-type]
        else:
            assert value == joined[name], name
