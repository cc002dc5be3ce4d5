"""The faster analysis gives exactly what the straightforward code gave: camp lookups, group labels,
the two sides, the reused observed partition, and the profiles, hostility and voices built on them."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.camp_lookup import CampLookup
from models.network import _dense, detect_camps, edge_arrays, endorsement_graph, polarization
from models.network_measures import two_largest_sides
from models.network_tone import hostility_across_camps
from models.profiles import camp_profiles
from models.voices import VoiceParams, constructive_voices
from tests.models.test_network import planted, random_graph

PARAMS = VoiceParams(
    prior_weight=5,
    min_posts=2,
    reach_floor=0.2,
    volume_scale=5,
    mention_weight=0.0,
    made_weight=0.5,
    top_n=None,
)


def _camps(n: int = 300, seed: int = 3) -> dict[str, int | None]:
    rng = random.Random(seed)
    return {f"a{i}": (None if rng.random() < 0.2 else rng.randrange(4)) for i in range(n)}


@pytest.mark.parametrize("case", ["mixed", "all_placed", "none_placed", "empty"])
def test_camp_lookup_is_map_with_get_dtype_included(case: str) -> None:
    camps = _camps()
    rng = np.random.default_rng(1)
    placed = [a for a, c in camps.items() if c is not None]
    unplaced = [a for a, c in camps.items() if c is None]
    ids = {
        "mixed": [*rng.choice([*camps, "unknown"], 500), None],
        "all_placed": list(rng.choice(placed, 200)),
        "none_placed": [*rng.choice(unplaced, 50), "unknown"],
        "empty": [],
    }[case]
    series = pd.Series(ids, dtype="str", index=np.arange(len(ids)) * 2, name="src")
    want = series.map(lambda a: camps.get(a))
    pd.testing.assert_series_equal(CampLookup(camps).of(series), want, check_exact=True)


def _dense_reference(camps: Iterable[int | None]) -> list[int]:
    labels: dict[object, int] = {}
    out = []
    for i, c in enumerate(camps):
        key = ("camp", c) if c is not None else ("alone", i)
        out.append(labels.setdefault(key, len(labels)))
    return out


def test_group_labels_are_those_of_the_loop() -> None:
    camps = list(_camps(2000).values())
    assert _dense(camps).tolist() == _dense_reference(camps)
    assert _dense([None, None]).tolist() == [0, 1] and _dense([]).tolist() == []


def _sides_reference(graph, camps: Sequence[int | None]):  # type: ignore[no-untyped-def]
    from collections import Counter

    from scipy import sparse

    sizes = Counter(c for c in camps if c is not None)
    (first, _), (second, _) = sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0]))[:2]
    keep = np.array([c in (first, second) for c in camps])
    side = np.array([0 if c == first else 1 for c in camps], dtype=np.int8)
    index = np.full(len(camps), -1)
    index[keep] = np.arange(int(keep.sum()))
    ends = np.asarray(graph.get_edgelist(), dtype=np.int64).reshape(-1, 2)
    ends = ends[keep[ends[:, 0]] & keep[ends[:, 1]]]
    n, a, b = int(keep.sum()), index[ends[:, 0]], index[ends[:, 1]]
    adj = sparse.coo_matrix((np.ones(2 * len(a)), (np.r_[a, b], np.r_[b, a])), shape=(n, n)).tocsr()
    adj.data[:] = 1.0
    return adj, side[keep]


def test_edges_and_sides_are_those_of_the_straightforward_code() -> None:
    graph = endorsement_graph(planted()[0])
    ends, weights = edge_arrays(graph)
    assert np.array_equal(ends, np.asarray(graph.get_edgelist()).reshape(-1, 2))
    assert np.array_equal(weights, np.asarray(graph.es["weight"], dtype=float))
    camps = [None if i % 7 == 0 else i % 3 for i in range(graph.vcount())]
    want_adj, want_side = _sides_reference(graph, camps)
    for adj, side in (two_largest_sides(graph, camps), two_largest_sides(graph, camps, ends=ends)):
        assert (adj != want_adj).nnz == 0 and adj.shape == want_adj.shape
        assert np.array_equal(side, want_side)


@pytest.mark.parametrize("edges", [planted()[0], random_graph()], ids=["planted", "random"])
def test_polarization_reusing_the_camps_partition_is_the_same(edges: pd.DataFrame) -> None:
    plain = polarization(edges, seed=5, n_rewirings=3, hub_share=0.05)
    assert (
        polarization(edges, seed=5, n_rewirings=3, hub_share=0.05, camps=detect_camps(edges, seed=5)) == plain
    )
    # camps found with another seed are not this analysis's: found again, same answer as without
    other = detect_camps(edges, seed=6)
    assert polarization(edges, seed=5, n_rewirings=3, hub_share=0.05, camps=other) == plain


def _conversation(seed: int = 4) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int | None]]:
    rng = random.Random(seed)
    camps = _camps(60, seed)
    accounts = [*camps, "stranger"]
    tones = ["constructive", "neutral", "hostile", "unscored", None]
    posts = pd.DataFrame(
        {
            "post_id": [f"p{i}" for i in range(400)],
            "author_id": [rng.choice(accounts) for _ in range(400)],
            "repost_of_post_id": [None if rng.random() < 0.7 else "p1" for _ in range(400)],
            "tone": [rng.choice(tones) for _ in range(400)],
            "constructive": [rng.random() for _ in range(400)],
            "hostile": [rng.random() for _ in range(400)],
            "hashtags": [[rng.choice("abcdef")] for _ in range(400)],
            "key_terms": [[rng.choice(["waits", "pay", "beds", "gp"]), "nhs"] for _ in range(400)],
        }
    )
    interactions = pd.DataFrame(
        {
            "kind": [rng.choice(["reply", "repost", "quote", "mention"]) for _ in range(600)],
            "src_account_id": [rng.choice(accounts) for _ in range(600)],
            "dst_account_id": [rng.choice(accounts) for _ in range(600)],
            "hostile": [rng.random() for _ in range(600)],
            "is_hostile": pd.array([rng.random() < 0.3 for _ in range(600)], dtype="boolean"),
        }
    )
    return posts, interactions, camps


def _as_objects(frame: pd.DataFrame) -> pd.DataFrame:
    """The same frame with object columns: the lookup then takes pandas' own `map`, the old path."""
    ids = [c for c in frame.columns if c.endswith("_id")]
    return frame.astype({c: object for c in ids})


