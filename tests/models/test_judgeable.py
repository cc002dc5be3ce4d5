"""Texts the tone model cannot judge get a reason instead of a score; English posts keep theirs."""

from __future__ import annotations

import csv
import socket
from pathlib import Path

import pytest

from models.judgeable import LANGUAGE_ID, unscorable_reason, unscorable_reasons

CHECK_FILE = Path(__file__).parent / "data" / "language_check.csv"


def _check_set() -> list[dict[str, str]]:
    with CHECK_FILE.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


ROWS = _check_set()
ENGLISH = [r["text"] for r in ROWS if r["language"] == "en"]
OTHER = [(r["text"], r["language"]) for r in ROWS if r["language"] != "en"]


def test_the_check_set_is_what_the_module_docstring_measured() -> None:
    assert {r["source"] for r in ROWS} == {"written"}
    assert len(ENGLISH) >= 40 and len(OTHER) >= 60
    assert all(5 <= len(t.split()) <= 30 for t, lang in OTHER if lang not in ("zh", "ja"))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        (None, "empty"),
        (float("nan"), "empty"),
        ("😡😡😡", "no words"),
        ("👍", "no words"),
        ("https://t.co/abc123", "no words"),
        ("see www.nhs.uk", None),
        ("www.nhs.uk/conditions", "no words"),
        ("@user", "no words"),
        ("@user @NHSEngland @dr_a@med-mastodon.com", "no words"),
        ("!!! ??? 123 #1 £40", "no words"),
        ("@user https://t.co/x 😂😂 #", "no words"),
        ("#NHSCrisis #WaitingList", None),
        ("#NHS", None),
        ("lol", None),
        ("GP appt?", None),
    ],
)
def test_empty_and_wordless_texts(text: str, reason: str | None) -> None:
    assert unscorable_reason(text) == reason


def test_a_french_constructive_post_is_not_english() -> None:
    text = "Il faudrait recruter plus d'infirmières pour réduire les délais d'attente aux urgences."
    assert unscorable_reason(text) == "not English (fr)"


def test_welsh_and_non_latin_scripts_get_their_code() -> None:
    assert unscorable_reason("Mae angen mwy o feddygon teulu yng nghefn gwlad Cymru.") == "not English (cy)"
    assert unscorable_reason("谢谢") == "not English (zh)"  # one word, but not in Latin script
    assert unscorable_reason("@user نحتاج إلى المزيد من الممرضين") == "not English (ar)"


@pytest.mark.parametrize("text", ENGLISH)
def test_every_written_english_healthcare_post_is_scored(text: str) -> None:
    assert unscorable_reason(text) is None


def test_written_non_english_posts_are_caught() -> None:
    said = [unscorable_reason(text) for text, _ in OTHER]
    caught = sum((s or "").startswith("not English") for s in said)
    right = sum(s == f"not English ({lang.split('-')[0]})" for s, (_, lang) in zip(said, OTHER, strict=True))
    # Measured with pycld2 0.42: 65 of 67 caught (97%), 64 with the right code; the misses are
    # transliterated Urdu and Arabic, which CLD2 takes for English (they are scored, not dropped).
    assert caught >= 65 and caught / len(OTHER) >= 0.9
    assert right >= 64


@pytest.mark.parametrize(
    "text",
    [
        "Yn y gogledd mae rhestrau aros yn hir iawn. Waiting lists in North Wales are too long.",
        "Merci beaucoup to the nurses at St Thomas, vous êtes formidables",
        "As the French say, il faut cultiver notre jardin, and the NHS needs the same patience",
        "Thank you 谢谢 so much to the ward staff for everything",
        "𝐓𝐡𝐞 𝐍𝐇𝐒 𝐢𝐬 𝐢𝐧 𝐜𝐫𝐢𝐬𝐢𝐬 𝐚𝐧𝐝 𝐧𝐨𝐛𝐨𝐝𝐲 𝐜𝐚𝐫𝐞𝐬",  # mathematical bold, as on X
        "THE NHS IS BROKEN AND NOBODY IN GOVERNMENT CARES ONE BIT",
        "It's a great time to be Scottish anaw, the wee hospital in Fort William was braw",
    ],
)
def test_mixed_styled_and_dialect_english_stays_scored(text: str) -> None:
    assert unscorable_reason(text) is None


def test_odd_inputs_do_not_break_it() -> None:
    assert unscorable_reason("Waiting lists in Leeds are long. " * 300) is None
    assert unscorable_reason("bad \ud800 surrogate and \x00 control chars in an English post") is None
    assert unscorable_reason("&amp; &lt;3 &#128512;") == "no words"


def test_batch_equals_single() -> None:
    texts = [*ENGLISH, *(t for t, _ in OTHER), "", "  ", "😡😡😡", "@user", ENGLISH[0], OTHER[0][0]]
    assert unscorable_reasons(texts) == [unscorable_reason(t) for t in texts]


def test_it_runs_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("language ID tried the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    assert unscorable_reasons(
        ["Esperei cinco horas nas urgências do hospital e ninguém me explicou nada."]
    ) == ["not English (pt)"]


def test_the_model_card_names_the_language_id() -> None:
    assert LANGUAGE_ID.startswith("pycld2 0.")
