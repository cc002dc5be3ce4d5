"""The model card, written from a training run's metadata: the tiny run's card, and the committed one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flows.api.perspective import PERSPECTIVE_ATTRIBUTES
from lab.tone.card import PERSPECTIVE, model_card
from lab.tone.corpora import LOADERS
from lab.tone.stage import HEADS
from models.tone import META_FILE, SCHEMA_VERSION, WEIGHTS_DIR

SECTIONS = (
    "## Model",
    "## Heads on validation",
    "## Constructive: the combinations measured",
    "## End to end",
    "## Training data, label mapping and licences",
    "## Intended use",
    "## Known limits",
)


@pytest.fixture(scope="module")
def meta(tiny_heads: Path) -> dict[str, Any]:
    return json.loads((tiny_heads.parent / META_FILE).read_text())


@pytest.fixture(scope="module")
def card(tiny_heads: Path, meta: dict[str, Any]) -> str:
    written = (tiny_heads.parent / "MODEL_CARD.md").read_text()
    assert written == model_card(meta)  # training writes the card from the metadata it writes
    return written


def test_the_card_has_every_section_in_order(card: str) -> None:
    at = [card.index(s) for s in SECTIONS]
    assert at == sorted(at)
    assert card.startswith(f"# Tone model card — `minilm-tone` (schema {SCHEMA_VERSION})")
    assert "Trained with --limit 36 (test run, not for use)" in card
    for gone in ("Length calibration", "lexical", "coef_length", "Length trap"):
        assert gone not in card


def test_every_head_has_its_perspective_name_and_validation_scores(card: str, meta: dict[str, Any]) -> None:
    assert set(PERSPECTIVE) == set(HEADS) - {"constructive"}
    for head, m in meta["metrics"]["heads"].items():
        name = PERSPECTIVE.get(head, ("—", ""))[0]
        row = next(line for line in card.splitlines() if line.startswith(f"| {head} | {name} | "))
        for corpus, c in m["corpora"].items():
            assert f"{corpus} {c['roc_auc']:.3f} (n={c['n']}, +{c['positives']})" in row
        assert f"| {m['roc_auc_mean']:.3f} |" in row and f"| {m['status']} |" in row
    for name in ("TOXICITY", "INSULT", "REASONING_EXPERIMENTAL", "CURIOSITY_EXPERIMENTAL"):
        assert f"| {name} |" in card
    for name in ("PERSONAL_STORY_EXPERIMENTAL", "COMPASSION_EXPERIMENTAL", "RESPECT_EXPERIMENTAL"):
        assert f"| {name} |" in card
    assert "AFFINITY_EXPERIMENTAL" in card and "NUANCE_EXPERIMENTAL" in card  # said not to be built


def test_the_card_and_the_api_name_the_same_perspective_attributes() -> None:
    """The API answers each Perspective attribute from the head the card says replaces it."""
    for name, attribute in PERSPECTIVE_ATTRIBUTES.items():
        assert PERSPECTIVE[attribute.head][0].split()[0] == name, (name, attribute.head)
    answered = {a.head for a in PERSPECTIVE_ATTRIBUTES.values()}
    card_named = {h for h, (name, _) in PERSPECTIVE.items() if name.split()[0].isupper()}
    assert card_named == answered


def test_every_corpus_is_listed_with_its_licence_and_the_weights_are_non_commercial(
    card: str, meta: dict[str, Any]
) -> None:
    ds = meta["datasets"]
    for name in ("c3", "tweeteval", *LOADERS):
        rows = ds["rows"][name]
        line = next(
            ln
            for ln in card.splitlines()
            if ln.endswith(f"| {rows['train']} / {rows['val']} | {ds['licences'][name]} |")
            and ln.startswith(f"| {ds['titles'].get(name, '')}")
        )
        for head in ds["mapping"][name]:
            assert f"{head} ←" in line, (name, head)
    assert "these weights are for non-commercial use only" in card
    assert "CC BY-NC-SA 4.0" in card and "Apache-2.0" in card


def test_the_combinations_and_the_end_to_end_checks_are_reported(card: str, meta: dict[str, Any]) -> None:
    rep = meta["metrics"]["constructive"]
    for name in rep["variants"]:
        shipped = " **(shipped)**" if name == rep["chosen"] else ""
        assert f"| {name}{shipped} |" in card
    assert f'"{rep["chosen"]}"' in card  # the model section names the shipped variant
    assert "`constructive = sigmoid(" in card
    e = meta["end_to_end"]
    assert f"macro-F1 **{e['tweeteval']['macro_f1']:.3f}**" in card
    for split, m in e["contrast"].items():
        assert f"| {split} ({m['triples']} triples) |" in card
    assert "not measured in this run" in model_card({k: v for k, v in meta.items() if k != "end_to_end"})


_COMMITTED = json.loads((WEIGHTS_DIR / META_FILE).read_text())


@pytest.mark.skipif(
    _COMMITTED.get("schema_version") != SCHEMA_VERSION,
    reason=f"the committed weights are schema {_COMMITTED.get('schema_version')}, not {SCHEMA_VERSION}: "
    "retrain and commit them (issue 12)",
)
def test_the_committed_card_is_what_the_committed_metadata_writes() -> None:
    """Measurements added by hand go below what the training run wrote, never inside it."""
    generated = (WEIGHTS_DIR / "MODEL_CARD.md").read_text()
    assert generated.startswith(model_card(_COMMITTED))
    assert _COMMITTED["datasets"]["limit"] is None
