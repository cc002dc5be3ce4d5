"""Two-sided segregation measures: Random Walk Controversy and boundary polarization.

Both were defined for a graph split into exactly two sides; a conversation with more camps is measured
between its two largest camps, on the graph induced by their members. Both treat the graph as simple
and unweighted, as the papers do.

- **Random Walk Controversy** (Garimella, De Francisci Morales, Gionis & Mathioudakis 2018, "Quantifying
  Controversy on Social Media", TSC): a walk starts at a uniformly random vertex of a uniformly random
  side and stops at the first "authoritative" vertex (a hub: the highest-degree vertices of each side)
  it reaches. With P_AB = Pr[start in A | end in B], RWC = P_XX·P_YY − P_XY·P_YX: near 1 when walks end
  where they began, near 0 when the sides mix. The authors estimate the P_AB by simulating walks; here
  they are exact, from one absorbing-chain linear solve (the hitting probabilities of X's hubs). Hubs are
  a share of each side (`hub_share`), not a fixed k: a fixed k = 10 makes every large graph look mixed
  because almost no walk reaches ten hubs among thousands of vertices before crossing. As in the
  original code, a walk that starts on a hub takes one step before it can stop.
- **Boundary polarization** (Guerra, Meira, Cardie & Kleinberg 2013, "A Measure of Polarization on
  Social Media Networks Based on Community Boundaries", ICWSM): a boundary vertex of side i has a
  neighbour on the other side and a neighbour inside i that has none; the rest of i is its interior.
  P = mean over boundary vertices v of d_int(v) / (d_int(v) + d_bnd(v)) − 1/2, where d_int counts v's
  interior neighbours and d_bnd its neighbours on the other side's boundary. P > 0 means the people at
  the edge of a camp still lean inwards; P ≤ 0 means the boundary is where the sides meet.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import igraph as ig
import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import cg


def two_largest_sides(
    graph: ig.Graph, camps: Sequence[int | None], *, ends: np.ndarray | None = None
) -> tuple[sparse.csr_matrix, np.ndarray]:
    """The simple unweighted adjacency of the graph induced by the two largest camps, and each kept
    vertex's side (0 for the largest camp, 1 for the next). Empty when there are fewer than two camps.
    `ends`: the graph's edges as an (m, 2) array of vertex indices, when the caller has them."""
    sizes = Counter(c for c in camps if c is not None)
    if len(sizes) < 2:
        return sparse.csr_matrix((0, 0)), np.zeros(0, dtype=np.int8)
    (first, _), (second, _) = sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0]))[:2]
    labels = np.asarray(list(camps), dtype=object)
    is_first = labels == first
    keep = is_first | (labels == second)
    side = np.where(is_first, 0, 1).astype(np.int8)
    index = np.full(len(camps), -1)
    index[keep] = np.arange(int(keep.sum()))
    if ends is None:
        ends = np.asarray(graph.get_edgelist(), dtype=np.int64).reshape(-1, 2)
    ends = ends[keep[ends[:, 0]] & keep[ends[:, 1]]]
    n = int(keep.sum())
    a, b = index[ends[:, 0]], index[ends[:, 1]]
    adj = sparse.coo_matrix((np.ones(2 * len(a)), (np.r_[a, b], np.r_[b, a])), shape=(n, n)).tocsr()
    adj.data[:] = 1.0  # parallel edges count once: the graph is simple
    return adj, side[keep]


