"""`commonground bench network`: a 100k-account, 1M-interaction conversation analysed end to end.

The network analysis (camps, polarization with its rewired baselines, hostility across camps and the
constructive-voice ranking) must finish in under 60 s and 4 GB of peak memory on one laptop-class
machine. The baseline, run in the same process on the same graph, is one plain modularity Leiden
pass: `ratio` says how many of those the whole analysis costs, which stays comparable across machines.
"""

from __future__ import annotations

import resource
import sys
import time
from typing import Any

import numpy as np
import pandas as pd

from flows.analysis import voice_params
from models.network import detect_camps, endorsement_graph, leiden, polarization
from models.network_tone import hostility_across_camps
from models.voices import constructive_voices
from warehouse.settings import Settings

FULL = {"n_accounts": 100_000, "n_interactions": 1_000_000, "n_rewirings": 5}
QUICK = {"n_accounts": 10_000, "n_interactions": 100_000, "n_rewirings": 3}
KINDS = (("repost", 0.5), ("quote", 0.1), ("reply", 0.25), ("mention", 0.15))
BUDGET_SECONDS = 60.0
BUDGET_BYTES = 4 * 1024**3


def synthetic_conversation(
    n_accounts: int, n_interactions: int, *, n_camps: int = 6, p_within: float = 0.85, seed: int = 0
) -> dict[str, pd.DataFrame]:
    """Planted camps with heavy-tailed activity (a few accounts are most of the traffic), typed
    interactions, and one to five scored posts per account."""
    rng = np.random.default_rng(seed)
    camp = rng.integers(n_camps, size=n_accounts)
    activity = rng.pareto(1.5, size=n_accounts) + 1.0
    popularity = rng.pareto(1.2, size=n_accounts) + 1.0
    src = rng.choice(n_accounts, size=n_interactions, p=activity / activity.sum())
    # Targets: a popular account of the source's camp with probability p_within, any account otherwise.
    order = np.argsort(camp, kind="stable")
    starts = np.searchsorted(camp[order], np.arange(n_camps + 1))
    dst = rng.choice(n_accounts, size=n_interactions, p=popularity / popularity.sum())
    within = rng.random(n_interactions) < p_within
    for c in range(n_camps):
        members = order[starts[c] : starts[c + 1]]
        weights = popularity[members] / popularity[members].sum()
        pick = within & (camp[src] == c)
        dst[pick] = rng.choice(members, size=int(pick.sum()), p=weights)
    kinds = rng.choice([k for k, _ in KINDS], size=n_interactions, p=[p for _, p in KINDS])
    hostile = np.clip(rng.beta(1.2, 6.0, size=n_interactions) + 0.4 * (~within), 0.0, 1.0)
    names = np.char.add("u", np.arange(n_accounts).astype(str))
    interactions = pd.DataFrame(
        {
            "kind": kinds,
            "src_account_id": names[src],
            "dst_account_id": names[dst],
            "hostile": hostile,
            "is_hostile": hostile >= 0.5,
        }
    )
    interactions = interactions[interactions["src_account_id"] != interactions["dst_account_id"]]
    n_posts = rng.integers(1, 6, size=n_accounts)
    authors = np.repeat(names, n_posts)
    posts = pd.DataFrame(
        {
            "post_id": np.char.add("p", np.arange(len(authors)).astype(str)),
            "author_id": authors,
            "repost_of_post_id": None,
            "constructive": rng.beta(2.0, 2.0, size=len(authors)),
            "hostile": rng.beta(1.2, 6.0, size=len(authors)),
        }
    )
    return {"posts": posts, "interactions": interactions.reset_index(drop=True)}


