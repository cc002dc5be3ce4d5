"""`commonground eval` for the tone model, on the tiny data with the tiny model: what is measured end to end,
on which texts, and the rows it prints."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from lab.tone.checksets import contrast_posts
from lab.tone.corpora import attribute_corpora
from lab.tone.data import load_data, sample_agreement
from lab.tone.evaluate import _heads, _tweeteval, evaluate, posts_checks, rows_of
from models.tone import MiniLMTone

FRENCH = "Les délais aux urgences sont beaucoup trop longs, il faut embaucher plus d'infirmières."
EMOJI = "😀😀🎉"


@pytest.fixture(scope="module")
def model(tiny_encoder_dir: Path, tiny_heads: Path) -> MiniLMTone:
    return MiniLMTone(tiny_encoder_dir, tiny_heads, batch_size=16)


@pytest.fixture(scope="module")
def checks(model: MiniLMTone, tiny_datasets: Path) -> dict[str, Any]:
    return posts_checks(model, tiny_datasets)


def test_every_head_is_measured_on_every_corpus_that_labels_it(
    checks: dict[str, Any], tiny_datasets: Path, model: MiniLMTone
) -> None:
    expected: dict[str, set[str]] = {"hostile": {"tweeteval"}}
    for c in attribute_corpora(tiny_datasets):
        for head in c.heads:
            if (c.val[head].dropna() >= 0.5).nunique() == 2:  # both classes: a ROC-AUC exists
                expected.setdefault(head, set()).add(c.name)
    assert {h: set(per) for h, per in checks["heads"].items()} == expected
    assert set(checks["heads"]) == {"hostile", *model.attributes}
    for per in checks["heads"].values():
        for m in per.values():
            assert m["unscored"] == 0 and 0.0 <= m["roc_auc"] <= 1.0 and m["f1"] <= m["best_f1"]


def test_the_check_sets_and_the_sample_are_scored(checks: dict[str, Any]) -> None:
    contrast = contrast_posts()
    for split, m in checks["contrast"].items():
        assert m["triples"] == contrast.loc[contrast["split"] == split, "triple_id"].nunique()
        assert 0 <= m["hostile_called"] <= m["triples"]
    assert set(checks["contrast"]) == {"tune", "holdout"}
    assert {"written", "goemotions_test", "ucc_val", "all"} == set(checks["civil_criticism_false_hostile"])
    assert checks["length"]["posts"] == len(contrast) and checks["length"]["max_abs_change_constructive"] >= 0
    assert checks["sample_conversation"]["n"] > 1000
    assert checks["c3"]["unscored"] == 0 and checks["tweeteval"]["unscored"] == 0


def test_rows(checks: dict[str, Any], model: MiniLMTone, tiny_datasets: Path) -> None:
    rows = rows_of(checks)
    assert {r["task"] for r in rows} == {"tone"}
    for r in rows:
        assert set(r) == {"task", "dataset", "metric", "value", "reference", "note"}
    by_metric = {(r["dataset"], r["metric"]): r["value"] for r in rows}
    assert by_metric[("C3 val (our 20%)", "F1 constructive")] == checks["c3"]["f1_constructive"]
    assert by_metric[("TweetEval offensive val", "macro-F1 hostile")] == checks["tweeteval"]["macro_f1"]
    assert any(m.startswith("macro-F1, < 60 words") for _, m in by_metric)
    corr = by_metric[("C3 val (our 20%)", "corr(constructive, words), < 60 words")]
    assert -1.0 <= corr <= 1.0
    for split, m in checks["contrast"].items():
        ds = f"contrast set ({split}, {m['triples']} triples)"
        assert by_metric[(ds, "constructive post highest of its three")] == m["top_of_three"]
        assert by_metric[(ds, "hostile posts called constructive")] == m["hostile_called"]
        assert 0.0 <= by_metric[(ds, "neutral posts called constructive")] <= 1.0
    for src, m in checks["civil_criticism_false_hostile"].items():
        assert by_metric[(f"civil criticism ({src}, n={m['n']})", "share called hostile")] == m["rate"]
    for tone, share in checks["sample_conversation"]["predicted_shares"].items():
        assert by_metric[("sample conversation", f"share called {tone}")] == share
    for head, per in checks["heads"].items():
        for corpus, m in per.items():
            assert by_metric[(f"{corpus} val", f"{head}: ROC-AUC")] == m["roc_auc"]
            assert 0.0 <= by_metric[(f"{corpus} val", f"{head}: F1 at the shipped threshold")] <= 1.0
    # `commonground eval` prints exactly these rows
    assert evaluate(tiny_datasets, model=model) == rows


def test_texts_it_cannot_judge_are_counted_apart_not_scored(
    model: MiniLMTone, tiny_datasets: Path, tmp_path: Path
) -> None:
    ddir = tmp_path / "datasets"
    shutil.copytree(tiny_datasets, ddir)
    val_file = ddir / "attributes" / "holistic_politeness_en" / "english_val_4-14.csv"
    val = pd.read_csv(val_file)
    extra = pd.DataFrame({"Utterance": [FRENCH, EMOJI], "labels": [4.0, 0.0]})
    pd.concat([val, extra]).to_csv(val_file, index=False)
    te_file = ddir / "tweeteval_offensive_val.csv"
    te = pd.read_csv(te_file)
    pd.concat([te, pd.DataFrame({"text": [FRENCH], "offensive": [1]})]).to_csv(te_file, index=False)
    data = load_data(ddir, None)
    respect = _heads(model, ddir, data)["respect"]["holistic_politeness"]
    assert respect["unscored"] == 2 and respect["n"] == len(val)  # measured on the texts it judged
    hostile = _tweeteval(model, data)
    assert hostile["unscored"] == 1 and hostile["n"] == len(te) + 1


def test_sample_agreement(model: MiniLMTone) -> None:
    result = sample_agreement(model)
    assert result["n"] > 1000
    assert 0.0 <= result["agreement"] <= 1.0
    assert abs(sum(result["predicted_shares"].values()) - 1.0) < 1e-3
    assert set(result["planted_shares"]) == {"constructive", "neutral", "hostile"}
