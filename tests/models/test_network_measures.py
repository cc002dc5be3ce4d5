"""Random Walk Controversy, boundary polarization, rewiring and hostility across camps, checked
against cases small enough to work out by hand."""

from __future__ import annotations

import random

import igraph as ig
import numpy as np
import pandas as pd
import pytest

from models.network import baseline_settled, endorsement_graph, polarization, rewire
from models.network_measures import boundary_polarization, random_walk_controversy, two_largest_sides
from models.network_tone import hostility_across_camps


def sides_of(graph: ig.Graph, side: list[int]):
    return two_largest_sides(graph, side)


def two_cliques(n: int = 6, bridges: int = 1) -> tuple[ig.Graph, list[int]]:
    """Two n-cliques joined by `bridges` edges between vertex i of one and vertex i of the other."""
    edges = [(i, j) for i in range(n) for j in range(i + 1, n)]
    edges += [(n + i, n + j) for i in range(n) for j in range(i + 1, n)]
    edges += [(i, n + i) for i in range(bridges)]
    return ig.Graph(n=2 * n, edges=edges), [0] * n + [1] * n


def rwc_by_simulation(graph: ig.Graph, side: list[int], hubs: set[int], walks: int, seed: int) -> float:
    """Garimella et al.'s estimate: walks from random vertices of random sides until a hub."""
    rng = random.Random(seed)
    members = {s: [v for v in range(graph.vcount()) if side[v] == s] for s in (0, 1)}
    ends = {(a, b): 0 for a in (0, 1) for b in (0, 1)}
    for _ in range(walks):
        start = rng.choice((0, 1))
        node = rng.choice(members[start])
        while True:
            node = rng.choice(graph.neighbors(node))
            if node in hubs:
                ends[(start, side[node])] += 1
                break
    end_x = ends[(0, 0)] + ends[(1, 0)]
    end_y = ends[(0, 1)] + ends[(1, 1)]
    p_xx, p_yx = ends[(0, 0)] / end_x, ends[(1, 0)] / end_x
    p_yy, p_xy = ends[(1, 1)] / end_y, ends[(0, 1)] / end_y
    return p_xx * p_yy - p_xy * p_yx


def test_rwc_solve_matches_the_papers_simulation() -> None:
    graph, side = two_cliques(n=8, bridges=2)
    adj, sides = sides_of(graph, side)
    # hub_share 0.25 of 8 → the two highest-degree vertices of each side: the bridge ends 0, 1, 8, 9.
    exact = random_walk_controversy(adj, sides, hub_share=0.25)
    # The simulation starts walks on hubs too (stepping first, and stopping on any hub): the same
    # chain the linear solve describes, up to a return to the starting hub.
    simulated = rwc_by_simulation(graph, side, {0, 1, 8, 9}, walks=20_000, seed=3)
    assert exact == pytest.approx(simulated, abs=0.03)
    assert 0.5 < exact < 1.0


def test_rwc_extremes() -> None:
    graph, side = two_cliques(n=6, bridges=0)
    adj, sides = sides_of(graph, side)
    assert random_walk_controversy(adj, sides, hub_share=0.01) == pytest.approx(1.0)  # walks never cross
    complete = ig.Graph.Full(12)
    adj, sides = sides_of(complete, [0, 1] * 6)
    assert abs(random_walk_controversy(adj, sides, hub_share=0.2)) < 0.05  # sides are arbitrary labels


def test_boundary_polarization_by_hand() -> None:
    # Two triangles a-b-c and d-e-f joined by c-d: c and d are the boundary, each with two interior
    # neighbours and one neighbour on the other boundary → 2 / 3 − 1 / 2 for both.
    graph = ig.Graph(n=6, edges=[(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5), (2, 3)])
    adj, sides = sides_of(graph, [0, 0, 0, 1, 1, 1])
    assert boundary_polarization(adj, sides) == pytest.approx(2 / 3 - 1 / 2)
    adj, sides = sides_of(*two_cliques(n=4, bridges=0))
    assert boundary_polarization(adj, sides) == 0.5  # no edge between the sides at all


def test_rewiring_keeps_every_degree_and_is_seeded() -> None:
    graph = endorsement_graph(
        pd.DataFrame(
            {"src": [f"u{i}" for i in range(60)], "dst": [f"u{(i * 7 + 3) % 60}" for i in range(60)]}
        )
    )
    first, second = rewire(graph, seed=9), rewire(graph, seed=9)
    assert first.degree() == graph.degree()
    assert first.get_edgelist() == second.get_edgelist() != graph.get_edgelist()
    assert first.is_simple()


def test_polarization_is_reproducible_with_a_seed() -> None:
    rng = random.Random(4)
    edges = pd.DataFrame(
        [(f"u{rng.randrange(80)}", f"u{rng.randrange(80)}") for _ in range(400)], columns=["src", "dst"]
    )
    assert polarization(edges, n_rewirings=3, seed=1, hub_share=0.01) == polarization(
        edges, n_rewirings=3, seed=1, hub_share=0.01
    )


def replies(across_hostile: float, within_hostile: float, n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        across = i % 2 == 0
        hostile = rng.random() < (across_hostile if across else within_hostile)
        rows.append(("reply", f"a{i % 10}", f"{'b' if across else 'a'}{(i + 1) % 10}", hostile))
    return pd.DataFrame(rows, columns=["kind", "src_account_id", "dst_account_id", "is_hostile"])


def test_hostility_across_camps_against_shuffled_tone() -> None:
    camps: dict[str, int | None] = {f"a{i}": 0 for i in range(10)} | {f"b{i}": 1 for i in range(10)}
    hot = hostility_across_camps(replies(0.6, 0.1), camps, seed=1, n_permutations=200)
    assert hot["value"] == pytest.approx(hot["share_hostile_across"] - hot["share_hostile_within"])
    assert hot["z"] > 5 and hot["n_across"] == hot["n_within"] == 100
    calm = hostility_across_camps(replies(0.2, 0.2), camps, seed=1, n_permutations=200)
    assert abs(calm["z"]) < 3
    nobody_across = hostility_across_camps(replies(0.5, 0.5).head(0), camps, seed=1, n_permutations=200)
    assert nobody_across["value"] == nobody_across["z"] == 0.0


def test_the_baseline_is_settled_only_after_five_rewirings_and_when_its_mean_is_known_to_one_percent() -> (
    None
):
    tight = [0.0090, 0.0091, 0.0089, 0.0090, 0.0090]
    assert not baseline_settled(0.70, tight[:4])  # too few, however tight
    assert baseline_settled(0.70, tight)  # standard error 0.00003 against an excess of 0.69
    assert not baseline_settled(0.0092, tight)  # no real excess: its 1% is far below the standard error
    noisy = [0.01, 0.05, 0.02, 0.09, 0.03]
    assert not baseline_settled(0.70, noisy)  # standard error 0.014 against 1% of 0.66


def test_small_graphs_run_every_rewiring_asked_for() -> None:
    edges = pd.DataFrame(
        [(f"a{i}", f"a{(i + k) % 40}", "repost") for i in range(40) for k in (1, 2, 3)],
        columns=["src", "dst", "kind"],
    )
    assert polarization(edges, n_rewirings=7, seed=1, hub_share=0.01)["n_rewirings"] == 7
