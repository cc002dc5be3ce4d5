"""`commonground bench api` on the tiny model: throughput and latency lines, and the micro-batching ratio."""

from __future__ import annotations

from lab.api.bench import run
from models.tone import MiniLMTone


def test_bench_lines(tiny_model: MiniLMTone) -> None:
    lines = run(quick=True, model=tiny_model)
    assert sum("requests/s" in line and "p99" in line for line in lines) == 3
    ratios = [line for line in lines if line.startswith("ratio: ")]
    assert len(ratios) == 1 and float(ratios[0].split()[1]) > 0
