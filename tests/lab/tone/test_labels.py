"""`commonground eval --labels FILE`: people's tone labels against the model, with the tiny model."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from dashboard import notes
from lab import cli as lab_cli
from lab.tone.labels import agreement, label_rows, read_labels
from models.tone import MiniLMTone
from tests.conftest import CONSTRUCTIVE, HOSTILE, NEUTRAL


def test_agreement_by_hand() -> None:
    truth = ["constructive", "constructive", "hostile", "neutral", "hostile", "neutral"]
    said = ["constructive", "hostile", "hostile", "neutral", "unscored", "constructive"]
    found = agreement(truth, said)
    assert found["n"] == 6 and found["accuracy"] == pytest.approx(3 / 6) and found["unscored"] == 1
    assert found["per_tone"]["constructive"] == {"precision": 0.5, "recall": 0.5, "support": 2}
    assert found["per_tone"]["hostile"] == {"precision": 0.5, "recall": 0.5, "support": 2}
    assert found["per_tone"]["neutral"] == {"precision": 1.0, "recall": 0.5, "support": 2}
    # kappa by hand: p_o = 0.5; p_e = sum over labels of (truth share × predicted share)
    p_e = (2 / 6) * (2 / 6) + (2 / 6) * (2 / 6) + (2 / 6) * (1 / 6) + 0 * (1 / 6)
    assert found["kappa"] == pytest.approx((0.5 - p_e) / (1 - p_e))
    perfect = agreement(["hostile", "neutral"], ["hostile", "neutral"])
    assert perfect["accuracy"] == 1.0 and perfect["kappa"] == pytest.approx(1.0)
    assert agreement(["hostile"], ["hostile"])["kappa"] is None  # one class: kappa is undefined
    assert agreement(["neutral"], ["hostile"])["per_tone"]["constructive"]["precision"] is None


def test_the_dashboard_export_is_read_with_the_right_labels(tmp_path: Path) -> None:
    db = str(tmp_path / "outreach.duckdb")
    add = notes.save_tone_feedback
    add(db, post_id="1", text="a", model_version="m", model_tone="hostile", verdict="right")
    add(
        db,
        post_id="2",
        text="b",
        model_version="m",
        model_tone="hostile",
        verdict="wrong",
        corrected_tone="neutral",
    )
    add(db, post_id="3", text="c", model_version="m", model_tone="neutral", verdict="wrong")  # no label
    add(db, post_id="4", text="d", model_version="m", model_tone="unscored", verdict="right")  # not a tone
    path = tmp_path / "feedback.csv"
    path.write_bytes(notes.tone_feedback_csv(notes.tone_feedback(db)))
    labels = read_labels(path)
    assert sorted(zip(labels.texts, labels.tones, strict=True)) == [("a", "hostile"), ("b", "neutral")]
    assert labels.skipped == {"wrong, with no corrected tone": 1, "the model's tone is not a tone": 1}


def test_any_csv_with_text_and_tone(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    pd.DataFrame({"Text": ["x", "y", " ", "z"], "Tone": ["Hostile ", "neutral", "neutral", "angry"]}).to_csv(
        path, index=False
    )
    labels = read_labels(path)
    assert labels.texts == ["x", "y"] and labels.tones == ["hostile", "neutral"]
    assert labels.skipped == {"no text": 1, "tone not one of constructive, neutral, hostile": 1}


def test_unusable_files_say_what_they_need(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="Tone feedback"):
        read_labels(tmp_path / "missing.csv")
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("comment,label\nhello,hostile\n")
    with pytest.raises(ValueError, match=r"needs a text and a tone column .* it has \['comment', 'label'\]"):
        read_labels(wrong)
    none = tmp_path / "none.csv"
    none.write_text("text,tone\nhello,angry\n")
    with pytest.raises(ValueError, match="no usable labelled rows"):
        read_labels(none)


@pytest.fixture()
def labels_csv(tmp_path: Path) -> Path:
    texts = CONSTRUCTIVE + HOSTILE + NEUTRAL
    tones = ["constructive"] * len(CONSTRUCTIVE) + ["hostile"] * len(HOSTILE) + ["neutral"] * len(NEUTRAL)
    path = tmp_path / "labels.csv"
    pd.DataFrame({"text": texts, "tone": tones}).to_csv(path, index=False)
    return path


def test_rows_match_the_tiny_model_scored_directly(labels_csv: Path, tiny_model: MiniLMTone) -> None:
    rows = label_rows(labels_csv, tiny_model)
    by_metric = {r["metric"]: r for r in rows}
    assert {r["dataset"] for r in rows} == {"labels: labels.csv"}
    assert by_metric["n"]["value"] == 15 and tiny_model.version in by_metric["n"]["note"]
    labels = read_labels(labels_csv)
    said = [s.tone for s in tiny_model.score(labels.texts)]
    expected = agreement(labels.tones, said)
    assert by_metric["accuracy"]["value"] == pytest.approx(expected["accuracy"])
    assert by_metric["Cohen's kappa"]["value"] == expected["kappa"]
    for tone in ("constructive", "neutral", "hostile"):
        assert by_metric[f"recall {tone}"]["value"] == expected["per_tone"][tone]["recall"]
        assert f"precision {tone}" in by_metric


def test_the_eval_command_prints_the_agreement_table(
    labels_csv: Path,
    tiny_model: MiniLMTone,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from flows.cli import main

    monkeypatch.setattr(lab_cli, "labels_model", lambda settings: tiny_model)  # never the real weights
    assert main(["eval", "--labels", str(labels_csv)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["task", "dataset", "metric", "value", "reference", "note"]
    assert any(
        line.startswith("tone") and "labels: labels.csv" in line and " accuracy " in line for line in lines
    )
    assert "Cohen's kappa" in out and "recall hostile" in out

    assert main(["eval", "--labels", str(labels_csv.with_name("nope.csv"))]) == 2
    assert "No labels file at" in capsys.readouterr().err
