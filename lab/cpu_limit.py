"""How close tone scoring comes to this CPU's compute limit: model FLOPs per text against matmul GFLOP/s.

FLOPs count the useful work only (a text's own tokens, no padding): per token and layer, the Q, K, V and
output projections (8·h²), the feed-forward (4·h·i) and attention over the text's L tokens (4·L·h);
multiply-adds count as two. The limit is the best fp32 matrix multiply torch reaches on this machine
with the same threads, which is what a transformer encoder spends nearly all its time doing.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any


def encoder_shape(net: Any) -> tuple[int, int, int]:
    """(layers, hidden size, feed-forward size) of a transformers encoder (MiniLM-L6: 6, 384, 1536)."""
    config = net.encoder.config
    return int(config.num_hidden_layers), int(config.hidden_size), int(config.intermediate_size)


def flops_per_text(token_lengths: Sequence[int], layers: int, hidden: int, ffn: int) -> float:
    """Mean forward-pass FLOPs per text at the given token lengths."""
    if not token_lengths:
        return 0.0
    total = 0.0
    for n in token_lengths:
        per_token = 8 * hidden * hidden + 4 * hidden * ffn + 4 * n * hidden
        total += layers * n * per_token
    return total / len(token_lengths)


def matmul_gflops(size: int = 1024, seconds: float = 1.5) -> float:
    """The best fp32 square matmul rate torch reaches here with its current threads, in GFLOP/s."""
    import torch

    a = torch.randn(size, size)
    b = torch.randn(size, size)
    torch.mm(a, b)  # warm-up
    best = 0.0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        torch.mm(a, b)
        elapsed = time.perf_counter() - start
        best = max(best, 2 * size**3 / max(elapsed, 1e-9) / 1e9)
    return best


def compute_lines(model: Any, texts: Sequence[str], texts_per_second: float, *, quick: bool) -> list[str]:
    """Lines saying what share of the CPU's measured matmul peak the scorer's rate amounts to."""
    lengths = [
        len(ids)
        for ids in model.tokenizer(list(texts), truncation=True, max_length=model.max_length)["input_ids"]
    ]
    layers, hidden, ffn = encoder_shape(model.net)
    flops = flops_per_text(lengths, layers, hidden, ffn)
    peak = matmul_gflops(seconds=0.5 if quick else 2.0)
    achieved = texts_per_second * flops / 1e9
    return [
        f"model work: {flops / 1e6:.0f} MFLOP per text at {sum(lengths) / max(1, len(lengths)):.1f} tokens mean "
        f"({layers} layers, hidden {hidden}, feed-forward {ffn})",
        f"CPU limit: fp32 matmul peak {peak:.1f} GFLOP/s measured with torch",
        f"distinct texts, score: {achieved:.1f} GFLOP/s = {100 * achieved / max(peak, 1e-9):.3g}% of that limit",
    ]
