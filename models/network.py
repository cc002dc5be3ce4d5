"""Echo chambers: typed interaction graph → Leiden communities → camps, and polarization against chance."""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import igraph as ig
import leidenalg
import numpy as np
import pandas as pd

# Endorsements (repost, quote) say "I stand with this"; they define camps. Replies and mentions are
# contact, often across camps and often hostile, so they place accounts without endorsements but
# never pull camps together.
ENDORSEMENT_KINDS = frozenset({"repost", "quote"})
CONTACT_KINDS = frozenset({"reply", "mention"})
# Camps are coarser than modularity's communities: a small hashtag's camp often splits into two or
# three tight communities that still endorse each other far more than chance.
CAMP_RESOLUTION = 0.5
MIN_BASELINE_STD = 1e-3


@dataclass
class Camps:
    """Two levels: fine Leiden communities of the endorsement graph, merged into a few camps."""

    community: dict[str, int]
    camp: dict[str, int | None]
    modularity: float
    n_communities: int
    sizes: dict[int, int] = field(default_factory=dict)

    @property
    def n_camps(self) -> int:
        return len(self.sizes)


def edge_frame(edges: pd.DataFrame) -> pd.DataFrame:
    """Validate an edge list: columns src, dst, optional kind (default repost) and weight (default 1)."""
    missing = {"src", "dst"} - set(edges.columns)
    if missing:
        raise ValueError(f"edge list needs columns src and dst; missing {sorted(missing)}")
    out = edges[["src", "dst"]].astype(str).copy()
    out["kind"] = edges["kind"].astype(str) if "kind" in edges else "repost"
    out["weight"] = pd.to_numeric(edges["weight"], errors="raise") if "weight" in edges else 1.0
    return out[out["src"] != out["dst"]]


def endorsement_graph(edges: pd.DataFrame) -> ig.Graph:
    """Undirected weighted graph of endorsements; parallel edges are summed into one weight."""
    frame = edge_frame(edges)
    frame = frame[frame["kind"].isin(ENDORSEMENT_KINDS)]
    return _undirected(frame)


def _undirected(frame: pd.DataFrame) -> ig.Graph:
    if frame.empty:
        return ig.Graph()
    a = np.where(frame["src"] < frame["dst"], frame["src"], frame["dst"])
    b = np.where(frame["src"] < frame["dst"], frame["dst"], frame["src"])
    summed = (
        pd.DataFrame({"a": a, "b": b, "weight": frame["weight"].to_numpy()})
        .groupby(["a", "b"], sort=True)["weight"]
        .sum()
        .reset_index()
    )
    return ig.Graph.DataFrame(summed, directed=False, use_vids=False)


def leiden(graph: ig.Graph, *, seed: int, weights: str | None = "weight") -> list[int]:
    """Modularity Leiden run to convergence with a fixed seed."""
    if graph.vcount() == 0:
        return []
    partition = leidenalg.find_partition(
        graph,
        leidenalg.ModularityVertexPartition,
        weights=_weights(graph) if weights else None,
        n_iterations=-1,
        seed=seed,
    )
    return list(partition.membership)


def _weights(graph: ig.Graph) -> str | None:
    return "weight" if "weight" in graph.es.attributes() else None


def coarsen(graph: ig.Graph, fine: list[int], *, seed: int, resolution: float) -> list[int]:
    """Merge fine communities into camps: Leiden at a lower resolution, started from the communities.

    Two groups join when they endorse each other more than `resolution` times what random mixing of
    their endorsements would give; Leiden may still move single accounts while it merges.
    """
    if graph.vcount() == 0:
        return []
    partition = leidenalg.find_partition(
        graph,
        leidenalg.RBConfigurationVertexPartition,
        weights=_weights(graph),
        resolution_parameter=resolution,
        initial_membership=fine,
        n_iterations=-1,
        seed=seed,
    )
    return list(partition.membership)


def two_level(
    graph: ig.Graph, *, seed: int, resolution: float, min_camp_share: float
) -> tuple[list[int], list[int | None]]:
    """Fine Leiden communities and the camps they merge into (small leftovers folded in)."""
    fine = leiden(graph, seed=seed)
    coarse = coarsen(graph, fine, seed=seed, resolution=resolution)
    min_size = max(3, math.ceil(min_camp_share * max(graph.vcount(), 1)))
    return fine, merge_small(graph, coarse, min_size)


