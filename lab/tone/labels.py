"""`commonground eval --labels FILE`: how far the tone model agrees with people's own labels.

FILE is the dashboard's tone-feedback export (post_id, text, model_version, model_tone, verdict,
corrected_tone, created_at: a "right" verdict labels the post with the model's tone, a "wrong" one with
the corrected tone, and a "wrong" without a corrected tone says nothing usable), or any CSV with a
`text` and a `tone` column (constructive, neutral or hostile). The texts are scored again with the
current model, so the numbers describe the model configured now, not the one the readers saw.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score

from models.tone_base import ToneModel

TONES = ("constructive", "neutral", "hostile")
FEEDBACK_COLUMNS = {"text", "model_tone", "verdict", "corrected_tone"}


@dataclass(frozen=True)
class Labels:
    """The usable labelled texts of a file, and how many rows were left out and why."""

    texts: list[str]
    tones: list[str]
    skipped: dict[str, int]


def read_labels(path: Path) -> Labels:
    """Read a tone-feedback export or a text + tone CSV; a file it cannot use raises a ValueError that
    names the file and what it needs."""
    if not Path(path).is_file():
        raise FileNotFoundError(
            f"No labels file at {path}. Export it from the dashboard (Conversations → "
            "Tone feedback → Download) or give a CSV with text and tone columns."
        )
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise ValueError(f"{path} is not a readable CSV file: {exc}") from exc
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    if set(frame.columns) >= FEEDBACK_COLUMNS:
        verdict = frame["verdict"].str.strip().str.lower()
        tone = np.where(verdict == "right", frame["model_tone"], frame["corrected_tone"])
        why_not = np.where(
            ~verdict.isin(["right", "wrong"]),
            "verdict not right or wrong",
            np.where(verdict == "wrong", "wrong, with no corrected tone", "the model's tone is not a tone"),
        )
    elif {"text", "tone"} <= set(frame.columns):
        tone, why_not = frame["tone"].to_numpy(), np.full(len(frame), "tone not one of " + ", ".join(TONES))
    else:
        raise ValueError(
            f"{path} needs a text and a tone column (or the dashboard's tone-feedback columns "
            f"{sorted(FEEDBACK_COLUMNS)}); it has {list(frame.columns)}."
        )
    tones = pd.Series(tone, index=frame.index).fillna("").astype(str).str.strip().str.lower()
    usable = tones.isin(TONES) & (frame["text"].str.strip() != "")
    reasons = pd.Series(np.where(frame["text"].str.strip() == "", "no text", why_not), index=frame.index)
    skipped = {str(k): int(v) for k, v in reasons[~usable].value_counts().items()}
    if not usable.any():
        raise ValueError(f"{path} has no usable labelled rows (left out: {skipped or 'none'}).")
    return Labels(frame.loc[usable, "text"].tolist(), tones[usable].tolist(), skipped)


def agreement(truth: list[str], predicted: list[str]) -> dict[str, Any]:
    """Accuracy, Cohen's kappa and per-tone precision / recall of `predicted` against `truth`. A text
    the model left unscored counts as a disagreement (its own class in the predictions)."""
    y, p = np.asarray(truth, dtype=object), np.asarray(predicted, dtype=object)
    if len(y) != len(p) or len(y) == 0:
        raise ValueError(f"need as many predictions as labels, at least one (got {len(y)} and {len(p)})")
    per_tone: dict[str, dict[str, float | int | None]] = {}
    for tone in TONES:
        hits = int(np.sum((p == tone) & (y == tone)))
        said, true = int(np.sum(p == tone)), int(np.sum(y == tone))
        per_tone[tone] = {
            "precision": hits / said if said else None,
            "recall": hits / true if true else None,
            "support": true,
        }
    labels = sorted(set(y) | set(p))
    kappa = float(cohen_kappa_score(y, p, labels=labels)) if len(labels) > 1 else None
    return {
        "n": len(y),
        "accuracy": float(np.mean(y == p)),
        "kappa": None if kappa is None or np.isnan(kappa) else kappa,
        "unscored": int(np.sum(p == "unscored")),
        "per_tone": per_tone,
    }


def label_rows(path: Path, model: ToneModel) -> list[dict[str, Any]]:
    """Score the labelled texts with `model`; the agreement as rows of `commonground eval`'s table."""
    labels = read_labels(path)
    predicted = [s.tone for s in model.score(labels.texts)]
    found = agreement(labels.tones, predicted)
    dataset = f"labels: {Path(path).name}"
    skipped = "; ".join(f"{n} {why}" for why, n in labels.skipped.items())
    note = f"model {model.version}" + (f"; left out: {skipped}" if skipped else "")

    def row(metric: str, value: Any, row_note: str = "") -> dict[str, Any]:
        return {"task": "tone", "dataset": dataset, "metric": metric, "value": value, "reference": None} | {
            "note": row_note
        }

    rows = [
        row("n", found["n"], note),
        row("accuracy", found["accuracy"], f"{found['unscored']} texts left unscored count as wrong"),
        row("Cohen's kappa", found["kappa"], "agreement beyond chance: 0 chance, 1 perfect"),
    ]
    for tone, m in found["per_tone"].items():
        rows.append(row(f"precision {tone}", m["precision"], f"{m['support']} labelled {tone}"))
        rows.append(row(f"recall {tone}", m["recall"]))
    return rows
