"""What every tone model shares: the score it gives, the attributes it explains, and the one text preparation."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

MODEL_FAMILY = "minilm-tone"  # the shipped model's name in settings and in its model_version
TONES = ("constructive", "neutral", "hostile")

# Attribute heads trained from the C3 per-characteristic annotator counts (see models/weights/MODEL_CARD.md).
ATTRIBUTES: tuple[str, ...] = (
    "evidence",
    "solution",
    "specific_points",
    "dialogue",
    "personal_story",
    "provocative",
    "sarcastic",
    "no_respect",
    "personal_attack",
    "abusive",
    "inflammatory",
)


@dataclass(frozen=True)
class ToneScore:
    constructive: float
    hostile: float
    is_constructive: bool
    is_hostile: bool
    tone: str  # "constructive" | "neutral" | "hostile"
    attributes: dict[str, float]


class ToneModel(Protocol):
    version: str
    attributes: tuple[str, ...]  # the attribute scores every ToneScore carries, in this order

    def score(self, texts: Sequence[str]) -> list[ToneScore]: ...


_URL_RE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MENTION_RE = re.compile(r"(?<![\w@])@[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?(?:@[\w.-]+\w)?")
_HASHTAG_RE = re.compile(r"(?<![\w#&])#(\w+)")
_TAG_WORD_RE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+|[^\W\d_]+")
_WS_RE = re.compile(r"\s+")


def _split_hashtag(match: re.Match[str]) -> str:
    words = _TAG_WORD_RE.findall(match.group(1))
    return " ".join(w.lower() for w in words) if words else match.group(0)


def prepare_text(text: str) -> str:
    """The one text preparation used both in training and in scoring.

    HTML entities are unescaped (``&amp;`` → ``&``), URLs become ``http``, user mentions (including
    Mastodon ``@name@server``) become ``@user``, ``#CamelCaseTag`` becomes ``camel case tag``
    (``#NHSCrisis`` → ``nhs crisis``, ``#junior_doctors`` → ``junior doctors``) and whitespace is
    collapsed. Empty or whitespace-only input gives ``""``.

    Regular expressions, not spaCy tokens: spaCy's ``like_url`` takes ``democrats.this`` (a missing space
    after a full stop) for a web address and its tokens miss mentions glued to punctuation (``.@USER``);
    the model card has the measurement.
    """
    if not isinstance(text, str):
        if text is None or (isinstance(text, float) and math.isnan(text)):
            return ""
        text = str(text)
    if not text.strip():
        return ""
    text = html.unescape(text)
    text = _URL_RE.sub("http", text)
    text = _MENTION_RE.sub("@user", text)
    text = _HASHTAG_RE.sub(_split_hashtag, text)
    return _WS_RE.sub(" ", text).strip()


def tone_of(is_constructive: bool, is_hostile: bool) -> str:
    if is_hostile:
        return "hostile"
    if is_constructive:
        return "constructive"
    return "neutral"


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -50.0, 50.0)))
