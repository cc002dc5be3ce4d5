"""The pipeline on a local Dask cluster of 2 worker processes gives the same results as without Dask."""

from __future__ import annotations

import json
import os
import sys
import types
from typing import Any

import pandas as pd
import pytest

from flows.distributed import chunks
from flows.options import RunOptions
from flows.pipeline import pipeline
from flows.runners import task_runner
from lab.sample.generate import generate_conversation
from warehouse.settings import Settings
from warehouse.store import Warehouse

pytestmark = pytest.mark.slow

# What must come out the same, row for row (scored_at and retrieved_at say when, not what).
COMPARED = {
    "posts": "SELECT * EXCLUDE (retrieved_at, raw) FROM posts ORDER BY post_id",
    "interactions": "SELECT * FROM interactions ORDER BY interaction_id",
    "tone_scores": "SELECT * EXCLUDE (scored_at) FROM tone_scores ORDER BY post_id, model_version",
    "communities": "SELECT * FROM communities ORDER BY analysis_id, account_id",
    "voices": "SELECT * FROM voices ORDER BY analysis_id, rank",
    "community_profiles": "SELECT * FROM community_profiles ORDER BY analysis_id, camp_id",
}
# A worker scores its chunk in other batches than one process scoring everything, and float32 sums
# come out a few units in the 7th decimal apart (measured on the shipped model: at most ~5e-7).
# Every decision (tone, is_constructive, is_hostile, reasons) and every camp and rank must be equal;
# probabilities within this, attribute scores (stored to 4 decimals) within one rounding step.
PROBABILITY_TOLERANCE = 1e-5
ATTRIBUTE_TOLERANCE = 1.5e-4
JSON_COLUMNS = {"attributes", "camps_reached", "example_posts", "top_hashtags", "top_terms", "top_accounts"}


def close(a: Any, b: Any) -> bool:
    """Equal, but numbers within ATTRIBUTE_TOLERANCE (JSON columns keep rounded floats)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= ATTRIBUTE_TOLERANCE
    return bool(a == b)


def assert_same(table: str, got: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert len(expected), table
    for column in [c for c in expected if c in JSON_COLUMNS]:
        for a, b in zip(got.pop(column), expected.pop(column), strict=True):
            assert close(json.loads(a), json.loads(b)) if a and b else a == b, (table, column, a, b)
    pd.testing.assert_frame_equal(
        got, expected, check_exact=False, rtol=0, atol=PROBABILITY_TOLERANCE, obj=table
    )


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory, prefect_harness: None) -> dict[str, Any]:
    """The same small conversation, in two files, through the pipeline twice: default runner, then 2
    Dask workers (which then also fetch and normalise the two files)."""
    sample = generate_conversation(seed=11, n_accounts=50, n_posts=200)
    folder = tmp_path_factory.mktemp("dask")
    paths = [folder / "first.jsonl", folder / "second.jsonl"]
    for path, half in zip(paths, (sample.posts[:100], sample.posts[100:]), strict=True):
        path.write_text("\n".join(json.dumps(p) for p in half) + "\n", encoding="utf-8")
    distinct = len({p["text"] for p in sample.posts})
    out: dict[str, Any] = {"distinct_texts": distinct}
    with pytest.MonkeyPatch.context() as env:
        # Dask starts workers with multiprocessing's "spawn", which re-runs the parent's __main__ file in
        # each worker. Streamlit's AppTest (earlier tests) leaves dashboard/streamlit_app.py installed as
        # __main__, and a worker running it dies: give the workers a __main__ with no file to re-run, as
        # `commonground` (whose __main__ is the console script) does.
        env.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
        env.setenv("COMMONGROUND_POLARIZATION_REWIRINGS", "3")
        env.setenv("COMMONGROUND_HOSTILITY_PERMUTATIONS", "10")
        env.setenv("COMMONGROUND_EXTRA_WINDOW_DAYS", "[]")
        for name in ("default", "dask"):
            if name == "dask":
                env.setenv("COMMONGROUND_TASK_RUNNER", "dask")
                env.setenv("COMMONGROUND_DASK_WORKERS", "2")
                # Four chunks or so, so both workers get some.
                env.setenv("COMMONGROUND_DASK_CHUNK_TEXTS", str(distinct // 4 + 1))
                env.setenv("COMMONGROUND_EXPORT_PARQUET", "true")
            data_dir = folder / name
            counts = pipeline(RunOptions(data_dir=data_dir, import_paths=paths))
            out[name] = {"counts": counts, "warehouse": Warehouse(data_dir / "commonground.duckdb")}
    return out


def test_dask_gives_the_same_tables_as_the_default_runner(two_runs: dict[str, Any]) -> None:
    default, dask = two_runs["default"]["warehouse"], two_runs["dask"]["warehouse"]
    for table, sql in COMPARED.items():
        assert_same(table, dask.query(sql), default.query(sql))


def test_scoring_ran_in_two_worker_processes(two_runs: dict[str, Any]) -> None:
    enrich = two_runs["dask"]["counts"]["enrich"]
    assert enrich["dask_chunks"] == 4
    workers = enrich["dask_workers"]
    assert len(workers) == 2 and all(not w.endswith(f":{os.getpid()}") for w in workers)
    assert enrich["scored"] == two_runs["default"]["counts"]["enrich"]["scored"] == 200
    assert "dask_chunks" not in two_runs["default"]["counts"]["enrich"]


def test_ingest_fetched_each_file_on_a_worker(two_runs: dict[str, Any]) -> None:
    from prefect import get_client
    from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterName

    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            task_run_filter=TaskRunFilter(name=TaskRunFilterName(like_="fetch-query"))
        )
    assert len(runs) == 2 and all(r.state is not None and r.state.is_completed() for r in runs)
    default, dask = (two_runs[name]["counts"]["ingest"]["file"] for name in ("default", "dask"))
    assert dask["posts_stored"] == default["posts_stored"] == 200


def test_the_pipeline_exports_parquet_when_asked(two_runs: dict[str, Any]) -> None:
    exported = two_runs["dask"]["counts"]["parquet"]
    assert exported["posts_rows"] == exported["posts_rows_written"] == 200
    assert exported["interactions_rows"] == len(
        two_runs["dask"]["warehouse"].query("SELECT 1 FROM interactions")
    )
    assert "parquet" not in two_runs["default"]["counts"]


def test_chunks_hold_each_distinct_text_once() -> None:
    texts = ["a", "b", "a", "c", "d", "b", "e"]
    assert list(chunks(texts, 2)) == [["a", "b"], ["c", "d"], ["e"]]


def test_settings_choose_the_runner() -> None:
    from prefect.task_runners import ThreadPoolTaskRunner
    from prefect_dask import DaskTaskRunner

    assert isinstance(task_runner(Settings()), ThreadPoolTaskRunner)
    remote = task_runner(Settings(task_runner="dask", dask_address="tcp://10.0.0.5:8786"))
    assert isinstance(remote, DaskTaskRunner) and remote.address == "tcp://10.0.0.5:8786"
    local = task_runner(Settings(task_runner="dask", dask_workers=3))
    assert isinstance(local, DaskTaskRunner) and local.address is None
    assert local.cluster_kwargs["n_workers"] == 3 and local.cluster_kwargs["processes"] is True
    with pytest.raises(ValueError, match="task_runner"):
        Settings(task_runner="ray")  # type: ignore[arg-type]
