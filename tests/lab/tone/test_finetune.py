"""Fine-tuning parts: the random windows of long texts, the C3 task the stage builds."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from lab.tone.finetune import FinetuneConfig, window
from lab.tone.stage import c3_task
from models.tone_base import ATTRIBUTES


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


def test_c3_task_keeps_post_length_comments_with_soft_targets() -> None:
    c3 = pd.DataFrame(
        {
            "comment_text": ["short and sweet", " ".join(["long"] * 80), "another short one", "x y"],
            "y": [1, 1, 0, 0],
            "constructive": [0.6, 1.0, 0.4, float("nan")],
            **{f"n_{a}": [0, 0, 0, 0] for a in ATTRIBUTES},
            "njudgements_constructiveness_expt": [5.0] * 4,
            "njudgements_toxicity_expt": [5.0] * 4,
        }
    )
    ids = [[101, i, 102] for i in range(4)]
    task = c3_task(c3, ids, FinetuneConfig(c3_max_words=60, c3_repeat=2))
    assert [x[1] for x in task.ids] == [0, 2, 3, 0, 2, 3]  # the 80-word comment is left out, twice over
    # the crowd's mean where there is one, the majority label where it is missing
    assert task.targets[:3, 0].tolist() == pytest.approx([0.6, 0.4, 0.0])
    every = c3_task(c3, ids, FinetuneConfig(c3_max_words=None, c3_repeat=1))
    assert len(every.ids) == 4 and every.targets[:, 0].tolist() == pytest.approx([0.6, 1.0, 0.4, 0.0])
