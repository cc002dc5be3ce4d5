"""Camps and polarization on graphs whose answer is known."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from models.network import detect_camps, ei_index, endorsement_graph, polarization


def planted(n_camps: int = 4, per_camp: int = 60, edges_per_node: int = 6, p_in: float = 0.9, seed: int = 1):
    rng = random.Random(seed)
    rows = []
    truth = {}
    for i in range(n_camps * per_camp):
        camp = i % n_camps
        truth[f"u{i}"] = camp
        for _ in range(edges_per_node):
            j = rng.randrange(n_camps * per_camp)
            if rng.random() < p_in:
                j = (j // n_camps) * n_camps + camp
            if j != i:
                rows.append((f"u{i}", f"u{j}", "repost"))
    return pd.DataFrame(rows, columns=["src", "dst", "kind"]), truth


def random_graph(n: int = 240, m: int = 1400, seed: int = 2) -> pd.DataFrame:
    rng = random.Random(seed)
    rows = [(f"u{rng.randrange(n)}", f"u{rng.randrange(n)}", "repost") for _ in range(m)]
    return pd.DataFrame(rows, columns=["src", "dst", "kind"])


def test_planted_camps_are_recovered_exactly() -> None:
    from sklearn.metrics import normalized_mutual_info_score

    edges, truth = planted()
    camps = detect_camps(edges, seed=42)
    nodes = sorted(truth)
    nmi = normalized_mutual_info_score([truth[n] for n in nodes], [camps.camp[n] for n in nodes])
    assert camps.n_camps == 4
    assert nmi > 0.95


def test_camps_are_reproducible_with_a_seed() -> None:
    edges, _ = planted(p_in=0.7)
    assert detect_camps(edges, seed=3).camp == detect_camps(edges, seed=3).camp


def test_replies_place_accounts_but_do_not_define_camps() -> None:
    edges, _ = planted(n_camps=2, per_camp=30)
    # A reply-only account talking to camp 0 lands in camp 0; heavy cross-camp replies change nothing.
    extra = [("lurker", "u0", "reply"), ("lurker", "u2", "reply"), ("lurker", "u1", "mention")]
    extra += [(f"u{i}", f"u{i + 1}", "reply") for i in range(0, 58, 2)]
    camps = detect_camps(pd.concat([edges, pd.DataFrame(extra, columns=edges.columns)]), seed=42)
    assert camps.camp["lurker"] == camps.camp["u0"]
    assert camps.n_camps == 2


def test_ei_index_bounds() -> None:
    graph = endorsement_graph(pd.DataFrame({"src": ["a", "c"], "dst": ["b", "d"], "kind": ["repost"] * 2}))
    names = graph.vs["name"]
    same = [0 if n in "ab" else 1 for n in names]
    across = [0 if n in "ac" else 1 for n in names]
    assert ei_index(graph, same) == pytest.approx(-1.0)
    assert ei_index(graph, across) == pytest.approx(1.0)


def test_random_graph_is_not_called_polarised_but_a_planted_one_is() -> None:
    rand = polarization(random_graph(), n_rewirings=10, seed=5, hub_share=0.01)
    edges, _ = planted()
    camps = polarization(edges, n_rewirings=10, seed=5, hub_share=0.01)
    # A random graph has no camps to speak of; the planted one stands far out from its rewired baseline.
    assert abs(rand["z"]) < 3
    assert camps["z"] > 10
    assert camps["excess"] > 0.2 > abs(rand["excess"])
    assert set(camps["measures"]) == {"modularity", "ei_index", "rwc", "boundary"}
    for name in ("rwc", "boundary"):
        # Both two-sided measures score well above zero even on the random graph: hence the baseline.
        assert abs(rand["measures"][name]["z"]) < 3
        assert camps["measures"][name]["z"] > 3


def test_empty_graph_gives_a_zero_result() -> None:
    empty = pd.DataFrame({"src": ["a"], "dst": ["b"], "kind": ["reply"]})
    assert polarization(empty, seed=1, n_rewirings=3, hub_share=0.01)["score"] == 0.0
    assert detect_camps(empty, seed=1).n_camps == 0
