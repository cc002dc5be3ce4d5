"""The shipped tone model (the committed weights) on the behaviours a post-level model must have.

Length is not content: a post and its sentence pasted 50 times score alike, and the same argument in 15 or
in 45 words gets the same tone. Texts it cannot judge come back unscored with their reason. The texts
below were written for these tests (labels are ours).
"""

from __future__ import annotations

import math

import pytest

from models.tone import load_tone_model, score_frame
from models.tone_base import ATTRIBUTES, BRIDGING, HOSTILE_SIDE, UNSCORED, ToneModel

REPEATED = [
    "If we funded social care properly, hospitals could discharge patients faster and free up beds.",
    "Waited 9 hours in A&E with my dad last night. The staff were brilliant but there were not enough of them.",
    "Shut up you clueless muppet, you know nothing about the NHS.",
    "Health secretary announces new plan for NHS reforms today.",
    "Could trusts publish waiting times per hospital so patients can choose? Transparency would help.",
]

# (15-word version, 45-word version) of one argument, and the tone both should get.
SAME_ARGUMENT = [
    (
        "Funding social care would free hospital beds, because medically fit patients could finally go home.",
        "Funding social care properly would free hospital beds across the country, because so many patients who "
        "are medically fit to leave stay on wards for days or weeks simply waiting for a care package, and "
        "every one of those beds is needed for someone else.",
        "constructive",
    ),
    (
        "Could pharmacists prescribe more common medicines, so GP appointments go to patients who really need them?",
        "Could pharmacists be allowed to prescribe more of the common medicines for minor illnesses, infections "
        "and repeat conditions, so that the limited GP appointments each morning go to the patients who really "
        "need a doctor, rather than being used up on routine requests?",
        "constructive",
    ),
    (
        "These useless managers are parasites who should all be sacked, the whole rotten lot of them.",
        "These useless managers are nothing but parasites feeding off the NHS, and every single one of them "
        "should be sacked tomorrow without a penny, because the whole rotten, lying, self-serving lot of them "
        "have never done an honest day's work in their pathetic lives.",
        "hostile",
    ),
]


@pytest.fixture(scope="module")
def shipped() -> ToneModel:
    return load_tone_model()


def test_a_post_and_its_sentence_repeated_fifty_times_score_alike(shipped: ToneModel) -> None:
    for text in REPEATED:
        once, pasted = shipped.score([text, " ".join([text] * 50)])
        assert abs(once.constructive - pasted.constructive) <= 0.1, text
        assert abs(once.hostile - pasted.hostile) <= 0.1, text
        assert once.tone == pasted.tone, text


def test_the_same_argument_in_fifteen_and_in_forty_five_words_gets_the_same_tone(shipped: ToneModel) -> None:
    for short, long, tone in SAME_ARGUMENT:
        assert 13 <= len(short.split()) <= 17 and 42 <= len(long.split()) <= 48
        a, b = shipped.score([short, long])
        assert a.tone == b.tone, (short, a, b)
        if tone == "constructive":
            assert a.tone == "constructive", (short, a)


@pytest.mark.xfail(
    strict=True,
    reason="known limit of the shipped weights (model card): contempt without swear words is often missed "
    "as hostile (it calls 5% of the sample hostile where 14% were planted); both versions come out neutral",
)
def test_contempt_without_swear_words_is_hostile(shipped: ToneModel) -> None:
    short, long, _ = SAME_ARGUMENT[2]
    assert [s.tone for s in shipped.score([short, long])] == ["hostile", "hostile"]


def test_texts_it_cannot_judge_come_back_unscored_with_their_reason(shipped: ToneModel) -> None:
    texts = {
        "": "empty",
        "   \n ": "empty",
        "😡😡😡": "no words",
        "https://example.com @someone": "no words",
        "Il faudrait recruter plus d'infirmières pour réduire les délais d'attente aux urgences.": "not English (fr)",
    }
    for text, score in zip(texts, shipped.score(list(texts)), strict=True):
        assert score.tone == UNSCORED and score.unscored_reason == texts[text], text
        assert math.isnan(score.constructive) and math.isnan(score.hostile)
        assert not score.is_constructive and not score.is_hostile and score.reasons == ()


def test_every_head_and_the_reasons_are_in_the_score_table(shipped: ToneModel) -> None:
    frame = score_frame(shipped, [*REPEATED, "😡"])
    assert set(shipped.attributes) == set(ATTRIBUTES)
    assert {f"attr_{a}" for a in ATTRIBUTES} <= set(frame.columns)
    assert {"reasons", "unscored_reason", "model_version"} <= set(frame.columns)
    for row in frame.itertuples():
        reasons = [r for r in str(row.reasons).split("; ") if r]
        if row.tone == "constructive":
            assert reasons and set(reasons) <= set(BRIDGING), row
        elif row.tone == "hostile":
            assert reasons and set(reasons) <= {*HOSTILE_SIDE, "hostile"}, row
    assert frame["tone"].iloc[-1] == UNSCORED and frame["unscored_reason"].iloc[-1] == "no words"
