"""A large file normalised in a worker process gives the warehouse exactly what reading it here gives:
the same rows, quarantine (reasons and line numbers), edits, conflicts, counts and page boundaries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from flows.pipeline import ingest_query
from flows.sources.files import FileSource
from warehouse.store import UpsertCounts, Warehouse

from .conftest import counts_add_up

# Columns stamped with when a run happened (or which run): they differ between any two runs.
WHEN = ("retrieved_at", "quarantined_at", "replaced_at", "run_id")
TABLES = {
    "posts": "post_id",
    "accounts": "account_id",
    "interactions": "interaction_id",
    "quarantine": "quarantine_id",
    "post_versions": "version_id",
}


def _post(n: int, text: str | None = None, **extra: Any) -> dict[str, Any]:
    author = {"id": f"a{n % 4}", "handle": f"user{n % 4}", "bio": "GP", "followers": n}
    post = {"id": str(n), "created_at": f"2026-11-16T09:{n % 60:02d}:00Z", "author": author, "platform": "t"}
    return {**post, "text": text or f"post {n} about #NHS", **extra}


def _file(path: Path) -> Path:
    lines = [json.dumps(_post(n, mentions=[{"id": "a9", "handle": "nhs"}])) for n in range(1, 13)]
    lines += [
        "{not json",
        json.dumps({"id": "99", "text": "no author", "created_at": "2026-11-16T09:00:00Z"}),
        "",  # a blank line still counts for the numbers of the lines after it
        json.dumps(_post(3)),  # read again, the same: a duplicate, on a page of its own
        json.dumps(_post(4, "other words")),  # read again, other text, no edit date: a conflict
        json.dumps(_post(5, "newer words", edited_at="2026-11-16T10:00:00Z")),  # an edit
        '{"id": "50", "created_at": "2026-11-16T09:00:00Z", "text": "half \\ud83d an emoji", '
        '"author": {"id": "a1", "handle": "user1"}, "platform": "t"}',
        *(json.dumps(_post(n, reply_to={"id": "1", "author_id": "a1"})) for n in range(60, 75)),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _source(*, in_worker: bool, workers: int = 1) -> FileSource:
    source = FileSource()
    source.page_lines = source.large_page_lines = 5  # pages end by size and by repeats, as on large pages
    source.parallel_min_bytes = 0 if in_worker else 10**12
    source.normalise_workers = workers
    return source


def _rows(warehouse: Warehouse) -> dict[str, pd.DataFrame]:
    rows = {}
    for table, key in TABLES.items():
        frame = warehouse.query(f"SELECT * FROM {table} ORDER BY {key}")
        rows[table] = frame.drop(columns=[c for c in WHEN if c in frame.columns])
    return rows


def _ingest(
    tmp_path: Path, path: Path, *, in_worker: bool, workers: int = 1
) -> tuple[UpsertCounts, Warehouse, int]:
    warehouse = Warehouse(tmp_path / f"worker-{in_worker}-{workers}.duckdb")
    warehouse.init()
    source = _source(in_worker=in_worker, workers=workers)
    assert source._in_worker(path) is in_worker
    pages = len(list(source.fetch(str(path))))
    counts = ingest_query(warehouse, source, str(path), run_id="r1")
    return counts, warehouse, pages


@pytest.mark.parametrize("workers", [1, 2])
def test_a_file_normalised_in_workers_gives_the_same_warehouse_as_one_read_here(
    tmp_path: Path, workers: int
) -> None:
    """One worker, or two taking every other chunk of 5 lines: the same pages, rows and counts."""
    path = _file(tmp_path / "big.jsonl")
    here, here_wh, here_pages = _ingest(tmp_path, path, in_worker=False)
    there, there_wh, there_pages = _ingest(tmp_path, path, in_worker=True, workers=workers)
    assert here == there and counts_add_up(there)
    assert (there.read, there.quarantined, there.duplicates, there.conflicts, there.edits) == (33, 2, 1, 1, 1)
    assert here_pages == there_pages > 33 // 5
    here_rows, there_rows = _rows(here_wh), _rows(there_wh)
    for table in TABLES:
        pd.testing.assert_frame_equal(here_rows[table], there_rows[table], obj=table)
    reasons = there_rows["quarantine"].sort_values("line_no")[["line_no", "reason"]].values.tolist()
    assert [line for line, _ in reasons] == [13, 14, 17]
    assert reasons[2][1].startswith("line 17: conflict: post 4 was read before (earlier in this file")
    assert "\ufffd" in there_wh.query("SELECT text FROM posts WHERE post_id = 't:50'")["text"][0]


def test_a_file_the_worker_cannot_read_fails_as_it_does_here(tmp_path: Path) -> None:
    path = tmp_path / "posts.csv"
    path.write_text("when,words\n2026-11-16,hello\n" * 3, encoding="utf-8")
    errors = []
    for in_worker in (False, True):
        with pytest.raises(ValueError) as error:
            list(_source(in_worker=in_worker).fetch(str(path)))
        errors.append(str(error.value))
    assert errors[0] == errors[1] and str(path) in errors[1]


def test_the_worker_does_not_run_the_main_script_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "spawn" re-runs the parent's main script in the worker; a script without a main guard (a user's,
    or a Streamlit page a test ran as `__main__`) must not run, or fail, there."""
    import sys
    import types

    script = tmp_path / "script_without_a_main_guard.py"
    script.write_text("raise SystemExit('the main script ran again in the worker')\n", encoding="utf-8")
    main = types.ModuleType("__main__")
    main.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", main)
    pages = list(_source(in_worker=True).fetch(str(_file(tmp_path / "big.jsonl"))))
    assert sum(page.batch.read for page in pages) == 33
    assert sys.modules["__main__"] is main  # put back after the worker started
