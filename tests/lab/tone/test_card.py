"""The model card written from the committed weights' metadata."""

from __future__ import annotations

import json

from lab.tone.card import model_card
from models.tone import META_FILE, WEIGHTS_DIR


def test_card_of_the_committed_weights() -> None:
    meta = json.loads((WEIGHTS_DIR / META_FILE).read_text())
    card = model_card(meta)
    generated = (WEIGHTS_DIR / "MODEL_CARD.md").read_text()
    # the committed card starts with what this writes (one line was edited by hand), then hand-written
    # measurements follow
    assert card.splitlines()[:70] == generated.splitlines()[:70]
    assert "python -m lab.tone.train" in card and "lab/tone/train.py" in card
    assert "the crowd's mean constructiveness score" in card
    for gone in ("ranking loss", "Length-balanced", "random-width", "models.train_tone"):
        assert gone not in card
