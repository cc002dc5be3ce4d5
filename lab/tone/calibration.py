"""The validation-side fits of a training run: the lexical blend, the calibration layers, the threshold rule.

Each reproduces at training time what ``models.tone`` computes at scoring time, so the probabilities
judged on validation are the ones the shipped files give.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from lab.tone.data import SHORT_WORDS, c3_metrics
from models.tone import Calibration, length_feature
from models.tone_base import logit, sigmoid


def blend(p_enc: np.ndarray, p_lex: np.ndarray, w: float) -> np.ndarray:
    """The logit mix used at scoring time (``models.tone.MiniLMTone.probabilities``)."""
    return np.asarray(sigmoid((1 - w) * logit(p_enc) + w * logit(p_lex)))


def constructive_threshold(y: np.ndarray, p: np.ndarray, words: np.ndarray) -> tuple[float, float]:
    """Threshold maximising the mean of F1 (all comments) and macro-F1 (comments under 60 words)."""
    short = words < SHORT_WORDS
    best_t, best_s = 0.5, -1.0
    for t in np.round(np.arange(0.05, 0.951, 0.01), 2):
        pred = (p >= t).astype(int)
        m = c3_metrics(y, pred, words)
        s = (m["f1_constructive"] + (m["short_lt60w_macro_f1"] if short.any() else m["f1_constructive"])) / 2
        if s > best_s + 1e-12:
            best_t, best_s = float(t), s
    return best_t, best_s


def _calibration_features(
    p: np.ndarray, texts: Sequence[str], length: bool, others: dict[str, np.ndarray] | None
) -> np.ndarray:
    cols = [logit(p)]
    if length:
        cols.append(length_feature(texts))
    others = others or {}
    cols += [logit(others[k]) for k in sorted(others)]
    return np.column_stack(cols)


def fit_calibration(
    y: np.ndarray,
    p: np.ndarray,
    texts: Sequence[str],
    *,
    length: bool = True,
    others: dict[str, np.ndarray] | None = None,
) -> dict[str, Any] | None:
    """Logistic regression of the label on logit(p), log(1 + words) (``length``) and the logits of other
    heads (``others``): a ``models.tone.Calibration``. None when there is too little validation data."""
    from sklearn.linear_model import LogisticRegression

    if len(y) < 20 or np.bincount(y.astype(int), minlength=2).min() < 5:
        return None
    fit = LogisticRegression(C=1.0, max_iter=2000).fit(_calibration_features(p, texts, length, others), y)
    coef = [float(c) for c in fit.coef_[0]]
    out: dict[str, Any] = {"coef_logit": round(coef.pop(0), 6)}
    if length:
        out["coef_length"] = round(coef.pop(0), 6)
    if others:
        out["coef_heads"] = {k: round(c, 6) for k, c in zip(sorted(others), coef, strict=True)}
    out["intercept"] = round(float(fit.intercept_[0]), 6)
    return out


def crossfit_calibrated(
    y: np.ndarray,
    p: np.ndarray,
    texts: Sequence[str],
    folds: int = 5,
    *,
    length: bool = True,
    others: dict[str, np.ndarray] | None = None,
) -> np.ndarray:
    """Out-of-fold calibrated probabilities: each validation text is calibrated by a fit on the other
    folds, so the scores reported for the calibration are not scores on its own training data."""
    from sklearn.model_selection import StratifiedKFold

    texts = list(texts)
    if len(y) < 20 or np.bincount(y.astype(int), minlength=2).min() < folds * 2:
        return np.asarray(p, dtype=np.float64).copy()
    out = np.zeros(len(y))
    for train_idx, test_idx in StratifiedKFold(folds, shuffle=True, random_state=1).split(p, y):
        tr_others = {k: v[train_idx] for k, v in (others or {}).items()}
        cal = fit_calibration(
            y[train_idx], p[train_idx], [texts[i] for i in train_idx], length=length, others=tr_others
        )
        if cal is None:
            out[test_idx] = p[test_idx]
            continue
        te_others = {k: v[test_idx] for k, v in (others or {}).items()}
        out[test_idx] = Calibration.from_meta(cal).apply(p[test_idx], [texts[i] for i in test_idx], te_others)
    return out
