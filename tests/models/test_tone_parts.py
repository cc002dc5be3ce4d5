"""Tone model parts: Hugging Face head overrides, the int8 path, the stored calibration layers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.tone import MiniLMTone


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


def test_scoring_applies_the_stored_calibration(
    tiny_encoder_dir: Path, tiny_heads: Path, tmp_path: Path
) -> None:
    import json
    import shutil

    from models.tone import META_FILE

    texts = ["We could publish the waiting times per trust.", "ok", "one two three four five six seven"]
    base_dir = tmp_path / "base"
    shutil.copytree(tiny_heads.parent, base_dir)
    meta = json.loads((base_dir / META_FILE).read_text())
    meta["calibration"] = {}
    (base_dir / META_FILE).write_text(json.dumps(meta))
    shifted_dir = tmp_path / "shifted"
    shutil.copytree(base_dir, shifted_dir)
    meta["calibration"] = {"constructive": {"coef_logit": 1.0, "coef_length": 1.0, "intercept": -2.0}}
    (shifted_dir / META_FILE).write_text(json.dumps(meta))
    base = MiniLMTone(tiny_encoder_dir, base_dir).probabilities(texts)
    shifted_model = MiniLMTone(tiny_encoder_dir, shifted_dir)
    shifted = shifted_model.probabilities(texts)

    def logit(p: np.ndarray) -> np.ndarray:
        return np.log(p / (1 - p))

    words = np.array([len(t.split()) for t in texts])
    np.testing.assert_allclose(logit(shifted[:, 0]) - logit(base[:, 0]), np.log1p(words) - 2.0, atol=1e-4)
    np.testing.assert_allclose(shifted[:, 1:], base[:, 1:])  # only the constructive head is calibrated
    assert shifted_model.version != MiniLMTone(tiny_encoder_dir, base_dir).version


def test_calibration_can_combine_other_heads() -> None:
    from models.tone import Calibration

    cal = Calibration.from_meta({"coef_logit": 1.0, "coef_heads": {"abusive": 2.0}, "intercept": 0.5})
    p, abusive = np.array([0.5, 0.8]), np.array([0.5, 0.9])

    def logit(x: np.ndarray) -> np.ndarray:
        return np.log(x / (1 - x))

    expected = 1 / (1 + np.exp(-(logit(p) + 2.0 * logit(abusive) + 0.5)))
    np.testing.assert_allclose(cal.apply(p, ["a", "b"], {"abusive": abusive}), expected)
    with pytest.raises(ValueError, match="abusive"):
        cal.apply(p, ["a", "b"], {})


def test_length_feature_is_capped() -> None:
    from models.tone import length_feature

    np.testing.assert_allclose(length_feature(["", "a b", "w " * 500]), np.log1p([0, 2, 200]))


def test_lexical_head_loads_and_scores(tmp_path: Path) -> None:
    from safetensors.numpy import save_file

    from models.tone_lexical import N_FEATURES, LexicalHead, hashed_counts

    idf = np.ones(N_FEATURES, dtype=np.float16)
    coef = np.zeros(N_FEATURES, dtype=np.float16)
    coef[hashed_counts(["nurses"]).indices] = 4.0  # "nurses" alone pushes the head up
    save_file({"constructive.idf": idf, "constructive.coef": coef}, str(tmp_path / "lex.safetensors"))
    meta = {"blend": {"constructive": 0.2}, "intercept": {"constructive": -1.0}, "n_features": N_FEATURES}
    head = LexicalHead.load(tmp_path / "lex.safetensors", meta)
    assert head.blend == {"constructive": 0.2}
    p = head.probabilities(["fund the nurses", "shut up"])
    assert p.shape == (2, 1) and p[0, 0] > 0.5 > p[1, 0]
    assert head.probabilities([]).shape == (0, 1)
    with pytest.raises(ValueError, match="hashed features"):
        LexicalHead.load(tmp_path / "lex.safetensors", {**meta, "n_features": 1024})
