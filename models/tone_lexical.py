"""Lexical tone heads: hashed word 1–2-gram TF-IDF + logistic regression, blended with the encoder.

Hashing keeps the shipped file small and vocabulary-free: per head, a float16 ``idf`` and ``coef``
vector of ``N_FEATURES`` entries in ``tone_lexical.safetensors``, intercepts and blend weights in
``tone_model.json``. Features seen in fewer than two training texts get idf 0 (sklearn's ``min_df=2``).
This module scores; fitting and writing the heads is training's job (``lab.tone.lexical_fit``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

N_FEATURES = 2**18
NGRAMS = (1, 2)


def hashed_counts(texts: Sequence[str]) -> Any:
    """Sparse ``[len(texts), N_FEATURES]`` counts of the hashed lowercase word n-grams."""
    from sklearn.feature_extraction.text import HashingVectorizer

    vec = HashingVectorizer(
        n_features=N_FEATURES, ngram_range=NGRAMS, alternate_sign=False, norm=None, lowercase=True
    )
    return vec.transform(list(texts)).tocsr()


def tfidf_features(texts: Sequence[str], idf: np.ndarray) -> Any:
    """Sublinear tf × ``idf``, L2-normalised: the input of every lexical head."""
    from sklearn.preprocessing import normalize

    x = hashed_counts(texts).astype(np.float32)
    x.data = 1.0 + np.log(x.data)  # sublinear tf
    x = x.multiply(idf.astype(np.float32)).tocsr()
    x.eliminate_zeros()
    return normalize(x)


@dataclass(frozen=True)
class LexicalHead:
    """One logistic regression per head on hashed TF-IDF; ``blend[head]`` is its weight in the logit mix."""

    blend: dict[str, float]
    idf: dict[str, np.ndarray]
    coef: dict[str, np.ndarray]
    intercept: dict[str, float]

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """``[len(texts), len(blend)]`` probabilities, columns in ``blend`` order."""
        out = np.zeros((len(texts), len(self.blend)), dtype=np.float32)
        if not texts:
            return out
        for j, head in enumerate(self.blend):
            logits = tfidf_features(texts, self.idf[head]) @ self.coef[head] + self.intercept[head]
            out[:, j] = 1.0 / (1.0 + np.exp(-np.clip(np.asarray(logits).ravel(), -50, 50)))
        return out

    @classmethod
    def load(cls, path: Path, meta: dict[str, Any]) -> LexicalHead:
        from safetensors.numpy import load_file

        if int(meta.get("n_features", N_FEATURES)) != N_FEATURES:
            raise ValueError(f"{path}: {meta['n_features']} hashed features, this code uses {N_FEATURES}")
        t = load_file(str(path))
        blend = {h: float(w) for h, w in meta["blend"].items()}
        return cls(
            blend,
            {h: t[f"{h}.idf"].astype(np.float32) for h in blend},
            {h: t[f"{h}.coef"].astype(np.float32) for h in blend},
            {h: float(meta["intercept"][h]) for h in blend},
        )
