"""The fine-tuning stage of ``python -m lab.tone.train``: tasks from the labelled data, per-epoch checkpoints.

Each epoch writes ``epoch{N}.safetensors`` (the shipped parameters, float32) and ``epoch{N}_val.npz``
(validation probabilities for C3 and TweetEval) under the work directory, outside the repository, so
threshold calibration and the model card can be redone without retraining.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lab.tone.data import SHORT_WORDS, word_counts
from lab.tone.finetune import FinetuneConfig, TaskData, finetune, predict, trained_state, window
from models.tone import build_tone_net
from models.tone_base import ATTRIBUTES

HEADS: tuple[str, ...] = ("constructive", "hostile", *ATTRIBUTES)
C3_WINDOW = 96  # tokens: a comment under 60 words fits; a longer one is seen as a random window
TWEET_WINDOW = 64
EVAL_MAX_LENGTH = 128
# Which C3 column and which annotator count each attribute comes from.
ATTR_SOURCE = {
    "evidence": "njudgements_constructiveness_expt",
    "solution": "njudgements_constructiveness_expt",
    "specific_points": "njudgements_constructiveness_expt",
    "dialogue": "njudgements_constructiveness_expt",
    "personal_story": "njudgements_constructiveness_expt",
    "provocative": "njudgements_constructiveness_expt",
    "sarcastic": "njudgements_constructiveness_expt",
    "no_respect": "njudgements_constructiveness_expt",
    "personal_attack": "njudgements_toxicity_expt",
    "abusive": "njudgements_toxicity_expt",
    "inflammatory": "njudgements_toxicity_expt",
}


def token_ids(tokenizer: Any, texts: list[str]) -> list[list[int]]:
    """Untruncated ids with [CLS]/[SEP]; an empty text becomes "." so every example has a token."""
    texts = [t if t else "." for t in texts]
    return [list(x) for x in tokenizer(texts, truncation=False, padding=False)["input_ids"]]


def c3_targets(c3: pd.DataFrame) -> np.ndarray:
    """[n, heads]: constructive = the crowd's mean score (the majority label where it is missing), no
    hostile label, attribute = share of annotators who ticked it.

    The mean score keeps the many 3-to-2 votes among short comments from counting as certain."""
    out = np.full((len(c3), len(HEADS)), np.nan, dtype=np.float32)
    out[:, 0] = c3["y"].to_numpy(dtype=np.float32)
    if "constructive" in c3:
        mean = pd.to_numeric(c3["constructive"], errors="coerce").to_numpy(dtype=np.float32)
        out[:, 0] = np.where(np.isnan(mean), out[:, 0], np.clip(mean, 0.0, 1.0))
    for j, a in enumerate(ATTRIBUTES, start=2):
        n = c3[ATTR_SOURCE[a]].fillna(5.0).clip(lower=1.0).to_numpy(dtype=np.float32)
        out[:, j] = np.clip(c3[f"n_{a}"].to_numpy(dtype=np.float32) / n, 0.0, 1.0)
    return out


def tweet_targets(df: pd.DataFrame) -> np.ndarray:
    out = np.full((len(df), len(HEADS)), np.nan, dtype=np.float32)
    out[:, 1] = df["y"].to_numpy(dtype=np.float32)
    return out


def c3_task(c3: pd.DataFrame, ids: list[list[int]], config: FinetuneConfig) -> TaskData:
    """The C3 task as ``config`` asks: post-length comments only (``c3_max_words``), repeated
    ``c3_repeat`` times per epoch.

    Keeping to comments under 60 words is the answer to C3's length trap: 99% of longer comments are
    constructive, so they teach little beyond "long", while among short comments the head has to read
    the content."""
    targets = c3_targets(c3)
    keep = np.arange(len(c3))
    if config.c3_max_words is not None:
        keep = np.flatnonzero(word_counts(c3["comment_text"]) < config.c3_max_words)
    keep = np.tile(keep, max(1, int(config.c3_repeat)))
    return TaskData("c3", [ids[i] for i in keep], targets[keep], C3_WINDOW)


def epoch_scores(data: Any, pc: np.ndarray, pt: np.ndarray) -> dict[str, float | None]:
    """The encoder's validation scores at threshold 0.5 after an epoch (the card's per-epoch table)."""
    from sklearn.metrics import f1_score, roc_auc_score

    yc, yt = data.c3_val["y"].to_numpy(), data.te_val["y"].to_numpy()
    short = word_counts(data.c3_val["comment_text"]) < SHORT_WORDS
    return {
        "c3_auc": round(float(roc_auc_score(yc, pc[:, 0])), 4) if len(set(yc)) > 1 else None,
        "c3_f1@0.5": round(float(f1_score(yc, pc[:, 0] >= 0.5)), 4),
        "c3_short_macro_f1@0.5": round(
            float(f1_score(yc[short], pc[short, 0] >= 0.5, average="macro", labels=[0, 1])), 4
        ),
        "tweets_macro_f1@0.5": round(float(f1_score(yt, pt[:, 1] >= 0.5, average="macro", labels=[0, 1])), 4),
    }


def run_stage(
    data: Any,
    encoder_dir: Path,
    work_dir: Path,
    config: FinetuneConfig,
    *,
    init_from: Path | None = None,
    log: Any = print,
) -> dict[str, Any]:
    """Fine-tune on C3 + TweetEval train; checkpoint and validation probabilities after every epoch.

    ``init_from``: a checkpoint of an earlier run to continue from (a further epoch at a lower rate)."""
    from safetensors.torch import save_file
    from transformers import AutoTokenizer

    work_dir.mkdir(parents=True, exist_ok=True)
    tok = AutoTokenizer.from_pretrained(str(encoder_dir), local_files_only=True)
    pad_id = int(tok.pad_token_id or 0)
    t0 = time.perf_counter()
    c3_tr = token_ids(tok, data.c3_train["text"].tolist())
    te_tr = token_ids(tok, data.te_train["text"].tolist())
    c3_va = [window(x, EVAL_MAX_LENGTH, None) for x in token_ids(tok, data.c3_val["text"].tolist())]
    te_va = [window(x, EVAL_MAX_LENGTH, None) for x in token_ids(tok, data.te_val["text"].tolist())]
    log(f"tokenised in {time.perf_counter() - t0:.1f}s")
    tasks = [
        c3_task(data.c3_train, c3_tr, config),
        TaskData("tweets", te_tr, tweet_targets(data.te_train), TWEET_WINDOW),
    ]
    log(f"training examples per epoch: C3 {len(tasks[0].ids)}, tweets {len(tasks[1].ids)}")
    head_weights = np.array([1.0, 1.0] + [config.attr_weight] * len(ATTRIBUTES), dtype=np.float32)
    net = build_tone_net(encoder_dir, len(HEADS))
    if init_from is not None:
        from safetensors.torch import load_file

        net.load_state_dict(load_file(str(init_from)), strict=False)
        log(f"continuing from {init_from}")
    history: list[dict[str, Any]] = []

    def on_epoch(epoch: int, model: Any) -> None:
        pc = predict(model, c3_va, pad_id)
        pt = predict(model, te_va, pad_id)
        save_file(trained_state(model), str(work_dir / f"epoch{epoch}.safetensors"))
        np.savez(work_dir / f"epoch{epoch}_val.npz", c3=pc, tweets=pt)
        row = {"epoch": epoch, **epoch_scores(data, pc, pt)}
        history.append(row)
        log(f"epoch {epoch}: {row}")
        (work_dir / "history.json").write_text(json.dumps(history, indent=1))

    info = finetune(net, tasks, pad_id, head_weights, config, on_epoch=on_epoch, log=log)
    return {
        **info,
        "history": history,
        "heads": list(HEADS),
        "c3_window": C3_WINDOW,
        "tweet_window": TWEET_WINDOW,
    }
