"""The echo-chamber map's sample and layout: bounded, reproducible, every voice kept, camps in proportion."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.network_layout import EDGE_COLUMNS, NODE_COLUMNS, network_layout


def camps_graph(
    sizes: tuple[int, ...] = (300, 100, 40), seed: int = 3
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Camps that repost inside themselves and reply across; account names say their camp."""
    rng = np.random.default_rng(seed)
    members = {c: [f"c{c}-{i:03d}" for i in range(n)] for c, n in enumerate(sizes)}
    rows = []
    for c, names in members.items():
        for _ in range(len(names) * 4):
            a, b = rng.choice(len(names), 2, replace=False)
            # a few popular accounts per camp receive most endorsements
            b = int(b) % max(3, len(names) // 10)
            if names[int(a)] != names[b]:
                rows.append((names[int(a)], names[b], "repost"))
        for _ in range(len(names)):
            other = members[(c + 1) % len(sizes)]
            rows.append((names[int(rng.integers(len(names)))], other[int(rng.integers(len(other)))], "reply"))
    camp_of = {name: c for c, names in members.items() for name in names}
    return pd.DataFrame(rows, columns=["src", "dst", "kind"]), camp_of


def test_same_input_and_seed_give_the_same_map_and_another_seed_another() -> None:
    edges, camps = camps_graph()
    voices = ["c2-039", "c0-150"]
    first = network_layout(edges, camps, voices, seed=42, max_nodes=200, max_edges=500)
    again = network_layout(edges, camps, voices, seed=42, max_nodes=200, max_edges=500)
    pd.testing.assert_frame_equal(first.nodes, again.nodes)
    pd.testing.assert_frame_equal(first.edges, again.edges)
    other = network_layout(edges, camps, voices, seed=7, max_nodes=200, max_edges=500)
    assert list(other.nodes["account_id"]) == list(first.nodes["account_id"])  # the sample has no chance
    assert not np.allclose(other.nodes[["x", "y"]].to_numpy(), first.nodes[["x", "y"]].to_numpy())


def test_sample_stays_within_bounds_keeps_every_voice_and_every_camp() -> None:
    edges, camps = camps_graph()
    voices = ["c2-039", "c1-099", "c0-299", "nobody-interacted"]  # low-endorsed accounts and one outsider
    layout = network_layout(edges, camps, voices, seed=1, max_nodes=60, max_edges=80)
    nodes = layout.nodes
    assert list(nodes.columns) == NODE_COLUMNS and list(layout.edges.columns) == EDGE_COLUMNS
    assert len(nodes) == 60 and nodes["account_id"].is_unique
    assert len(layout.edges) == 80
    assert set(voices) <= set(nodes["account_id"])
    assert set(nodes.loc[nodes["is_voice"], "account_id"]) == set(voices)
    assert nodes["x"].between(-1, 1).all() and nodes["y"].between(-1, 1).all()
    assert max(nodes["x"].abs().max(), nodes["y"].abs().max()) == pytest.approx(1.0)
    # camps in proportion to their size (300 : 100 : 40 over the 56 places the voices leave)
    per_camp = nodes.loc[~nodes["is_voice"], "camp_id"].value_counts()
    assert per_camp[0] > per_camp[1] > per_camp[2] >= 1
    assert abs(per_camp[0] - 56 * 300 / 440) <= 2
    # each camp's most endorsed accounts come first
    endorsed = edges[edges["kind"] == "repost"]["dst"].value_counts()
    top_of_camp2 = max((a for a in endorsed.index if camps[a] == 2), key=lambda a: (endorsed[a], a))
    assert top_of_camp2 in set(nodes["account_id"])
    # edges only between sampled accounts, each pair once, endorsements before contact
    kept = set(nodes["account_id"])
    assert set(layout.edges["src_account_id"]) <= kept and set(layout.edges["dst_account_id"]) <= kept
    assert (layout.edges["src_account_id"] < layout.edges["dst_account_id"]).all()
    kinds = list(layout.edges["kind"])
    assert kinds == sorted(kinds, key=lambda k: k != "endorsement")
    assert layout.n_accounts == len(set(edges["src"]) | set(edges["dst"]))


def test_pairs_are_summed_and_counts_describe_the_whole_network() -> None:
    edges = pd.DataFrame(
        [
            ("a", "b", "repost"),
            ("b", "a", "reply"),
            ("a", "b", "quote"),
            ("c", "a", "mention"),
            ("c", "c", "repost"),
        ],
        columns=["src", "dst", "kind"],
    )
    layout = network_layout(edges, {"a": 0, "b": 0, "c": None}, [], seed=0)
    by_id = layout.nodes.set_index("account_id")
    assert by_id.loc["b", "endorsements"] == 2 and by_id.loc["a", "endorsements"] == 0
    assert by_id.loc["a", "degree"] == 2 and by_id.loc["c", "degree"] == 1
    assert pd.isna(by_id.loc["c", "camp_id"])
    pairs = {(r.src_account_id, r.dst_account_id): (r.kind, r.weight) for r in layout.edges.itertuples()}
    assert pairs == {("a", "b"): ("endorsement", 3.0), ("a", "c"): ("contact", 1.0)}
    assert layout.n_pairs == 2


def test_a_large_network_stays_within_the_browser_budget() -> None:
    edges, camps = camps_graph(sizes=(1500, 900, 400))
    layout = network_layout(edges, camps, [f"c1-{i:03d}" for i in range(0, 900, 30)], seed=5)
    assert len(layout.nodes) == 1500 and len(layout.edges) <= 4000
    assert layout.nodes["is_voice"].sum() == 30


def test_empty_network_and_bad_bounds() -> None:
    empty = network_layout(pd.DataFrame(columns=["src", "dst", "kind"]), {}, ["v"], seed=0)
    assert list(empty.nodes["account_id"]) == ["v"] and empty.edges.empty
    assert (empty.nodes["x"] == 0).all()
    nothing = network_layout(pd.DataFrame(columns=["src", "dst", "kind"]), {}, [], seed=0)
    assert nothing.nodes.empty and list(nothing.nodes.columns) == NODE_COLUMNS
    with pytest.raises(ValueError, match="max_nodes"):
        network_layout(pd.DataFrame(columns=["src", "dst"]), {}, [], seed=0, max_nodes=0)
