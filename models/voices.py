"""Constructive voices: accounts that write constructively and are engaged constructively across camps.

The score multiplies three parts, each in [0, 1]:

- **constructiveness**: the mean constructive probability of what the account wrote itself (reposts
  excluded), shrunk towards the conversation's mean by `prior_weight` pseudo-posts, so two lucky posts
  do not beat forty good ones;
- **1 − hostility**: the same smoothing over the hostile probability;
- **reach**: `floor + (1 − floor) · bridging`, where bridging is the effective number of camps (exp of
  the entropy) among the constructive engagements the account receives and makes across the network,
  scaled to [0, 1] by the number of camps, times a saturating volume factor. This is the bridging idea
  of Community Notes and Polis applied to accounts: agreement from one camp is popularity, agreement
  from several is common ground.

Every ranked account carries its reasons: its best posts, the camps it reached, and the numbers.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class VoiceParams:
    prior_weight: float = 3.0  # pseudo-posts of shrinkage towards the conversation's mean
    min_posts: int = 2  # accounts that wrote fewer original posts are not ranked
    reach_floor: float = 0.25  # share of the score a one-camp account can still earn
    volume_scale: float = 4.0  # constructive engagements at which the volume factor reaches 63%
    n_examples: int = 3
    top_n: int | None = None


def _engagement_weights(interactions: pd.DataFrame) -> pd.Series:
    """How constructive one interaction is: a repost endorses whole; replies, quotes and mentions count
    by how non-hostile the post making them is, and not at all when it is hostile."""
    hostile = interactions["hostile"].fillna(0.5).astype(float)
    weight = 1.0 - hostile
    weight = weight.where(hostile < 0.5, 0.0)
    return weight.where(interactions["kind"] != "repost", 1.0)


def constructive_voices(
    posts: pd.DataFrame,
    interactions: pd.DataFrame,
    camps: Mapping[str, int | None],
    params: VoiceParams | None = None,
    camp_labels: Mapping[int, str] | None = None,
) -> pd.DataFrame:
    """Rank accounts. `posts`: author_id, post_id, repost_of_post_id, constructive, hostile.
    `interactions`: kind, src_account_id, dst_account_id, hostile (of the post that interacts).
    Returns one row per ranked account, best first, with reasons."""
    params = params or VoiceParams()
    labels = dict(camp_labels or {})
    own = posts[posts["repost_of_post_id"].isna() & posts["constructive"].notna()]
    columns = [
        "account_id",
        "rank",
        "score",
        "constructiveness",
        "bridging",
        "hostility",
        "n_posts",
        "home_camp",
        "camps_reached",
        "example_posts",
        "reasons",
    ]
    if own.empty:
        return pd.DataFrame(columns=columns)
    prior_c = float(own["constructive"].mean())
    prior_h = float(own["hostile"].mean())
    k = params.prior_weight
    per_author = own.groupby("author_id").agg(
        n=("post_id", "size"), c_sum=("constructive", "sum"), h_sum=("hostile", "sum")
    )
    per_author["constructiveness"] = (per_author["c_sum"] + k * prior_c) / (per_author["n"] + k)
    per_author["hostility"] = (per_author["h_sum"] + k * prior_h) / (per_author["n"] + k)

    # Constructive engagement per account and camp: received from others, and made towards others.
    reached: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    if not interactions.empty:
        frame = interactions.assign(w=_engagement_weights(interactions))
        for src, dst, w in frame[["src_account_id", "dst_account_id", "w"]].itertuples(index=False):
            if w <= 0:
                continue
            src_camp, dst_camp = camps.get(src), camps.get(dst)
            if src_camp is not None:
                reached[dst][src_camp] += w
            if dst_camp is not None:
                reached[src][dst_camp] += w
    n_camps = max(len({c for c in camps.values() if c is not None}), 2)

    rows = []
    for account, stats in per_author.iterrows():
        if stats["n"] < params.min_posts:
            continue
        account = str(account)
        home = camps.get(account)
        by_camp = {c: w for c, w in reached.get(account, {}).items() if w > 0}
        total = sum(by_camp.values())
        if total > 0:
            shares = np.array(list(by_camp.values())) / total
            effective = math.exp(-float(np.sum(shares * np.log(shares))))
        else:
            effective = 1.0
        volume = 1.0 - math.exp(-total / params.volume_scale)
        bridging = (effective - 1.0) / (n_camps - 1) * volume
        reach = params.reach_floor + (1 - params.reach_floor) * bridging
        score = float(stats["constructiveness"]) * (1 - float(stats["hostility"])) * reach
        rows.append(
            {
                "account_id": account,
                "score": score,
                "constructiveness": float(stats["constructiveness"]),
                "bridging": bridging,
                "hostility": float(stats["hostility"]),
                "n_posts": int(stats["n"]),
                "home_camp": home,
                "camps_reached": {int(c): round(w, 2) for c, w in sorted(by_camp.items())},
                "effective_camps": effective,
            }
        )
    ranked = pd.DataFrame(rows)
    if ranked.empty:
        return pd.DataFrame(columns=columns)
    ranked = ranked.sort_values(["score", "account_id"], ascending=[False, True]).reset_index(drop=True)
    if params.top_n:
        ranked = ranked.head(params.top_n)
    ranked["rank"] = np.arange(1, len(ranked) + 1)
    best = (
        own.sort_values(["constructive", "post_id"], ascending=[False, True])
        .groupby("author_id")["post_id"]
        .apply(lambda s: list(s.head(params.n_examples)))
    )
    ranked["example_posts"] = [json.dumps(best.get(a, [])) for a in ranked["account_id"]]
    ranked["reasons"] = [_reasons(row, labels) for row in ranked.itertuples(index=False)]
    ranked["camps_reached"] = [json.dumps({str(c): w for c, w in r.items()}) for r in ranked["camps_reached"]]
    ranked["home_camp"] = ranked["home_camp"].astype("Int64")
    return ranked[columns]


def _reasons(row: object, labels: Mapping[int, str]) -> str:
    reached: dict[int, float] = row.camps_reached  # type: ignore[attr-defined]
    camps = ", ".join(
        f"{labels.get(c, f'camp {c}')} ({w:.0f})" for c, w in sorted(reached.items(), key=lambda kv: -kv[1])
    )
    return (
        f"Writes constructively: {row.constructiveness:.2f} over {row.n_posts} posts (smoothed). "  # type: ignore[attr-defined]
        f"Constructive engagement with {row.effective_camps:.1f} camps' worth of people"  # type: ignore[attr-defined]
        f"{': ' + camps if camps else ''}. "
        f"Hostility {row.hostility:.2f}."  # type: ignore[attr-defined]
    )