def merge_small(graph: ig.Graph, membership: list[int], min_size: int) -> list[int | None]:
    """Fold communities smaller than `min_size` into the large community they are most tied to.

    A small community with no tie to any large one stays unplaced (None): it is not a camp.
    """
    sizes = Counter(membership)
    large = {c for c, s in sizes.items() if s >= min_size}
    if not large and sizes:
        large = {sizes.most_common(1)[0][0]}
    ties: dict[int, Counter[int]] = defaultdict(Counter)
    weights = graph.es["weight"] if "weight" in graph.es.attributes() else [1.0] * graph.ecount()
    for edge, w in zip(graph.es, weights, strict=True):
        ca, cb = membership[edge.source], membership[edge.target]
        if ca != cb:
            ties[ca][cb] += w
            ties[cb][ca] += w
    target: dict[int, int | None] = {c: c for c in large}
    for c in sorted(set(sizes) - large, key=lambda c: -sizes[c]):
        candidates = {k: w for k, w in ties[c].items() if k in large}
        target[c] = max(sorted(candidates), key=lambda k: candidates[k]) if candidates else None
    return [target[c] for c in membership]


def detect_camps(
    edges: pd.DataFrame,
    *,
    seed: int = 42,
    resolution: float = CAMP_RESOLUTION,
    min_camp_share: float = 0.02,
) -> Camps:
    """Camps of a conversation: Leiden communities of the endorsement graph merged into camps, small
    leftovers folded in, then the accounts with only replies or mentions placed in the camp they
    talk with most."""
    frame = edge_frame(edges)
    graph = endorsement_graph(frame)
    names: list[str] = graph.vs["name"] if graph.vcount() else []
    fine, merged = two_level(graph, seed=seed, resolution=resolution, min_camp_share=min_camp_share)
    # Camp ids by size, largest first, so "camp 0" means the same thing in every report.
    order = Counter(c for c in merged if c is not None)
    relabel = {c: i for i, (c, _) in enumerate(sorted(order.items(), key=lambda kv: (-kv[1], kv[0])))}
    camp: dict[str, int | None] = {
        n: (relabel[c] if c is not None else None) for n, c in zip(names, merged, strict=True)
    }
    _place_by_contact(frame, camp)
    placed = [c for c in camp.values() if c is not None]
    modularity = camp_modularity(graph, [camp[n] for n in names]) if names else 0.0
    return Camps(
        community=dict(zip(names, fine, strict=True)),
        camp=camp,
        modularity=modularity,
        n_communities=len(set(fine)),
        sizes=dict(Counter(placed)),
    )


def _place_by_contact(frame: pd.DataFrame, camp: dict[str, int | None]) -> None:
    contact = frame[frame["kind"].isin(CONTACT_KINDS)]
    votes: dict[str, Counter[int]] = defaultdict(Counter)
    for src, dst, w in contact[["src", "dst", "weight"]].itertuples(index=False):
        for me, other in ((src, dst), (dst, src)):
            other_camp = camp.get(other)
            if camp.get(me) is None and other_camp is not None:
                votes[me][other_camp] += w
    everyone = set(frame["src"]) | set(frame["dst"])
    for account in everyone:
        if camp.get(account) is None:
            tally = votes.get(account)
            camp[account] = min(tally, key=lambda c: (-tally[c], c)) if tally else None


def camp_modularity(graph: ig.Graph, camps: list[int | None]) -> float:
    """Modularity of a camp split; unplaced nodes each count as their own group."""
    if graph.ecount() == 0:
        return 0.0
    membership = _dense(camps)
    weights = graph.es["weight"] if "weight" in graph.es.attributes() else None
    return float(graph.modularity(membership, weights=weights))


def _dense(camps: Iterable[int | None]) -> list[int]:
    labels: dict[Any, int] = {}
    out = []
    for i, c in enumerate(camps):
        key = ("camp", c) if c is not None else ("alone", i)
        out.append(labels.setdefault(key, len(labels)))
    return out