def test_profiles_hostility_and_voices_are_those_of_the_old_lookup() -> None:
    posts, interactions, camps = _conversation()
    assert isinstance(posts["author_id"].dtype, pd.StringDtype)  # the fast path is the one tested
    old_posts, old_inter = _as_objects(posts), _as_objects(interactions)
    pd.testing.assert_frame_equal(
        camp_profiles(posts, interactions, camps),
        camp_profiles(old_posts, old_inter, camps),
        check_exact=True,
    )
    new = hostility_across_camps(interactions, camps, seed=1, n_permutations=20)
    assert new == hostility_across_camps(old_inter, camps, seed=1, n_permutations=20)
    assert new["n_across"] > 0 and new["n_within"] > 0
    voices = constructive_voices(posts, interactions, camps, PARAMS)
    assert len(voices) > 5
    old = constructive_voices(old_posts, old_inter, camps, PARAMS)
    pd.testing.assert_frame_equal(voices, old, check_exact=True, check_dtype=False)


def test_phrase_patterns_find_the_roles_token_patterns_found() -> None:
    import json

    import spacy

    from models.roles import PATTERNS, role_pipeline, ruler_patterns

    token_nlp = spacy.blank("en")  # the ruler as it was: every pattern a token pattern
    token_ruler = token_nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    token_ruler.add_patterns([{"label": r, "pattern": p} for r, ps in PATTERNS.items() for p in ps])  # type: ignore[attr-defined]
    assert all(isinstance(p["pattern"], str) for p in ruler_patterns(token_nlp))  # all phrases today
    sample = Path(__file__).parents[2] / "data" / "sample" / "conversation.jsonl"
    with sample.open(encoding="utf-8") as lines:
        bios = {json.loads(line)["author"]["bio"] for line in lines}
    bios |= {
        "GPs and RNs, start-up founder, co-founder, CO - FOUNDER of Health-Tech",
        "nurse practitioners; pharmacy technicians & chemists",
        "Speech and language therapists. MP for X, mp, Cllr. patient participation group",
        "gp gp gp nurse",
        "Family doctors' union; living with; lived experience; PhD-student",
        "GP(retired)/physio/AHP",
        "",
    }
    assert len(bios) > 300

    def first(doc):  # type: ignore[no-untyped-def]
        ent = min(doc.ents, key=lambda e: (e.start, -len(e)), default=None)
        return (ent.label_, ent.text) if ent is not None else (None, "")

    ordered = sorted(bios)
    want = [first(doc) for doc in token_nlp.pipe(ordered)]
    assert [first(doc) for doc in role_pipeline().pipe(ordered)] == want
    assert sum(role is not None for role, _ in want) > 200


def test_graph_of_named_edges_is_igraphs_own_dataframe_graph() -> None:
    import igraph as ig

    from models.network import graph_of_named_edges

    edges = random_graph()
    summed = (
        pd.DataFrame({"a": edges["src"], "b": edges["dst"], "weight": np.arange(len(edges), dtype=float)})
        .groupby(["a", "b"], sort=True)["weight"]
        .sum()
        .reset_index()
    )
    want, got = ig.Graph.DataFrame(summed, directed=False, use_vids=False), graph_of_named_edges(summed)
    assert got.vs["name"] == want.vs["name"] and got.get_edgelist() == want.get_edgelist()
    assert got.es["weight"] == want.es["weight"] and not got.is_directed()
    assert (got.vs.attributes(), got.es.attributes()) == (["name"], ["weight"])


def test_appears_in_is_isin_of_the_union() -> None:
    from models.camp_lookup import appears_in

    ids = pd.Series(["a", "b", "c", None, "d"], dtype="str")
    columns = [pd.Series(["b", None], dtype="str"), pd.Series(["d", "x", "d"], dtype="str")]
    want = ids.isin({v for c in columns for v in c}).to_numpy()
    # a missing id counts as seen where a column has a missing value too, as isin has it
    assert appears_in(ids, columns).tolist() == want.tolist() == [False, True, False, True, True]
    assert appears_in(ids.astype(object), columns).tolist() == want.tolist()
