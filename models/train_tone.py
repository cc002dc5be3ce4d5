"""Train the tone model: fine-tune MiniLM end to end, blend with TF-IDF, calibrate, write weights and card.

    python -m models.train_tone [--datasets DIR] [--out models/weights] [--limit N] [--encoder DIR]
                                [--epochs E] [--work-dir DIR] [--resume]

1. Fine-tune all-MiniLM-L6-v2 (the word-embedding matrix frozen) with one linear layer of heads on C3
   (constructive + the attribute shares) and TweetEval offensive (hostile); C3 comments longer than the
   training window are seen as random post-length windows (``models.tone_stage``). A checkpoint and the
   validation probabilities are written after every epoch to ``--work-dir`` (outside the repository);
   ``--resume`` reuses the last one instead of training again.
2. Fit hashed TF-IDF logistic regressions (``models.tone_lexical``) on the same training splits, and
   choose per head the blend weight in the logit mix on the validation split.
3. Calibrate decision thresholds on the validation splits only: constructive maximises the mean of C3 F1
   and C3 macro-F1 on comments under 60 words (posts are short), hostile maximises TweetEval macro-F1,
   attributes maximise F1.
4. Write ``tone_encoder.safetensors`` (float16), ``tone_lexical.safetensors``, ``tone_model.json`` and
   ``MODEL_CARD.md`` to ``--out``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from models.tone import (
    ATTRIBUTES,
    ENCODER_FILE,
    ENCODER_NAME,
    LEXICAL_FILE,
    META_FILE,
    MODEL_FAMILY,
    NOT_SHIPPED,
    SCHEMA_VERSION,
    WEIGHTS_DIR,
    Calibration,
    MiniLMTone,
    default_encoder_dir,
    length_feature,
)
from models.tone_card import model_card
from models.tone_data import (
    SAMPLE_DIR,
    SHORT_WORDS,
    Data,
    auc,
    best_threshold,
    c3_metrics,
    c3_noise_ceiling,
    datasets_dir,
    length_rates,
    load_data,
    macro_f1,
    sample_agreement,
    word_counts,
)
from models.tone_finetune import FinetuneConfig
from models.tone_lexical import LexicalHead
from models.tone_stage import C3_WINDOW, EVAL_MAX_LENGTH, HEADS, TWEET_WINDOW, run_stage

WORK_DIR = Path(tempfile.gettempdir()) / "commonground_tone"
BLEND_GRID = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
LEXICAL_C = 4.0
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


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --------------------------------------------------------------------------------------------- calibration


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.asarray(np.log(p / (1 - p)))


def blend(p_enc: np.ndarray, p_lex: np.ndarray, w: float) -> np.ndarray:
    """The logit mix used at scoring time (``models.tone.MiniLMTone.probabilities``)."""
    return np.asarray(1.0 / (1.0 + np.exp(-((1 - w) * _logit(p_enc) + w * _logit(p_lex)))))


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
    cols = [_logit(p)]
    if length:
        cols.append(length_feature(texts))
    others = others or {}
    cols += [_logit(others[k]) for k in sorted(others)]
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


def evaluate_probs(
    data: Data, pc: np.ndarray, pt: np.ndarray, thresholds: dict[str, float]
) -> dict[str, Any]:
    """Every validation metric for given probabilities (C3 ``pc`` and TweetEval ``pt``, columns = HEADS)."""
    yc, yt = data.c3_val["y"].to_numpy(), data.te_val["y"].to_numpy()
    words = word_counts(data.c3_val["comment_text"])
    t_con, t_hos = thresholds["constructive"], thresholds["hostile"]
    out: dict[str, Any] = {
        "constructive_c3_val": {
            "threshold": t_con,
            "roc_auc": auc(yc, pc[:, 0]),
            **c3_metrics(yc, (pc[:, 0] >= t_con).astype(int), words),
            "at_0.5": c3_metrics(yc, (pc[:, 0] >= 0.5).astype(int), words),
        },
        "hostile_tweeteval_val": {
            "threshold": t_hos,
            "macro_f1": round(macro_f1(yt, (pt[:, 1] >= t_hos).astype(int)), 4),
            "macro_f1_at_0.5": round(macro_f1(yt, (pt[:, 1] >= 0.5).astype(int)), 4),
            "roc_auc": auc(yt, pt[:, 1]),
            "n": len(yt),
        },
    }
    return out


def attribute_metrics(data: Data, pc: np.ndarray) -> tuple[dict[str, Any], dict[str, float]]:
    """Per attribute: the binary rule (>= 1 or 2 annotators, higher validation ROC-AUC), F1 threshold."""
    from models.tone_data import f1

    metrics: dict[str, Any] = {}
    thresholds: dict[str, float] = {}
    for a in ATTRIBUTES:
        j = HEADS.index(a)
        cand: dict[int, dict[str, Any]] = {}
        for k in (1, 2):
            y = (data.c3_val[f"n_{a}"] >= k).astype(int).to_numpy()
            if len(np.unique(y)) < 2:
                continue
            t, score = best_threshold(y, pc[:, j], "f1")
            cand[k] = {
                "positive_rate_val": round(float(y.mean()), 4),
                "threshold": t,
                "f1": round(score, 4),
                "f1_at_0.5": round(f1(y, (pc[:, j] >= 0.5).astype(int)), 4),
                "roc_auc": auc(y, pc[:, j]),
            }
        if not cand:
            thresholds[a] = 0.5
            continue
        k_best = max(cand, key=lambda k: (cand[k]["roc_auc"] or 0.0, -k))
        metrics[a] = {"min_annotators": k_best, **cand[k_best]}
        thresholds[a] = cand[k_best]["threshold"]
    return metrics, thresholds


# --------------------------------------------------------------------------------------------- main


def fine_tuned_checkpoint(
    data: Data,
    enc_dir: Path,
    work_dir: Path,
    config: FinetuneConfig,
    resume: bool,
    init_from: Path | None = None,
) -> tuple[Path, np.ndarray, np.ndarray, dict[str, Any]]:
    final, final_val, info_path = (
        work_dir / "final.safetensors",
        work_dir / "final_val.npz",
        work_dir / "info.json",
    )
    if resume and final.is_file() and final_val.is_file() and info_path.is_file():
        log(f"resuming from {final}")
        info = json.loads(info_path.read_text())
    else:
        info = run_stage(data, enc_dir, work_dir, config, init_from=init_from, log=log)
        last = max(h["epoch"] for h in info["history"])
        shutil.copy(work_dir / f"epoch{last}.safetensors", final)
        shutil.copy(work_dir / f"epoch{last}_val.npz", final_val)
        info["config"] = dict(vars(config))
        info_path.write_text(json.dumps(info, indent=1))
    val = np.load(final_val)
    return final, np.asarray(val["c3"]), np.asarray(val["tweets"]), info


def train(
    ddir: Path,
    out_dir: Path,
    *,
    encoder_dir: Path | None = None,
    limit: int | None = None,
    work_dir: Path = WORK_DIR,
    config: FinetuneConfig | None = None,
    resume: bool = False,
    init_from: Path | None = None,
    measure_speed: bool = True,
) -> dict[str, Any]:
    from safetensors.torch import load_file, save_file

    t_start = time.perf_counter()
    config = config or FinetuneConfig()
    enc_dir = Path(encoder_dir) if encoder_dir is not None else default_encoder_dir()
    log(f"datasets: {ddir}; encoder: {enc_dir}; limit: {limit}; work dir: {work_dir}")
    data = load_data(ddir, limit)
    log(
        f"C3 train/val {len(data.c3_train)}/{len(data.c3_val)}, TweetEval train/val "
        f"{len(data.te_train)}/{len(data.te_val)}"
    )
    ckpt, pc_enc, pt_enc, info = fine_tuned_checkpoint(data, enc_dir, work_dir, config, resume, init_from)

    # lexical heads and blend weights -----------------------------------------------------------------
    lexical = LexicalHead.fit(
        {
            "constructive": (data.c3_train["text"].tolist(), data.c3_train["y"].to_numpy()),
            "hostile": (data.te_train["text"].tolist(), data.te_train["y"].to_numpy()),
        },
        c=LEXICAL_C,
        blend={},
    )
    pc_lex = lexical.probabilities(data.c3_val["text"].tolist())
    pt_lex = lexical.probabilities(data.te_val["text"].tolist())
    yc, yt = data.c3_val["y"].to_numpy(), data.te_val["y"].to_numpy()
    words = word_counts(data.c3_val["comment_text"])
    c3_texts = data.c3_val["text"].tolist()
    # Constructive is judged after the length calibration, out of fold (see crossfit_calibrated).
    grid: dict[str, dict[str, float]] = {"constructive": {}, "hostile": {}}
    for w in BLEND_GRID:
        p_w = crossfit_calibrated(yc, blend(pc_enc[:, 0], pc_lex[:, 0], w), c3_texts)
        grid["constructive"][str(w)] = round(constructive_threshold(yc, p_w, words)[1], 4)
        grid["hostile"][str(w)] = round(
            best_threshold(yt, blend(pt_enc[:, 1], pt_lex[:, 1], w), "macro_f1")[1], 4
        )
    weights = {h: float(max(BLEND_GRID, key=lambda w, h=h: (grid[h][str(w)], -w))) for h in grid}  # type: ignore[misc]
    log(f"blend grid (validation): {grid}; chosen {weights}")
    pc_raw, pt_raw = pc_enc.copy(), pt_enc.copy()
    pc_raw[:, 0] = blend(pc_enc[:, 0], pc_lex[:, 0], weights["constructive"])
    pt_raw[:, 1] = blend(pt_enc[:, 1], pt_lex[:, 1], weights["hostile"])

    # calibration: constructive with the length, hostile with the attribute heads ---------------------
    calibration: dict[str, Any] = {}
    pc, pt = pc_raw.copy(), pt_raw.copy()  # reported: calibrated out of fold
    pc_fit, pt_fit = pc_raw.copy(), pt_raw.copy()  # what the shipped files compute (fitted on all of val)
    con_cal = fit_calibration(yc, pc_raw[:, 0], c3_texts)
    if con_cal is not None:
        calibration["constructive"] = con_cal
        pc[:, 0] = crossfit_calibrated(yc, pc_raw[:, 0], c3_texts)
        pc_fit[:, 0] = Calibration.from_meta(con_cal).apply(pc_raw[:, 0], c3_texts)
    te_texts = data.te_val["text"].tolist()
    te_attrs = {a: pt_raw[:, HEADS.index(a)] for a in ATTRIBUTES}
    hos_cal = fit_calibration(yt, pt_raw[:, 1], te_texts, length=False, others=te_attrs)
    if hos_cal is not None:
        pt_oof = crossfit_calibrated(yt, pt_raw[:, 1], te_texts, length=False, others=te_attrs)
        gain = best_threshold(yt, pt_oof, "macro_f1")[1] - best_threshold(yt, pt_raw[:, 1], "macro_f1")[1]
        log(f"hostile calibration with the attribute heads: macro-F1 {gain:+.4f} out of fold")
        if gain > 0:  # kept only when it helps out of fold
            calibration["hostile"] = hos_cal
            pt[:, 1] = pt_oof
            pt_fit[:, 1] = Calibration.from_meta(hos_cal).apply(pt_raw[:, 1], te_texts, te_attrs)
    log(f"calibration (validation): {calibration}")

    # thresholds and metrics --------------------------------------------------------------------------
    thresholds = {
        "constructive": constructive_threshold(yc, pc[:, 0], words)[0],
        "hostile": best_threshold(yt, pt[:, 1], "macro_f1")[0],
    }
    metrics = evaluate_probs(data, pc, pt, thresholds)
    metrics["calibration_fitted_on_all_validation"] = evaluate_probs(data, pc_fit, pt_fit, thresholds)
    raw_t = {
        "constructive": constructive_threshold(yc, pc_raw[:, 0], words)[0],
        "hostile": best_threshold(yt, pt_raw[:, 1], "macro_f1")[0],
    }
    metrics["without_calibration"] = evaluate_probs(data, pc_raw, pt_raw, raw_t)
    enc_thresholds = {
        "constructive": constructive_threshold(yc, pc_enc[:, 0], words)[0],
        "hostile": best_threshold(yt, pt_enc[:, 1], "macro_f1")[0],
    }
    lex_probs_c = np.repeat(pc_lex[:, :1], len(HEADS), axis=1)
    lex_probs_t = np.repeat(pt_lex[:, 1:], len(HEADS), axis=1)
    lex_thresholds = {
        "constructive": constructive_threshold(yc, pc_lex[:, 0], words)[0],
        "hostile": best_threshold(yt, pt_lex[:, 1], "macro_f1")[0],
    }
    # The length rule alone (calibrated the same way, out of fold): the baseline the trap is about.
    p_len = np.repeat(crossfit_calibrated(yc, np.full(len(yc), 0.5), c3_texts)[:, None], len(HEADS), axis=1)
    len_t = {"constructive": constructive_threshold(yc, p_len[:, 0], words)[0], "hostile": 0.5}
    attr_metrics, attr_thresholds = attribute_metrics(data, pc)
    thresholds.update(attr_thresholds)
    metrics["attributes_c3_val"] = attr_metrics
    metrics["encoder_only"] = evaluate_probs(data, pc_enc, pt_enc, enc_thresholds)
    metrics["tfidf_only"] = evaluate_probs(data, lex_probs_c, lex_probs_t, lex_thresholds)
    metrics["length_only"] = evaluate_probs(data, p_len, pt, len_t)["constructive_c3_val"]
    metrics["label_noise_ceiling"] = c3_noise_ceiling(data.c3_val)
    metrics["blend_grid"] = grid
    log(f"metrics: {json.dumps({k: v for k, v in metrics.items() if k != 'attributes_c3_val'})}")

    # write -----------------------------------------------------------------------------------------
    out_dir.mkdir(parents=True, exist_ok=True)
    state = {
        k: v.half().contiguous() for k, v in load_file(str(ckpt)).items() if not k.startswith(NOT_SHIPPED)
    }
    save_file(state, str(out_dir / ENCODER_FILE))
    use_lexical = any(w > 0 for w in weights.values())
    lexical_meta = lexical.with_blend(weights).save(out_dir / LEXICAL_FILE) if use_lexical else None
    if not use_lexical:
        (out_dir / LEXICAL_FILE).unlink(missing_ok=True)
    meta: dict[str, Any] = {
        "model": MODEL_FAMILY,
        "schema_version": SCHEMA_VERSION,
        "heads": list(HEADS),
        "thresholds": thresholds,
        "lexical": lexical_meta,
        "calibration": calibration,
        "encoder": {
            "name": ENCODER_NAME if encoder_dir is None else enc_dir.name,
            "pooling": "mean over attention mask",
            "frozen": "word embeddings only (taken from the packaged encoder at load time)",
            "shipped_dtype": "float16",
            "train_window_tokens": {"c3": C3_WINDOW, "tweets": TWEET_WINDOW},
            "eval_max_length": EVAL_MAX_LENGTH,
        },
        "training": {k: v for k, v in info.items() if k != "heads"},
        "threshold_calibration": "validation splits only: constructive = mean of C3 F1 and C3 <60-word macro-F1 (on the "
        "length-calibrated probabilities, out of fold); "
        "hostile = TweetEval macro-F1; attributes = F1",
        "attribute_rule": "positive when >= min_annotators annotators ticked it (1 or 2, higher val ROC-AUC)",
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
            },
        },
        "metrics": metrics,
        "trained_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "speed": None,
    }
    meta_path = out_dir / META_FILE
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    if measure_speed:
        model = MiniLMTone(enc_dir if encoder_dir is not None else None, out_dir, threads=2)
        meta["speed"] = measure_throughput(model, data)
        log(f"speed: {meta['speed']}")
        if (SAMPLE_DIR / "truth.json").is_file():
            meta["sample_conversation"] = sample_agreement(model)
            log(f"sample conversation: {meta['sample_conversation']}")
        meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    meta["training"]["total_minutes"] = round((time.perf_counter() - t_start) / 60, 1)
    (out_dir / "MODEL_CARD.md").write_text(model_card(meta))
    log(f"wrote {out_dir / ENCODER_FILE}, {meta_path}, {out_dir / 'MODEL_CARD.md'}")
    return meta


def measure_throughput(model: MiniLMTone, data: Data, n: int = 512) -> dict[str, Any]:
    """Texts/s of MiniLMTone.score on tweet-length texts (TweetEval validation), after a warm-up."""
    import torch

    texts = data.te_val["text"].drop_duplicates().head(n).tolist()
    model.score(texts[:8])
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
        "batch_size": model.batch_size,
        "max_length": model.max_length,
        "tone_shares_tweeteval_val": tones,
        "probe_texts": len(PROBE_TEXTS),
        "tone_shares_probe": probe.to_dict(),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.train_tone", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--datasets",
        help="labelled data directory (default $COMMONGROUND_DATASETS_DIR or ../shared/datasets)",
    )
    parser.add_argument("--out", default=str(WEIGHTS_DIR), help="output directory (default models/weights)")
    parser.add_argument("--limit", type=int, default=None, help="use at most N rows per file (quick runs)")
    parser.add_argument("--encoder", default=None, help="encoder directory (default: packaged MiniLM)")
    parser.add_argument(
        "--work-dir", "--cache-dir", default=str(WORK_DIR), help="checkpoints (outside the repository)"
    )
    parser.add_argument("--resume", action="store_true", help="reuse the last checkpoint in --work-dir")
    parser.add_argument("--epochs", type=float, default=FinetuneConfig.epochs)
    parser.add_argument("--lr", type=float, default=FinetuneConfig.lr)
    parser.add_argument("--batch-size", type=int, default=FinetuneConfig.batch_size)
    parser.add_argument("--head-lr", type=float, default=FinetuneConfig.head_lr)
    parser.add_argument("--seed", type=int, default=FinetuneConfig.seed)
    parser.add_argument("--init-from", default=None, help="continue from a checkpoint of an earlier run")
    parser.add_argument(
        "--c3-min-window",
        type=int,
        default=None,
        help="cut long C3 comments to a random width between this and the window (default: the window)",
    )
    parser.add_argument(
        "--c3-max-words",
        type=int,
        default=FinetuneConfig.c3_max_words,
        help="train the constructive head on C3 comments under this many words (0: all; default 60)",
    )
    parser.add_argument(
        "--c3-hard-labels",
        action="store_true",
        help="train on C3's majority label instead of the crowd's mean constructiveness score",
    )
    parser.add_argument("--c3-repeat", type=int, default=FinetuneConfig.c3_repeat, help="C3 passes per epoch")
    parser.add_argument(
        "--pair-weight",
        type=float,
        default=FinetuneConfig.pair_weight,
        help="weight of the within-batch ranking loss on the constructive head (0: off)",
    )
    parser.add_argument(
        "--c3-balance",
        type=float,
        default=FinetuneConfig.c3_balance,
        help="length-balanced sampling of C3: 0 off, 1 every 10-word band at the overall constructive share",
    )
    parser.add_argument("--no-speed", action="store_true", help="skip the throughput measurement")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    train(
        datasets_dir(args.datasets),
        Path(args.out),
        encoder_dir=Path(args.encoder) if args.encoder else None,
        limit=args.limit,
        work_dir=Path(args.work_dir),
        config=FinetuneConfig(
            epochs=args.epochs,
            lr=args.lr,
            head_lr=args.head_lr,
            batch_size=args.batch_size,
            seed=args.seed,
            c3_min_window=args.c3_min_window,
            c3_max_words=args.c3_max_words or None,
            c3_soft=not args.c3_hard_labels,
            c3_repeat=args.c3_repeat,
            pair_weight=args.pair_weight,
            c3_balance=args.c3_balance,
        ),
        resume=args.resume,
        init_from=Path(args.init_from) if args.init_from else None,
        measure_speed=not args.no_speed,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
