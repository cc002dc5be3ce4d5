"""The echo-chamber map: a bounded sample of accounts and the edges among them, laid out with a fixed seed.

A browser draws a few thousand marks smoothly and a hundred thousand not at all, so the map keeps every
constructive voice and, from each camp, its most endorsed accounts in proportion to the camp's size
(every camp's leading account first), then the strongest edges among them. Positions come from
igraph's Fruchterman-Reingold, started from one cluster per camp so that the picture shows camps even
where the sample's edges are thin; the same edges and seed always give the same map.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import igraph as ig
import numpy as np
import pandas as pd

from models.network import ENDORSEMENT_KINDS, edge_frame, seeded_igraph

MAX_NODES = 1500
MAX_EDGES = 4000
# Fruchterman-Reingold passes (igraph's default). Above 1,000 accounts igraph switches to its grid variant,
# which repels only nearby accounts: 0.3 s instead of 10 s for 1,500 accounts on one core.
LAYOUT_ITERATIONS = 500
NODE_COLUMNS = ["account_id", "x", "y", "camp_id", "degree", "endorsements", "is_voice"]
EDGE_COLUMNS = ["src_account_id", "dst_account_id", "kind", "weight"]


@dataclass(frozen=True)
class NetworkLayout:
    """What the map draws: `nodes` (NODE_COLUMNS, x and y in [-1, 1]) and `edges` (EDGE_COLUMNS, each
    pair once, lower account id first, kind ``endorsement`` when any repost or quote joins the pair,
    else ``contact``), and how large the whole network was."""

    nodes: pd.DataFrame
    edges: pd.DataFrame
    n_accounts: int
    n_pairs: int


def network_layout(
    edges: pd.DataFrame,
    camps: Mapping[str, int | None],
    voices: Iterable[str],
    *,
    seed: int,
    max_nodes: int = MAX_NODES,
    max_edges: int = MAX_EDGES,
) -> NetworkLayout:
    """Sample and lay out the interaction network of one analysis.

    `edges`: src, dst, kind (reply, quote, repost, mention), optional weight; `camps`: account → camp id
    (None: no camp); `voices`: the ranked constructive voices, every one of which is kept (up to
    `max_nodes`). Accounts follow by their rank inside their own camp relative to its size, so each
    camp is represented in proportion; accounts without a camp come last.
    """
    if max_nodes < 1 or max_edges < 0:
        raise ValueError(
            f"max_nodes must be at least 1 and max_edges at least 0 (got {max_nodes}, {max_edges})"
        )
    pairs = _pairs(edge_frame(edges))
    stats = _account_stats(edges, pairs)
    voice_list = list(dict.fromkeys(str(v) for v in voices))
    chosen = _sample_accounts(stats, camps, voice_list, max_nodes)
    inside = pairs["a"].isin(chosen) & pairs["b"].isin(chosen)
    kept = (
        pairs[inside]
        .sort_values(["endorse", "weight", "a", "b"], ascending=[False, False, True, True])
        .head(max_edges)
        .reset_index(drop=True)
    )
    nodes = pd.DataFrame({"account_id": chosen})
    nodes["camp_id"] = pd.array([camps.get(a) for a in chosen], dtype="Int64")
    nodes["degree"] = [int(stats["degree"].get(a, 0)) for a in chosen]
    nodes["endorsements"] = [int(stats["endorsements"].get(a, 0)) for a in chosen]
    nodes["is_voice"] = [a in set(voice_list) for a in chosen]
    xy = _positions(nodes, kept, seed)
    nodes["x"], nodes["y"] = xy[:, 0], xy[:, 1]
    out_edges = pd.DataFrame(
        {
            "src_account_id": kept["a"],
            "dst_account_id": kept["b"],
            "kind": np.where(kept["endorse"], "endorsement", "contact"),
            "weight": kept["weight"].astype(float),
        },
        columns=EDGE_COLUMNS,
    )
    return NetworkLayout(nodes[NODE_COLUMNS], out_edges, n_accounts=len(stats), n_pairs=len(pairs))


def _pairs(frame: pd.DataFrame) -> pd.DataFrame:
    """Each unordered pair of accounts once: summed weight, and whether any edge is an endorsement."""
    if frame.empty:
        return pd.DataFrame({"a": [], "b": [], "weight": [], "endorse": []}).astype(
            {"a": str, "b": str, "weight": float, "endorse": bool}
        )
    swap = frame["src"] > frame["dst"]
    return (
        pd.DataFrame(
            {
                "a": np.where(swap, frame["dst"], frame["src"]),
                "b": np.where(swap, frame["src"], frame["dst"]),
                "weight": frame["weight"].to_numpy(dtype=float),
                "endorse": frame["kind"].isin(ENDORSEMENT_KINDS).to_numpy(),
            }
        )
        .groupby(["a", "b"], sort=True)
        .agg(weight=("weight", "sum"), endorse=("endorse", "any"))
        .reset_index()
    )


def _account_stats(edges: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Per account: degree (distinct accounts it interacted with) and endorsements received."""
    degree = pd.concat([pairs["a"], pairs["b"]]).value_counts()
    frame = edge_frame(edges)
    received = frame.loc[frame["kind"].isin(ENDORSEMENT_KINDS), "dst"].value_counts()
    stats = pd.DataFrame({"degree": degree}).join(pd.DataFrame({"endorsements": received}), how="outer")
    return stats.fillna(0).astype(int)


