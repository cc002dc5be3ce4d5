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


# --------------------------------------------------------------------------------------------- length trap


def test_c3_task_keeps_post_length_comments_with_soft_targets() -> None:
    import pandas as pd

    from models.tone import ATTRIBUTES
    from models.tone_finetune import FinetuneConfig
    from models.tone_stage import c3_task

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
    task = c3_task(c3, ids, FinetuneConfig(c3_max_words=60, c3_soft=True, c3_repeat=2))
    assert [x[1] for x in task.ids] == [0, 2, 3, 0, 2, 3]  # the 80-word comment is left out, twice over
    # the crowd's mean where there is one, the majority label where it is missing
    assert task.targets[:3, 0].tolist() == pytest.approx([0.6, 0.4, 0.0])
    hard = c3_task(c3, ids, FinetuneConfig(c3_max_words=None, c3_soft=False, c3_repeat=1))
    assert len(hard.ids) == 4 and hard.targets[:, 0].tolist() == [1.0, 1.0, 0.0, 0.0]


def test_length_balance_takes_the_label_out_of_the_band() -> None:
    from models.tone_stage import BALANCE_CAP, length_balance_weights

    rng = np.random.default_rng(0)
    words = rng.integers(1, 60, size=4000)
    target = (rng.random(4000) < np.clip(words / 60.0, 0.05, 0.95)).astype(float)  # longer: more often 1
    share = target.mean()
    band = np.digitize(words, [10, 20, 30, 40, 50])

    def weighted_shares(w: np.ndarray) -> list[float]:
        pos, neg = target * w[:, 0], (1 - target) * w[:, 1]
        return [float(pos[band == b].sum() / (pos[band == b].sum() + neg[band == b].sum())) for b in range(6)]

    raw = weighted_shares(np.ones((4000, 2)))
    assert raw[0] < 0.15 and raw[5] > 0.8  # the band predicts the label
    full = length_balance_weights(words, target, 1.0)
    assert weighted_shares(full) == pytest.approx([share] * 6, abs=1e-6)  # no cap reached here
    assert float((target * full[:, 0] + (1 - target) * full[:, 1]).mean()) == pytest.approx(1.0)
    half = weighted_shares(length_balance_weights(words, target, 0.5))
    assert raw[0] < half[0] < share < half[5] < raw[5]
    assert np.all(length_balance_weights(words, target, 0.0) == 1.0)
    # a band with almost no positives: the weight stops at the cap (before normalising)
    rare = np.where(band == 0, 0.0, target)
    rare[np.flatnonzero(band == 0)[0]] = 1.0
    w = length_balance_weights(words, rare, 1.0)
    n0 = int((band == 0).sum())
    neg_weight = (1 - rare.mean()) * n0 / (n0 - 1)  # the uncapped weight of the band's negatives
    assert w[band == 0, 0].max() / w[band == 0, 1].max() == pytest.approx(BALANCE_CAP / neg_weight, rel=1e-5)


def test_c3_task_carries_the_balance_weights_for_every_repeat() -> None:
    import pandas as pd

    from models.tone import ATTRIBUTES
    from models.tone_finetune import FinetuneConfig
    from models.tone_stage import c3_task

    texts = ["a b", "a b c", " ".join(["w"] * 45), " ".join(["w"] * 47), " ".join(["w"] * 80)]
    c3 = pd.DataFrame(
        {
            "comment_text": texts,
            "y": [0, 1, 1, 0, 1],
            "constructive": [0.0, 1.0, 1.0, 0.0, 1.0],
            **{f"n_{a}": [0] * 5 for a in ATTRIBUTES},
            "njudgements_constructiveness_expt": [5.0] * 5,
            "njudgements_toxicity_expt": [5.0] * 5,
        }
    )
    ids = [[101, i, 102] for i in range(5)]
    assert c3_task(c3, ids, FinetuneConfig()).balance is None  # off by default
    task = c3_task(c3, ids, FinetuneConfig(c3_balance=1.0, c3_repeat=2))
    assert task.balance is not None and task.balance.shape == (8, 2)
    assert np.array_equal(task.balance[:4], task.balance[4:])
    # each band already holds one of each, at the overall share of 1/2: nothing to reweight
    assert task.balance == pytest.approx(np.ones((8, 2)))


