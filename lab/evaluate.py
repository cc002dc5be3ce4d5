"""`commonground eval`: every model's scores on the labeled data, printed as one table."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Each evaluator: evaluate(datasets_dir: Path) -> list of rows with
# task, dataset, metric, value and optionally reference (a published figure) and note.
EVALUATORS: dict[str, str] = {
    "tone": "lab.tone.evaluate",
    "network": "lab.network.evaluate",
}
COLUMNS = ("task", "dataset", "metric", "value", "reference", "note")


def _evaluator(name: str) -> Callable[[Path], list[dict[str, Any]]]:
    module = importlib.import_module(EVALUATORS[name])
    return module.evaluate


def run_eval(datasets_dir: Path, only: list[str] | None = None) -> list[dict[str, Any]]:
    if not datasets_dir.exists():
        raise FileNotFoundError(
            f"No labeled data at {datasets_dir}. Point COMMONGROUND_DATASETS_DIR (or --datasets) at the "
            "folder holding the shared datasets."
        )
    rows: list[dict[str, Any]] = []
    for name in only or list(EVALUATORS):
        rows.extend(_evaluator(name)(datasets_dir))
    return rows


def format_table(rows: list[dict[str, Any]]) -> str:
    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.4f}" if abs(value) < 100 else f"{value:.1f}"
        return "" if value is None else str(value)

    table = [list(COLUMNS)] + [[cell(r.get(c)) for c in COLUMNS] for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(COLUMNS))]
    lines = ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
