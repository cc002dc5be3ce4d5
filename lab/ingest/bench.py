"""`commonground bench ingest`: rows/s of the warehouse's batched upserts against row-by-row INSERTs.

Both write the same normalised records (posts, accounts, interactions) of one generated conversation
into a fresh DuckDB file, in the same run. The baseline is what a first version would do: one
parameterised INSERT per record inside one transaction, accounts upserted with ON CONFLICT.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb

from flows.sources.files import FileSource
from warehouse.records import Batch
from warehouse.settings import SAMPLE_CONVERSATION
from warehouse.store import Warehouse
from warehouse.writes import record_row

FULL_POSTS = 20_000
QUICK_POSTS = 600
# Row-by-row is so slow (tens of rows/s on a busy laptop) that it is timed on the first records only.
NAIVE_ROWS = {True: 150, False: 1_500}


def read_batches(path: Path, limit: int) -> list[Batch]:
    """The file's pages as the file source yields them (2,000 lines each), up to `limit` posts."""
    pages: list[Batch] = []
    total = 0
    for page in FileSource(platform="sample").fetch(str(path)):
        pages.append(page.batch)
        total += len(page.batch.posts)
        if total >= limit:
            break
    return pages


def _row(record: Any) -> dict[str, Any]:
    """The record as the warehouse stores it (its own row builder), with Python lists for DuckDB."""
    row = record_row(record, True)
    if "hashtags" in row:
        row["hashtags"] = list(row["hashtags"])
    if "kind" in row:
        row["kind"] = str(row["kind"])
    return row


def row_by_row(path: Path, batches: list[Batch], limit: int) -> int:
    """The baseline: one INSERT per record, up to `limit` records; the number of rows written."""
    Warehouse(path).init()
    written = 0
    con = duckdb.connect(str(path))
    try:
        con.execute("BEGIN")
        for batch in batches:
            for table, records, conflict in (
                ("accounts", batch.accounts, "ON CONFLICT (account_id) DO NOTHING"),
                ("posts", batch.posts, "ON CONFLICT (post_id) DO NOTHING"),
                ("interactions", batch.interactions, "ON CONFLICT (interaction_id) DO NOTHING"),
            ):
                for record in records[: max(0, limit - written)]:
                    row = _row(record)
                    columns = ", ".join(row)
                    marks = ", ".join("?" for _ in row)
                    con.execute(
                        f"INSERT INTO {table} ({columns}) VALUES ({marks}) {conflict}", list(row.values())
                    )
                    written += 1
        con.execute("COMMIT")
    finally:
        con.close()
    return written


def batched(path: Path, batches: list[Batch]) -> int:
    """Ours: `Warehouse.upsert_batch` per page; the number of records it was given."""
    warehouse = Warehouse(path)
    warehouse.init()
    for batch in batches:
        warehouse.upsert_batch(batch, run_id="bench")
    return sum(len(b.posts) + len(b.accounts) + len(b.interactions) for b in batches)


def run(quick: bool = False, source: Path | None = None) -> list[str]:
    """Lines to print; `source` is a JSONL conversation (default: the sample, or a generated 20k one)."""
    limit = QUICK_POSTS if quick else FULL_POSTS
    with tempfile.TemporaryDirectory(prefix="commonground-ingest-bench-") as tmp:
        folder = Path(tmp)
        if source is None and not quick:
            from lab.sample.scale import write_large

            write_large(folder / "conv", n_posts=FULL_POSTS, n_accounts=FULL_POSTS // 5)
            source = folder / "conv" / "conversation.jsonl"
        if source is None:
            source = folder / "quick.jsonl"
            with SAMPLE_CONVERSATION.open(encoding="utf-8") as handle:
                source.write_text("".join(line for _, line in zip(range(limit), handle, strict=False)))
        batches = read_batches(source, limit)
        posts = sum(len(b.posts) for b in batches)
        start = time.perf_counter()
        n_ours = batched(folder / "ours.duckdb", batches)
        t_ours = time.perf_counter() - start
        start = time.perf_counter()
        n_naive = row_by_row(folder / "naive.duckdb", batches, NAIVE_ROWS[quick])
        t_naive = time.perf_counter() - start
    r_ours, r_naive = n_ours / max(t_ours, 1e-9), n_naive / max(t_naive, 1e-9)
    return [
        f"records: {posts:,} posts with their accounts and interactions ({n_ours:,} records)",
        f"row-by-row INSERTs (one transaction, first {n_naive:,} records): {r_naive:.0f} rows/s",
        f"upsert_batch (Arrow, per 2,000-line page, with versions and dedup): {r_ours:.0f} rows/s",
        f"ratio: {r_ours / r_naive:.1f}",
    ]