def analyse(conversation: dict[str, pd.DataFrame], *, n_rewirings: int, seed: int = 42) -> dict[str, Any]:
    """What `run_analysis` does to the network, without the text profiles."""
    interactions = conversation["interactions"]
    edges = interactions.rename(columns={"src_account_id": "src", "dst_account_id": "dst"})[
        ["src", "dst", "kind"]
    ]
    timings: dict[str, float] = {}
    start = time.perf_counter()
    settings = Settings()
    camps = detect_camps(edges, seed=seed)
    timings["camps"] = time.perf_counter() - start
    start = time.perf_counter()
    pol = polarization(  # as the product runs it: the observed camps are the ones just found
        edges, seed=seed, n_rewirings=n_rewirings, hub_share=settings.rwc_hub_share, camps=camps
    )
    timings["polarization"] = time.perf_counter() - start
    start = time.perf_counter()
    hostility = hostility_across_camps(
        interactions, camps.camp, seed=seed, n_permutations=settings.hostility_permutations
    )
    timings["hostility"] = time.perf_counter() - start
    start = time.perf_counter()
    voices = constructive_voices(conversation["posts"], interactions, camps.camp, voice_params(settings))
    timings["voices"] = time.perf_counter() - start
    return {"camps": camps, "polarization": pol, "hostility": hostility, "voices": voices, "timings": timings}


def peak_memory_bytes() -> int:
    """Peak resident memory of this process so far (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def scaling_lines(sizes: tuple[int, ...], n_rewirings: int) -> list[str]:
    """The analysis at smaller sizes (10 interactions per account), with the growth exponent between them."""
    lines = []
    previous: tuple[int, float] | None = None
    for n in sizes:
        conversation = synthetic_conversation(max(100, n // 10), n)
        start = time.perf_counter()
        analyse(conversation, n_rewirings=n_rewirings)
        elapsed = time.perf_counter() - start
        growth = ""
        if previous is not None:
            growth = f" (growth exponent {np.log(elapsed / previous[1]) / np.log(n / previous[0]):.2f})"
        lines.append(f"network at {n:,} interactions: {elapsed:.2f} s{growth}")
        previous = (n, elapsed)
    return lines


def run(quick: bool = False) -> list[str]:
    size = QUICK if quick else FULL
    n = size["n_interactions"]
    smaller = (n // 10,) if quick else (n // 100, n // 10)
    conversation = synthetic_conversation(size["n_accounts"], size["n_interactions"])
    edges = conversation["interactions"].rename(columns={"src_account_id": "src", "dst_account_id": "dst"})

    start = time.perf_counter()
    graph = endorsement_graph(edges)
    leiden(graph, seed=42)
    baseline = time.perf_counter() - start

    start = time.perf_counter()
    result = analyse(conversation, n_rewirings=size["n_rewirings"])
    elapsed = time.perf_counter() - start
    peak = peak_memory_bytes()
    pol = result["polarization"]
    within = "within" if elapsed < BUDGET_SECONDS and peak < BUDGET_BYTES else "OVER"
    lines = [
        f"conversation: {size['n_accounts']:,} accounts, {len(conversation['interactions']):,} interactions "
        f"({graph.vcount():,} accounts and {graph.ecount():,} distinct pairs in the endorsement graph)",
        f"baseline (endorsement graph + one modularity Leiden pass): {baseline:.2f} s",
        f"analysis with {size['n_rewirings']} rewirings for the polarization baseline: {elapsed:.2f} s "
        f"(" + ", ".join(f"{k} {v:.1f} s" for k, v in result["timings"].items()) + ")",
        f"ratio: {elapsed / baseline:.1f}",
        *scaling_lines(smaller, size["n_rewirings"]),
        f"network at {size['n_interactions']:,} interactions: {elapsed:.2f} s",
        f"peak memory: {peak / 1024**3:.2f} GiB",
        f"budget: {BUDGET_SECONDS:.0f} s and {BUDGET_BYTES / 1024**3:.0f} GiB: {within}",
        f"camps: {result['camps'].n_camps} from {result['camps'].n_communities} communities; "
        f"modularity {pol['score']:.3f} vs {pol['baseline_mean']:.3f} by chance (z = {pol['z']:.1f})",
    ]
    return lines
