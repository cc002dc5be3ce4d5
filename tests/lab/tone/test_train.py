"""Tone training end to end on tiny data: the files it writes, resuming, the calibration it fits."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lab.tone import train
from models.tone import ENCODER_FILE, META_FILE, MiniLMTone, load_weights
from models.tone_base import ATTRIBUTES

from ...conftest import write_datasets

REMOVED_OPTIONS = ("c3_soft", "c3_min_window", "pair_weight", "c3_balance")


def test_training_writes_loadable_weights(tiny_heads: Path, tiny_encoder_dir: Path) -> None:
    wdir = tiny_heads.parent
    meta = json.loads((wdir / META_FILE).read_text())
    weights = load_weights(wdir)
    assert weights.heads[:2] == ("constructive", "hostile")
    assert set(weights.heads[2:]) <= set(ATTRIBUTES)
    assert weights.state["heads.weight"].shape == (len(weights.heads), 32)
    assert not any(k.startswith("encoder.embeddings.word_embeddings") for k in weights.state)
    from safetensors.numpy import load_file

    assert {v.dtype for v in load_file(str(wdir / ENCODER_FILE)).values()} == {np.dtype("float16")}
    assert set(meta["thresholds"]) == set(weights.heads)
    for key in (
        "constructive_c3_val",
        "hostile_tweeteval_val",
        "attributes_c3_val",
        "encoder_only",
        "tfidf_only",
    ):
        assert key in meta["metrics"]
    assert "short_lt60w_macro_f1" in meta["metrics"]["constructive_c3_val"]
    assert set(meta["metrics"]["blend_grid"]) == {"constructive", "hostile"}
    assert meta["training"]["history"][0]["epoch"] == 1
    assert meta["datasets"]["limit"] == 36
    assert meta["speed"]["texts_per_second"] > 0
    card = (wdir / "MODEL_CARD.md").read_text()
    assert "CC BY-NC-SA 4.0" in card and "texts/s" in card and "Length trap" in card
    # the crowd-vote noise that caps the scores is measured and printed next to them
    ceiling = meta["metrics"]["label_noise_ceiling"]
    assert set(ceiling) <= {"f1_constructive", "short_lt60w_macro_f1"} and ceiling
    assert all(0.0 < c["p05"] <= c["mean"] <= c["p95"] <= 1.0 for c in ceiling.values())
    assert "Label-noise ceiling" in card
    assert sum(p.stat().st_size for p in wdir.iterdir()) < 5_000_000


def test_training_resumes_from_the_checkpoint(
    tiny_datasets: Path, tiny_encoder_dir: Path, tmp_path: Path
) -> None:
    """--resume re-does blending, calibration and the card from the saved checkpoint, without training."""
    work = tmp_path / "work"
    args = ["--datasets", str(tiny_datasets), "--encoder", str(tiny_encoder_dir), "--limit", "36"]
    assert train.main([*args, "--out", str(tmp_path / "a"), "--work-dir", str(work), "--no-speed"]) == 0
    (work / "epoch1.safetensors").unlink()  # proves the second run does not train again
    assert (
        train.main([*args, "--out", str(tmp_path / "b"), "--work-dir", str(work), "--resume", "--no-speed"])
        == 0
    )
    assert (tmp_path / "a" / ENCODER_FILE).read_bytes() == (tmp_path / "b" / ENCODER_FILE).read_bytes()


def test_datasets_come_from_the_setting(tiny_datasets: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMMONGROUND_DATASETS_DIR", str(tiny_datasets))
    assert train.resolve_datasets(None) == tiny_datasets
    assert train.resolve_datasets(tiny_datasets) == tiny_datasets
    monkeypatch.setenv("COMMONGROUND_DATASETS_DIR", str(tiny_datasets / "missing"))
    with pytest.raises(SystemExit, match="--datasets"):
        train.resolve_datasets(None)


@pytest.mark.parametrize("flag", ["--pair-weight", "--c3-balance", "--c3-min-window", "--c3-hard-labels"])
def test_removed_options_are_gone(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        train.main([flag, "1"])
    assert "unrecognized arguments" in capsys.readouterr().err


def test_training_fits_the_calibration_on_validation(tiny_encoder_dir: Path, tmp_path: Path) -> None:
    """With enough validation rows, training fits the calibration layers, reports them out of fold, and
    the written model applies them."""
    data = write_datasets(tmp_path / "data", n=150)
    out = tmp_path / "out"
    args = ["--datasets", str(data), "--encoder", str(tiny_encoder_dir), "--out", str(out)]
    extra = ["--no-speed", "--epochs", "1"]
    assert train.main([*args, "--work-dir", str(tmp_path / "work"), *extra]) == 0
    meta = json.loads((out / META_FILE).read_text())
    con = meta["calibration"]["constructive"]
    assert set(con) == {"coef_logit", "coef_length", "intercept"}
    config = meta["training"]["config"]
    assert config["c3_max_words"] == 60 and config["c3_repeat"] == 2
    assert not set(REMOVED_OPTIONS) & set(config)
    for key in ("without_calibration", "calibration_fitted_on_all_validation", "length_only"):
        assert key in meta["metrics"]
    card = (out / "MODEL_CARD.md").read_text()
    assert "Length calibration" in card and "out of fold" in card
    assert "the crowd's mean constructiveness score" in card
    model = MiniLMTone(tiny_encoder_dir, out)
    assert "constructive" in model.weights.calibration
    scores = model.score(["We could fund more training places.", "no"])
    assert all(0.0 <= s.constructive <= 1.0 for s in scores)
