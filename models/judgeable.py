"""Which posts the tone model can judge: no score, and a reason, for texts it cannot read.

``unscorable_reason(text)`` is None for a text the English tone model can score, else one of three stable
reason codes: ``"empty"`` (empty, whitespace, None or NaN), ``"no words"`` (nothing left to read once
URLs, @mentions, the ``#`` of hashtags, emoji, punctuation and digits are set aside; a hashtag's words do
count, so ``"#NHSCrisis #WaitingList"`` is English) and ``"not English (xx)"`` with the detected
language's ISO 639-1 code (``not English (fr)``, ``not English (cy)``; a language without one keeps
CLD2's code, e.g. ``ceb``; ``und`` when even the script says nothing).

Language ID is CLD2 (``pycld2``, Apache-2.0): its tables are compiled into the extension, so nothing is
downloaded or read at run time, the "model load" is the import (3 ms) and it is deterministic.
English stays scored when in doubt: before detection URLs, mentions and ``#`` go (CamelCase hashtags
are split into words); a text of at most 3 words in Latin script is English; otherwise it is called
non-English only when CLD2 says its answer is reliable, its top language is not English (or Scots,
which CLD2 gives to colloquial English) and English covers less than a third of the text, by CLD2's
own count or sentence by sentence (mixed and bilingual posts are scored). A text written mostly in a
non-Latin script is non-English whatever its length.

Measured (``python -m lab.tone.language_eval``; written set ``tests/models/data/language_check.csv``):
texts called "not English" among English short texts: TweetEval offensive val 0 of 1,324, GoEmotions dev
1 of 5,426 (0.02%: "Gotta go fast! [NAME]"), UCC val 2 of 4,405, both genuinely French; written English
UK-healthcare posts 0 of 52. Written non-English healthcare posts caught: 65 of 67 (97%), 64 with the
right code (missed: transliterated Urdu and Arabic, which CLD2 reads as English; transliterated Hindi
is caught as "id"). Import 3 ms for pycld2 (80 ms with this module); 15,000-20,000 texts/s on one shared core (1M posts in about a minute).
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import Final

import pycld2

from models.text import MENTION_RE, URL_RE

LANGUAGE_ID: Final = f"pycld2 {pycld2.__version__} (CLD2)"

EMPTY: Final = "empty"
NO_WORDS: Final = "no words"
NOT_ENGLISH: Final = "not English ({})"
SHORT_WORDS: Final = 3  # a Latin-script text of this many words or fewer is taken as English
ENGLISH_SHARE: Final = 34  # percent of the text CLD2 finds English above which a mixed post is scored
NON_LATIN_SHARE: Final = 0.5  # share of letters outside the Latin script that makes a text non-English
# CLD2 names colloquial English (ya, lawd, anaw) Scots; "un" is its "unknown".
ENGLISH_LIKE: Final = frozenset({"en", "sco", "un"})
# CLD2's codes that are not (or no longer) ISO 639-1.
CODE_FIXES: Final = {"iw": "he", "in": "id", "jw": "jv", "mo": "ro", "zh-Hant": "zh"}

WWW_RE = re.compile(r"\bwww\.\S+", re.IGNORECASE)
HASHTAG_RE = re.compile(r"#(\w+)")
CAMEL_RE = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")
WORD_RE = re.compile(r"\S*[^\W\d_]\S*")  # a token with at least one letter
LETTER_RE = re.compile(r"[^\W\d_]")
NON_LATIN_RE = re.compile(r"[^\W\d_A-Za-z\u00aa\u00ba\u00c0-\u024f\u1e00-\u1eff]")
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# (reliable, [(ISO code, percent of the text), ...] best first); the flag asks for a guess on a short text.
Detected = tuple[bool, list[tuple[str, int]]]
Detector = Callable[[str, bool], Detected]
SENTENCE_RE = re.compile(r"(?<=[.!?;:])\s+|\s+[-–—|/]\s+")


def _split_hashtag(match: re.Match[str]) -> str:
    return " " + CAMEL_RE.sub(" ", match.group(1)).replace("_", " ") + " "


def readable_text(text: str) -> str:
    """What language ID reads: entities decoded, NFKC, no URLs or mentions, hashtags as words."""
    text = unicodedata.normalize("NFKC", html.unescape(text))
    text = CONTROL_RE.sub(" ", text).encode("utf-8", "ignore").decode("utf-8")  # no lone surrogates
    text = WWW_RE.sub(" ", URL_RE.sub(" ", text))
    text = MENTION_RE.sub(" ", text)
    text = HASHTAG_RE.sub(_split_hashtag, text)
    return " ".join(text.split())


def language_code(code: str) -> str:
    """CLD2's code as ISO 639-1 where there is one (``iw`` → ``he``, ``zh-Hant`` → ``zh``)."""
    code = CODE_FIXES.get(code, code)
    return code.split("-")[0] if "-" in code and not code.startswith("xx") else code


