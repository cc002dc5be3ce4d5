"""`commonground eval` rows for the tone model, on the tiny data with the tiny model."""

from __future__ import annotations

from pathlib import Path

from lab.tone.evaluate import evaluate, sample_agreement
from models.tone import MiniLMTone


def test_evaluate_rows(tiny_datasets: Path, tiny_model: MiniLMTone) -> None:
    rows = evaluate(tiny_datasets, model=tiny_model)
    assert {r["task"] for r in rows} == {"tone"}
    by_metric = {(r["dataset"], r["metric"]): r["value"] for r in rows}
    assert ("C3 val (our 20%)", "F1 constructive") in by_metric
    assert ("TweetEval offensive val", "macro-F1 hostile") in by_metric
    assert any(m.startswith("macro-F1, < 60 words") for _, m in by_metric)
    assert any(m.startswith("tone agreement with planted") for _, m in by_metric)
    # the tiny C3 file carries vote counts, so the label-noise ceiling is reported next to the targets
    assert 0.0 < by_metric[("C3 val (our 20%)", "macro-F1, < 60 words, label-noise ceiling")] <= 1.0
    assert ("C3 val (our 20%)", "F1 constructive, label-noise ceiling") in by_metric
    for r in rows:
        assert set(r) >= {"task", "dataset", "metric", "value"}
        assert r["value"] is None or 0.0 <= float(r["value"]) <= 1.0


def test_sample_agreement(tiny_model: MiniLMTone) -> None:
    result = sample_agreement(tiny_model)
    assert result["n"] > 1000
    assert 0.0 <= result["agreement"] <= 1.0
    assert abs(sum(result["predicted_shares"].values()) - 1.0) < 1e-3
