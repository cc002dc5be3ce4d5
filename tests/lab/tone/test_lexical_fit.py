"""The lexical heads training fits, written and read back the way scoring loads them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lab.tone.lexical_fit import fit_idf, fit_lexical, save_lexical, with_blend
from models.tone_lexical import LexicalHead


def test_lexical_head_learns_and_round_trips(tmp_path: Path) -> None:
    good = [
        "we should fund more nurses because waiting lists grow",
        "the evidence suggests a plan for staff",
    ] * 10
    bad = ["shut up you idiot", "pathetic liar lol"] * 10
    y = np.array([1] * len(good) + [0] * len(bad))
    head = fit_lexical({"constructive": (good + bad, y)}, blend={"constructive": 0.3}, c=4.0)
    p = head.probabilities(["we should fund nurses", "you idiot"])
    assert p.shape == (2, 1) and p[0, 0] > p[1, 0]
    meta = save_lexical(head, tmp_path / "lex.safetensors")
    again = LexicalHead.load(tmp_path / "lex.safetensors", meta)
    assert again.blend == {"constructive": 0.3}
    np.testing.assert_allclose(
        again.probabilities(["we should fund nurses"]),
        head.probabilities(["we should fund nurses"]),
        atol=2e-3,
    )
    assert head.probabilities([]).shape == (0, 1)
    assert with_blend(head, {"constructive": 0.1, "hostile": 0.5}).blend == {"constructive": 0.1}


def test_rare_features_get_no_idf() -> None:
    idf = fit_idf(["nurses strike", "nurses pay", "doctors"])
    from models.tone_lexical import hashed_counts

    nurses = hashed_counts(["nurses"]).indices
    doctors = hashed_counts(["doctors"]).indices
    assert (idf[nurses] > 0).all() and (idf[doctors] == 0).all()
