"""Tone training end to end on tiny data (the ``tiny_heads`` run): the files it writes, the metadata that
measures every head on its own validation corpora, the constructive combination it chooses, resuming.

The tiny encoder is random and the data is made up, so no number here is a quality: the tests check what is
measured, on what, and that the written model is the one that was measured."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lab.tone import train
from lab.tone.checks import HEAD_AUC_TARGET
from lab.tone.checksets import civil_criticism, contrast_posts, corpus_civil_criticism
from lab.tone.combine import CONTRAST_WEIGHT, TREES, VARIANTS
from lab.tone.corpora import LICENCES, LOADERS, MAPPING, ucc
from lab.tone.evaluate import REPEATS
from lab.tone.finetune import FinetuneConfig
from lab.tone.stage import HEADS
from models.tone import ENCODER_FILE, META_FILE, SCHEMA_VERSION, load_weights
from models.tone_base import MODEL_FAMILY, prepare_text

from ...conftest import TINY_LIMIT

ONE_CLASS = {("goemotions", "hostile")}  # GoEmotions labels hostile only as 0 (criticism is not hostility)


@pytest.fixture(scope="module")
def meta(tiny_heads: Path) -> dict[str, Any]:
    return json.loads((tiny_heads.parent / META_FILE).read_text())


def test_training_writes_loadable_weights(tiny_heads: Path, meta: dict[str, Any]) -> None:
    wdir = tiny_heads.parent
    weights = load_weights(wdir)
    assert weights.heads == HEADS
    assert meta["model"] == MODEL_FAMILY and meta["schema_version"] == SCHEMA_VERSION
    assert weights.state["heads.weight"].shape == (len(HEADS), 32)
    assert not any(k.startswith("encoder.embeddings.word_embeddings") for k in weights.state)
    from safetensors.numpy import load_file

    assert {v.dtype for v in load_file(str(wdir / ENCODER_FILE)).values()} == {np.dtype("float16")}
    assert set(meta["thresholds"]) == set(HEADS)
    assert all(0.0 < t <= 1.0 for t in meta["thresholds"].values())
    assert sorted(p.name for p in wdir.iterdir()) == sorted([ENCODER_FILE, META_FILE, "MODEL_CARD.md"])
    assert sum(p.stat().st_size for p in wdir.iterdir()) < 5_000_000
    assert meta["training"]["history"][0]["epoch"] == 1
    assert meta["training"]["config"] == asdict(FinetuneConfig())


def test_datasets_metadata_lists_every_corpus_with_licence_and_mapping(meta: dict[str, Any]) -> None:
    ds = meta["datasets"]
    assert ds["limit"] == TINY_LIMIT
    corpora = ["c3", "tweeteval", *LOADERS]
    assert list(ds["rows"]) == corpora
    for name in corpora:
        rows = ds["rows"][name]
        assert 0 < rows["train"] <= TINY_LIMIT and 0 < rows["val"] <= TINY_LIMIT, name
    assert ds["licences"] == LICENCES and ds["mapping"] == MAPPING
    assert set(ds["titles"]) == set(LOADERS)


def _expected_corpora(head: str) -> set[str]:
    """The validation corpora that label ``head`` with both classes in the tiny data."""
    found = {name for name, heads in MAPPING.items() if head in heads and name != "c3"}
    return found - {name for name, h in ONE_CLASS if h == head}


def test_every_head_is_measured_on_the_validation_split_of_each_corpus_that_labels_it(
    meta: dict[str, Any],
) -> None:
    heads, rows = meta["metrics"]["heads"], meta["datasets"]["rows"]
    assert list(heads) == list(HEADS)
    for head, m in heads.items():
        corpora = m["corpora"]
        # C3 labels its heads too, but the tiny C3 file has both classes for some of them only
        assert set(corpora) - {"c3"} == _expected_corpora(head), head
        assert set(corpora) <= {name for name, mapped in MAPPING.items() if head in mapped}
        for name, c in corpora.items():
            assert c["n"] == rows[name]["val"], (head, name)  # every validation row, none from training
            assert 0 < c["positives"] < c["n"]
            assert 0.0 <= c["roc_auc"] <= 1.0 and 0.0 <= c["f1"] <= 1.0
        mean = float(np.mean([c["roc_auc"] for c in corpora.values()]))
        assert m["roc_auc_mean"] == pytest.approx(mean, abs=1e-4)
        assert m["status"] == ("kept" if mean >= HEAD_AUC_TARGET else "experimental")
        if head not in (
            "constructive",
            "hostile",
        ):  # those two are thresholded by the combination / TweetEval
            assert meta["thresholds"][head] == m["threshold"]
    assert set(heads["constructive"]["corpora"]) == {"c3"}
    assert "tweeteval" in heads["hostile"]["corpora"] and "ucc" in heads["hostile"]["corpora"]


def test_hostile_threshold_maximises_tweeteval_macro_f1(meta: dict[str, Any]) -> None:
    hos = meta["metrics"]["hostile_tweeteval_val"]
    assert hos["threshold"] == meta["thresholds"]["hostile"]
    assert 0.0 <= hos["macro_f1_at_0.5"] <= hos["macro_f1"] <= 1.0  # 0.5 is on the grid it searched


def test_constructive_is_the_chosen_combination_of_heads(meta: dict[str, Any]) -> None:
    rep = meta["metrics"]["constructive"]
    assert set(rep["variants"]) == set(VARIANTS) and rep["contrast_weight"] == CONTRAST_WEIGHT
    contrast = contrast_posts()
    triples = {s: contrast.loc[contrast["split"] == s, "triple_id"].nunique() for s in ("tune", "holdout")}
    for name, v in rep["variants"].items():
        assert v["c3_val_out_of_fold"]["n"] == meta["datasets"]["rows"]["c3"]["val"]
        assert {k: m["triples"] for k, m in v["contrast"].items()} == triples  # the holdout is measured too
        assert 0 <= v["targets_met"] <= 4 and 0.05 <= v["threshold"] <= 0.95
        uses_c3, heads, length, form = VARIANTS[name]
        cal = v["calibration"]
        if form == "trees":
            inputs = (["constructive"] if uses_c3 else []) + list(heads) + (["length"] if length else [])
            assert cal["inputs"] == inputs and cal["n_trees"] == TREES["max_iter"], name
        else:
            assert set(cal["coef_heads"]) == set(heads), name
            assert (cal["coef_logit"] != 0.0) == uses_c3, name
            assert ("coef_length" in cal) == length, name  # the length term only where measured
        corr = v["length_correlation_c3_short"]
        assert -1.0 <= corr["model"] <= 1.0 and corr["n"] > 0
    best = max(rep["variants"].items(), key=lambda kv: (kv[1]["targets_met"], kv[1]["objective"]))
    assert rep["chosen"] == best[0]
    chosen = rep["variants"][rep["chosen"]]
    shipped = dict(meta["calibration"]["constructive"])
    if "trees" in shipped:  # the report counts the chosen trees; the calibration holds them
        assert len(shipped.pop("trees")) == chosen["calibration"].pop("n_trees")
    assert set(meta["calibration"]) == {"constructive"} and shipped == chosen["calibration"]
    assert meta["thresholds"]["constructive"] == chosen["threshold"]


def test_the_written_model_is_measured_end_to_end(meta: dict[str, Any], tiny_datasets: Path) -> None:
    e = meta["end_to_end"]
    assert set(e) == {
        "heads",
        "c3",
        "tweeteval",
        "contrast",
        "civil_criticism_false_hostile",
        "length",
        "sample_conversation",
        "speed",
        "combination_out_of_fold",
    }
    chosen = meta["metrics"]["constructive"]["variants"][meta["metrics"]["constructive"]["chosen"]]
    assert e["combination_out_of_fold"]["c3"] == chosen["c3_val_out_of_fold"]
    for head, per in e["heads"].items():
        assert head in HEADS and set(per) <= set(LOADERS) | {"tweeteval"}
        for corpus, m in per.items():
            assert m["unscored"] == 0, (head, corpus)  # the tiny corpora are English
            assert m["roc_auc"] is not None and 0.0 <= m["f1"] <= m["best_f1"] + 1e-9 <= 1.0 + 1e-9
    assert set(e["heads"]) == set(HEADS) - {"constructive"}
    assert e["c3"]["unscored"] == 0 and e["c3"]["n"] == 8  # the whole tiny C3 file's 20%: 40 rows
    assert e["tweeteval"]["n"] == 40 and e["tweeteval"]["unscored"] == 0
    assert set(e["contrast"]) == {"tune", "holdout"}
    civil = e["civil_criticism_false_hostile"]
    assert civil["written"]["n"] == len(civil_criticism())
    corpus = corpus_civil_criticism(tiny_datasets)
    assert civil["goemotions_test"]["n"] == (corpus["source"] == "goemotions_test").sum() == 4
    # of UCC, only comments of our validation split: the others were trained on
    ucc_val_texts = set(ucc(tiny_datasets)[1]["text"])
    held_out = corpus[(corpus["source"] == "ucc_val") & corpus["text"].map(prepare_text).isin(ucc_val_texts)]
    assert civil["ucc_val"]["n"] == len(held_out) == 1 < (corpus["source"] == "ucc_val").sum()
    assert civil["all"]["n"] == sum(v["n"] for k, v in civil.items() if k != "all")
    assert all(0.0 <= v["rate"] <= 1.0 for v in civil.values())
    assert e["length"]["posts"] == len(contrast_posts()) and e["length"]["repeats"] == REPEATS
    sample = e["sample_conversation"]
    assert sample["n"] > 1000 and sum(sample["predicted_shares"].values()) == pytest.approx(1.0, abs=1e-3)
    assert e["speed"]["texts_per_second"] > 0


def test_training_resumes_from_the_checkpoint(
    tiny_heads: Path,
    tiny_datasets: Path,
    tiny_encoder_dir: Path,
    tiny_work_dir: Path,
    tmp_path: Path,
    meta: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--resume redoes the measurements, the combination and the card from the saved checkpoint, without
    training again, and writes the same model."""

    def no_training(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("--resume trained again")

    monkeypatch.setattr(train, "run_stage", no_training)
    args = ["--datasets", str(tiny_datasets), "--encoder", str(tiny_encoder_dir), "--limit", str(TINY_LIMIT)]
    out = tmp_path / "again"
    assert train.main([*args, "--out", str(out), "--work-dir", str(tiny_work_dir), "--resume"]) == 0
    assert (out / ENCODER_FILE).read_bytes() == tiny_heads.read_bytes()
    again = json.loads((out / META_FILE).read_text())
    assert again["thresholds"] == meta["thresholds"] and again["calibration"] == meta["calibration"]
    assert again["metrics"] == meta["metrics"]


def test_datasets_come_from_the_setting(tiny_datasets: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMMONGROUND_DATASETS_DIR", str(tiny_datasets))
    assert train.resolve_datasets(None) == tiny_datasets
    assert train.resolve_datasets(tiny_datasets) == tiny_datasets
    monkeypatch.setenv("COMMONGROUND_DATASETS_DIR", str(tiny_datasets / "missing"))
    with pytest.raises(SystemExit, match="--datasets"):
        train.resolve_datasets(None)


@pytest.mark.parametrize(
    "flag",
    [
        ["--pair-weight", "1"],
        ["--c3-balance", "1"],
        ["--c3-min-window", "1"],
        ["--c3-hard-labels", "1"],
        ["--no-speed"],
    ],
)
def test_removed_options_are_gone(flag: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        train.main(flag)
    assert "unrecognized arguments" in capsys.readouterr().err
