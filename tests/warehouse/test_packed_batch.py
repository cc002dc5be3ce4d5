"""Pages sent as tables (`PackedBatch`, what the workers of a large import send) write exactly what the
same pages as records write: rows, counts, quarantine, a re-import that adds nothing, an edit, a
conflict, a deleted post left out, and raw payloads left out when they are not stored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from flows.sources.files import FileSource
from tests.flows.sources.test_parallel_import import TABLES, _rows  # every table, by key, without times
from warehouse.deletions import record_deletions
from warehouse.records import Batch
from warehouse.store import UpsertCounts, Warehouse, schema_statements
from warehouse.writes import PackedBatch, pack


def _post(n: int, text: str | None = None, **extra: Any) -> str:
    author = {"id": f"a{n % 3}", "handle": f"user{n % 3}", "bio": "GP" if n % 2 else "", "followers": n}
    post = {"id": str(n), "created_at": f"2026-11-16T09:{n:02d}:00Z", "author": author, "platform": "t"}
    mentions = [{"id": "a9", "handle": "nhs"}, {"id": f"a{n % 3}", "handle": "self"}]
    return json.dumps(
        {**post, "text": text or f"post {n} #NHS", "mentions": mentions, "hashtags": ["NHS"], **extra}
    )


def _write(tmp_path: Path, name: str, lines: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _pages(path: Path, packed: bool) -> list[Batch]:
    source = FileSource()
    source.page_lines = 4
    batches = [page.batch for page in source.pages(path)]
    if not packed:
        return batches
    tables = duckdb.connect(":memory:")
    for table in ("posts", "accounts", "interactions"):
        tables.execute(schema_statements()[table])
    return [pack(tables, batch) for batch in batches]


def _import(warehouse: Warehouse, path: Path, packed: bool, run_id: str) -> UpsertCounts:
    total = UpsertCounts()
    for batch in _pages(path, packed):
        total.add(warehouse.upsert_batch(batch, run_id=run_id))
    return total


@pytest.mark.parametrize("store_raw", [True, False])
def test_packed_pages_write_what_record_pages_write(tmp_path: Path, store_raw: bool) -> None:
    first = _write(tmp_path, "first.jsonl", [*(_post(n) for n in range(1, 11)), "{not json"])
    again = _write(
        tmp_path,
        "again.jsonl",
        [
            _post(3),  # the same: a duplicate
            _post(4, "other words"),  # other text, no edit date: a conflict
            _post(5, "newer words", edited_at="2026-11-16T10:00:00Z"),  # an edit
            _post(7),  # deleted meanwhile: left out
            _post(20),  # new
        ],
    )
    results = []
    for packed in (False, True):
        warehouse = Warehouse(tmp_path / f"packed-{packed}.duckdb", store_raw=store_raw)
        warehouse.init()
        if packed:
            assert any(isinstance(b, PackedBatch) for b in _pages(first, packed=True))
        counts = [_import(warehouse, first, packed, "r1"), _import(warehouse, first, packed, "r2")]
        with warehouse.connect() as con:
            record_deletions(con, [("t:7", "deleted by its author")], source="t")
        counts.append(_import(warehouse, again, packed, "r3"))
        results.append((counts, _rows(warehouse)))
    (plain_counts, plain_rows), (packed_counts, packed_rows) = results
    assert plain_counts == packed_counts
    first_run = packed_counts[0]
    assert (first_run.posts_stored, first_run.quarantined, first_run.accounts) == (10, 1, 4)
    assert (packed_counts[1].posts_stored, packed_counts[1].duplicates) == (0, 10)  # re-run: nothing new
    last = packed_counts[2]
    assert (last.duplicates, last.conflicts, last.edits, last.deleted, last.posts_stored) == (1, 1, 1, 1, 2)
    for table in TABLES:
        pd.testing.assert_frame_equal(plain_rows[table], packed_rows[table], obj=table)
    assert packed_rows["posts"]["raw"].notna().all() == store_raw
    assert packed_rows["post_versions"]["text"].tolist() == ["post 5 #NHS"]