def _sample_accounts(
    stats: pd.DataFrame, camps: Mapping[str, int | None], voices: list[str], max_nodes: int
) -> list[str]:
    """Every voice, then accounts by their rank inside their camp divided by the camp's size."""
    chosen = voices[:max_nodes]
    others = stats.drop(index=[v for v in chosen if v in stats.index])
    if others.empty or len(chosen) >= max_nodes:
        return chosen
    frame = others.reset_index(names="account_id")
    frame["camp"] = [camps.get(a) for a in frame["account_id"]]
    frame["has_camp"] = frame["camp"].notna()
    frame["camp_key"] = frame["camp"].fillna(-1).astype(int)
    frame = frame.sort_values(["endorsements", "degree", "account_id"], ascending=[False, False, True])
    within = frame.groupby("camp_key").cumcount()
    sizes = frame.groupby("camp_key")["account_id"].transform("size")
    # rank / size: a camp of 400 gives its 40th account when a camp of 40 gives its 4th
    frame["priority"] = np.where(frame["has_camp"], within / sizes, 1.0 + within / sizes)
    frame = frame.sort_values(
        ["priority", "endorsements", "degree", "account_id"], ascending=[True, False, False, True]
    )
    return chosen + frame["account_id"].head(max_nodes - len(chosen)).tolist()


def _positions(nodes: pd.DataFrame, pairs: pd.DataFrame, seed: int) -> np.ndarray:
    """Fruchterman-Reingold from one starting cluster per camp, scaled into [-1, 1]."""
    n = len(nodes)
    if n == 0:
        return np.zeros((0, 2))
    rng = np.random.default_rng(seed)
    camp_keys = nodes["camp_id"].fillna(-1).astype(int).to_numpy()
    order = {c: i for i, c in enumerate(sorted(set(camp_keys.tolist())))}
    angles = np.array([2 * math.pi * order[c] / len(order) for c in camp_keys.tolist()])
    radius = 0.0 if len(order) == 1 else math.sqrt(n)
    start = np.column_stack([radius * np.cos(angles), radius * np.sin(angles)])
    start += rng.normal(scale=max(1.0, math.sqrt(n) / 3), size=(n, 2))
    if n == 1:
        return np.zeros((1, 2))
    index = {a: i for i, a in enumerate(nodes["account_id"])}
    graph = ig.Graph(n=n, edges=[(index[a], index[b]) for a, b in zip(pairs["a"], pairs["b"], strict=True)])
    weights = np.log1p(pairs["weight"].to_numpy(dtype=float)).tolist() if len(pairs) else None
    with seeded_igraph(seed):
        layout = graph.layout_fruchterman_reingold(
            seed=start.tolist(), weights=weights, niter=LAYOUT_ITERATIONS, grid="auto"
        )
    xy = np.asarray(layout.coords, dtype=float)
    xy -= xy.mean(axis=0)
    scale = float(np.abs(xy).max()) or 1.0
    return np.round(xy / scale, 5)
