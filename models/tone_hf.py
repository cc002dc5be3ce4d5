"""Any Hugging Face sequence-classification model in place of one head of the shipped tone model.

A model spec names heads and models: ``"hostile=cardiffnlp/twitter-roberta-base-offensive"``,
``"constructive=/models/my-c3-model,hostile=/models/tox"``, or a bare hub id / directory for the hostile
head. The positive class is the label whose name says so (``offensive``, ``toxic``, ``hate`` … for hostile;
``constructive`` for constructive), else index 1 of a two-label model, else the sigmoid of a one-logit
model. Overridden heads decide at 0.5.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from models.tone_base import MODEL_FAMILY, UNSCORED, ToneModel, ToneScore, prepare_text, tone_of

HEAD_NAMES = ("constructive", "hostile")
POSITIVE = {
    "hostile": re.compile(r"offens|toxic|hate|hostil|abus|insult|obscen|attack", re.IGNORECASE),
    "constructive": re.compile(r"^(?!non|not).*constructive", re.IGNORECASE),
}
NEGATIVE = re.compile(r"^(not|non|no)[-_ ]?", re.IGNORECASE)


def parse_overrides(spec: str) -> dict[str, str]:
    """``"hostile=A,constructive=B"`` → ``{"hostile": "A", "constructive": "B"}``; a bare ``A`` → hostile."""
    out: dict[str, str] = {}
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        head, sep, target = part.partition("=")
        if not sep:
            head, target = "hostile", part
        if head not in HEAD_NAMES or not target:
            raise ValueError(
                f"Bad tone model spec {spec!r}: use {MODEL_FAMILY!r}, a directory "
                "of weights from `python -m lab.tone.train`, or HEAD=HUB_ID_OR_DIR with HEAD one of "
                f"{', '.join(HEAD_NAMES)}."
            )
        out[head] = target
    if not out:
        raise ValueError(f"Empty tone model spec; the shipped model is {MODEL_FAMILY!r}.")
    return out


def override_spec(overrides: dict[str, str]) -> str:
    """How head overrides appear in a model version: ``constructive=c3,hostile=tox`` (names, not paths)."""
    return ",".join(f"{h}={Path(target).name or target}" for h, target in sorted(overrides.items()))


class SequenceClassifier:
    """Probability of the positive class of one head from a sequence-classification model."""

    def __init__(self, name_or_dir: str, head: str, *, batch_size: int = 32, max_length: int = 128) -> None:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        local = Path(name_or_dir).is_dir()
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(name_or_dir, local_files_only=local)
            self.model = AutoModelForSequenceClassification.from_pretrained(
                name_or_dir, local_files_only=local
            )
        except (OSError, ValueError) as exc:
            raise ValueError(
                f"Could not load the Hugging Face model {name_or_dir!r} for the {head} head: {exc}. Give a local "
                "directory holding a sequence-classification model, or a hub id where the hub is reachable "
                f"(HF_HUB_OFFLINE unset); the shipped model is {MODEL_FAMILY!r}."
            ) from exc
        self.model.eval()
        self.name = name_or_dir
        self.batch_size = batch_size
        self.max_length = max_length
        self.positive = self._positive_index(head)

    def _positive_index(self, head: str) -> int | None:
        n = int(self.model.config.num_labels)
        if n == 1:
            return None
        labels = {int(i): str(name) for i, name in (self.model.config.id2label or {}).items()}
        for i, name in labels.items():
            if POSITIVE[head].search(name) and not NEGATIVE.match(name):
                return i
        return 1 if n == 2 else n - 1

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        out = np.zeros(len(texts), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                enc = self.tokenizer(
                    [texts[i] for i in idx],
                    truncation=True,
                    max_length=self.max_length,
                    padding=True,
                    return_tensors="pt",
                )
                logits = self.model(**enc).logits.float()
                if self.positive is None:
                    p = torch.sigmoid(logits[:, 0])
                else:
                    p = torch.softmax(logits, dim=-1)[:, self.positive]
                out[idx] = p.numpy()
        return out


class HeadOverride:
    """The shipped model with some heads replaced by Hugging Face classifiers (implements ToneModel)."""

    def __init__(self, base: ToneModel, classifiers: dict[str, SequenceClassifier]) -> None:
        self.base = base
        self.attributes: tuple[str, ...] = base.attributes
        self.classifiers = classifiers
        self.version = f"{base.version}|{override_spec({h: c.name for h, c in classifiers.items()})}"

    def score(self, texts: Sequence[str]) -> list[ToneScore]:
        scores: list[ToneScore] = self.base.score(texts)
        prepared = [prepare_text(t) for t in texts]
        unique = list(dict.fromkeys(t for t in prepared if t))
        probs = {
            h: dict(zip(unique, c.probabilities(unique), strict=True)) for h, c in self.classifiers.items()
        }
        out = []
        for s, t in zip(scores, prepared, strict=True):
            if t and s.tone != UNSCORED:
                con = float(probs["constructive"][t]) if "constructive" in probs else s.constructive
                hos = float(probs["hostile"][t]) if "hostile" in probs else s.hostile
                is_con = con >= 0.5 if "constructive" in probs else s.is_constructive
                is_hos = hos >= 0.5 if "hostile" in probs else s.is_hostile
                tone = tone_of(is_con, is_hos)
                # The base model's reasons explain its own tone; where the override changes the tone, they
                # no longer do: a post now hostile is so for offensive language, anything else says nothing.
                reasons = s.reasons if tone == s.tone else (("hostile",) if tone == "hostile" else ())
                s = replace(
                    s,
                    constructive=con,
                    hostile=hos,
                    is_constructive=is_con,
                    is_hostile=is_hos,
                    tone=tone,
                    reasons=reasons,
                )
            out.append(s)
        return out
