"""Tone model parts: training windows, the lexical heads, Hugging Face head overrides, the int8 path."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from models.tone import MiniLMTone
from models.tone_finetune import window
from models.tone_lexical import LexicalHead


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


def test_random_width_windows_stay_in_range() -> None:
    from models.tone_finetune import TaskData, _width

    task = TaskData("c3", [], np.zeros((0, 2), dtype=np.float32), 64, min_window=16)
    rng = random.Random(0)
    widths = {_width(task, 300, rng) for _ in range(200)}
    assert min(widths) >= 16 and max(widths) <= 64 and len(widths) > 10
    assert _width(task, 40, rng) == 64  # a text that fits is never cut
    assert _width(TaskData("t", [], np.zeros((0, 2), dtype=np.float32), 64), 300, rng) == 64


def test_lexical_head_learns_and_round_trips(tmp_path: Path) -> None:
    good = [
        "we should fund more nurses because waiting lists grow",
        "the evidence suggests a plan for staff",
    ] * 10
    bad = ["shut up you idiot", "pathetic liar lol"] * 10
    y = np.array([1] * len(good) + [0] * len(bad))
    head = LexicalHead.fit({"constructive": (good + bad, y)}, blend={"constructive": 0.3}, c=4.0)
    p = head.probabilities(["we should fund nurses", "you idiot"])
    assert p.shape == (2, 1) and p[0, 0] > p[1, 0]
    meta = head.save(tmp_path / "lex.safetensors")
    again = LexicalHead.load(tmp_path / "lex.safetensors", meta)
    assert again.blend == {"constructive": 0.3}
    np.testing.assert_allclose(
        again.probabilities(["we should fund nurses"]),
        head.probabilities(["we should fund nurses"]),
        atol=2e-3,
    )
    assert head.probabilities([]).shape == (0, 1)


@pytest.fixture(scope="module")
def tiny_classifier_dir(tiny_encoder_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random BertForSequenceClassification with named labels, saved like a hub model."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    path = tmp_path_factory.mktemp("tiny_classifier")
    AutoTokenizer.from_pretrained(str(tiny_encoder_dir)).save_pretrained(str(path))
    config = BertConfig.from_pretrained(str(tiny_encoder_dir))
    config.num_labels = 2
    config.id2label = {0: "not-offensive", 1: "offensive"}
    config.label2id = {"not-offensive": 0, "offensive": 1}
    torch.manual_seed(1)
    BertForSequenceClassification(config).save_pretrained(str(path))
    return path


def test_hugging_face_model_replaces_the_hostile_head(
    tiny_model: MiniLMTone, tiny_classifier_dir: Path
) -> None:
    from models.tone_hf import HeadOverride, SequenceClassifier, parse_overrides

    spec = parse_overrides(f"hostile={tiny_classifier_dir}")
    assert spec == {"hostile": str(tiny_classifier_dir)}
    assert parse_overrides(str(tiny_classifier_dir)) == spec
    clf = SequenceClassifier(str(tiny_classifier_dir), "hostile")
    assert clf.positive == 1
    model = HeadOverride(tiny_model, {"hostile": clf})
    texts = ["shut up you idiot", "", "we should fund nurses", "shut up you idiot"]
    scores = model.score(texts)
    base = tiny_model.score(texts)
    expected = clf.probabilities(["shut up you idiot", "we should fund nurses"])
    assert scores[0].hostile == pytest.approx(float(expected[0]), abs=1e-6)
    assert scores[2].hostile == pytest.approx(float(expected[1]), abs=1e-6)
    assert scores[0] == scores[3]
    assert scores[1].tone == "neutral" and scores[1].hostile == 0.0
    assert scores[2].constructive == base[2].constructive  # other heads come from the shipped model
    assert all(s.is_hostile == (s.hostile >= 0.5) for s in (scores[0], scores[2]))
    assert model.version.startswith(tiny_model.version + "|hostile=")


def test_hugging_face_model_that_cannot_load_says_how_to_fix(tmp_path: Path) -> None:
    from models.tone_hf import SequenceClassifier

    with pytest.raises(ValueError, match="sequence-classification"):
        SequenceClassifier(str(tmp_path), "hostile")


def test_int8_path_agrees_with_fp32(tiny_encoder_dir: Path, tiny_heads: Path, tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    fp32 = MiniLMTone(tiny_encoder_dir, tiny_heads)
    int8 = MiniLMTone(tiny_encoder_dir, tiny_heads, runtime="onnx-int8")
    texts = ["we should fund nurses because the evidence suggests it", "shut up you idiot", "lol", ""]
    a, b = fp32.score(texts), int8.score(texts)
    for x, y in zip(a, b, strict=True):
        assert x.constructive == pytest.approx(y.constructive, abs=0.05)
        assert x.hostile == pytest.approx(y.hostile, abs=0.05)
    assert int8.version == fp32.version + "-onnx-int8"
