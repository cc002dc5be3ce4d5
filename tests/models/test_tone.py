"""Tone model: text preparation, scoring edge cases, the model version, the real weights.

Training is tested in ``tests/lab/tone``; the tiny model these tests score with comes from there too
(the ``tiny_heads`` fixture trains it with ``lab.tone.train``). Its scores mean nothing: these tests check
the mechanics (unscored texts, reasons, versions), never the quality.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.tone import (
    ENCODER_FILE,
    META_FILE,
    SCHEMA_VERSION,
    MiniLMTone,
    ToneWeightsMissing,
    load_weights,
    score_frame,
)
from models.tone_base import BRIDGING, HOSTILE_SIDE, TONES, UNSCORED, ToneScore, prepare_text

FRENCH = "Les délais aux urgences sont beaucoup trop longs, il faut embaucher plus d'infirmières."

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
        # a sentence repeated later in the text is kept once (copy-paste spam says nothing more)
        ("Fund social care. Fund social care. Fund social care.", "Fund social care."),
        ("Fund it now! fund it NOW! Please.", "Fund it now! Please."),
        ("Waits are long. Staff are tired. Waits are long.", "Waits are long. Staff are tired."),
        ("Really? Really?", "Really?"),
        ("fund nurses fund nurses", "fund nurses fund nurses"),  # no sentence boundary: left alone
        ("Fund @alice now. Fund @bob now.", "Fund @user now."),  # the same once mentions are @user
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


def _check_reasons(s: ToneScore, attributes: tuple[str, ...]) -> None:
    """The reasons of a scored post: at most three distinct attributes, drawn from the side of its tone."""
    assert isinstance(s.reasons, tuple) and len(s.reasons) <= 3
    assert len(set(s.reasons)) == len(s.reasons)
    if s.tone == "constructive":
        assert s.reasons and set(s.reasons) <= set(BRIDGING)
    elif s.tone == "hostile":
        assert s.reasons == ("hostile",) or (s.reasons and set(s.reasons) <= set(HOSTILE_SIDE))
    else:
        assert set(s.reasons) <= set(attributes)


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
        assert s.unscored_reason is None
        _check_reasons(s, tiny_model.attributes)
    assert tiny_model.attributes == (*BRIDGING, *HOSTILE_SIDE)
    assert tiny_model.version.startswith(f"minilm-tone-{SCHEMA_VERSION}+")


def _assert_unscored(s: ToneScore, reason: str, attributes: tuple[str, ...]) -> None:
    assert s.tone == UNSCORED and s.unscored_reason == reason
    assert np.isnan(s.constructive) and np.isnan(s.hostile)
    assert not s.is_constructive and not s.is_hostile
    assert set(s.attributes) == set(attributes) and all(np.isnan(v) for v in s.attributes.values())
    assert s.reasons == ()


def test_texts_it_cannot_judge_come_back_unscored_with_the_reason(tiny_model: MiniLMTone) -> None:
    texts = [
        "",
        " \n\t",
        "😀😀🎉",
        "@someone https://t.co/abc",
        FRENCH,
        "Der NHS ist überlastet, und die Wartelisten wachsen.",
        "医療 制度",
        "nhs " * 2500,
        "we should fund more nurses",
    ]
    assert len(texts[7]) == 10_000
    scores = tiny_model.score(texts)
    assert len(scores) == len(texts)
    expected = ["empty", "empty", "no words", "no words", "not English (fr)", "not English (de)"]
    for s, reason in zip(scores, expected, strict=False):
        _assert_unscored(s, reason, tiny_model.attributes)
    assert scores[6].tone == UNSCORED and (scores[6].unscored_reason or "").startswith("not English (")
    for s in scores[7:]:  # 10,000 characters of English is scored (truncated), not refused
        assert s.tone in TONES and s.unscored_reason is None
        assert np.isfinite([s.constructive, s.hostile, *s.attributes.values()]).all()
    assert tiny_model.texts_encoded == 2  # nothing it cannot judge goes through the encoder
    assert tiny_model.score([]) == []


def test_identical_texts_are_encoded_once(tiny_model: MiniLMTone) -> None:
    base = "the nhs needs more staff"
    texts = [base, "shut up", base, f"  {base}  ", "shut   up", base, ""]
    scores = tiny_model.score(texts)
    assert tiny_model.texts_encoded == 2  # after preparation there are two distinct texts
    assert scores[0] == scores[2] == scores[3] == scores[5]
    assert scores[1] == scores[4]
    assert scores[6].tone == UNSCORED


def test_a_repeated_sentence_is_read_once(tiny_model: MiniLMTone) -> None:
    post = "We should fund more district nurses. The waiting list data supports it."
    pasted = " ".join([post] * 50)
    once, many = tiny_model.score([post, pasted])
    assert tiny_model.texts_encoded == 1  # prepared, the two are the same text
    assert many == once


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
    _assert_unscored(scores[1], "unreadable", tiny_model.attributes)
    assert scores[0].constructive > 0.0 and scores[2].constructive > 0.0


def test_score_frame(tiny_model: MiniLMTone) -> None:
    texts = ["we should fund nurses", "", "shut up", FRENCH, "😡😡"]
    frame = score_frame(tiny_model, texts)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns[:7]) == [
        "constructive",
        "hostile",
        "is_constructive",
        "is_hostile",
        "tone",
        "reasons",
        "unscored_reason",
    ]
    assert [c for c in frame.columns if c.startswith("attr_")] == [f"attr_{a}" for a in tiny_model.attributes]
    assert frame.columns[-1] == "model_version"
    assert len(frame) == len(texts)
    assert (frame["model_version"] == tiny_model.version).all()
    assert frame["is_hostile"].dtype == bool and frame["constructive"].dtype == "float64"
    unscored = frame.loc[[1, 3, 4]]
    assert unscored["tone"].tolist() == [UNSCORED] * 3
    assert unscored["unscored_reason"].tolist() == ["empty", "not English (fr)", "no words"]
    assert unscored[["constructive", "hostile"]].isna().all().all()
    assert unscored.filter(like="attr_").isna().all().all()
    assert (unscored["reasons"] == "").all() and not unscored["is_constructive"].any()
    scored = frame.loc[[0, 2]]
    assert (scored["unscored_reason"] == "").all() and scored["tone"].isin(TONES).all()
    assert scored[["constructive", "hostile"]].notna().all().all()
    for row, s in zip(scored.itertuples(), tiny_model.score([texts[0], texts[2]]), strict=True):
        assert row.reasons == "; ".join(s.reasons)  # the reasons, strongest first


def _weights_with(tiny_heads: Path, tmp_path: Path, name: str, thresholds: dict[str, float]) -> Path:
    """A copy of the tiny weights with some thresholds replaced."""
    copy = tmp_path / name
    shutil.copytree(tiny_heads.parent, copy)
    meta = json.loads((copy / META_FILE).read_text())
    meta["thresholds"].update(thresholds)
    (copy / META_FILE).write_text(json.dumps(meta))
    return copy


REASON_TEXTS = [
    "the evidence suggests we should improve funding for the ward because staff are leaving",
    "shut up you idiot",
    "nurses pay",
    "thank you , i agree with the plan",
]


@pytest.mark.parametrize("tone", ["constructive", "hostile", "neutral"])
@pytest.mark.parametrize("attributes_pass", [True, False])
def test_reasons_come_from_the_side_of_the_tone(
    tiny_encoder_dir: Path, tiny_heads: Path, tmp_path: Path, tone: str, attributes_pass: bool
) -> None:
    """Thresholds that force every post to one tone, and every attribute to pass (threshold 0) or to fail
    (threshold 1): the reasons are the strongest attributes of that tone's side, by margin over their
    thresholds (here: by probability), up to three; none passing, a constructive post names the two
    closest bridging attributes, a hostile one "hostile", a neutral one nothing."""
    t_con, t_hos = {"constructive": (0.0, 1.01), "hostile": (0.0, 0.0), "neutral": (1.01, 1.01)}[tone]
    t_attr = 0.0 if attributes_pass else 1.0
    thresholds = {"constructive": t_con, "hostile": t_hos, **{a: t_attr for a in (*BRIDGING, *HOSTILE_SIDE)}}
    forced = MiniLMTone(tiny_encoder_dir, _weights_with(tiny_heads, tmp_path, "forced", thresholds))
    for s in forced.score(REASON_TEXTS):
        assert s.tone == tone
        _check_reasons(s, forced.attributes)
        side = {"constructive": BRIDGING, "hostile": HOSTILE_SIDE, "neutral": forced.attributes}[tone]
        by_p = sorted(side, key=lambda a: -s.attributes[a])
        if attributes_pass:
            assert list(s.reasons) == by_p[:3]
        else:
            assert (
                s.reasons == {"constructive": tuple(by_p[:2]), "hostile": ("hostile",), "neutral": ()}[tone]
            )


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
        MiniLMTone(tiny_encoder_dir, tmp_path / ENCODER_FILE)
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
    assert model.version.startswith(f"minilm-tone-{SCHEMA_VERSION}+")