def random_walk_controversy(adj: sparse.csr_matrix, side: np.ndarray, hub_share: float) -> float:
    """RWC of a two-sided graph (see the module docstring); 0.0 when it is undefined."""
    n = adj.shape[0]
    if n == 0 or side.min() == side.max():
        return 0.0
    degree = np.asarray(adj.sum(axis=1)).ravel()
    hub = np.zeros(n, dtype=bool)
    for s in (0, 1):
        members = np.flatnonzero((side == s) & (degree > 0))
        k = min(len(members), max(1, math.ceil(hub_share * int((side == s).sum()))))
        # Highest degree first; equal degrees go to the lower index, so the choice is reproducible.
        hub[members[np.lexsort((members, -degree[members]))[:k]]] = True
    # Walks from a component without hubs never stop; the original code gives up on them, so do we.
    _, component = connected_components(adj, directed=False)
    reachable = np.isin(component, np.unique(component[hub])) & (degree > 0)
    transient = np.flatnonzero(reachable & ~hub)
    ends_x = np.zeros(n)  # probability of stopping on a hub of side 0 (X)
    ends_x[hub & (side == 0)] = 1.0
    if len(transient):
        # h = P h on transient vertices with h = 1 on X's hubs, 0 on Y's: (D − A)_TT h_T = A_T,hubX 1.
        # The matrix is symmetric positive definite on components that reach a hub, so CG converges.
        a_tt = adj[transient][:, transient]
        laplacian = sparse.diags(degree[transient]) - a_tt
        rhs = adj[transient] @ ends_x
        precondition = sparse.diags(1.0 / degree[transient])
        solution, info = cg(laplacian, rhs, rtol=1e-10, atol=0.0, maxiter=20 * len(transient), M=precondition)
        if info != 0:
            raise RuntimeError(f"Random Walk Controversy: the linear solve did not converge (info={info}).")
        ends_x[transient] = np.clip(solution, 0.0, 1.0)
    start_value = ends_x.copy()
    hubs = np.flatnonzero(hub)
    start_value[hubs] = (adj[hubs] @ ends_x) / degree[hubs]  # a hub's walk takes one step first
    starts_x, starts_y = reachable & (side == 0), reachable & (side == 1)
    if not starts_x.any() or not starts_y.any():
        return 0.0
    x_to_x = float(start_value[starts_x].mean())  # Pr[end X | start X]
    y_to_x = float(start_value[starts_y].mean())  # Pr[end X | start Y]
    # Each side is chosen with probability 1/2, so Bayes' rule needs only the two hitting means.
    end_x, end_y = x_to_x + y_to_x, (1 - x_to_x) + (1 - y_to_x)
    if end_x <= 0 or end_y <= 0:
        return 0.0
    p_xx, p_yx = x_to_x / end_x, y_to_x / end_x
    p_yy, p_xy = (1 - y_to_x) / end_y, (1 - x_to_x) / end_y
    return p_xx * p_yy - p_xy * p_yx


def boundary_polarization(adj: sparse.csr_matrix, side: np.ndarray) -> float:
    """Guerra et al.'s P in [−0.5, 0.5] (see the module docstring). Two sides with no edge between them
    score 0.5; sides that touch but have no boundary vertex in the paper's sense score 0.0."""
    n = adj.shape[0]
    if n == 0 or side.min() == side.max():
        return 0.0
    on = [(side == s).astype(float) for s in (0, 1)]
    other_count = np.where(side == 0, adj @ on[1], adj @ on[0])
    if not other_count.any():
        return 0.5
    crosses = other_count > 0
    quiet = [(~crosses & (side == s)).astype(float) for s in (0, 1)]
    quiet_own = np.where(side == 0, adj @ quiet[0], adj @ quiet[1])
    boundary = crosses & (quiet_own > 0)
    if not boundary.any():
        return 0.0
    interior = [(~boundary & (side == s)).astype(float) for s in (0, 1)]
    edge = [(boundary & (side == s)).astype(float) for s in (0, 1)]
    d_int = np.where(side == 0, adj @ interior[0], adj @ interior[1])[boundary]
    d_bnd = np.where(side == 0, adj @ edge[1], adj @ edge[0])[boundary]
    total = d_int + d_bnd
    valid = total > 0
    return float(np.mean(d_int[valid] / total[valid] - 0.5)) if valid.any() else 0.0
