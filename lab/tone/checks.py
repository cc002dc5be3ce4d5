"""The measurements the tone model is judged by on posts, shared by training and `commonground eval`.

* per head: ROC-AUC and F1 on the validation split of every corpus that labels it;
* the length-matched contrast set (``lab.tone.checksets``): does the constructive post of each triple
  score highest, how many constructive / neutral / hostile posts are called constructive;
* the civil-criticism set: the share called hostile (criticism is not hostility);
* on short texts: the correlation of ``constructive`` with the word count, beside the labels' own.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lab.tone.data import auc, best_threshold, f1

HEAD_AUC_TARGET = 0.80
CONTRAST_TARGETS = {"top_of_three": 0.90, "constructive_recall": 0.70, "neutral_called": 0.20}
FALSE_HOSTILE_TARGET = 0.05


def head_metrics(
    heads: Sequence[str], targets: dict[str, np.ndarray], probs: dict[str, np.ndarray]
) -> tuple[dict[str, Any], dict[str, float]]:
    """Per head and corpus: n, positives, ROC-AUC, best F1 and its threshold (targets binarised at 0.5);
    per head the pooled F1 threshold over its corpora, the mean ROC-AUC and whether it meets the target.

    ``targets`` and ``probs``: corpus -> [n, len(heads)] (NaN target = not labelled)."""
    out: dict[str, Any] = {}
    thresholds: dict[str, float] = {}
    for j, head in enumerate(heads):
        per: dict[str, Any] = {}
        pooled_y: list[np.ndarray] = []
        pooled_p: list[np.ndarray] = []
        for name, t in targets.items():
            known = ~np.isnan(t[:, j])
            y = (t[known, j] >= 0.5).astype(int)
            if not known.any() or y.min() == y.max():
                continue
            p = probs[name][known, j]
            thr, best = best_threshold(y, p, "f1")
            per[name] = {
                "n": int(known.sum()),
                "positives": int(y.sum()),
                "roc_auc": auc(y, p),
                "f1": round(best, 4),
                "threshold": thr,
            }
            pooled_y.append(y)
            pooled_p.append(p)
        if not per:
            continue
        y_all, p_all = np.concatenate(pooled_y), np.concatenate(pooled_p)
        thresholds[head] = best_threshold(y_all, p_all, "f1")[0]
        mean_auc = float(np.mean([m["roc_auc"] for m in per.values()]))
        out[head] = {
            "corpora": per,
            "roc_auc_mean": round(mean_auc, 4),
            "threshold": thresholds[head],
            "f1_pooled": round(f1(y_all, (p_all >= thresholds[head]).astype(int)), 4),
            "status": "kept" if mean_auc >= HEAD_AUC_TARGET else "experimental",
        }
    return out, thresholds


def contrast_metrics(posts: pd.DataFrame, p_con: np.ndarray, is_con: np.ndarray) -> dict[str, Any]:
    """On the contrast triples (``triple_id``, ``label``): how often the constructive post has the
    highest ``constructive`` of its three, and the share of each label called constructive."""
    df = posts.assign(p=np.asarray(p_con, dtype=float), called=np.asarray(is_con, dtype=bool))
    top = df.loc[df.groupby("triple_id")["p"].idxmax(), ["triple_id", "label"]]
    called = df.groupby("label")["called"].mean()
    return {
        "triples": int(df["triple_id"].nunique()),
        "top_of_three": round(float((top["label"] == "constructive").mean()), 4),
        "constructive_recall": round(float(called.get("constructive", 0.0)), 4),
        "neutral_called": round(float(called.get("neutral", 0.0)), 4),
        "hostile_called": int(df.loc[df["label"] == "hostile", "called"].sum()),
    }


def contrast_by_split(posts: pd.DataFrame, p_con: np.ndarray, is_con: np.ndarray) -> dict[str, Any]:
    out = {}
    for split in ("tune", "holdout"):
        mask = (posts["split"] == split).to_numpy()
        if mask.any():
            out[split] = contrast_metrics(posts[mask], np.asarray(p_con)[mask], np.asarray(is_con)[mask])
    return out


def meets_contrast(m: dict[str, Any]) -> bool:
    return (
        m["top_of_three"] >= CONTRAST_TARGETS["top_of_three"]
        and m["constructive_recall"] >= CONTRAST_TARGETS["constructive_recall"]
        and m["neutral_called"] <= CONTRAST_TARGETS["neutral_called"]
        and m["hostile_called"] == 0
    )


def length_correlation(p: np.ndarray, words: np.ndarray, label: np.ndarray) -> dict[str, float]:
    """Pearson correlation with the word count of the model's probability and of the label (mean crowd
    score where there is one)."""
    return {
        "model": round(float(np.corrcoef(p, words)[0, 1]), 4),
        "labels": round(float(np.corrcoef(label, words)[0, 1]), 4),
        "n": len(words),
    }


def civil_criticism_all(ddir: Path | None) -> pd.DataFrame:
    """The civil-criticism check set: our written posts, plus the corpus-derived ones when ``ddir`` has
    the shared corpora (``id``, ``source``, ``text``): GoEmotions test comments (never trained on) and
    the Unhealthy Comments Corpus comments of our validation split."""
    from lab.tone.checksets import civil_criticism, corpus_civil_criticism
    from lab.tone.corpora import UCC_VAL_SHARE, _is_val
    from models.tone_base import prepare_text

    parts = [civil_criticism()[["id", "source", "text"]]]
    if ddir is not None and (ddir / "attributes").is_dir():
        corpus = corpus_civil_criticism(ddir)[["id", "source", "text"]]
        # UCC comments in our training split were trained on (as not hostile): only its validation
        # split's comments are a fair check.
        ucc = corpus["source"].str.startswith("ucc")
        held_out = _is_val(corpus["text"].map(prepare_text), UCC_VAL_SHARE)
        parts.append(corpus[~ucc | held_out])
    return pd.concat(parts, ignore_index=True)


def false_hostile(civil: pd.DataFrame, is_hostile: np.ndarray) -> dict[str, Any]:
    """Share of the civil-criticism posts called hostile, per source and overall."""
    df = civil.assign(h=np.asarray(is_hostile, dtype=bool))
    out: dict[str, Any] = {
        str(src): {"n": len(g), "rate": round(float(g["h"].mean()), 4)} for src, g in df.groupby("source")
    }
    out["all"] = {"n": len(df), "rate": round(float(df["h"].mean()), 4)}
    return out
