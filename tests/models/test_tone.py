"""Tone model: text preparation, scoring edge cases, the model version, the real weights.

Training is tested in ``tests/lab/tone``; the tiny model these tests score with comes from there too
(the ``tiny_heads`` fixture trains it with ``lab.tone.train``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.tone import META_FILE, MiniLMTone, ToneWeightsMissing, load_weights, score_frame
from models.tone_base import TONES, ToneScore, prepare_text

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
    with pytest.raises(ToneWeightsMissing, match=r"python -m lab\.tone\.train"):
        MiniLMTone(tiny_encoder_dir, tmp_path / "tone_heads.safetensors")
    with pytest.raises(FileNotFoundError):
        load_weights(tmp_path)


def test_unknown_model_name() -> None:
    from models.tone import load_tone_model

    with pytest.raises(ValueError, match="minilm-tone"):
        load_tone_model("no-such-model")
    with pytest.raises(ValueError, match="HEAD=HUB_ID_OR_DIR"):
        load_tone_model("angry=somewhere")


def test_the_scorer_imports_neither_the_app_nor_the_lab() -> None:
    import ast

    models_dir = Path(__file__).resolve().parents[2] / "models"
    for path in models_dir.glob("tone*.py"):
        name = path.name
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            mods = []
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                mods = [node.module]
            for m in mods:
                assert m.split(".")[0] not in {"flows", "warehouse", "dashboard", "lab"}, (name, m)


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
