"""Labelled data for the tone model and the metrics it is judged by (shared by training and `commonground eval`).

Datasets are read (never copied) from the directory the caller passes in (its default is the one
``Settings.datasets_dir``). The C3 validation split is our own stratified 20% of the shared C3 file
(``random_state=1``); TweetEval's validation split is its shipped file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from models.tone_base import prepare_text

C3_FILE = "c3_constructive_train.csv"
TWEETEVAL_TRAIN = "tweeteval_offensive_train.csv"
TWEETEVAL_VAL = "tweeteval_offensive_val.csv"
DAVIDSON_FILE = "davidson_hate_offensive.csv"
SHORT_WORDS = 60
# The C3 per-characteristic annotator counts that training reads (``n_<name>`` columns).
C3_CHARACTERISTICS = (
    "specific_points",
    "evidence",
    "solution",
    "personal_story",
    "personal_attack",
    "sarcastic",
)
ATTR_COLUMNS = (
    "constructive_characteristics",
    "non_constructive_characteristics",
    "toxicity_characteristics",
)


def datasets_dir(path: Path) -> Path:
    """``path`` when it holds the labelled data; else an exit that says how to point at it."""
    if not (path / C3_FILE).is_file():
        raise SystemExit(
            f"No {C3_FILE} in {path}: pass --datasets DIR or set COMMONGROUND_DATASETS_DIR "
            "(default: ../shared/datasets next to the repository)."
        )
    return path


def _limit(df: pd.DataFrame, limit: int | None) -> pd.DataFrame:
    if limit is None or len(df) <= limit:
        return df.reset_index(drop=True)
    return df.sample(n=limit, random_state=1).reset_index(drop=True)


def parse_counts(cell: Any) -> dict[str, int]:
    """``"solution:2\\nevidence:1"`` → ``{"solution": 2, "evidence": 1}`` (blank / NaN → {})."""
    out: dict[str, int] = {}
    if not isinstance(cell, str):
        return out
    for line in cell.splitlines():
        name, sep, count = line.strip().rpartition(":")
        if sep and name:
            try:
                out[name.strip()] = out.get(name.strip(), 0) + int(float(count))
            except ValueError:
                continue
    return out


def attribute_counts(c3: pd.DataFrame) -> pd.DataFrame:
    counts: dict[str, list[int]] = {a: [] for a in C3_CHARACTERISTICS}
    for _, row in c3.iterrows():
        merged: dict[str, int] = {}
        for col in ATTR_COLUMNS:
            merged.update(parse_counts(row.get(col)))
        for a in C3_CHARACTERISTICS:
            counts[a].append(merged.get(a, 0))
    return pd.DataFrame(counts, index=c3.index)


@dataclass
class Data:
    c3_train: pd.DataFrame
    c3_val: pd.DataFrame
    te_train: pd.DataFrame
    te_val: pd.DataFrame
    davidson: pd.DataFrame
    files: dict[str, dict[str, Any]]


def load_data(ddir: Path, limit: int | None) -> Data:
    from sklearn.model_selection import train_test_split

    files: dict[str, dict[str, Any]] = {}

    def read(name: str) -> pd.DataFrame:
        path = ddir / name
        df = pd.read_csv(path)
        files[name] = {
            "rows": len(df),
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest()[:16],
        }
        return df

    c3 = read(C3_FILE)
    c3 = c3.dropna(subset=["comment_text", "constructive_binary"])
    c3 = _limit(c3, limit)
    c3["text"] = c3["comment_text"].map(prepare_text)
    c3["y"] = (c3["constructive_binary"] >= 0.5).astype(int)
    c3 = pd.concat([c3, attribute_counts(c3).add_prefix("n_")], axis=1)
    c3_train, c3_val = train_test_split(c3, test_size=0.2, random_state=1, stratify=c3["y"])

    te_train = _limit(read(TWEETEVAL_TRAIN).dropna(subset=["text"]), limit)
    te_val = _limit(read(TWEETEVAL_VAL).dropna(subset=["text"]), limit)
    for df in (te_train, te_val):
        df["text"] = df["text"].map(prepare_text)
        df["y"] = df["offensive"].astype(int)
    dav: pd.DataFrame
    if (ddir / DAVIDSON_FILE).is_file():
        dav = _limit(read(DAVIDSON_FILE).dropna(subset=["text"]), limit)
        dav["text"] = dav["text"].map(prepare_text)
        dav["y"] = (dav["class"] != 2).astype(int)
    else:
        dav = pd.DataFrame({"text": pd.Series([], dtype=str), "y": pd.Series([], dtype=int)})
    return Data(
        c3_train.reset_index(drop=True),
        c3_val.reset_index(drop=True),
        te_train,
        te_val,
        dav,
        files,
    )


# --------------------------------------------------------------------------------------------- metrics


def _f1_of(y: np.ndarray, pred: np.ndarray, label: int) -> float:
    """F1 of one class, 0 where it is undefined: sklearn's ``f1_score(..., zero_division=0)``, the same
    float (2 tp / (true + predicted)), without its input validation, which costs milliseconds a call (the
    threshold searches call it thousands of times)."""
    truth, called = np.asarray(y) == label, np.asarray(pred) == label
    denominator = int(truth.sum()) + int(called.sum())
    return 2.0 * int((truth & called).sum()) / denominator if denominator else 0.0


def f1(y: np.ndarray, pred: np.ndarray) -> float:
    return _f1_of(y, pred, 1)


def macro_f1(y: np.ndarray, pred: np.ndarray) -> float:
    return (_f1_of(y, pred, 0) + _f1_of(y, pred, 1)) / 2


def best_threshold(y: np.ndarray, p: np.ndarray, metric: str) -> tuple[float, float]:
    """Threshold in [0.05, 0.95] maximising F1 (positive class) or macro-F1 on validation data."""
    fn = f1 if metric == "f1" else macro_f1
    best_t, best_s = 0.5, -1.0
    for t in np.round(np.arange(0.05, 0.951, 0.01), 2):
        s = fn(y, (p >= t).astype(int))
        if s > best_s + 1e-12:
            best_t, best_s = float(t), s
    return best_t, best_s


def auc(y: np.ndarray, p: np.ndarray) -> float | None:
    from sklearn.metrics import roc_auc_score

    if len(np.unique(y)) < 2:
        return None
    return round(float(roc_auc_score(y, p)), 4)


def word_counts(texts: pd.Series) -> np.ndarray:
    return np.array([len(str(t).split()) for t in texts], dtype=int)


def length_rates(c3: pd.DataFrame) -> dict[str, float | None]:
    words = word_counts(c3["comment_text"])
    y = c3["y"].to_numpy()
    short = words < SHORT_WORDS
    return {
        "lt60w": round(float(y[short].mean()), 4) if short.any() else None,
        "ge60w": round(float(y[~short].mean()), 4) if (~short).any() else None,
    }


def c3_metrics(y: np.ndarray, pred: np.ndarray, words: np.ndarray) -> dict[str, Any]:
    from sklearn.metrics import accuracy_score

    short = words < SHORT_WORDS
    return {
        "f1_constructive": round(f1(y, pred), 4),
        "macro_f1": round(macro_f1(y, pred), 4),
        "accuracy": round(float(accuracy_score(y, pred)), 4),
        "short_lt60w_macro_f1": round(macro_f1(y[short], pred[short]), 4) if short.any() else None,
        "short_lt60w_f1_constructive": round(f1(y[short], pred[short]), 4) if short.any() else None,
        "short_lt60w_n": int(short.sum()),
        "long_ge60w_f1_constructive": round(f1(y[~short], pred[~short]), 4) if (~short).any() else None,
        "n": len(y),
    }


def label_noise_ceiling(
    votes: np.ndarray,
    judges: np.ndarray,
    y: np.ndarray,
    *,
    metric: str = "macro_f1",
    draws: int = 300,
    seed: int = 0,
) -> dict[str, float]:
    """The score (``macro_f1`` or ``f1`` of the positive class) that a perfect model could expect against
    crowd labels: how noisy the labels are.

    Each comment's label is the majority of a few crowd votes (``votes`` of ``judges`` said
    constructive). An oracle that knew each comment's true rate ``q`` (the share of all possible
    annotators who would call it constructive) would predict ``q > 0.5``, and still disagree with the
    labels wherever a small panel's majority went the other way. ``q`` is drawn from its posterior under a
    beta prior fitted to these comments (beta-binomial maximum likelihood), ``draws`` times; the result is
    the oracle's mean score and its 5th and 95th percentiles. No model of the text can expect to beat it
    on these labels."""
    from scipy.optimize import minimize
    from scipy.special import betaln

    k = np.asarray(votes, dtype=float)
    n = np.asarray(judges, dtype=float)
    y = np.asarray(y, dtype=int)
    if len(k) == 0 or np.any(n <= 0) or np.any(k < 0) or np.any(k > n):
        raise ValueError("label_noise_ceiling needs 0 <= votes <= judges and judges > 0 for every comment")

    def nll(t: np.ndarray) -> float:  # the binomial coefficient does not depend on the prior
        a, b = np.exp(t)
        return float(-(betaln(k + a, n - k + b) - betaln(a, b)).sum())

    # bounded: with unanimous panels the likelihood keeps rising as the prior's parameters fall to zero
    fit = minimize(nll, np.zeros(2), method="L-BFGS-B", bounds=[(-6.0, 8.0)] * 2)
    a, b = np.exp(fit.x)
    rng = np.random.default_rng(seed)
    fn = macro_f1 if metric == "macro_f1" else f1
    scores = [fn(y, (rng.beta(a + k, b + n - k) > 0.5).astype(int)) for _ in range(draws)]
    lo, hi = np.percentile(scores, [5, 95])
    return {
        "mean": round(float(np.mean(scores)), 4),
        "p05": round(float(lo), 4),
        "p95": round(float(hi), 4),
        "prior_a": round(float(a), 4),
        "prior_b": round(float(b), 4),
    }


def c3_votes(c3: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(votes for constructive, judges) per C3 comment, from the crowd's mean score and the judge count."""
    judges = pd.to_numeric(c3["njudgements_constructiveness_expt"], errors="coerce").to_numpy(dtype=float)
    share = pd.to_numeric(c3["constructive"], errors="coerce").to_numpy(dtype=float)
    return np.round(share * judges), judges


