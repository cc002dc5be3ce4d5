"""Tone model parts: Hugging Face head overrides, the int8 path, the constructive combination (a
calibration layer over the heads' logits)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from models.tone import META_FILE, MiniLMTone
from models.tone_base import HOSTILE_SIDE, UNSCORED, ToneScore, prepare_text
from models.tone_combine import Calibration, combination_from_meta

FRENCH = "Les délais aux urgences sont beaucoup trop longs, il faut embaucher plus d'infirmières."


def logit(p: np.ndarray) -> np.ndarray:
    return np.log(p / (1 - p))


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
    texts = ["shut up you idiot", "", "we should fund nurses", "shut up you idiot", FRENCH]
    scores = model.score(texts)
    base = tiny_model.score(texts)
    expected = clf.probabilities(["shut up you idiot", "we should fund nurses"])
    assert scores[0].hostile == pytest.approx(float(expected[0]), abs=1e-6)
    assert scores[2].hostile == pytest.approx(float(expected[1]), abs=1e-6)
    assert scores[0] == scores[3]
    # what the shipped model cannot judge stays unscored: the classifier does not give it a number
    for i, reason in ((1, "empty"), (4, "not English (fr)")):
        assert scores[i].tone == base[i].tone == UNSCORED and scores[i].unscored_reason == reason
        assert np.isnan(scores[i].hostile) and np.isnan(scores[i].constructive) and not scores[i].is_hostile
    assert scores[2].constructive == base[2].constructive  # other heads come from the shipped model
    assert all(s.is_hostile == (s.hostile >= 0.5) for s in (scores[0], scores[2]))
    assert model.version.startswith(tiny_model.version + "|hostile=")


def test_hugging_face_model_that_cannot_load_says_how_to_fix(tmp_path: Path) -> None:
    from models.tone_hf import SequenceClassifier

    with pytest.raises(ValueError, match="sequence-classification"):
        SequenceClassifier(str(tmp_path), "hostile")


class _Always:
    """A stand-in classifier that calls every text hostile."""

    name = "always-hostile"

    def probabilities(self, texts: list[str]) -> np.ndarray:
        return np.full(len(texts), 0.99)


def test_an_override_that_changes_the_tone_changes_the_reasons(
    tiny_encoder_dir: Path, tiny_heads: Path, tmp_path: Path
) -> None:
    import json
    import shutil

    from models.tone_hf import HeadOverride

    constructive_dir = tmp_path / "all_constructive"
    shutil.copytree(tiny_heads.parent, constructive_dir)
    meta = json.loads((constructive_dir / META_FILE).read_text())
    meta["thresholds"].update({"constructive": 0.0, "hostile": 1.01})  # every post constructive
    (constructive_dir / META_FILE).write_text(json.dumps(meta))
    base = MiniLMTone(tiny_encoder_dir, constructive_dir)
    texts = ["we should fund nurses because the evidence suggests it", "thank you"]
    assert all(s.tone == "constructive" for s in base.score(texts))
    model = HeadOverride(base, {"hostile": _Always()})  # type: ignore[dict-item]
    for s in model.score(texts):
        assert s.tone == "hostile"
        assert s.reasons == ("hostile",) or set(s.reasons) <= set(HOSTILE_SIDE), s.reasons


def test_int8_path_agrees_with_fp32(tiny_encoder_dir: Path, tiny_heads: Path, tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    fp32 = MiniLMTone(tiny_encoder_dir, tiny_heads)
    int8 = MiniLMTone(tiny_encoder_dir, tiny_heads, runtime="onnx-int8")
    texts = ["we should fund nurses because the evidence suggests it", "shut up you idiot", "lol"]
    a, b = fp32.score([*texts, "", FRENCH]), int8.score([*texts, "", FRENCH])
    for x, y in zip(a[:3], b[:3], strict=True):
        assert x.constructive == pytest.approx(y.constructive, abs=0.05)
        assert x.hostile == pytest.approx(y.hostile, abs=0.05)
    for x, y in zip(a[3:], b[3:], strict=True):  # the language check runs before either runtime
        assert x.tone == y.tone == UNSCORED and x.unscored_reason == y.unscored_reason
    assert int8.version == fp32.version + "-onnx-int8"


def _copy_with_calibration(tiny_heads: Path, path: Path, calibration: dict[str, Any]) -> Path:
    import json
    import shutil

    shutil.copytree(tiny_heads.parent, path)
    meta = json.loads((path / META_FILE).read_text())
    meta["calibration"] = calibration
    (path / META_FILE).write_text(json.dumps(meta))
    return path


TEXTS = ["We could publish the waiting times per trust.", "ok", "shut up you idiot, useless liar"]


def test_scoring_applies_the_stored_combination_of_heads(
    tiny_encoder_dir: Path, tiny_heads: Path, tmp_path: Path
) -> None:
    """constructive = sigmoid(coef_logit · logit(C3 head) + Σ c · logit(other head) + intercept), read from
    tone_model.json; every other head is left as the network gives it."""
    raw_dir = _copy_with_calibration(tiny_heads, tmp_path / "raw", {})
    combination = {"coef_logit": 0.5, "coef_heads": {"reasoning": 1.0, "hostile": -2.0}, "intercept": -1.0}
    combined_dir = _copy_with_calibration(tiny_heads, tmp_path / "combined", {"constructive": combination})
    raw_model = MiniLMTone(tiny_encoder_dir, raw_dir)
    raw = raw_model.probabilities(TEXTS)
    combined_model = MiniLMTone(tiny_encoder_dir, combined_dir)
    combined = combined_model.probabilities(TEXTS)
    heads = raw_model.weights.heads
    col = {h: raw[:, heads.index(h)] for h in heads}
    expected = 0.5 * logit(col["constructive"]) + logit(col["reasoning"]) - 2.0 * logit(col["hostile"]) - 1.0
    np.testing.assert_allclose(logit(combined[:, 0]), expected, atol=1e-3)
    np.testing.assert_allclose(combined[:, 1:], raw[:, 1:])  # only constructive is combined
    assert combined_model.version != raw_model.version
    scores = combined_model.score(TEXTS)
    assert [s.constructive for s in scores] == pytest.approx(combined[:, 0].tolist(), abs=1e-6)


def test_the_trained_model_applies_the_combination_training_chose(
    tiny_encoder_dir: Path, tiny_heads: Path, tmp_path: Path
) -> None:
    import json

    meta = json.loads((tiny_heads.parent / META_FILE).read_text())
    chosen = meta["calibration"]["constructive"]
    logistic = {"coef_logit", "coef_heads", "intercept"}
    trees = {"form", "inputs", "baseline", "trees", "max_depth", "learning_rate", "max_iter"}
    assert set(chosen) == trees or logistic <= set(chosen) <= logistic | {"coef_length"}
    trained = MiniLMTone(tiny_encoder_dir, tiny_heads)
    assert set(trained.weights.calibration) == {"constructive"}
    raw_model = MiniLMTone(tiny_encoder_dir, _copy_with_calibration(tiny_heads, tmp_path / "raw", {}))
    raw = raw_model.probabilities(TEXTS)
    heads = {h: raw[:, i] for i, h in enumerate(raw_model.weights.heads)}
    expected = combination_from_meta(chosen).apply(
        heads["constructive"], heads, [prepare_text(t) for t in TEXTS]
    )
    np.testing.assert_allclose(trained.probabilities(TEXTS)[:, 0], expected, atol=1e-5)


def test_a_combination_needing_a_head_the_model_lacks_fails_loudly(
    tiny_encoder_dir: Path, tiny_heads: Path, tmp_path: Path
) -> None:
    bad = {"constructive": {"coef_logit": 1.0, "coef_heads": {"affinity": 1.0}, "intercept": 0.0}}
    model = MiniLMTone(tiny_encoder_dir, _copy_with_calibration(tiny_heads, tmp_path / "bad", bad))
    with pytest.raises(ValueError, match="affinity"):
        model.score(["we should fund nurses"])


def test_calibration_combines_the_logits_of_other_heads() -> None:
    cal = Calibration.from_meta({"coef_logit": 1.0, "coef_heads": {"respect": 2.0}, "intercept": 0.5})
    assert cal.coef_heads == (("respect", 2.0),)
    p, respect = np.array([0.5, 0.8]), np.array([0.5, 0.9])
    expected = 1 / (1 + np.exp(-(logit(p) + 2.0 * logit(respect) + 0.5)))
    np.testing.assert_allclose(cal.apply(p, {"respect": respect}), expected)
    with pytest.raises(ValueError, match="respect"):
        cal.apply(p, {})
    with pytest.raises(ValueError, match="respect"):
        cal.apply(p)
    # without a C3 term (coef_logit 0) the head's own probability does not matter
    no_c3 = Calibration.from_meta({"coef_logit": 0.0, "coef_heads": {"respect": 1.0}, "intercept": 0.0})
    np.testing.assert_allclose(
        no_c3.apply(np.array([0.1, 0.9]), {"respect": np.array([0.7, 0.7])}), [0.7, 0.7]
    )
    identity = Calibration.from_meta({})
    np.testing.assert_allclose(identity.apply(np.array([0.2, 0.7])), [0.2, 0.7])


def test_a_score_has_reasons_and_no_unscored_reason_by_default() -> None:
    s = ToneScore(0.9, 0.1, True, False, "constructive", {"reasoning": 0.8})
    assert s.reasons == () and s.unscored_reason is None
