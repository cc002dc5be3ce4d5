"""`commonground bench tone` on the tiny model: every line there, the ratios measured in the same run."""

from __future__ import annotations

from lab.tone.bench import naive_probabilities, run, sample_texts
from models.tone import MiniLMTone
from models.tone_base import UNSCORED, prepare_text


def test_bench_lines(tiny_model: MiniLMTone) -> None:
    lines = run(quick=True, model=tiny_model)
    ratios = [line for line in lines if line.startswith("ratio: ")]
    assert len(ratios) >= 2
    assert all(float(line.split()[1]) > 0 for line in ratios)
    assert any("peak memory" in line for line in lines)
    assert any("comment-length" in line for line in lines)
    # The first ratio is the stream's (the interface `bench tone` keeps), then the CPU-limit share.
    first = lines.index(ratios[0])
    assert lines[first - 1].startswith("stream, score")
    assert any(line.startswith("CPU limit: fp32 matmul peak ") for line in lines)
    share = next(line for line in lines if "% of that limit" in line)
    assert 0 < float(share.split("= ")[1].split("%")[0]) <= 100


def test_naive_loop_scores_the_same_as_the_model(tiny_model: MiniLMTone) -> None:
    """Same network, same numbers: the raw heads agree, and constructive is the naive loop's heads put
    through the model's stored combination (there is no other blend)."""
    texts = sample_texts()[:40]
    naive = naive_probabilities(tiny_model, texts)
    ours = tiny_model.score(texts)
    heads = tiny_model.weights.heads
    combination = tiny_model.weights.calibration["constructive"]
    scored = [i for i, s in enumerate(ours) if s.tone != UNSCORED]
    assert len(scored) >= 35  # the sample is English: the comparison covers (almost) every text
    for i in scored:
        row, s = naive[i], ours[i]
        for a in tiny_model.attributes:
            assert abs(float(row[heads.index(a)]) - s.attributes[a]) < 1e-4
        assert abs(float(row[heads.index("hostile")]) - s.hostile) < 1e-4
        by_head = {h: row[j : j + 1] for j, h in enumerate(heads)}
        expected = combination.apply(
            row[heads.index("constructive") : heads.index("constructive") + 1],
            by_head,
            [prepare_text(texts[i])],  # a combination with a length term reads the prepared text
        )
        assert abs(float(expected[0]) - s.constructive) < 1e-4
