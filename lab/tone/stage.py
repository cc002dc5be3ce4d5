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
from models.tone_base import ATTRIBUTES, build_tone_net

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


def c3_source(c3: pd.DataFrame, ids: list[list[int]]) -> TaskData:
    """Every C3 training comment with its targets and word count; ``shape_task`` chooses from them."""
    return TaskData("c3", ids, c3_targets(c3), C3_WINDOW, words=word_counts(c3["comment_text"]))


def c3_task(c3: pd.DataFrame, ids: list[list[int]], config: FinetuneConfig) -> TaskData:
    """The C3 task as ``config`` asks: post-length comments only (``c3_max_words``), repeated
    ``c3_repeat`` times per epoch.

    Keeping to comments under 60 words is the answer to C3's length trap: 99% of longer comments are
    constructive, so they teach little beyond "long", while among short comments the head has to read
    the content."""
    return shape_task(c3_source(c3, ids), config)


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


def shape_task(source: TaskData, config: FinetuneConfig) -> TaskData:
    """One epoch's examples of a corpus: C3 cut to ``c3_max_words``, each corpus repeated as ``config`` and
    ``CORPUS_REPEAT`` say, the largest capped (``CORPUS_CAP``) unless ``config.corpus_cap`` is off."""
    keep = np.arange(len(source.ids))
    if source.name == "c3" and config.c3_max_words is not None and source.words is not None:
        keep = np.flatnonzero(source.words < config.c3_max_words)
    repeat = {"c3": config.c3_repeat, "tweets": config.tweet_repeat}.get(
        source.name, CORPUS_REPEAT.get(source.name, 1)
    )
    keep = np.tile(keep, max(1, int(repeat)))
    task = TaskData(source.name, [source.ids[i] for i in keep], source.targets[keep], source.window)
    return _capped(task) if config.corpus_cap else task


ValSets = dict[str, tuple[list[list[int]], np.ndarray]]  # corpus -> (token ids, targets [n, heads])


def task_sources(data: Any, corpora: Sequence[Corpus], tok: Any) -> tuple[list[TaskData], ValSets]:
    """Every corpus's whole training split as one task (before ``shape_task``), and its validation set
    (token ids cut to the scoring length, targets)."""

    def val_ids(texts: list[str]) -> list[list[int]]:
        return [window(x, EVAL_MAX_LENGTH, None) for x in token_ids(tok, texts)]

    sources = [
        c3_source(data.c3_train, token_ids(tok, data.c3_train["text"].tolist())),
        TaskData(
            "tweets",
            token_ids(tok, data.te_train["text"].tolist()),
            tweet_targets(data.te_train),
            TWEET_WINDOW,
        ),
    ]
    val: ValSets = {
        "c3": (val_ids(data.c3_val["text"].tolist()), c3_targets(data.c3_val)),
        "tweeteval": (val_ids(data.te_val["text"].tolist()), tweet_targets(data.te_val)),
    }
    for c in corpora:
        ids = token_ids(tok, c.train["text"].tolist())
        sources.append(TaskData(c.name, ids, corpus_targets(c.train, c.heads), CORPUS_WINDOW.get(c.name, 64)))
        val[c.name] = (val_ids(c.val["text"].tolist()), corpus_targets(c.val, c.heads))
    return sources, val


def training_tasks(
    data: Any, corpora: Sequence[Corpus], tok: Any, config: FinetuneConfig
) -> tuple[list[TaskData], ValSets]:
    """Training tasks and validation sets (token ids cut to the scoring length, targets) of every corpus."""
    sources, val = task_sources(data, corpora, tok)
    return [shape_task(t, config) for t in sources], val


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
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(encoder_dir), local_files_only=True)
    t0 = time.perf_counter()
    tasks, val = training_tasks(data, corpora, tok, config)
    log(f"tokenised in {time.perf_counter() - t0:.1f}s")
    net = build_tone_net(encoder_dir, len(HEADS))
    if init_from is not None:
        from safetensors.torch import load_file

        net.load_state_dict(load_file(str(init_from)), strict=False)
        log(f"continuing from {init_from}")
    return train_stage(net, tasks, val, int(tok.pad_token_id or 0), work_dir, config, log=log)


def train_stage(
    net: Any,
    tasks: Sequence[TaskData],
    val: ValSets,
    pad_id: int,
    work_dir: Path,
    config: FinetuneConfig,
    *,
    log: Any = print,
) -> dict[str, Any]:
    """Train ``net`` on ``tasks``; after every epoch, ``epoch{N}.safetensors`` (float32) and
    ``epoch{N}_val.npz`` under ``work_dir`` and a row of validation ROC-AUCs in ``history.json``."""
    from safetensors.torch import save_file

    work_dir.mkdir(parents=True, exist_ok=True)
    log("training examples per epoch: " + ", ".join(f"{t.name} {len(t.ids)}" for t in tasks))
    head_weights = np.array([1.0, 1.0] + [config.attr_weight] * len(ATTRIBUTES), dtype=np.float32)
    history: list[dict[str, Any]] = []

    def on_epoch(epoch: int, model: Any) -> None:
        probs = {name: predict(model, ids, pad_id) for name, (ids, _) in val.items()}
        save_file(
            {k: v.float().cpu() for k, v in trained_state(model).items()},
            str(work_dir / f"epoch{epoch}.safetensors"),
        )
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