def detect(text: str, best_effort: bool = False) -> Detected:
    """CLD2 on a readable text: (reliable, [(code, percent of the text), ...]) best first."""
    try:
        reliable, _, details = pycld2.detect(text, bestEffort=best_effort)
    except pycld2.error:  # pragma: no cover - readable_text leaves valid UTF-8; kept as a guard
        return False, []
    return bool(reliable), [(language_code(d[1]), int(d[2])) for d in details if d[1] != "un" and d[2] > 0]


def decide(readable: str, detector: Detector = detect) -> str | None:
    """The reason for a readable text (see ``readable_text``); the lab swaps in other detectors."""
    words = WORD_RE.findall(readable)
    if not words:
        return NO_WORDS
    if not readable.isascii() and _mostly_non_latin(readable):
        _, langs = detector(readable, True)
        foreign = [code for code, _ in langs if code not in ENGLISH_LIKE]
        return NOT_ENGLISH.format(foreign[0] if foreign else "und")
    if len(words) <= SHORT_WORDS:
        return None
    reliable, langs = detector(readable, False)
    if not reliable or not langs or langs[0][0] in ENGLISH_LIKE:
        return None
    english: float = sum(percent for code, percent in langs if code in ENGLISH_LIKE)
    english = max(english, _english_share(readable, detector))
    return None if english >= ENGLISH_SHARE else NOT_ENGLISH.format(langs[0][0])


def _mostly_non_latin(readable: str) -> bool:
    return len(NON_LATIN_RE.findall(readable)) >= NON_LATIN_SHARE * len(LETTER_RE.findall(readable))


def _english_share(readable: str, detector: Detector) -> float:
    """Percent of the text in sentences CLD2 reads as English (CLD2 gives a short bilingual post one language)."""
    sentences = [s for s in SENTENCE_RE.split(readable) if s]
    if len(sentences) < 2:
        return 0.0
    english = 0
    for sentence in sentences:
        _, langs = detector(sentence, True)
        if langs and langs[0][0] in ENGLISH_LIKE:
            english += len(sentence)
    return 100.0 * english / sum(len(s) for s in sentences)


def _is_blank(text: object) -> bool:
    if isinstance(text, float) and math.isnan(text):
        return True
    return not isinstance(text, str) or not text.strip()


def unscorable_reason(text: str | None) -> str | None:
    """None when the tone model can score ``text``; else ``"empty"``, ``"no words"`` or ``"not English (xx)"``."""
    if _is_blank(text):
        return EMPTY
    assert isinstance(text, str)
    return decide(readable_text(text))


def unscorable_reasons(texts: Sequence[str | None]) -> list[str | None]:
    """``unscorable_reason`` for each text (a repeated text, e.g. a repost, is judged once)."""
    seen: dict[str, str | None] = {}
    out: list[str | None] = []
    for text in texts:
        if _is_blank(text):
            out.append(EMPTY)
            continue
        assert isinstance(text, str)
        if text not in seen:
            seen[text] = decide(readable_text(text))
        out.append(seen[text])
    return out
