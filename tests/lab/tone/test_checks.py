"""The measurements the tone model is judged by, on numbers small enough to check by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lab.tone.checks import (
    CONTRAST_TARGETS,
    contrast_by_split,
    contrast_metrics,
    false_hostile,
    head_metrics,
    length_correlation,
    meets_contrast,
)

NAN = float("nan")


def test_head_metrics_per_corpus_pooled_threshold_and_status() -> None:
    heads = ("good", "weak", "unlabelled")
    targets = {
        "x": np.array([[1, 1, NAN], [1, 0, NAN], [0, 1, NAN], [0, 0, NAN]], dtype=float),
        "y": np.array([[0.9, 0, NAN], [0.1, 0, NAN], [NAN, 0, NAN]], dtype=float),  # weak: one class only
    }
    probs = {
        "x": np.array([[0.9, 0.4, 0.5], [0.8, 0.6, 0.5], [0.2, 0.5, 0.5], [0.1, 0.45, 0.5]]),
        "y": np.array([[0.7, 0.9, 0.5], [0.3, 0.9, 0.5], [0.99, 0.9, 0.5]]),
    }
    out, thresholds = head_metrics(heads, targets, probs)
    assert set(out) == set(thresholds) == {"good", "weak"}  # a head no corpus can measure is left out
    good = out["good"]
    assert set(good["corpora"]) == {"x", "y"}
    assert good["corpora"]["y"] == {"n": 2, "positives": 1, "roc_auc": 1.0, "f1": 1.0, "threshold": 0.31}
    assert good["roc_auc_mean"] == 1.0 and good["status"] == "kept" and good["f1_pooled"] == 1.0
    assert 0.3 < thresholds["good"] <= 0.7  # separates 0.7/0.8/0.9 from 0.1/0.2/0.3 in both corpora
    weak = out["weak"]
    assert set(weak["corpora"]) == {"x"} and weak["corpora"]["x"]["roc_auc"] == 0.25  # 1 of 4 pairs
    assert weak["status"] == "experimental"


def _triples() -> pd.DataFrame:
    rows = []
    for t, split in ((1, "tune"), (2, "tune"), (3, "holdout")):
        for label in ("constructive", "neutral", "hostile"):
            rows.append({"triple_id": t, "split": split, "label": label})
    return pd.DataFrame(rows)


def test_contrast_metrics_by_split() -> None:
    posts = _triples()
    #            triple 1          triple 2          triple 3 (holdout)
    p = np.array([0.9, 0.2, 0.1, 0.4, 0.6, 0.3, 0.8, 0.1, 0.9])
    called = np.array([1, 0, 0, 0, 1, 0, 1, 0, 1], dtype=bool)
    tune = contrast_metrics(posts[posts["split"] == "tune"], p[:6], called[:6])
    assert tune == {
        "triples": 2,
        "top_of_three": 0.5,  # triple 2's neutral post scored highest
        "constructive_recall": 0.5,
        "neutral_called": 0.5,
        "hostile_called": 0,
    }
    both = contrast_by_split(posts, p, called)
    assert both["tune"] == tune
    assert both["holdout"]["hostile_called"] == 1 and both["holdout"]["top_of_three"] == 0.0
    assert not meets_contrast(tune)
    perfect = {"top_of_three": 1.0, "constructive_recall": 1.0, "neutral_called": 0.0, "hostile_called": 0}
    assert meets_contrast(perfect)
    assert not meets_contrast({**perfect, "hostile_called": 1})  # no hostile post may be called constructive
    at_limits = {**perfect, **{k: v for k, v in CONTRAST_TARGETS.items()}, "hostile_called": 0}
    assert meets_contrast(at_limits)


def test_false_hostile_per_source_and_overall() -> None:
    civil = pd.DataFrame({"source": ["written"] * 4 + ["ucc_val"] * 2, "text": list("abcdef")})
    out = false_hostile(civil, np.array([1, 0, 0, 0, 1, 1], dtype=bool))
    assert out == {
        "written": {"n": 4, "rate": 0.25},
        "ucc_val": {"n": 2, "rate": 1.0},
        "all": {"n": 6, "rate": 0.5},
    }


def test_length_correlation_beside_the_labels() -> None:
    words = np.array([5, 10, 20, 40])
    out = length_correlation(words / 40, words, np.array([1, 0, 1, 0]))
    assert out["model"] == pytest.approx(1.0) and out["labels"] < 0 and out["n"] == 4
