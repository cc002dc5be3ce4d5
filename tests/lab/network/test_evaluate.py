"""The network evaluator on a tiny file in the Conover et al. 2011 format (the real one stays in
../shared and runs under `make eval`)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from lab.network.evaluate import DATASET, agreement, evaluate, read_labels


def write_conover(folder: Path, n: int = 120, seed: int = 5) -> None:
    """Two sides that retweet each other 95% of the time inside; mentions cross freely."""
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    nodes, retweets, mentions = [], [], []
    for i in range(n):
        nodes.append(f"{i}\t{'left' if i % 2 else 'right'}")
        for _ in range(5):
            j = rng.randrange(n)
            if rng.random() < 0.95:
                j = (j // 2) * 2 + i % 2
            if j != i:
                retweets.append(f"{i}\t{j}\tretweet\t1\t1286901355\t#p2\t#tcot")
            mentions.append(f"{i}\t{rng.randrange(n)}\tmention\t0\t1286901355")
    (folder / "retweet.nodes").write_text("\n".join(nodes) + "\n")
    (folder / "retweet.edgelist").write_text("\n".join(retweets) + "\n")
    (folder / "mention.edgelist").write_text("\n".join(mentions) + "\n")


def test_evaluate_reports_camp_recovery_modularity_and_time(tmp_path: Path) -> None:
    write_conover(tmp_path / DATASET)
    rows = evaluate(tmp_path)
    value = {(r["dataset"], r["metric"]): r["value"] for r in rows}
    assert all(r["task"] == "network" for r in rows)
    assert value[("conover retweet", "NMI, all camps folded into two sides")] > 0.9
    assert value[("conover retweet", "accuracy, all camps folded into two sides")] > 0.98
    assert value[("conover retweet", "modularity of the left/right labels")] > 0.4
    assert value[("conover retweet", "wall time, camps + polarization (s)")] > 0
    assert value[("conover retweet", "modularity z")] > 3
    assert (
        value[("conover retweet", "modularity excess over chance")]
        > value[("conover mention", "modularity excess over chance")]
    )
    assert {"rwc", "boundary", "ei_index"} <= {m for _, m in value}


def test_labels_keep_node_ids_as_written_and_agreement_is_label_free(tmp_path: Path) -> None:
    path = tmp_path / "retweet.nodes"
    path.write_text("007\tleft\n8\tright\n9\t-\n")
    assert read_labels(path) == {"007": "left", "8": "right", "9": "-"}
    truth = {"a": "left", "b": "left", "c": "right", "d": "right", "e": "-"}
    assert agreement(truth, {"a": 5, "b": 5, "c": 2, "d": 2, "e": 2}) == (pytest.approx(1.0), 1.0, 4)
    nmi, accuracy, n = agreement(truth, {"a": 5, "b": 2, "c": 5, "d": 2})
    assert nmi == pytest.approx(0.0) and accuracy == 0.5 and n == 4
