"""`commonground eval --only network`: camps and polarization on the Conover et al. 2011 networks.

The retweet network's nodes carry a left/right label (Conover et al. found the two clusters with
label propagation and checked them by hand). We report how well the two largest camps recover
those labels (NMI and accuracy over the accounts they hold, and how many they hold), the same with
every smaller camp folded into whichever of the two it endorses most, the modularity of our split
next to the published ≈ 0.48, each polarization measure against its rewired baseline, and wall time.
The mention network, which Conover et al. found much less segregated, is the contrast.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import normalized_mutual_info_score

from flows.network_cli import read_edge_list
from models.network import camp_modularity, detect_camps, endorsement_graph, polarization
from warehouse.settings import Settings

DATASET = "conover_2011_networks"
PUBLISHED_MODULARITY = 0.48
N_REWIRINGS = 10
SEED = 42
HUB_SHARE = Settings().rwc_hub_share


def read_labels(path: Path) -> dict[str, str]:
    """`retweet.nodes`: node id (as written) → cluster label ('left', 'right', or '-' for none)."""
    nodes = pd.read_csv(path, sep="\t", header=None, names=["node", "cluster"], dtype=str)
    return dict(zip(nodes["node"], nodes["cluster"], strict=True))


def fold_into_two(edges: pd.DataFrame, camp: dict[str, int | None]) -> dict[str, int]:
    """Every account on one of the two largest camps' sides: a smaller camp joins the one of the two
    its members endorse (or are endorsed by) most."""
    sizes = Counter(c for c in camp.values() if c is not None)
    if len(sizes) < 2:
        return {a: 0 for a, c in camp.items() if c is not None}
    first, second = (c for c, _ in sizes.most_common(2))
    ties: dict[int, Counter[int]] = {c: Counter() for c in sizes}
    for a, b in zip(edges["src"].map(camp), edges["dst"].map(camp), strict=True):
        if pd.notna(a) and pd.notna(b) and a != b:
            ties[int(a)][int(b)] += 1
            ties[int(b)][int(a)] += 1
    side = {first: 0, second: 1}
    for c in sizes:
        if c not in side:
            side[c] = 0 if ties[c][first] >= ties[c][second] else 1
    return {a: side[c] for a, c in camp.items() if c is not None}


def agreement(truth: dict[str, str], found: dict[str, int]) -> tuple[float, float, int]:
    """NMI and accuracy of a two-way split against the left/right labels (accuracy under the better
    of the two ways to match sides to labels), and how many labelled accounts were compared."""
    nodes = sorted(n for n in found if truth.get(n) in ("left", "right"))
    if not nodes:
        return 0.0, 0.0, 0
    right = np.array([truth[n] == "right" for n in nodes])
    first = found[nodes[0]]
    side = np.array([found[n] != first for n in nodes])
    accuracy = float(np.mean(side == right))
    return float(normalized_mutual_info_score(right, side)), max(accuracy, 1 - accuracy), len(nodes)


def evaluate(datasets_dir: Path) -> list[dict[str, Any]]:
    folder = datasets_dir / DATASET
    rows: list[dict[str, Any]] = []

    def row(dataset: str, metric: str, value: float, reference: Any = None, note: str = "") -> None:
        rows.append(
            {"task": "network", "dataset": dataset, "metric": metric, "value": value, "reference": reference}
            | ({"note": note} if note else {})
        )

    start = time.perf_counter()
    edges = read_edge_list(folder / "retweet.edgelist")
    labels = read_labels(folder / "retweet.nodes")
    camps = detect_camps(edges, seed=SEED)
    camps_seconds = time.perf_counter() - start
    pol = polarization(edges, seed=SEED, n_rewirings=N_REWIRINGS, hub_share=HUB_SHARE)
    seconds = time.perf_counter() - start

    name = "conover retweet"
    sizes = Counter(c for c in camps.camp.values() if c is not None)
    top_two = {c for c, _ in sizes.most_common(2)}
    in_top = {n: int(c) for n, c in camps.camp.items() if c in top_two}
    nmi, accuracy, n = agreement(labels, in_top)
    held = n / sum(1 for v in labels.values() if v in ("left", "right"))
    row(name, "camps", float(camps.n_camps), note=f"from {camps.n_communities} fine Leiden communities")
    row(name, "NMI, two largest camps", nmi, note=f"over the {n:,} labelled accounts they hold ({held:.0%})")
    row(name, "accuracy, two largest camps", accuracy, note=f"{n:,} accounts")
    folded = fold_into_two(edges, camps.camp)
    nmi_all, accuracy_all, n_all = agreement(labels, folded)
    row(name, "NMI, all camps folded into two sides", nmi_all, note=f"{n_all:,} accounts")
    row(name, "accuracy, all camps folded into two sides", accuracy_all, note=f"{n_all:,} accounts")
    graph = endorsement_graph(edges)
    names = graph.vs["name"]
    truth_split = [0 if labels.get(v) == "left" else 1 for v in names]
    row(
        name, "modularity of the left/right labels", camp_modularity(graph, truth_split), PUBLISHED_MODULARITY
    )
    row(name, "modularity of our camp split", pol["score"], PUBLISHED_MODULARITY)
    row(
        name,
        "modularity of our split folded into two sides",
        camp_modularity(graph, [folded.get(v) for v in names]),
        PUBLISHED_MODULARITY,
    )
    for measure, values in pol["measures"].items():
        note = f"rewired baseline {values['baseline_mean']:.3f} ± {values['baseline_std']:.3f} ({N_REWIRINGS} rewirings)"
        row(name, f"{measure}", values["value"], note=note)
        row(name, f"{measure} z", values["z"])
    row(name, "modularity excess over chance", pol["excess"], 0.22, "the issue's measurement: 0.22")
    row(name, "wall time, camps (s)", camps_seconds)
    row(name, "wall time, camps + polarization (s)", seconds, note=f"{N_REWIRINGS} rewirings")

    mention = read_edge_list(folder / "mention.edgelist").assign(kind="repost")
    contrast = polarization(mention, seed=SEED, n_rewirings=N_REWIRINGS, hub_share=HUB_SHARE)
    row(
        "conover mention", "modularity excess over chance", contrast["excess"], 0.05, "all edges define camps"
    )
    row("conover mention", "modularity z", contrast["z"])
    return rows
