"""The fine-tuning stage of ``python -m lab.tone.train``: tasks from the labelled data, per-epoch checkpoints.

Each epoch writes ``epoch{N}.safetensors`` (the shipped parameters, float32) and ``epoch{N}_val.npz``
(validation probabilities for C3 and TweetEval) under the work directory, outside the repository, so
threshold calibration and the model card can be redone without retraining.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lab.tone.corpora import Corpus
from lab.tone.data import word_counts
from lab.tone.finetune import FinetuneConfig, TaskData, finetune, predict, trained_state, window
from models.tone import build_tone_net
from models.tone_base import ATTRIBUTES

HEADS: tuple[str, ...] = ("constructive", "hostile", *ATTRIBUTES)
C3_WINDOW = 96  # tokens: a comment under 60 words fits; a longer one is seen as a random window
TWEET_WINDOW = 64
EVAL_MAX_LENGTH = 128
# Which C3 characteristic teaches which head, and the annotator count it is a share of.
C3_HEADS = {
    "reasoning": ("specific_points", "njudgements_constructiveness_expt"),
    "evidence": ("evidence", "njudgements_constructiveness_expt"),
    "solution": ("solution", "njudgements_constructiveness_expt"),
    "personal_story": ("personal_story", "njudgements_constructiveness_expt"),
    "sarcastic": ("sarcastic", "njudgements_constructiveness_expt"),
    "insult": ("personal_attack", "njudgements_toxicity_expt"),
}


def token_ids(tokenizer: Any, texts: list[str]) -> list[list[int]]:
    """Untruncated ids with [CLS]/[SEP]; an empty text becomes "." so every example has a token."""
    texts = [t if t else "." for t in texts]
    return [list(x) for x in tokenizer(texts, truncation=False, padding=False)["input_ids"]]


def c3_targets(c3: pd.DataFrame) -> np.ndarray:
    """[n, heads]: constructive = the crowd's mean score (the majority label where it is missing), no
    hostile label, the ``C3_HEADS`` attributes = share of annotators who ticked the characteristic.

    The mean score keeps the many 3-to-2 votes among short comments from counting as certain."""
    out = np.full((len(c3), len(HEADS)), np.nan, dtype=np.float32)
    out[:, 0] = c3["y"].to_numpy(dtype=np.float32)
    if "constructive" in c3:
        mean = pd.to_numeric(c3["constructive"], errors="coerce").to_numpy(dtype=np.float32)
        out[:, 0] = np.where(np.isnan(mean), out[:, 0], np.clip(mean, 0.0, 1.0))
    for head, (name, judges) in C3_HEADS.items():
        n = c3[judges].fillna(5.0).clip(lower=1.0).to_numpy(dtype=np.float32)
        out[:, HEADS.index(head)] = np.clip(c3[f"n_{name}"].to_numpy(dtype=np.float32) / n, 0.0, 1.0)
    return out


def corpus_targets(df: pd.DataFrame, heads: Sequence[str]) -> np.ndarray:
    out = np.full((len(df), len(HEADS)), np.nan, dtype=np.float32)
    for h in heads:
        out[:, HEADS.index(h)] = df[h].to_numpy(dtype=np.float32)
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


CORPUS_WINDOW = {"holistic_politeness": 96, "wikitactics": 96}  # longer texts; the rest fit in 64
CORPUS_REPEAT = {"ucc": 2}  # six hostile-side heads learn from its 3,000 comments alone
# At most this many training examples per epoch from the largest corpora (a seeded random subset), so an
# epoch fits in about 45 minutes on 2 CPU cores.
CORPUS_CAP = {"stanford_politeness": 5000, "holistic_politeness": 3500}


def epoch_scores(val: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, float | None]:
    """Per (corpus, head): validation ROC-AUC after an epoch (the card's per-epoch table).

    ``val``: corpus -> (targets [n, heads], probabilities [n, heads])."""
    from sklearn.metrics import roc_auc_score

    out: dict[str, float | None] = {}
    for name, (targets, probs) in val.items():
        for j, head in enumerate(HEADS):
            y = targets[:, j]
            known = ~np.isnan(y)
            yb = (y[known] >= 0.5).astype(int)
            if known.any() and 0 < yb.sum() < len(yb):
                out[f"{name}/{head}"] = round(float(roc_auc_score(yb, probs[known, j])), 4)
    return out


def _capped(task: TaskData) -> TaskData:
    cap = CORPUS_CAP.get(task.name)
    if cap is None or len(task.ids) <= cap:
        return task
    keep = np.sort(np.random.default_rng(1).choice(len(task.ids), size=cap, replace=False))
    return TaskData(task.name, [task.ids[i] for i in keep], task.targets[keep], task.window)


def training_tasks(
    data: Any, corpora: Sequence[Corpus], tok: Any, config: FinetuneConfig
) -> tuple[list[TaskData], dict[str, tuple[list[list[int]], np.ndarray]]]:
    """Training tasks and validation sets (token ids cut to the scoring length, targets) of every corpus."""
    val: dict[str, tuple[list[list[int]], np.ndarray]] = {}

    def val_ids(texts: list[str]) -> list[list[int]]:
        return [window(x, EVAL_MAX_LENGTH, None) for x in token_ids(tok, texts)]

    tasks = [
        c3_task(data.c3_train, token_ids(tok, data.c3_train["text"].tolist()), config),
        TaskData(
            "tweets",
            token_ids(tok, data.te_train["text"].tolist()),
            tweet_targets(data.te_train),
            TWEET_WINDOW,
        ),
    ]
    val["c3"] = (val_ids(data.c3_val["text"].tolist()), c3_targets(data.c3_val))
    val["tweeteval"] = (val_ids(data.te_val["text"].tolist()), tweet_targets(data.te_val))
    for c in corpora:
        targets = corpus_targets(c.train, c.heads)
        keep = np.tile(np.arange(len(c.train)), CORPUS_REPEAT.get(c.name, 1))
        ids = token_ids(tok, c.train["text"].tolist())
        tasks.append(
            _capped(TaskData(c.name, [ids[i] for i in keep], targets[keep], CORPUS_WINDOW.get(c.name, 64)))
        )
        val[c.name] = (val_ids(c.val["text"].tolist()), corpus_targets(c.val, c.heads))
    return tasks, val


def run_stage(
    data: Any,
    corpora: Sequence[Corpus],
    encoder_dir: Path,
    work_dir: Path,
    config: FinetuneConfig,
    *,
    init_from: Path | None = None,
    log: Any = print,
) -> dict[str, Any]:
    """Fine-tune on every corpus's training split; checkpoint and validation probabilities (one array per
    corpus in ``epoch{N}_val.npz``) after every epoch.

    ``init_from``: a checkpoint of an earlier run to continue from (a further epoch at a lower rate)."""
    from safetensors.torch import save_file
    from transformers import AutoTokenizer

    work_dir.mkdir(parents=True, exist_ok=True)
    tok = AutoTokenizer.from_pretrained(str(encoder_dir), local_files_only=True)
    pad_id = int(tok.pad_token_id or 0)
    t0 = time.perf_counter()
    tasks, val = training_tasks(data, corpora, tok, config)
    log(f"tokenised in {time.perf_counter() - t0:.1f}s")
    log("training examples per epoch: " + ", ".join(f"{t.name} {len(t.ids)}" for t in tasks))
    head_weights = np.array([1.0, 1.0] + [config.attr_weight] * len(ATTRIBUTES), dtype=np.float32)
    net = build_tone_net(encoder_dir, len(HEADS))
    if init_from is not None:
        from safetensors.torch import load_file

        net.load_state_dict(load_file(str(init_from)), strict=False)
        log(f"continuing from {init_from}")
    history: list[dict[str, Any]] = []

    def on_epoch(epoch: int, model: Any) -> None:
        probs = {name: predict(model, ids, pad_id) for name, (ids, _) in val.items()}
        save_file(trained_state(model), str(work_dir / f"epoch{epoch}.safetensors"))
        np.savez(work_dir / f"epoch{epoch}_val.npz", **probs)  # type: ignore[arg-type]
        row = {"epoch": epoch, **epoch_scores({n: (val[n][1], p) for n, p in probs.items()})}
        history.append(row)
        log(f"epoch {epoch}: {row}")
        (work_dir / "history.json").write_text(json.dumps(history, indent=1))

    info = finetune(net, tasks, pad_id, head_weights, config, on_epoch=on_epoch, log=log)
    return {
        **info,
        "history": history,
        "heads": list(HEADS),
        "windows": {t.name: t.window for t in tasks},
        "examples_per_epoch": {t.name: len(t.ids) for t in tasks},
    }
