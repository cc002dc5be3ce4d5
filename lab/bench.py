"""`commonground bench`: speed measured as ratios against a baseline run in the same process."""

from __future__ import annotations

import importlib

# Each benchmark module has run(quick: bool) -> list[str]: the lines to print, including
# `ratio: N` lines that compare against a baseline measured in the same run.
BENCHMARKS: dict[str, str] = {
    "tone": "lab.tone.bench",
    "network": "lab.network.bench",
    "api": "lab.api.bench",
}


def run_bench(names: list[str], *, quick: bool = False) -> list[str]:
    lines: list[str] = []
    for name in names:
        module = importlib.import_module(BENCHMARKS[name])
        lines.append(f"== {name}")
        lines.extend(module.run(quick=quick))
    return lines
