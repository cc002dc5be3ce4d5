"""`commonground bench tone`: scoring throughput against a naive loop over the same model, in one run.

The naive loop is what a first version would do: the same fine-tuned network called in batches of 32 in
file order, every text (reposts included) encoded, padded to the longest text of its batch. Ratios compare
``MiniLMTone.score`` (dedup of identical prepared texts, length-sorted batches, warm model) with it on the
sample's stream (reposts repeat texts, as real hashtag streams do) and on its distinct texts.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lab.cpu_limit import compute_lines
from models.tone import MiniLMTone
from models.tone_base import prepare_text
from warehouse.settings import SAMPLE_CONVERSATION

NAIVE_BATCH = 32


def sample_texts(path: Path = SAMPLE_CONVERSATION) -> list[str]:
    with path.open(encoding="utf-8") as handle:
        return [str(json.loads(line).get("text") or "") for line in handle if line.strip()]


def naive_probabilities(model: MiniLMTone, texts: Sequence[str], batch_size: int = NAIVE_BATCH) -> np.ndarray:
    """The baseline: batches of 32 in file order, each padded to its longest text, no dedup."""
    import torch

    out = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            batch = [prepare_text(t) or "." for t in texts[start : start + batch_size]]
            enc = model.tokenizer(
                batch, truncation=True, max_length=model.max_length, padding=True, return_tensors="pt"
            )
            logits = model.net(enc["input_ids"], enc["attention_mask"])
            out.append(torch.sigmoid(logits).numpy())
    return np.concatenate(out) if out else np.zeros((0, len(model.weights.heads)))


def _rate(fn: Any, texts: Sequence[str]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn(texts)
    return len(texts) / max(time.perf_counter() - start, 1e-9), result


def peak_memory_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def run(quick: bool = False, model: MiniLMTone | None = None) -> list[str]:
    """The lines to print; ``model`` defaults to the committed weights (tests pass a tiny one)."""
    import torch

    stream = sample_texts()
    if quick:
        stream = stream[:600]
    unique = list(dict.fromkeys(p for p in map(prepare_text, stream) if p))  # what the model dedups to
    model = model or MiniLMTone(threads=torch.get_num_threads())
    model.score(stream[:16])  # warm-up: first calls allocate
    naive_probabilities(model, stream[:16])
    lines = [
        f"model {model.version}, {torch.get_num_threads()} torch threads, max_length {model.max_length}",
        f"sample stream: {len(stream):,} posts, {len(unique):,} distinct texts",
    ]

    def naive(texts: Sequence[str]) -> np.ndarray:
        return naive_probabilities(model, texts)

    rates: dict[str, tuple[float, float]] = {}
    fp32: list[Any] = []
    for label, texts, unit, how in (
        ("stream", stream, "posts", "dedup + length-sorted batches"),
        ("distinct texts", unique, "texts", "length-sorted batches"),
    ):
        r_naive, _ = _rate(naive, texts)
        r_ours, scores = _rate(model.score, texts)
        fp32 = fp32 or scores
        rates[label] = (r_naive, r_ours)
        lines += [
            f"{label}, naive loop (batches of {NAIVE_BATCH}, file order): {r_naive:.0f} {unit}/s",
            f"{label}, score ({how}): {r_ours:.0f} {unit}/s",
            f"ratio: {r_ours / r_naive:.1f}",
        ]
    r_naive_u = rates["distinct texts"][0]
    lines += compute_lines(model, unique, rates["distinct texts"][1], quick=quick)
    comments = [" ".join(unique[i : i + 4]) for i in range(0, min(len(unique), 1600), 4)]
    r_comments, _ = _rate(model.score, comments)
    lines.append(
        f"comment-length texts (4 sample posts joined, ~{np.mean([len(c.split()) for c in comments]):.0f} words, "
        f"truncated at {model.max_length} tokens): {r_comments:.0f} texts/s"
    )
    lines += _int8_lines(model, stream, unique, fp32, r_naive_u)
    lines.append(f"peak memory: {peak_memory_bytes() / 1024**2:.0f} MiB")
    return lines


def _int8_lines(
    model: MiniLMTone, stream: list[str], unique: list[str], fp32: list[Any], r_naive_u: float
) -> list[str]:
    try:
        int8 = MiniLMTone(model.encoder_dir, model.weights_dir, runtime="onnx-int8")
    except ImportError as exc:
        return [f"int8 ONNX path: skipped ({exc})"]
    int8.score(stream[:16])
    r_int8, _ = _rate(int8.score, unique)
    scores = int8.score(stream)
    same = np.mean([a.tone == b.tone for a, b in zip(scores, fp32, strict=True)])
    d_con = np.max([abs(a.constructive - b.constructive) for a, b in zip(scores, fp32, strict=True)])
    d_hos = np.max([abs(a.hostile - b.hostile) for a, b in zip(scores, fp32, strict=True)])
    return [
        f"distinct texts, int8 ONNX Runtime score: {r_int8:.0f} texts/s",
        f"ratio: {r_int8 / r_naive_u:.1f}",
        f"int8 vs fp32 on the stream: tone agrees on {100 * same:.1f}% of posts; max |Δ constructive| "
        f"{d_con:.3f}, max |Δ hostile| {d_hos:.3f}",
    ]
