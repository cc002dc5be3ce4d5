"""Lexical tone heads: hashed word 1–2-gram TF-IDF + logistic regression, blended with the encoder.

Hashing keeps the shipped file small and vocabulary-free: per head, a float16 ``idf`` and ``coef``
vector of ``N_FEATURES`` entries in ``tone_lexical.safetensors``, intercepts and blend weights in
``tone_model.json``. Features seen in fewer than two training texts get idf 0 (sklearn's ``min_df=2``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

N_FEATURES = 2**18
NGRAMS = (1, 2)


def _counts(texts: Sequence[str]) -> Any:
    from sklearn.feature_extraction.text import HashingVectorizer

    vec = HashingVectorizer(
        n_features=N_FEATURES, ngram_range=NGRAMS, alternate_sign=False, norm=None, lowercase=True
    )
    return vec.transform(list(texts)).tocsr()


def _tfidf(texts: Sequence[str], idf: np.ndarray) -> Any:
    from sklearn.preprocessing import normalize

    x = _counts(texts).astype(np.float32)
    x.data = 1.0 + np.log(x.data)  # sublinear tf
    x = x.multiply(idf.astype(np.float32)).tocsr()
    x.eliminate_zeros()
    return normalize(x)


def fit_idf(texts: Sequence[str], min_df: int = 2) -> np.ndarray:
    counts = _counts(texts)
    df = np.bincount(counts.indices, minlength=N_FEATURES)
    n = len(texts)
    idf = np.log((1 + n) / (1 + df)) + 1.0
    idf[df < min_df] = 0.0
    return idf.astype(np.float32)


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
            logits = _tfidf(texts, self.idf[head]) @ self.coef[head] + self.intercept[head]
            out[:, j] = 1.0 / (1.0 + np.exp(-np.clip(np.asarray(logits).ravel(), -50, 50)))
        return out

    @classmethod
    def fit(
        cls, data: dict[str, tuple[Sequence[str], np.ndarray]], *, c: float = 8.0, blend: dict[str, float]
    ) -> LexicalHead:
        from sklearn.linear_model import LogisticRegression

        idf, coef, intercept = {}, {}, {}
        for head, (texts, y) in data.items():
            idf[head] = fit_idf(texts)
            clf = LogisticRegression(C=c, max_iter=3000).fit(_tfidf(texts, idf[head]), y)
            coef[head] = np.asarray(clf.coef_[0], dtype=np.float32)
            intercept[head] = float(clf.intercept_[0])
        return cls({h: blend.get(h, 0.0) for h in data}, idf, coef, intercept)

    def with_blend(self, blend: dict[str, float]) -> LexicalHead:
        return LexicalHead({h: blend[h] for h in self.blend}, self.idf, self.coef, self.intercept)

    def save(self, path: Path) -> dict[str, Any]:
        """Writes the vectors (float16); returns what goes into ``tone_model.json``."""
        from safetensors.numpy import save_file

        tensors = {}
        for head in self.blend:
            tensors[f"{head}.idf"] = self.idf[head].astype(np.float16)
            tensors[f"{head}.coef"] = self.coef[head].astype(np.float16)
        save_file(tensors, str(path))
        return {
            "blend": self.blend,
            "intercept": self.intercept,
            "n_features": N_FEATURES,
            "ngram_range": list(NGRAMS),
            "features": "hashed word n-grams, lowercase, sublinear tf × idf (min_df 2), L2-normalised",
        }

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