def ei_index(graph: ig.Graph, camps: list[int | None]) -> float:
    """Krackhardt's E-I index: (external − internal) / all edge weight; −1 closed camps, +1 all across."""
    if graph.ecount() == 0:
        return 0.0
    membership = _dense(camps)
    weights = graph.es["weight"] if "weight" in graph.es.attributes() else [1.0] * graph.ecount()
    internal = sum(
        w for e, w in zip(graph.es, weights, strict=True) if membership[e.source] == membership[e.target]
    )
    total = float(sum(weights))
    return (total - 2 * internal) / total if total else 0.0


def polarization(
    edges: pd.DataFrame,
    *,
    seed: int = 42,
    n_rewirings: int = 20,
    resolution: float = CAMP_RESOLUTION,
    min_camp_share: float = 0.02,
) -> dict[str, Any]:
    """How segregated the endorsement network is, compared with chance.

    Each measure is computed on the graph and on `n_rewirings` degree-preserving random rewirings of
    it, re-partitioned the same way, because every measure scores high even on random graphs. The
    headline `score` is the modularity of the camp split, reported with its baseline, its z-score and
    `excess` (score minus the baseline mean), which is what orders topics by segregation.
    """
    graph = endorsement_graph(edges)
    if graph.ecount() == 0:
        return {
            "score": 0.0,
            "baseline_mean": 0.0,
            "baseline_std": 0.0,
            "z": 0.0,
            "excess": 0.0,
            "n_rewirings": 0,
            "measures": {},
        }
    observed = _measures(graph, seed=seed, resolution=resolution, min_camp_share=min_camp_share)
    rng = np.random.default_rng(seed)
    baseline: dict[str, list[float]] = defaultdict(list)
    for _ in range(n_rewirings):
        rewired = graph.copy()
        # igraph's rewiring uses its own RNG; seed it so a run is reproducible.
        ig.set_random_number_generator(_SeededRandom(int(rng.integers(2**31))))
        try:
            rewired.rewire(n=10 * rewired.ecount())
            # Rewiring drops edge attributes; the weights go back on, so strengths stay close to the
            # original's while who-is-tied-to-whom is randomised.
            rewired.es["weight"] = graph.es["weight"]
        finally:
            ig.set_random_number_generator(random)  # igraph's default
        for name, value in _measures(
            rewired, seed=seed, resolution=resolution, min_camp_share=min_camp_share
        ).items():
            baseline[name].append(value)
    measures = {name: _against(value, baseline[name]) for name, value in observed.items()}
    head = measures["modularity"]
    return {
        "score": head["value"],
        "baseline_mean": head["baseline_mean"],
        "baseline_std": head["baseline_std"],
        "z": head["z"],
        "excess": head["value"] - head["baseline_mean"],
        "n_rewirings": n_rewirings,
        "measures": measures,
    }


def _measures(graph: ig.Graph, *, seed: int, resolution: float, min_camp_share: float) -> dict[str, float]:
    _, camps = two_level(graph, seed=seed, resolution=resolution, min_camp_share=min_camp_share)
    return {"modularity": camp_modularity(graph, camps), "ei_index": ei_index(graph, camps)}


def _against(value: float, baseline: list[float]) -> dict[str, float]:
    mean = float(np.mean(baseline)) if baseline else 0.0
    std = float(np.std(baseline, ddof=1)) if len(baseline) > 1 else 0.0
    # Rewirings that all collapse into one camp have no spread; a floor keeps z finite and honest.
    z = (value - mean) / max(std, MIN_BASELINE_STD)
    return {"value": float(value), "baseline_mean": mean, "baseline_std": std, "z": float(z)}


class _SeededRandom:
    """The interface igraph needs from a random number generator, backed by numpy."""

    def __init__(self, seed: int) -> None:
        self._rng = np.random.default_rng(seed)

    def random(self) -> float:
        return float(self._rng.random())

    def randint(self, a: int, b: int) -> int:
        return int(self._rng.integers(a, b + 1))

    def gauss(self, mu: float, sigma: float) -> float:
        return float(self._rng.normal(mu, sigma))

    def getstate(self) -> Any:
        return self._rng.bit_generator.state

    def setstate(self, state: Mapping[str, Any]) -> None:
        self._rng.bit_generator.state = state
