"""The validation-side fits of tone training: the blend, the calibration layers, the threshold rule."""

from __future__ import annotations

import numpy as np

from lab.tone.calibration import blend, constructive_threshold, crossfit_calibrated, fit_calibration
from models.tone import Calibration
from models.tone_base import logit, sigmoid


def test_blend_is_the_logit_mix_scoring_uses() -> None:
    p_enc, p_lex = np.array([0.2, 0.7, 0.99], dtype=np.float32), np.array([0.6, 0.1, 0.5], dtype=np.float32)
    np.testing.assert_array_equal(blend(p_enc, p_lex, 0.2), sigmoid(0.8 * logit(p_enc) + 0.2 * logit(p_lex)))
    np.testing.assert_allclose(blend(p_enc, p_lex, 0.0), p_enc, rtol=1e-6)


def test_length_calibration_is_fitted_out_of_fold_and_recovers_the_length_effect() -> None:
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
    # too little data: no calibration, probabilities unchanged
    assert fit_calibration(y[:10], p_head[:10], texts[:10]) is None
    np.testing.assert_array_equal(crossfit_calibrated(y[:10], p_head[:10], texts[:10]), p_head[:10])


def test_an_informative_other_head_gets_the_weight() -> None:
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


def test_constructive_threshold_weighs_short_comments() -> None:
    # long comments are all constructive; among short ones only a high score is
    words = np.array([80, 80, 80, 10, 10, 10, 10])
    y = np.array([1, 1, 1, 1, 0, 0, 0])
    p = np.array([0.9, 0.9, 0.9, 0.8, 0.6, 0.3, 0.2])
    t, score = constructive_threshold(y, p, words)
    assert 0.6 < t <= 0.8 and score == 1.0
