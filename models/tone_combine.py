"""How ``constructive`` is combined from the heads: the forms ``tone_model.json`` can hold.

Training (``python -m lab.tone.train``) measures several combinations on validation data and stores the
one it chose under ``calibration.constructive``:

- a logistic layer (``Calibration``): ``sigmoid(coef_logit · logit(p_head) + Σ c · logit(p_other)
  + coef_length · log(1 + words) + intercept)``;
- gradient-boosted trees (``TreeCombination``) over the same inputs: the logits of the named heads and,
  where the combination uses it, ``log(1 + words)``. Trees can let a text's length count only where the
  heads leave a post's tone open, which one logistic layer cannot; each tree is stored as flat node lists
  and evaluated here with numpy (no scikit-learn at scoring time).

The inputs are read before any head is calibrated, so the order of combinations does not matter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from models.tone_base import logit, sigmoid

LENGTH_CAP_WORDS = 200  # the length input stops growing here
LENGTH_INPUT = "length"  # the name of the log(1 + words) input of a tree combination


def length_feature(texts: Sequence[str]) -> np.ndarray:
    """log(1 + words) of prepared texts, capped at ``LENGTH_CAP_WORDS``."""
    words = np.array([min(len(t.split()), LENGTH_CAP_WORDS) for t in texts], dtype=np.float64)
    return np.log1p(words)


class Combination(Protocol):
    def apply(
        self, p: np.ndarray, heads: dict[str, np.ndarray] | None = None, texts: Sequence[str] | None = None
    ) -> np.ndarray: ...


def _head(heads: dict[str, np.ndarray] | None, name: str) -> np.ndarray:
    if heads is None or name not in heads:
        raise ValueError(f"calibration needs the {name!r} head, which this model does not have")
    return heads[name]


@dataclass(frozen=True)
class Calibration:
    """A logistic layer over the heads, fitted on validation data by ``python -m lab.tone.train``:
    ``p = sigmoid(coef_logit * logit(p_head) + sum(c * logit(p_other) for other, c in coef_heads)
    + coef_length * log(1 + words) + intercept)``. ``coef_length`` (0 unless training measured that it
    helps within the length targets) is in the open in the model card."""

    coef_logit: float = 1.0
    intercept: float = 0.0
    coef_heads: tuple[tuple[str, float], ...] = ()
    coef_length: float = 0.0

    @classmethod
    def from_meta(cls, c: dict[str, Any]) -> Calibration:
        return cls(
            float(c.get("coef_logit", 1.0)),
            float(c.get("intercept", 0.0)),
            tuple((str(k), float(v)) for k, v in (c.get("coef_heads") or {}).items()),
            float(c.get("coef_length", 0.0)),
        )

    def apply(
        self, p: np.ndarray, heads: dict[str, np.ndarray] | None = None, texts: Sequence[str] | None = None
    ) -> np.ndarray:
        z = self.coef_logit * logit(p) + self.intercept
        for name, c in self.coef_heads:
            z = z + c * logit(_head(heads, name))
        if self.coef_length:
            if texts is None:
                raise ValueError("this calibration needs the texts (it has a length term)")
            z = z + self.coef_length * length_feature(texts)
        return sigmoid(z)


@dataclass(frozen=True)
class Tree:
    """One regression tree as flat node lists: node i splits on input ``feature[i]`` at ``threshold[i]``
    (``x <= threshold`` goes to ``left[i]``, else ``right[i]``), or is a leaf (``feature[i] == -1``) worth
    ``value[i]``."""

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray

    @classmethod
    def from_nodes(cls, nodes: Sequence[Sequence[float]], n_inputs: int) -> Tree:
        """From node rows, node 0 the root: ``[feature, threshold, left, right]`` for a split and
        ``[-1, value]`` for a leaf."""
        n = len(nodes)
        arr = np.zeros((n, 5))
        for i, row in enumerate(nodes):
            if len(row) == 2 and row[0] == -1:
                arr[i] = (-1, 0.0, 0, 0, row[1])
            elif len(row) == 4 and 0 <= row[0] < n_inputs and float(row[0]).is_integer():
                arr[i, :4] = row
            else:
                raise ValueError(f"a tree of the combination has a node it cannot read: {list(row)!r}")
        tree = cls(
            arr[:, 0].astype(np.int64),
            arr[:, 1],
            arr[:, 2].astype(np.int64),
            arr[:, 3].astype(np.int64),
            arr[:, 4],
        )
        inner = tree.feature >= 0
        children = np.concatenate([tree.left[inner], tree.right[inner]])
        if not n or ((children <= 0) | (children >= n)).any():
            raise ValueError("a tree of the combination points at a node it does not have")
        return tree

    def predict(self, x: np.ndarray) -> np.ndarray:
        node = np.zeros(len(x), dtype=np.int64)
        rows = np.arange(len(x))
        for _ in range(len(self.feature)):  # a path never visits more nodes than the tree has
            f = self.feature[node]
            inner = f >= 0
            if not inner.any():
                break
            go_left = x[rows[inner], f[inner]] <= self.threshold[node[inner]]
            node[inner] = np.where(go_left, self.left[node[inner]], self.right[node[inner]])
        return self.value[node]


@dataclass(frozen=True)
class TreeCombination:
    """``p = sigmoid(baseline + Σ tree(x))`` where ``x`` is the logits of ``inputs`` (a head's name, or
    ``"length"`` for log(1 + words))."""

    inputs: tuple[str, ...]
    baseline: float
    trees: tuple[Tree, ...]

    @classmethod
    def from_meta(cls, c: dict[str, Any]) -> TreeCombination:
        inputs = tuple(str(i) for i in c["inputs"])
        trees = tuple(Tree.from_nodes(t, len(inputs)) for t in c["trees"])
        return cls(inputs, float(c.get("baseline", 0.0)), trees)

    def features(
        self, p: np.ndarray, heads: dict[str, np.ndarray] | None, texts: Sequence[str] | None
    ) -> np.ndarray:
        cols = []
        for name in self.inputs:
            if name == LENGTH_INPUT:
                if texts is None:
                    raise ValueError("this calibration needs the texts (it reads their length)")
                cols.append(length_feature(texts))
            else:
                cols.append(logit(_head(heads, name)))
        return np.column_stack(cols) if cols else np.zeros((len(p), 0))

    def apply(
        self, p: np.ndarray, heads: dict[str, np.ndarray] | None = None, texts: Sequence[str] | None = None
    ) -> np.ndarray:
        x = self.features(p, heads, texts)
        z = np.full(len(p), self.baseline)
        for tree in self.trees:
            z = z + tree.predict(x)
        return sigmoid(z)


def combination_from_meta(c: dict[str, Any]) -> Calibration | TreeCombination:
    """The combination ``tone_model.json`` describes: trees when it lists them, else a logistic layer."""
    return TreeCombination.from_meta(c) if "trees" in c else Calibration.from_meta(c)
