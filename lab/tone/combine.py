"""``constructive`` as a calibrated combination of the heads, fitted and thresholded on validation data.

A combination over the logits of the heads (``models.tone_combine``): a post that reasons, cites evidence,
proposes, asks or tells its own story, respectfully and without hostility, is constructive. Two forms are
measured: a logistic layer, and gradient-boosted trees (``TREES``), which may also read log(1 + words) —
trees can let length count only where the heads leave the tone open, which one logistic layer cannot.
Every combination is fitted on C3 validation comments and the *tuning* part of the hand-written contrast
set (``lab.tone.checksets``); the contrast set's holdout part is only ever measured. Scores used to
choose are out of fold (C3 comments in five folds, contrast triples by ``triple_id % 5``).

Several variants are measured and the one that meets the most targets on validation (then the best mean
of C3 F1, C3 short macro-F1 and the contrast set's tuning macro-F1) ships; all of them go into the card.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lab.tone.checks import CONTRAST_TARGETS, contrast_by_split, length_correlation, meets_contrast
from lab.tone.data import SHORT_WORDS, Data, c3_metrics, macro_f1, word_counts
from lab.tone.stage import HEADS
from models.tone_base import BRIDGING, HOSTILE_SIDE, logit, prepare_text
from models.tone_combine import LENGTH_INPUT, length_feature

CONTRAST_WEIGHT = 0.5  # the tuning posts together weigh half as much as the C3 validation comments
FOLDS = 5
ALL = (*BRIDGING, "hostile", *HOSTILE_SIDE)
# name -> (uses the C3 head, other heads, uses log(1 + words), form: a logistic layer or trees)
VARIANTS: dict[str, tuple[bool, tuple[str, ...], bool, str]] = {
    "C3 head + attributes + hostile": (True, ALL, False, "logistic"),
    "attributes + hostile (no C3 head)": (False, ALL, False, "logistic"),
    "C3 head + bridging attributes": (True, BRIDGING, False, "logistic"),
    "C3 head alone (the old recipe, without length)": (True, (), False, "logistic"),
    "C3 head + attributes + hostile + length": (True, ALL, True, "logistic"),
    "attributes + hostile + length (no C3 head)": (False, ALL, True, "logistic"),
    "trees: C3 head + attributes + hostile": (True, ALL, False, "trees"),
    "trees: C3 head + attributes + hostile + length": (True, ALL, True, "trees"),
    "trees: attributes + hostile + length (no C3 head)": (False, ALL, True, "trees"),
}
# Gradient-boosted trees of the "trees" variants (scikit-learn's HistGradientBoostingClassifier).
TREES = {"max_depth": 3, "learning_rate": 0.05, "max_iter": 200}
TARGETS = {"c3_f1": 0.93, "c3_short_macro_f1": 0.84, "length_corr_gap": 0.15}


@dataclass(frozen=True)
class CheckProbs:
    """The hand-written check sets with the raw head probabilities of a checkpoint."""

    contrast: pd.DataFrame
    contrast_p: np.ndarray
    civil: pd.DataFrame
    civil_p: np.ndarray

    @staticmethod
    def sets(ddir: Path) -> dict[str, tuple[pd.DataFrame, list[str]]]:
        """``contrast`` and ``civil``: each check set and its texts as the model reads them."""
        from lab.tone.checks import civil_criticism_all
        from lab.tone.checksets import contrast_posts

        frames = {"contrast": contrast_posts(), "civil": civil_criticism_all(ddir)}
        return {name: (df, [prepare_text(t) for t in df["text"]]) for name, df in frames.items()}

    @classmethod
    def of(cls, probs: Callable[[Sequence[str]], np.ndarray], ddir: Path) -> CheckProbs:
        (contrast, contrast_texts), (civil, civil_texts) = cls.sets(ddir).values()
        return cls(contrast, probs(contrast_texts), civil, probs(civil_texts))


def _features(p: np.ndarray, use_c3: bool, heads: Sequence[str], texts: Sequence[str] | None) -> np.ndarray:
    """Logits of the C3 head (when used) and of ``heads``, then log(1 + words) when ``texts`` are given."""
    cols = ([HEADS.index("constructive")] if use_c3 else []) + [HEADS.index(h) for h in heads]
    x = np.asarray(logit(p[:, cols])) if cols else np.zeros((len(p), 0))
    return np.column_stack([x, length_feature(texts)]) if texts is not None else x


def _fit(x: np.ndarray, y: np.ndarray, w: np.ndarray, form: str) -> Any:
    if form == "trees":
        from sklearn.ensemble import HistGradientBoostingClassifier
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1, "openmp"):  # a few thousand rows: threads only wait for each other
            return HistGradientBoostingClassifier(**TREES, random_state=1).fit(x, y, sample_weight=w)
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=1.0, max_iter=5000).fit(x, y, sample_weight=w)


def _predict(model: Any, x: np.ndarray) -> np.ndarray:
    return np.asarray(model.predict_proba(x)[:, 1])


def _round(v: float) -> float:
    return float(f"{v:.7g}")


def trees_meta(model: Any) -> dict[str, Any]:
    """A fitted binary HistGradientBoostingClassifier as ``models.tone_combine.TreeCombination`` reads it:
    the baseline and, per tree, node rows ``[feature, threshold, left, right]`` (a split) or ``[-1, value]``
    (a leaf), to 7 significant digits."""
    trees = [
        [
            [-1, _round(n["value"])]
            if n["is_leaf"]
            else [int(n["feature_idx"]), _round(n["num_threshold"]), int(n["left"]), int(n["right"])]
            for n in predictor.nodes
        ]
        for (predictor,) in model._predictors
    ]
    return {"baseline": _round(np.ravel(model._baseline_prediction)[0]), "trees": trees}


def _calibration(model: Any, use_c3: bool, heads: Sequence[str], length: bool, form: str) -> dict[str, Any]:
    if form == "trees":
        inputs = (["constructive"] if use_c3 else []) + list(heads) + ([LENGTH_INPUT] if length else [])
        return {"form": "trees", "inputs": inputs, **TREES, **trees_meta(model)}
    c = [round(float(v), 6) for v in model.coef_[0]]
    out: dict[str, Any] = {"coef_logit": c.pop(0) if use_c3 else 0.0}
    if length:
        out["coef_length"] = c.pop()
    out["coef_heads"] = dict(zip(heads, c, strict=True))
    out["intercept"] = round(float(model.intercept_[0]), 6)
    return out


def _objective(
    t: float, c3: tuple[np.ndarray, np.ndarray, np.ndarray], tune: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> float:
    y, p, words = c3
    m = c3_metrics(y, (p >= t).astype(int), words)
    labels, pt, not_hostile = tune
    yt = (labels == "constructive").astype(int)
    return (
        m["f1_constructive"] + (m["short_lt60w_macro_f1"] or 0.0) + macro_f1(yt, (pt >= t) & not_hostile)
    ) / 3


def _threshold_rank(
    t: float, c3: tuple[np.ndarray, np.ndarray, np.ndarray], tune: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> tuple[int, float, float]:
    """How a threshold ranks: first the targets it meets on validation (C3 F1, C3 short macro-F1, and on
    the contrast set's tuning part: constructive recall, neutral and hostile posts called constructive),
    then the objective, then closeness to 0.5."""
    y, p, words = c3
    m = c3_metrics(y, (p >= t).astype(int), words)
    labels, pt, not_hostile = tune
    called = (pt >= t) & not_hostile
    met = [
        m["f1_constructive"] >= TARGETS["c3_f1"],
        (m["short_lt60w_macro_f1"] or 0.0) >= TARGETS["c3_short_macro_f1"],
        called[labels == "constructive"].mean() >= CONTRAST_TARGETS["constructive_recall"],
        called[labels == "neutral"].mean() <= CONTRAST_TARGETS["neutral_called"],
        not called[labels == "hostile"].any(),
    ]
    return sum(met), _objective(t, c3, tune), -abs(t - 0.5)


def _variant(
    data: Data,
    probs: dict[str, np.ndarray],
    checks: CheckProbs,
    t_hos: float,
    use_c3: bool,
    heads: Sequence[str],
    length: bool,
    form: str,
) -> dict[str, Any]:
    c3_x = _features(probs["c3"], use_c3, heads, data.c3_val["text"].tolist() if length else None)
    c3_y = data.c3_val["y"].to_numpy()
    words = word_counts(data.c3_val["comment_text"])
    tune = (checks.contrast["split"] == "tune").to_numpy()
    con_texts = [prepare_text(t) for t in checks.contrast["text"]]
    con_x = _features(checks.contrast_p, use_c3, heads, con_texts if length else None)
    con_y = (checks.contrast["label"] == "constructive").to_numpy().astype(int)
    con_hostile = checks.contrast_p[:, HEADS.index("hostile")] >= t_hos
    x = np.vstack([c3_x, con_x[tune]])
    y = np.concatenate([c3_y, con_y[tune]])
    w = np.concatenate(
        [np.ones(len(c3_y)), np.full(tune.sum(), CONTRAST_WEIGHT * len(c3_y) / max(1, tune.sum()))]
    )
    folds = np.concatenate(
        [
            np.random.default_rng(1).permutation(len(c3_y)) % FOLDS,
            checks.contrast["triple_id"].to_numpy()[tune] % FOLDS,
        ]
    )
    oof = np.zeros(len(y))
    for k in range(FOLDS):
        oof[folds == k] = _predict(_fit(x[folds != k], y[folds != k], w[folds != k], form), x[folds == k])
    n = len(c3_y)
    c3 = (c3_y, oof[:n], words)
    tune_set = (checks.contrast["label"].to_numpy()[tune], oof[n:], ~con_hostile[tune])
    grid = np.round(np.arange(0.05, 0.951, 0.01), 2)
    t = float(max(grid, key=lambda g: _threshold_rank(float(g), c3, tune_set)))
    model = _fit(x, y, w, form)
    p_con_all = _predict(model, con_x)
    p_con_all[tune] = oof[n:]  # tuning posts: their out-of-fold scores; holdout: the final fit
    short = words < SHORT_WORDS
    crowd = pd.to_numeric(data.c3_val["constructive"], errors="coerce").to_numpy(dtype=float)
    crowd = np.where(np.isnan(crowd), c3_y, crowd)
    report = {
        "threshold": t,
        "c3_val_out_of_fold": c3_metrics(c3_y, (oof[:n] >= t).astype(int), words),
        "length_correlation_c3_short": length_correlation(oof[:n][short], words[short], crowd[short]),
        "contrast": contrast_by_split(checks.contrast, p_con_all, (p_con_all >= t) & ~con_hostile),
        "objective": round(_objective(t, c3, tune_set), 4),
    }
    return {"report": report, "calibration": _calibration(model, use_c3, heads, length, form), "threshold": t}


def _summary(calibration: dict[str, Any]) -> dict[str, Any]:
    """A variant's calibration as the report keeps it: trees are counted, not copied (the chosen one's
    are in ``calibration.constructive``)."""
    if "trees" not in calibration:
        return calibration
    return {**{k: v for k, v in calibration.items() if k != "trees"}, "n_trees": len(calibration["trees"])}


def targets_met(report: dict[str, Any]) -> int:
    c3, corr = report["c3_val_out_of_fold"], report["length_correlation_c3_short"]
    return sum(
        [
            c3["f1_constructive"] >= TARGETS["c3_f1"],
            (c3["short_lt60w_macro_f1"] or 0.0) >= TARGETS["c3_short_macro_f1"],
            corr["model"] - corr["labels"] <= TARGETS["length_corr_gap"],
            meets_contrast(report["contrast"].get("tune", {})) if report["contrast"].get("tune") else False,
        ]
    )


def choose_constructive(
    data: Data,
    probs: dict[str, np.ndarray],
    checks: CheckProbs,
    t_hos: float,
    *,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Every variant measured; the chosen one's calibration and threshold, and a report of all."""
    results = {name: _variant(data, probs, checks, t_hos, *spec) for name, spec in VARIANTS.items()}
    for name, r in results.items():
        r["report"]["targets_met"] = targets_met(r["report"])
        log(f"constructive variant {name!r}: {r['report']}")
    chosen = max(
        results, key=lambda k: (results[k]["report"]["targets_met"], results[k]["report"]["objective"])
    )
    log(f"constructive: chose {chosen!r}")
    best = results[chosen]
    return {
        "calibration": best["calibration"],
        "threshold": best["threshold"],
        "report": {
            "chosen": chosen,
            "contrast_weight": CONTRAST_WEIGHT,
            "variants": {
                k: {**v["report"], "calibration": _summary(v["calibration"])} for k, v in results.items()
            },
        },
    }
