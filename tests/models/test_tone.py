"""Tone model: text preparation, training end to end on tiny data, scoring edge cases, the real weights."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.tone import (
    ATTRIBUTES,
    ENCODER_FILE,
    META_FILE,
    TONES,
    MiniLMTone,
    ToneScore,
    ToneWeightsMissing,
    load_weights,
    prepare_text,
    score_frame,
)

# --------------------------------------------------------------------------------------------- prepare_text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", ""),
        ("   \n\t ", ""),
        ("@JohnSmith thanks", "@user thanks"),
        ("hi @alice@mastodon.social and @bob_1!", "hi @user and @user!"),
        ("email me at a@b.com", "email me at a@b.com"),
        ("read https://example.org/x?y=1 and www.nhs.uk/page now", "read http and http now"),
        ("#CamelCaseTag", "camel case tag"),
        ("#NHSCrisis #junior_doctors #NHS #Covid19", "nhs crisis junior doctors nhs covid 19"),
        ("too   many\n\nspaces\t here ", "too many spaces here"),
        ("fish &amp; chips", "fish & chips"),
        ("😡😡😡", "😡😡😡"),
        ("Der NHS ist überlastet", "Der NHS ist überlastet"),
        # where spaCy's tokens went wrong on the training data (see the model card)
        ("democrats.this is it", "democrats.this is it"),
        (".@USER hi", ".@user hi"),
        ("Ireland.'http://x.org/a.html Welcome", "Ireland.'http Welcome"),
    ],
)
def test_prepare_text(raw: str, expected: str) -> None:
    assert prepare_text(raw) == expected


def test_prepare_text_is_idempotent_and_tolerates_non_strings() -> None:
    text = "@x Look at #WaitingTimes https://t.co/abc &amp; weep"
    once = prepare_text(text)
    assert prepare_text(once) == once
    assert prepare_text(None) == ""  # type: ignore[arg-type]
    assert prepare_text(float("nan")) == ""  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------- training


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
    from models import train_tone

    work = tmp_path / "work"
    args = ["--datasets", str(tiny_datasets), "--encoder", str(tiny_encoder_dir), "--limit", "36"]
    assert train_tone.main([*args, "--out", str(tmp_path / "a"), "--work-dir", str(work), "--no-speed"]) == 0
    (work / "epoch1.safetensors").unlink()  # proves the second run does not train again
    assert (
        train_tone.main(
            [*args, "--out", str(tmp_path / "b"), "--work-dir", str(work), "--resume", "--no-speed"]
        )
        == 0
    )
    assert (tmp_path / "a" / ENCODER_FILE).read_bytes() == (tmp_path / "b" / ENCODER_FILE).read_bytes()


def test_datasets_dir_from_environment(tiny_datasets: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from models import train_tone

    monkeypatch.setenv("COMMONGROUND_DATASETS_DIR", str(tiny_datasets))
    assert train_tone.datasets_dir(None) == tiny_datasets
    monkeypatch.setenv("COMMONGROUND_DATASETS_DIR", str(tiny_datasets / "missing"))
    with pytest.raises(SystemExit, match="--datasets"):
        train_tone.datasets_dir(None)


def test_parse_counts() -> None:
    from models.tone_data import parse_counts

    assert parse_counts("solution:2\nno_con:1\nevidence:1") == {"solution": 2, "no_con": 1, "evidence": 1}
    assert parse_counts(float("nan")) == {}
    assert parse_counts("garbage\nx:y") == {}


# --------------------------------------------------------------------------------------------- scoring


def test_scores_are_well_formed(tiny_model: MiniLMTone) -> None:
    scores = tiny_model.score(["we should fund more nurses", "shut up you idiot"])
    assert len(scores) == 2
    for s in scores:
        assert isinstance(s, ToneScore)
        assert 0.0 <= s.constructive <= 1.0 and 0.0 <= s.hostile <= 1.0
        assert s.tone in TONES
        assert set(s.attributes) == set(tiny_model.attributes)
        expected = "hostile" if s.is_hostile else ("constructive" if s.is_constructive else "neutral")
        assert s.tone == expected
    assert tiny_model.version.startswith("minilm-tone-2+")


def test_edge_inputs(tiny_model: MiniLMTone) -> None:
    texts = [
        "",
        " ",
        "😀😀🎉",
        "nhs " * 2500,
        "Der NHS ist überlastet, und die Wartelisten wachsen.",
        "医療 制度",
    ]
    assert len(texts[3]) == 10_000
    scores = tiny_model.score(texts)
    assert len(scores) == len(texts)
    for s in scores[:2]:  # empty / whitespace: not encoded, neutral, every probability 0
        assert s.tone == "neutral"
        assert s.constructive == 0.0 and s.hostile == 0.0
        assert not s.is_constructive and not s.is_hostile
        assert all(v == 0.0 for v in s.attributes.values())
    for s in scores[2:]:
        assert np.isfinite([s.constructive, s.hostile, *s.attributes.values()]).all()
    assert tiny_model.texts_encoded == 4
    assert tiny_model.score([]) == []


def test_identical_texts_are_encoded_once(tiny_model: MiniLMTone) -> None:
    base = "the nhs needs more staff"
    texts = [base, "shut up", base, f"  {base}  ", "shut   up", base, ""]
    scores = tiny_model.score(texts)
    assert tiny_model.texts_encoded == 2  # after preparation there are two distinct texts
    assert scores[0] == scores[2] == scores[3] == scores[5]
    assert scores[1] == scores[4]


def test_input_order_preserved(tiny_model: MiniLMTone) -> None:
    texts = [
        "a much longer text about waiting list data and funding for the hospital ward staff and nurses",
        "lol",
        "thank you",
        "i hate this stupid plan",
        "nhs",
    ]
    batch = tiny_model.score(texts)
    single = [tiny_model.score([t])[0] for t in texts]
    for b, s in zip(batch, single, strict=True):
        assert b.constructive == pytest.approx(s.constructive, abs=1e-5)
        assert b.hostile == pytest.approx(s.hostile, abs=1e-5)
    reversed_scores = tiny_model.score(texts[::-1])[::-1]
    for b, r in zip(batch, reversed_scores, strict=True):
        assert b.constructive == pytest.approx(r.constructive, abs=1e-5)


def test_one_bad_text_does_not_break_the_batch(tiny_model: MiniLMTone) -> None:
    real = tiny_model.tokenizer

    class Flaky:
        def __getattr__(self, name: str):
            return getattr(real, name)

        def __call__(self, texts, **kwargs):
            items = [texts] if isinstance(texts, str) else texts
            if any("BOOM" in t for t in items):
                raise ValueError("cannot tokenize")
            return real(texts, **kwargs)

    tiny_model.tokenizer = Flaky()  # type: ignore[assignment]
    with pytest.warns(UserWarning, match="BOOM"):
        scores = tiny_model.score(["fine text", "BOOM", "another fine text"])
    assert scores[1].tone == "neutral" and scores[1].hostile == 0.0
    assert scores[0].constructive > 0.0 and scores[2].constructive > 0.0


def test_score_frame(tiny_model: MiniLMTone) -> None:
    frame = score_frame(tiny_model, ["we should fund nurses", "", "shut up"])
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns[:5]) == ["constructive", "hostile", "is_constructive", "is_hostile", "tone"]
    assert [c for c in frame.columns if c.startswith("attr_")] == [f"attr_{a}" for a in tiny_model.attributes]
    assert frame.columns[-1] == "model_version"
    assert len(frame) == 3 and frame.loc[1, "tone"] == "neutral"
    assert (frame["model_version"] == tiny_model.version).all()
    assert frame["is_hostile"].dtype == bool


def test_version_changes_with_the_weights(tiny_model: MiniLMTone, tiny_heads: Path, tmp_path: Path) -> None:
    copy = tmp_path / "weights"
    shutil.copytree(tiny_heads.parent, copy)
    assert load_weights(copy).digest == tiny_model.weights.digest
    meta = json.loads((copy / META_FILE).read_text())
    meta["thresholds"]["hostile"] = 0.99
    (copy / META_FILE).write_text(json.dumps(meta))
    assert load_weights(copy).digest != tiny_model.weights.digest


def test_missing_weights_say_how_to_fix(tiny_encoder_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ToneWeightsMissing, match=r"python -m models\.train_tone"):
        MiniLMTone(tiny_encoder_dir, tmp_path / "tone_heads.safetensors")
    with pytest.raises(FileNotFoundError):
        load_weights(tmp_path)


def test_unknown_model_name() -> None:
    from models.tone import load_tone_model

    with pytest.raises(ValueError, match="minilm-tone"):
        load_tone_model("no-such-model")
    with pytest.raises(ValueError, match="HEAD=HUB_ID_OR_DIR"):
        load_tone_model("angry=somewhere")


def test_models_do_not_import_the_app() -> None:
    import ast

    models_dir = Path(__file__).resolve().parents[2] / "models"
    for path in [models_dir / "train_tone.py", *models_dir.glob("tone*.py")]:
        name = path.name
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            mods = []
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                mods = [node.module]
            for m in mods:
                assert m.split(".")[0] not in {"flows", "warehouse", "dashboard"}, (name, m)


# --------------------------------------------------------------------------------------------- real model


@pytest.mark.slow
def test_real_weights_rank_obvious_examples() -> None:
    from models.tone import load_tone_model

    model = load_tone_model()
    hostile = "You are a pathetic idiot and a liar, shut your stupid mouth."
    constructive = (
        "The waiting list data suggests we need more community nurses; funding district nursing would free "
        "hospital beds and cut delays for patients, as the King's Fund evidence shows."
    )
    h, c = model.score([hostile, constructive])
    assert h.hostile > c.hostile
    assert c.constructive > h.constructive
    assert h.tone == "hostile"
    assert c.tone != "hostile"
    assert model.version.startswith("minilm-tone-2+")


def test_training_fits_the_calibration_on_validation(tiny_encoder_dir: Path, tmp_path: Path) -> None:
    """With enough validation rows, training fits the calibration layers, reports them out of fold, and
    the written model applies them."""
    from models import train_tone

    from ..conftest import write_datasets

    data = write_datasets(tmp_path / "data", n=150)
    out = tmp_path / "out"
    args = ["--datasets", str(data), "--encoder", str(tiny_encoder_dir), "--out", str(out)]
    # the ranking loss and length-balanced sampling run end to end too
    extra = ["--no-speed", "--epochs", "1", "--pair-weight", "0.5", "--c3-balance", "1"]
    assert train_tone.main([*args, "--work-dir", str(tmp_path / "work"), *extra]) == 0
    meta = json.loads((out / META_FILE).read_text())
    con = meta["calibration"]["constructive"]
    assert set(con) == {"coef_logit", "coef_length", "intercept"}
    assert meta["training"]["config"]["c3_max_words"] == 60 and meta["training"]["config"]["c3_soft"] is True
    assert meta["training"]["config"]["pair_weight"] == 0.5
    assert meta["training"]["config"]["c3_balance"] == 1.0
    for key in ("without_calibration", "calibration_fitted_on_all_validation", "length_only"):
        assert key in meta["metrics"]
    card = (out / "MODEL_CARD.md").read_text()
    assert "Length calibration" in card and "out of fold" in card and "ranking loss (weight 0.5)" in card
    assert "Length-balanced sampling (strength 1.0)" in card
    model = MiniLMTone(tiny_encoder_dir, out)
    assert "constructive" in model.weights.calibration
    scores = model.score(["We could fund more training places.", "no"])
    assert all(0.0 <= s.constructive <= 1.0 for s in scores)
