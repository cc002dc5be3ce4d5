"""The tree combination: what training fits (scikit-learn) is what scoring computes (numpy, no sklearn)."""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest

from lab.tone.combine import TREES, trees_meta
from models.tone_base import logit
from models.tone_combine import TreeCombination, combination_from_meta, length_feature


def _inputs(seed: int) -> tuple[np.ndarray, list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.01, 0.99, size=(400, 2))  # two heads' probabilities
    texts = [" ".join(["word"] * int(n)) for n in rng.integers(1, 80, size=400)]
    return p, texts, np.column_stack([logit(p), length_feature(texts)])


@functools.cache
def _fitted() -> tuple[object, np.ndarray, np.ndarray]:
    """Trees fitted on one sample, and new texts to score (a fitted split can sit exactly on a training
    value, where the 7 stored digits may fall either side)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import threadpool_limits

    _, _, x = _inputs(0)
    # constructive where the first head is high and, only for longer texts, the second is not
    y = ((x[:, 0] > 0.3) & ((x[:, 2] < 3.0) | (x[:, 1] < 0))).astype(int)
    with threadpool_limits(1, "openmp"):
        model = HistGradientBoostingClassifier(**{**TREES, "max_iter": 40}, random_state=1).fit(x, y)  # type: ignore[arg-type]
    p, texts, _ = _inputs(1)
    return model, p, np.array(texts)


def test_scoring_reproduces_the_fitted_trees_exactly() -> None:
    model, p, texts = _fitted()
    meta = json.loads(json.dumps({"inputs": ["reasoning", "hostile", "length"], **trees_meta(model)}))
    combination = combination_from_meta(meta)
    assert isinstance(combination, TreeCombination) and len(combination.trees) == 40
    heads = {"reasoning": p[:, 0], "hostile": p[:, 1]}
    got = combination.apply(np.full(len(p), 0.5), heads, list(texts))
    x = np.column_stack([logit(p), length_feature(list(texts))])
    np.testing.assert_allclose(got, model.predict_proba(x)[:, 1], atol=1e-5)  # 7 significant digits  # type: ignore[attr-defined]
    # a probability that varies: the combination learned the rule, it is not a constant
    assert got.min() < 0.1 and got.max() > 0.9


def test_a_tree_combination_says_what_it_lacks() -> None:
    model, p, texts = _fitted()
    combination = combination_from_meta({"inputs": ["reasoning", "hostile", "length"], **trees_meta(model)})
    with pytest.raises(ValueError, match="hostile"):
        combination.apply(p[:, 0], {"reasoning": p[:, 0]}, list(texts))
    with pytest.raises(ValueError, match="texts"):
        combination.apply(p[:, 0], {"reasoning": p[:, 0], "hostile": p[:, 1]})


def test_a_broken_tree_is_refused_when_the_weights_load() -> None:
    leaf, high = [-1, 0.5], [-1, 1.5]
    with pytest.raises(ValueError, match="cannot read"):  # input 3 of a combination with one input
        combination_from_meta({"inputs": ["reasoning"], "trees": [[[3, 0.0, 1, 2], leaf, leaf]]})
    with pytest.raises(ValueError, match="node"):
        combination_from_meta({"inputs": ["reasoning"], "trees": [[[0, 0.0, 1, 7], leaf, leaf]]})
    ok = combination_from_meta(
        {"inputs": ["reasoning"], "baseline": -1.0, "trees": [[[0, 0.0, 1, 2], leaf, high]]}
    )
    # logit(0.2) < 0 goes left (-1 + 0.5), logit(0.8) > 0 goes right (-1 + 1.5)
    np.testing.assert_allclose(
        ok.apply(np.zeros(2), {"reasoning": np.array([0.2, 0.8])}), 1 / (1 + np.exp(-np.array([-0.5, 0.5])))
    )


def test_the_written_model_file_reads_back_as_written() -> None:
    from lab.tone.train import meta_json

    model, _, _ = _fitted()
    meta = {
        "calibration": {"constructive": {"inputs": ["a", "b", "length"], **trees_meta(model)}},
        "heads": ["a"],
    }
    text = meta_json(meta)
    assert json.loads(text) == meta
    trees = meta["calibration"]["constructive"]["trees"]
    assert len(text.splitlines()) < 30 + sum(len(t) + 2 for t in trees)  # a line a node
