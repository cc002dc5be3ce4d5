"""The network benchmark's generator and report, at a size a test can afford."""

from __future__ import annotations

import pytest

import lab.network.bench as bench


def test_synthetic_conversation_is_seeded_and_shaped() -> None:
    first = bench.synthetic_conversation(500, 5_000, seed=3)
    again = bench.synthetic_conversation(500, 5_000, seed=3)
    assert first["interactions"].equals(again["interactions"])
    inter = first["interactions"]
    assert len(inter) > 4_800 and set(inter["kind"]) == {"repost", "quote", "reply", "mention"}
    assert (inter["src_account_id"] != inter["dst_account_id"]).all()
    assert first["posts"]["author_id"].nunique() == 500


def test_run_reports_ratio_memory_and_rewirings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench, "QUICK", {"n_accounts": 2_000, "n_interactions": 20_000, "n_rewirings": 2})
    lines = bench.run(quick=True)
    text = "\n".join(lines)
    assert any(line.startswith("ratio: ") and float(line.split()[1]) > 1 for line in lines)
    assert "peak memory:" in text and "with 2 rewirings" in text
    assert "camps: 6 from" in text
