"""Labelled data for tone training and evaluation: the C3 characteristic counts and the label-noise ceiling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lab.tone.data import (
    C3_CHARACTERISTICS,
    attribute_counts,
    datasets_dir,
    f1,
    label_noise_ceiling,
    macro_f1,
    parse_counts,
)


def test_parse_counts() -> None:
    assert parse_counts("solution:2\nno_con:1\nevidence:1") == {"solution": 2, "no_con": 1, "evidence": 1}
    assert parse_counts(float("nan")) == {}
    assert parse_counts("garbage\nx:y") == {}


def test_attribute_counts_read_the_characteristics_training_uses() -> None:
    import pandas as pd

    c3 = pd.DataFrame(
        {
            "constructive_characteristics": ["specific_points:3\nevidence:1\ndialogue:4", float("nan")],
            "non_constructive_characteristics": ["sarcastic:2", "sarcastic:1\nprovocative:5"],
            "toxicity_characteristics": ["personal_attack:1", "no_toxic:5"],
        }
    )
    counts = attribute_counts(c3)
    assert tuple(counts.columns) == C3_CHARACTERISTICS
    assert counts.iloc[0].to_dict() == {
        "specific_points": 3,
        "evidence": 1,
        "solution": 0,
        "personal_story": 0,
        "personal_attack": 1,
        "sarcastic": 2,
    }
    assert counts.iloc[1].sum() == 1  # only sarcastic; dialogue, provocative, no_toxic are not read


def test_a_folder_without_the_data_says_how_to_fix(tiny_datasets: Path) -> None:
    assert datasets_dir(tiny_datasets) == tiny_datasets
    with pytest.raises(SystemExit, match="COMMONGROUND_DATASETS_DIR"):
        datasets_dir(tiny_datasets / "missing")


def test_label_noise_ceiling_reflects_how_split_the_votes_are() -> None:
    rng = np.random.default_rng(0)
    judges = np.full(400, 5.0)
    # unanimous panels: the labels are almost certainly what any annotator would say
    votes = np.where(rng.random(400) < 0.4, 5.0, 0.0)
    clear = label_noise_ceiling(votes, judges, (votes > 2.5).astype(int))
    assert clear["mean"] > 0.97
    # 3-to-2 panels: the true rate is near one half, so even an oracle often disagrees with the majority
    votes = np.where(rng.random(400) < 0.5, 3.0, 2.0)
    split = label_noise_ceiling(votes, judges, (votes > 2.5).astype(int))
    assert split["mean"] < 0.8
    assert split["p05"] <= split["mean"] <= split["p95"]
    f1_only = label_noise_ceiling(votes, judges, (votes > 2.5).astype(int), metric="f1")
    assert 0.0 < f1_only["mean"] < 0.85
    # deterministic for a seed
    assert label_noise_ceiling(votes, judges, (votes > 2.5).astype(int)) == split
    with pytest.raises(ValueError, match="votes <= judges"):
        label_noise_ceiling(np.array([6.0]), np.array([5.0]), np.array([1]))


def test_f1_and_macro_f1_are_sklearns_to_the_last_bit() -> None:
    """The threshold searches use a numpy F1 (sklearn's validation made them slow): the same floats as
    ``f1_score(zero_division=0)``, for int, float and bool labels, one-class and all-wrong cases included."""
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(0)
    for trial in range(40):
        size = int(rng.integers(1, 40))
        y = rng.integers(0, 2, size) if trial % 7 else np.zeros(size, dtype=int)
        pred = rng.random(size) >= rng.random()
        if trial % 3 == 0:
            y = y.astype(float)
        if trial % 5 == 0:
            pred = pred.astype(int)
        assert f1(y, pred) == float(f1_score(y, pred, zero_division=0))
        expected = float(f1_score(y, pred, average="macro", labels=[0, 1], zero_division=0))
        assert macro_f1(y, pred) == expected
    assert f1(np.array([1, 1, 0]), np.array([0, 0, 1])) == 0.0 and macro_f1(np.ones(3), np.ones(3)) == 0.5