def c3_noise_ceiling(c3: pd.DataFrame) -> dict[str, dict[str, float]]:
    """:func:`label_noise_ceiling` of C3 comments for F1 (all) and macro-F1 (under 60 words); a metric is
    left out when the vote counts are missing or its subset has one class only."""
    if not {"constructive", "njudgements_constructiveness_expt"} <= set(c3.columns):
        return {}
    votes, judges = c3_votes(c3)
    y = c3["y"].to_numpy()
    ok = np.isfinite(votes) & np.isfinite(judges) & (judges > 0) & (votes >= 0) & (votes <= judges)
    short = ok & (word_counts(c3["comment_text"]) < SHORT_WORDS)
    out: dict[str, dict[str, float]] = {}
    for key, mask, metric in (("f1_constructive", ok, "f1"), ("short_lt60w_macro_f1", short, "macro_f1")):
        if len(np.unique(y[mask])) == 2:
            out[key] = label_noise_ceiling(votes[mask], judges[mask], y[mask], metric=metric)
    return out


def sample_agreement(model: Any, sample_dir: Path | None = None) -> dict[str, Any]:
    """Share of sample posts whose predicted tone equals the planted one, and the predicted tone shares.

    ``sample_dir``: default the bundled sample conversation, whose posts carry a planted tone."""
    if sample_dir is None:
        from warehouse.settings import SAMPLE_DIR

        sample_dir = SAMPLE_DIR
    posts = pd.read_json(sample_dir / "conversation.jsonl", lines=True, dtype={"id": str})
    truth: dict[str, str] = json.loads((sample_dir / "truth.json").read_text())["posts"]
    tones = [s.tone for s in model.score(posts["text"].fillna("").tolist())]
    posts["pred"] = tones
    posts["truth"] = posts["id"].astype(str).map(truth)
    known = posts.dropna(subset=["truth"])
    per_class = {
        t: round(float((known.loc[known["truth"] == t, "pred"] == t).mean()), 4)
        for t in ("constructive", "neutral", "hostile")
        if (known["truth"] == t).any()
    }
    return {
        "n": len(known),
        "agreement": round(float((known["pred"] == known["truth"]).mean()), 4),
        "recall_by_planted_tone": per_class,
        "predicted_shares": posts["pred"].value_counts(normalize=True).round(4).to_dict(),
        "planted_shares": known["truth"].value_counts(normalize=True).round(4).to_dict(),
    }