def test_length_calibration_is_fitted_out_of_fold_and_recovers_the_length_effect() -> None:
    from models.tone import Calibration, length_feature
    from models.train_tone import crossfit_calibrated, fit_calibration

    rng = np.random.default_rng(0)
    n = 600
    words = rng.integers(3, 120, size=n)
    texts = [" ".join(["w"] * int(k)) for k in words]
    content = rng.normal(size=n)
    y = (content + 1.5 * (np.log1p(words) - 3.5) + rng.normal(scale=0.5, size=n) > 0).astype(int)
    p_head = 1 / (1 + np.exp(-content))  # the head sees content only
    cal = fit_calibration(y, p_head, texts)
    assert cal is not None and cal["coef_length"] > 1.0 and cal["coef_logit"] > 1.0
    fitted = Calibration(**cal).apply(p_head, texts)
    oof = crossfit_calibrated(y, p_head, texts)
    assert oof.shape == (n,) and not np.allclose(oof, fitted)
    assert np.corrcoef(oof, fitted)[0, 1] > 0.95  # same model, other folds
    # longer text, same head probability: more constructive
    a, b = Calibration(**cal).apply(np.array([0.5, 0.5]), ["w " * 5, "w " * 50])
    assert b > a
    np.testing.assert_allclose(length_feature(["", "a b", "w " * 500]), np.log1p([0, 2, 200]))
    # too little data: no calibration, probabilities unchanged
    assert fit_calibration(y[:10], p_head[:10], texts[:10]) is None
    np.testing.assert_array_equal(crossfit_calibrated(y[:10], p_head[:10], texts[:10]), p_head[:10])


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
    from models.train_tone import fit_calibration

    cal = Calibration.from_meta({"coef_logit": 1.0, "coef_heads": {"abusive": 2.0}, "intercept": 0.5})
    p, abusive = np.array([0.5, 0.8]), np.array([0.5, 0.9])

    def logit(x: np.ndarray) -> np.ndarray:
        return np.log(x / (1 - x))

    expected = 1 / (1 + np.exp(-(logit(p) + 2.0 * logit(abusive) + 0.5)))
    np.testing.assert_allclose(cal.apply(p, ["a", "b"], {"abusive": abusive}), expected)
    with pytest.raises(ValueError, match="abusive"):
        cal.apply(p, ["a", "b"], {})
    # an informative second head gets a positive weight, an uninformative one about none
    rng = np.random.default_rng(1)
    n = 800
    signal, noise = rng.normal(size=n), rng.normal(size=n)
    y = (signal + rng.normal(scale=0.7, size=n) > 0).astype(int)
    head = 1 / (1 + np.exp(-(0.5 * signal + rng.normal(size=n))))
    fitted = fit_calibration(
        y,
        head,
        ["x"] * n,
        length=False,
        others={"abusive": 1 / (1 + np.exp(-signal)), "sarcastic": 1 / (1 + np.exp(-noise))},
    )
    assert fitted is not None and "coef_length" not in fitted
    assert fitted["coef_heads"]["abusive"] > 1.0 and abs(fitted["coef_heads"]["sarcastic"]) < 0.3


# --------------------------------------------------------------------------------------------- label noise


def test_label_noise_ceiling_reflects_how_split_the_votes_are() -> None:
    from models.tone_data import label_noise_ceiling

    rng = np.random.default_rng(0)
    judges = np.full(400, 5.0)
    # unanimous panels: the labels are almost certainly what any annotator would say
    votes = np.where(rng.random(400) < 0.4, 5.0, 0.0)
    clear = label_noise_ceiling(votes, judges, (votes > 2.5).astype(int))
    assert clear["mean"] > 0.97
    # 3-to-2 panels: the true rate is near one half, so even an oracle often disagrees with the majority
    votes = np.where(rng.random(400) < 0.5, 3.0, 2.0)
    split = label_noise_ceiling(votes, judges, (votes > 2.5).astype(int))
    assert split["mean"] < 0.8
    assert split["p05"] <= split["mean"] <= split["p95"]
    f1_only = label_noise_ceiling(votes, judges, (votes > 2.5).astype(int), metric="f1")
    assert 0.0 < f1_only["mean"] < 0.85
    # deterministic for a seed
    assert label_noise_ceiling(votes, judges, (votes > 2.5).astype(int)) == split
    with pytest.raises(ValueError, match="votes <= judges"):
        label_noise_ceiling(np.array([6.0]), np.array([5.0]), np.array([1]))


def test_pairwise_loss_rewards_the_crowd_order_and_skips_unlabelled() -> None:
    import torch

    from models.tone_finetune import pairwise_loss

    targets = torch.tensor([0.0, 0.4, 1.0, float("nan")])
    right = pairwise_loss(torch.tensor([-2.0, 0.0, 2.0, 9.0]), targets)
    wrong = pairwise_loss(torch.tensor([2.0, 0.0, -2.0, -9.0]), targets)
    assert float(right) < 0.2 < float(wrong)
    # the unlabelled text's score does not matter
    assert float(pairwise_loss(torch.tensor([-2.0, 0.0, 2.0, -9.0]), targets)) == pytest.approx(float(right))
    # targets within the margin make no pair; the loss is 0 but still part of the graph
    flat = torch.tensor([0.5, 0.6], requires_grad=True)
    none = pairwise_loss(flat, torch.tensor([0.2, 0.3]))
    assert float(none.detach()) == 0.0 and none.requires_grad
