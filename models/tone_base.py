"""What every tone model shares: the score it gives, the attributes it explains, and the one text preparation."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

MODEL_FAMILY = "minilm-tone"  # the shipped model's name in settings and in its model_version
TONES = ("constructive", "neutral", "hostile")  # a text it cannot judge gets tone UNSCORED instead

# The attribute heads, trained on post-length corpora (see models/weights/MODEL_CARD.md for the mapping of
# each corpus's labels onto them and the Perspective attribute each one replaces).
BRIDGING: tuple[str, ...] = (
    "reasoning",
    "evidence",
    "solution",
    "curiosity",
    "personal_story",
    "compassion",
    "respect",
)
HOSTILE_SIDE: tuple[str, ...] = (
    "insult",
    "antagonize",
    "dismissive",
    "condescending",
    "sarcastic",
    "generalisation_unfair",
)
ATTRIBUTES: tuple[str, ...] = BRIDGING + HOSTILE_SIDE
UNSCORED = "unscored"  # the tone of a text the model cannot judge (empty, no words, not English)


@dataclass(frozen=True)
class ToneScore:
    constructive: float
    hostile: float
    is_constructive: bool
    is_hostile: bool
    tone: str  # "constructive" | "neutral" | "hostile" | "unscored"
    attributes: dict[str, float]
    reasons: tuple[str, ...] = ()  # the attributes (up to three) that drove the tone, strongest first
    unscored_reason: str | None = None  # why a text was not scored ("empty", "not English (fr)", ...)


class ToneModel(Protocol):
    version: str
    attributes: tuple[str, ...]  # the attribute scores every ToneScore carries, in this order

    def score(self, texts: Sequence[str]) -> list[ToneScore]: ...


_URL_RE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MENTION_RE = re.compile(r"(?<![\w@])@[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?(?:@[\w.-]+\w)?")
_HASHTAG_RE = re.compile(r"(?<![\w#&])#(\w+)")
_TAG_WORD_RE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+|[^\W\d_]+")
_WS_RE = re.compile(r"\s+")
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+")


def _split_hashtag(match: re.Match[str]) -> str:
    words = _TAG_WORD_RE.findall(match.group(1))
    return " ".join(w.lower() for w in words) if words else match.group(0)


def prepare_text(text: str) -> str:
    """The one text preparation used both in training and in scoring.

    HTML entities are unescaped (``&amp;`` → ``&``), URLs become ``http``, user mentions (including
    Mastodon ``@name@server``) become ``@user``, ``#CamelCaseTag`` becomes ``camel case tag``
    (``#NHSCrisis`` → ``nhs crisis``, ``#junior_doctors`` → ``junior doctors``) and whitespace is
    collapsed, and a sentence repeated later in the text is kept once. Empty or whitespace-only input
    gives ``""``.

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
    return _drop_repeated_sentences(_collapse_repetition(_WS_RE.sub(" ", text).strip()))


MIN_PASTED_WORDS = 5  # a shorter repeated chunk ("no no no", "fund nurses fund nurses") is emphasis, kept


def _collapse_repetition(text: str) -> str:
    """A text that is one chunk pasted several times over (``"X X X"``) becomes the chunk once, whatever
    the chunk ends with (sentence splitting alone misses a post that ends in a hashtag or no full stop)."""
    s = text + " "
    period = (s + s).find(s, 1)  # the smallest shift that maps the text onto itself
    if 0 < period < len(s) and len(s) % period == 0 and len(s[:period].split()) >= MIN_PASTED_WORDS:
        return s[:period].strip()
    return text


def _drop_repeated_sentences(text: str) -> str:
    """Each sentence once: a sentence repeated (copy-paste spam, "Fund social care. Fund social care. …")
    says nothing more the second time, and its tone should not depend on how often it was pasted."""
    sentences = _SENTENCE_END_RE.split(text)
    if len(sentences) < 2:
        return text
    seen: set[str] = set()
    kept = []
    for s in sentences:
        key = s.lower().strip()
        if key not in seen:
            seen.add(key)
            kept.append(s)
    return " ".join(kept)


def unscored(reason: str, attributes: Sequence[str]) -> ToneScore:
    """The score of a text the model cannot judge: no probabilities (NaN), tone ``"unscored"``, the reason."""
    nan = float("nan")
    return ToneScore(nan, nan, False, False, UNSCORED, {a: nan for a in attributes}, (), reason)


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


def build_tone_net(encoder_dir: Path, n_heads: int) -> Any:
    """The network: transformer encoder, mean pooling over the attention mask, dropout, one logit per head."""
    import torch
    from transformers import AutoModel

    class ToneNet(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = AutoModel.from_pretrained(str(encoder_dir), local_files_only=True)
            self.dropout = torch.nn.Dropout(0.1)
            self.heads = torch.nn.Linear(int(self.encoder.config.hidden_size), n_heads)

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            m = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * m).sum(dim=1) / m.sum(dim=1).clamp(min=1e-9)
            return self.heads(self.dropout(pooled))

    return ToneNet()
