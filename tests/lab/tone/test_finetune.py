"""Fine-tuning parts: the random windows of long texts, the targets and tasks the stage builds from every
corpus, the per-epoch validation scores."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lab.tone.corpora import attribute_corpora
from lab.tone.data import C3_CHARACTERISTICS, load_data
from lab.tone.finetune import FinetuneConfig, window
from lab.tone.stage import (
    C3_HEADS,
    CORPUS_REPEAT,
    EVAL_MAX_LENGTH,
    HEADS,
    c3_targets,
    c3_task,
    corpus_targets,
    epoch_scores,
    training_tasks,
    tweet_targets,
)
from models.tone_base import ATTRIBUTES


def test_heads_are_constructive_hostile_then_every_attribute() -> None:
    assert ("constructive", "hostile", *ATTRIBUTES) == HEADS
    assert set(C3_HEADS) <= set(ATTRIBUTES)


def test_window_keeps_cls_and_sep_and_the_width() -> None:
    ids = [101, *range(1, 200), 102]
    rng = random.Random(0)
    for _ in range(20):
        w = window(ids, 64, rng)
        assert len(w) == 64 and w[0] == 101 and w[-1] == 102
        start = ids.index(w[1])
        assert w[1:-1] == ids[start : start + 62]
    assert window(ids, 64, None) == [101, *range(1, 63), 102]
    assert window([101, 5, 102], 64, rng) == [101, 5, 102]


def _c3(**counts: list[float]) -> pd.DataFrame:
    n = 4
    return pd.DataFrame(
        {
            "comment_text": ["short and sweet", " ".join(["long"] * 80), "another short one", "x y"],
            "y": [1, 1, 0, 0],
            "constructive": [0.6, 1.0, 0.4, float("nan")],
            **{f"n_{a}": counts.get(a, [0.0] * n) for a in C3_CHARACTERISTICS},
            "njudgements_constructiveness_expt": [5.0, 4.0, float("nan"), 5.0],
            "njudgements_toxicity_expt": [3.0] * n,
        }
    )


def test_c3_task_keeps_post_length_comments_with_soft_targets() -> None:
    c3 = _c3()
    ids = [[101, i, 102] for i in range(4)]
    task = c3_task(c3, ids, FinetuneConfig(c3_max_words=60, c3_repeat=2))
    assert [x[1] for x in task.ids] == [0, 2, 3, 0, 2, 3]  # the 80-word comment is left out, twice over
    # the crowd's mean where there is one, the majority label where it is missing
    assert task.targets[:3, 0].tolist() == pytest.approx([0.6, 0.4, 0.0])
    every = c3_task(c3, ids, FinetuneConfig(c3_max_words=None, c3_repeat=1))
    assert len(every.ids) == 4 and every.targets[:, 0].tolist() == pytest.approx([0.6, 1.0, 0.4, 0.0])


def test_c3_targets_are_shares_of_annotators_on_the_heads_c3_labels() -> None:
    c3 = _c3(specific_points=[5.0, 2.0, 1.0, 0.0], personal_attack=[0.0, 3.0, 1.0, 9.0])
    t = c3_targets(c3)
    assert t.shape == (4, len(HEADS))
    # shares of the constructiveness judges (5 when the count is missing), of the toxicity judges for insult
    assert t[:, HEADS.index("reasoning")].tolist() == pytest.approx([1.0, 0.5, 0.2, 0.0])
    assert t[:, HEADS.index("insult")].tolist() == pytest.approx([0.0, 1.0, 1 / 3, 1.0])  # capped at 1
    labelled = {"constructive", *C3_HEADS}
    for j, head in enumerate(HEADS):
        assert np.isnan(t[:, j]).all() == (head not in labelled), head  # hostile, curiosity, ...: unlabelled


def test_corpus_and_tweet_targets_leave_other_heads_unlabelled() -> None:
    df = pd.DataFrame({"text": ["a", "b"], "respect": [0.25, 1.0], "y": [1, 0]})
    t = corpus_targets(df, ("respect",))
    assert t[:, HEADS.index("respect")].tolist() == [0.25, 1.0]
    assert np.isnan(np.delete(t, HEADS.index("respect"), axis=1)).all()
    tweets = tweet_targets(df)
    assert tweets[:, HEADS.index("hostile")].tolist() == [1.0, 0.0]
    assert np.isnan(np.delete(tweets, HEADS.index("hostile"), axis=1)).all()


def test_training_tasks_cover_every_corpus(tiny_datasets: Path, tiny_encoder_dir: Path) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny_encoder_dir), local_files_only=True)
    data = load_data(tiny_datasets, None)
    corpora = attribute_corpora(tiny_datasets)
    tasks, val = training_tasks(data, corpora, tok, FinetuneConfig())
    by_name = {t.name: t for t in tasks}
    assert list(by_name) == ["c3", "tweets", *(c.name for c in corpora)]
    assert list(val) == ["c3", "tweeteval", *(c.name for c in corpora)]
    for c in corpora:
        task = by_name[c.name]
        assert len(task.ids) == len(c.train) * CORPUS_REPEAT.get(c.name, 1)
        assert task.targets.shape == (len(task.ids), len(HEADS))
        ids, targets = val[c.name]
        assert len(ids) == len(targets) == len(c.val)
        assert all(x[0] == tok.cls_token_id and len(x) <= EVAL_MAX_LENGTH for x in ids)
        supervised = {HEADS[j] for j in range(len(HEADS)) if not np.isnan(targets[:, j]).all()}
        assert supervised <= set(c.heads), c.name  # a head the corpus does not label stays NaN
    assert len(val["c3"][0]) == len(data.c3_val) and len(val["tweeteval"][0]) == len(data.te_val)


def test_epoch_scores_skip_heads_a_corpus_cannot_measure() -> None:
    targets = np.full((4, len(HEADS)), np.nan, dtype=np.float32)
    targets[:, HEADS.index("respect")] = [0.9, 0.8, 0.1, 0.2]
    targets[:, HEADS.index("hostile")] = [0.0, 0.0, 0.0, 0.0]  # one class: no ROC-AUC
    probs = np.zeros((4, len(HEADS)), dtype=np.float32)
    probs[:, HEADS.index("respect")] = [0.7, 0.2, 0.3, 0.1]
    assert epoch_scores({"polite": (targets, probs)}) == {"polite/respect": 0.75}
