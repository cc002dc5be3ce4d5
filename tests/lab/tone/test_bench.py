"""`commonground bench tone` on the tiny model: every line there, the ratios measured in the same run."""

from __future__ import annotations

from lab.tone.bench import naive_probabilities, run, sample_texts
from models.tone import MiniLMTone


def test_bench_lines(tiny_model: MiniLMTone) -> None:
    lines = run(quick=True, model=tiny_model)
    ratios = [line for line in lines if line.startswith("ratio: ")]
    assert len(ratios) >= 2
    assert all(float(line.split()[1]) > 0 for line in ratios)
    assert any("peak memory" in line for line in lines)
    assert any("comment-length" in line for line in lines)


def test_naive_loop_scores_the_same_as_the_model(tiny_model: MiniLMTone) -> None:
    texts = sample_texts()[:40]
    naive = naive_probabilities(tiny_model, texts)
    ours = tiny_model.score(texts)
    heads = tiny_model.weights.heads
    for row, s in zip(
        naive, ours, strict=True
    ):  # attribute heads are not blended: same network, same numbers
        for a in tiny_model.attributes:
            assert abs(float(row[heads.index(a)]) - s.attributes[a]) < 1e-4
