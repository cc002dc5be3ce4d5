"""Fit the lexical tone heads (``models.tone_lexical.LexicalHead``) and write them for shipping."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from models.tone_lexical import N_FEATURES, NGRAMS, LexicalHead, hashed_counts, tfidf_features


def fit_idf(texts: Sequence[str], min_df: int = 2) -> np.ndarray:
    """Smoothed idf per hashed feature; 0 for features in fewer than ``min_df`` texts (sklearn's rule)."""
    counts = hashed_counts(texts)
    df = np.bincount(counts.indices, minlength=N_FEATURES)
    n = len(texts)
    idf = np.log((1 + n) / (1 + df)) + 1.0
    idf[df < min_df] = 0.0
    return idf.astype(np.float32)


def fit_lexical(
    data: dict[str, tuple[Sequence[str], np.ndarray]], *, c: float = 8.0, blend: dict[str, float]
) -> LexicalHead:
    """One logistic regression per head on its own texts and labels; ``blend`` weights default to 0."""
    from sklearn.linear_model import LogisticRegression

    idf, coef, intercept = {}, {}, {}
    for head, (texts, y) in data.items():
        idf[head] = fit_idf(texts)
        clf = LogisticRegression(C=c, max_iter=3000).fit(tfidf_features(texts, idf[head]), y)
        coef[head] = np.asarray(clf.coef_[0], dtype=np.float32)
        intercept[head] = float(clf.intercept_[0])
    return LexicalHead({h: blend.get(h, 0.0) for h in data}, idf, coef, intercept)


def with_blend(head: LexicalHead, blend: dict[str, float]) -> LexicalHead:
    """``head`` with the blend weights chosen on validation (one per head it has)."""
    return replace(head, blend={h: blend[h] for h in head.blend})


def save_lexical(head: LexicalHead, path: Path) -> dict[str, Any]:
    """Writes the vectors (float16) to ``path``; returns what goes into ``tone_model.json``."""
    from safetensors.numpy import save_file

    tensors = {}
    for name in head.blend:
        tensors[f"{name}.idf"] = head.idf[name].astype(np.float16)
        tensors[f"{name}.coef"] = head.coef[name].astype(np.float16)
    save_file(tensors, str(path))
    return {
        "blend": head.blend,
        "intercept": head.intercept,
        "n_features": N_FEATURES,
        "ngram_range": list(NGRAMS),
        "features": "hashed word n-grams, lowercase, sublinear tf × idf (min_df 2), L2-normalised",
    }
