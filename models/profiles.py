"""Per-camp profiles: size, insularity, E-I, tone mix, distinctive hashtags and terms, a readable label."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from models.camp_lookup import CampLookup
from models.tone_base import UNSCORED

PROFILE_COLUMNS = [
    "camp_id",
    "label",
    "size",
    "n_posts",
    "insularity",
    "ei_index",
    "share_constructive",
    "share_neutral",
    "share_hostile",
    "n_unscored",
    "top_hashtags",
    "top_terms",
    "top_accounts",
]


def class_tfidf(
    docs_per_class: Mapping[int, Iterable[str]], top_k: int
) -> dict[int, list[tuple[str, float]]]:
    """Class-based TF-IDF (as in BERTopic): a term's frequency in a camp, weighted by how rare it is
    across all camps, so each camp is described by what sets it apart rather than by #NHS."""
    counts = {c: Counter(terms) for c, terms in docs_per_class.items()}
    overall: Counter[str] = Counter()
    for counter in counts.values():
        overall.update(counter)
    if not overall:
        return {c: [] for c in counts}
    avg_words = sum(overall.values()) / max(len(counts), 1)
    out = {}
    for c, counter in counts.items():
        total = sum(counter.values()) or 1
        scored = [
            (term, (n / total) * math.log(1 + avg_words / overall[term])) for term, n in counter.items()
        ]
        scored.sort(key=lambda kv: (-kv[1], kv[0]))
        out[c] = [(t, round(s, 4)) for t, s in scored[:top_k]]
    return out


def camp_profiles(
    posts: pd.DataFrame, interactions: pd.DataFrame, camps: Mapping[str, int | None]
) -> pd.DataFrame:
    """`posts`: author_id, repost_of_post_id, tone, hashtags, key_terms. `interactions`: kind,
    src_account_id, dst_account_id. One row per camp.

    `top_hashtags` and `top_terms` are `[(term, weight), ...]`; `top_accounts` is
    `[{"account_id": ..., "endorsements": n}, ...]` (ids, never handles, so pseudonymised
    snapshots stay pseudonymous); the warehouse writes them as the JSON its shapes declare."""
    members = _members(camps)
    if not members:
        return pd.DataFrame(columns=PROFILE_COLUMNS)

    lookup = CampLookup(camps)
    posts = posts.assign(camp=lookup.of(posts["author_id"]))
    own = posts[posts["repost_of_post_id"].isna() & posts["camp"].notna()]
    # Chained, not listed: Counter then counts every word of a camp in C, not one Python step per word.
    hashtags = {c: itertools.chain.from_iterable(own.loc[own["camp"] == c, "hashtags"]) for c in members}
    terms = {c: itertools.chain.from_iterable(own.loc[own["camp"] == c, "key_terms"]) for c in members}
    top_tags = class_tfidf(hashtags, 6)
    top_terms = class_tfidf(terms, 10)

    inter = interactions.assign(
        src_camp=lookup.of(interactions["src_account_id"]),
        dst_camp=lookup.of(interactions["dst_account_id"]),
    )
    inter = inter[inter["src_camp"].notna() & inter["dst_camp"].notna()]
    endorse = inter[inter["kind"].isin(["repost", "quote"])]

    rows = []
    for camp, accounts in sorted(members.items()):
        mine = own[own["camp"] == camp]
        toned = mine["tone"].dropna()
        n_unscored = int((toned == UNSCORED).sum())
        toned = toned[toned != UNSCORED]  # shares are of the posts the model could judge
        tone_share = toned.value_counts(normalize=True) if len(toned) else pd.Series(dtype=float)
        out_endorse = endorse[endorse["src_camp"] == camp]
        insularity = float((out_endorse["dst_camp"] == camp).mean()) if len(out_endorse) else None
        out_all = inter[inter["src_camp"] == camp]
        internal = int((out_all["dst_camp"] == camp).sum())
        external = len(out_all) - internal
        ei = (external - internal) / len(out_all) if len(out_all) else None
        endorsed = endorse[endorse["dst_camp"] == camp]["dst_account_id"].value_counts().head(5)
        top_accounts = [{"account_id": str(a), "endorsements": int(n)} for a, n in endorsed.items()]
        rows.append(
            {
                "camp_id": int(camp),
                "label": _label(top_tags.get(camp, []), top_terms.get(camp, []), camp),
                "size": len(accounts),
                "n_posts": len(mine),
                "insularity": insularity,
                "ei_index": ei,
                "share_constructive": float(tone_share.get("constructive", 0.0)),
                "share_neutral": float(tone_share.get("neutral", 0.0)),
                "share_hostile": float(tone_share.get("hostile", 0.0)),
                "n_unscored": n_unscored,
                "top_hashtags": top_tags.get(camp, []),
                "top_terms": top_terms.get(camp, []),
                "top_accounts": top_accounts,
            }
        )
    return pd.DataFrame(rows, columns=PROFILE_COLUMNS)


def _members(camps: Mapping[str, int | None]) -> dict[int, list[str]]:
    members: dict[int, list[str]] = {}
    for account, camp in camps.items():
        if camp is not None:
            members.setdefault(camp, []).append(account)
    return members


def _label(tags: list[tuple[str, float]], terms: list[tuple[str, float]], camp: int) -> str:
    """A short name a person can read: the camp's two most distinctive hashtags and terms."""
    parts = [f"#{t}" for t, _ in tags[:2]] + [t for t, _ in terms[:2]]
    return " · ".join(parts) if parts else f"camp {camp}"


def edge_camp_stats(
    edges: pd.DataFrame, camps: Mapping[str, int | None], communities: Mapping[str, int], top_k: int = 5
) -> list[dict[str, Any]]:
    """Per-camp numbers an edge list alone supports (`edges`: src, dst, kind, weight): size, fine
    communities merged into it, insularity (share of its members' endorsement weight that stays
    inside), E-I index over all its edges, and its most endorsed accounts."""
    frame = edges.assign(src_camp=edges["src"].map(camps), dst_camp=edges["dst"].map(camps))
    frame = frame[frame["src_camp"].notna() & frame["dst_camp"].notna()]
    endorse = frame[frame["kind"].isin(["repost", "quote"])]
    members = _members(camps)
    out = []
    for camp, accounts in sorted(members.items()):
        mine = endorse[endorse["src_camp"] == camp]
        total = float(mine["weight"].sum())
        inside = float(mine.loc[mine["dst_camp"] == camp, "weight"].sum())
        touching = frame[(frame["src_camp"] == camp) | (frame["dst_camp"] == camp)]
        internal = float(touching.loc[touching["src_camp"] == touching["dst_camp"], "weight"].sum())
        external = float(touching["weight"].sum()) - internal
        endorsed = endorse[endorse["dst_camp"] == camp].groupby("dst")["weight"].sum()
        top = endorsed.sort_values(ascending=False, kind="stable").head(top_k)
        out.append(
            {
                "camp_id": int(camp),
                "size": len(accounts),
                "n_communities": len({communities[a] for a in accounts if a in communities}),
                "insularity": inside / total if total else None,
                "ei_index": (external - internal) / (external + internal) if external + internal else None,
                "top_accounts": [{"account_id": str(a), "endorsements": float(w)} for a, w in top.items()],
            }
        )
    return out
