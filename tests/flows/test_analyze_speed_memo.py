"""A window with the same posts as the window analysed before it reuses that analysis, and what it
writes is what analysing it afresh writes; a window with other posts is analysed afresh."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd
import pytest

from flows.analysis import WindowMemo, analyse_window, run_analysis, without_opted_out
from tests.warehouse.test_privacy import MODEL, build_sample_warehouse, sample_settings
from warehouse import opt_outs
from warehouse.store import ANALYSIS_TABLES, Warehouse


def _written(warehouse: Warehouse, analysis_id: str) -> dict[str, pd.DataFrame]:
    out = {}
    for table in ANALYSIS_TABLES:
        frame = warehouse.query(
            f"SELECT * EXCLUDE (analysis_id) FROM {table} WHERE analysis_id = ?", [analysis_id]
        )
        out[table] = frame.sort_values(list(frame.columns[:2])).reset_index(drop=True)
    return out


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("memo")
    warehouse = build_sample_warehouse(root, lines=200)
    span = warehouse.query("SELECT min(created_at) AS a, max(created_at) AS b FROM posts").iloc[0]
    return {"root": root, "warehouse": warehouse, "start": span["a"], "end": span["b"]}


def test_same_posts_reuse_the_analysis_and_write_what_a_fresh_one_writes(sample: dict[str, Any]) -> None:
    warehouse, settings = sample["warehouse"], sample_settings(sample["root"])
    start, end = sample["start"], sample["end"]
    memo = WindowMemo()
    month = analyse_window(warehouse, settings, (start - timedelta(days=30), end), MODEL, "r", memo)
    first = memo.result
    week = analyse_window(warehouse, settings, (start, end), MODEL, "r", memo)
    assert memo.result is first  # the same rows: nothing computed again
    assert (week.posts, week.camps, week.polarization, week.voices) == (
        month.posts,
        month.camps,
        month.polarization,
        month.voices,
    )
    inputs = without_opted_out(warehouse.analysis_inputs(start, end, MODEL), opt_outs.account_ids(warehouse))
    fresh = run_analysis(inputs, settings)
    assert first is not None and fresh.tables.keys() == first.tables.keys()
    for name, table in fresh.tables.items():
        pd.testing.assert_frame_equal(first.tables[name], table, check_exact=True)
    written_month, written_week = (
        _written(warehouse, month.analysis_id),
        _written(warehouse, week.analysis_id),
    )
    assert len(written_week["communities"]) > 10 and len(written_week["voices"]) > 0
    for table in ANALYSIS_TABLES:
        pd.testing.assert_frame_equal(written_month[table], written_week[table], check_exact=True)


def test_other_posts_or_other_settings_are_analysed_afresh(sample: dict[str, Any]) -> None:
    warehouse, settings = sample["warehouse"], sample_settings(sample["root"])
    start, end = sample["start"], sample["end"]
    memo = WindowMemo()
    whole = analyse_window(warehouse, settings, (start, end), MODEL, "r", memo)
    first = memo.result
    half = analyse_window(warehouse, settings, (start + (end - start) / 2, end), MODEL, "r", memo)
    assert half.posts < whole.posts
    assert memo.result is not first and memo.result is not None
    fewer = memo.result
    other = settings.model_copy(update={"community_seed": settings.community_seed + 1})
    analyse_window(warehouse, other, (start + (end - start) / 2, end), MODEL, "r", memo)
    assert memo.result is not fewer  # the same posts under other settings: analysed again
