"""Constructive voices: accounts that write constructively and are engaged constructively across camps.

The score multiplies three parts, each in [0, 1] (defaults in `VoiceParams`, set from the
`voices_*` settings):

- **constructiveness**: the mean constructive probability of what the account wrote itself (reposts
  excluded), shrunk towards the conversation's mean by `prior_weight` pseudo-posts, so two lucky posts
  do not beat forty good ones;
- **1 − hostility**: the same smoothing over the hostile probability;
- **reach**: `floor + (1 − floor) · bridging`, where bridging is the effective number of camps (exp of
  the entropy) among the constructive engagements the account receives (and, at `made_weight`, makes)
  across the network, scaled to [0, 1] by the number of camps, times a saturating volume factor.
  Reposts count whole, replies and quotes by how non-hostile they are, hostile ones not at all, and
  mentions at `mention_weight` (0 by default: every camp tags the national bodies and newsdesks). This is the bridging idea
  of Community Notes and Polis applied to accounts: agreement from one camp is popularity, agreement
  from several is common ground.

Every ranked account carries its reasons: its best posts, the camps it reached, and the numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.camp_lookup import CampLookup


@dataclass(frozen=True)
class VoiceParams:
    """How voices are ranked; the defaults live in the settings (`voices_*`), documented there."""

    prior_weight: float  # pseudo-posts of shrinkage towards the conversation's mean
    min_posts: int  # accounts that wrote fewer original posts are not ranked
    reach_floor: float  # share of the score a one-camp account can still earn
    volume_scale: float  # constructive engagements at which the volume factor reaches 63%
    # A mention tags an account without engaging with what it wrote: national bodies and newsdesks
    # are mentioned by every camp, which is visibility, not common ground.
    mention_weight: float
    made_weight: float  # weight of constructive engagement an account makes towards others
    top_n: int | None
    n_examples: int = 3  # best posts kept as each voice's reasons


def _engagement_weights(interactions: pd.DataFrame, mention_weight: float = 0.0) -> pd.Series:
    """How constructive one interaction is: a repost endorses whole; replies, quotes and mentions count
    by how non-hostile the post making them is, and not at all when it is hostile; mentions count
    `mention_weight` as much."""
    hostile = interactions["hostile"].fillna(0.5).astype(float)
    weight = 1.0 - hostile
    weight = weight.where(hostile < 0.5, 0.0)
    weight = weight.where(interactions["kind"] != "mention", weight * mention_weight)
    return weight.where(interactions["kind"] != "repost", 1.0)


def camps_reached(
    interactions: pd.DataFrame, camps: Mapping[str, int | None], params: VoiceParams
) -> pd.DataFrame:
    """Constructive engagement per account and camp (columns account, camp, w): received from others,
    and (by `made_weight`) made towards others."""
    if interactions.empty:
        return pd.DataFrame({"account": pd.Series(dtype=str), "camp": pd.Series(dtype=int), "w": []})
    frame = interactions.assign(w=_engagement_weights(interactions, params.mention_weight))
    frame = frame[frame["w"] > 0]
    lookup = CampLookup(camps)
    received = pd.DataFrame(
        {"account": frame["dst_account_id"], "camp": lookup.of(frame["src_account_id"]), "w": frame["w"]}
    )
    made = pd.DataFrame(
        {
            "account": frame["src_account_id"],
            "camp": lookup.of(frame["dst_account_id"]),
            "w": frame["w"] * params.made_weight,
        }
    )
    both = pd.concat([received, made]).dropna(subset=["camp"])
    both = both[both["w"] > 0].astype({"camp": int})
    return both.groupby(["account", "camp"])["w"].sum().reset_index()


COLUMNS = [
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
    "role",
    "role_evidence",
]


def constructive_voices(
    posts: pd.DataFrame,
    interactions: pd.DataFrame,
    camps: Mapping[str, int | None],
    params: VoiceParams,
    camp_labels: Mapping[int, str] | None = None,
    roles: Mapping[str, tuple[str | None, str]] | None = None,
) -> pd.DataFrame:
    """Rank accounts. `posts`: author_id, post_id, repost_of_post_id, constructive, hostile.
    `interactions`: kind, src_account_id, dst_account_id, hostile (of the post that interacts).
    `roles`: account → (stakeholder role, the bio words that declared it), shown, never scored.
    Returns one row per ranked account, best first, with reasons: `camps_reached` as
    {camp: constructive engagements}, `example_posts` as a list of post ids."""
    own = posts[posts["repost_of_post_id"].isna() & posts["constructive"].notna()]
    if own.empty:
        return pd.DataFrame(columns=COLUMNS)
    reached = camps_reached(interactions, camps, params)
    ranked = _scores(own, reached, camps, params)
    if ranked.empty:
        return pd.DataFrame(columns=COLUMNS)
    ranked = ranked.rename_axis("account_id").reset_index()
    ranked = ranked.sort_values(["score", "account_id"], ascending=[False, True]).reset_index(drop=True)
    if params.top_n:
        ranked = ranked.head(params.top_n).copy()
    ranked["rank"] = np.arange(1, len(ranked) + 1)
    ranked["n_posts"] = ranked["n"].astype(int)
    ranked["home_camp"] = pd.array([camps.get(a) for a in ranked["account_id"]], dtype="Int64")
    return _with_reasons(ranked, own, reached, params, dict(camp_labels or {}), dict(roles or {}))


def _scores(
    own: pd.DataFrame, reached: pd.DataFrame, camps: Mapping[str, int | None], params: VoiceParams
) -> pd.DataFrame:
    """Per account with enough posts: smoothed constructiveness and hostility, bridging and score."""
    prior_c = float(own["constructive"].mean())
    prior_h = float(own["hostile"].mean())
    k = params.prior_weight
    per_author = own.groupby("author_id").agg(
        n=("post_id", "size"), c_sum=("constructive", "sum"), h_sum=("hostile", "sum")
    )
    per_author["constructiveness"] = (per_author["c_sum"] + k * prior_c) / (per_author["n"] + k)
    per_author["hostility"] = (per_author["h_sum"] + k * prior_h) / (per_author["n"] + k)

    n_camps = max(len({c for c in camps.values() if c is not None}), 2)
    total = reached.groupby("account")["w"].sum()
    share = reached["w"] / reached["account"].map(total)
    entropy = (-share * np.log(share)).groupby(reached["account"]).sum()

    ranked = per_author[per_author["n"] >= params.min_posts].copy()
    ranked.index = ranked.index.astype(str)
    ranked["total"] = total.reindex(ranked.index).fillna(0.0)
    # Effective number of camps: exp of the entropy of where the engagement comes from (1 when none).
    ranked["effective_camps"] = np.exp(entropy.reindex(ranked.index).fillna(0.0))
    volume = 1.0 - np.exp(-ranked["total"] / params.volume_scale)
    ranked["bridging"] = (ranked["effective_camps"] - 1.0) / (n_camps - 1) * volume
    reach = params.reach_floor + (1 - params.reach_floor) * ranked["bridging"]
    ranked["score"] = ranked["constructiveness"] * (1 - ranked["hostility"]) * reach
    return ranked


def _with_reasons(
    ranked: pd.DataFrame,
    own: pd.DataFrame,
    reached: pd.DataFrame,
    params: VoiceParams,
    labels: Mapping[int, str],
    declared: Mapping[str, tuple[str | None, str]],
) -> pd.DataFrame:
    """Each voice's reasons: camps reached, best posts, a sentence, and the role its bio declares."""
    mine = reached[reached["account"].isin(set(ranked["account_id"]))]
    by_camp: dict[str, dict[int, float]] = {a: {} for a in ranked["account_id"]}
    for account, camp, w in mine.itertuples(index=False):
        by_camp[account][int(camp)] = round(float(w), 2)
    reached_by = [dict(sorted(by_camp[a].items())) for a in ranked["account_id"]]
    best = (
        own[own["author_id"].isin(set(ranked["account_id"]))]
        .sort_values(["constructive", "post_id"], ascending=[False, True])
        .groupby("author_id")
        .head(params.n_examples)
        .groupby("author_id")["post_id"]
        .agg(list)
    )
    ranked["example_posts"] = [list(best.get(a, [])) for a in ranked["account_id"]]
    ranked["reasons"] = [
        _reasons(row, r, labels) for row, r in zip(ranked.itertuples(index=False), reached_by, strict=True)
    ]
    ranked["camps_reached"] = pd.Series(reached_by, index=ranked.index, dtype=object)
    ranked["role"] = [declared.get(a, (None, ""))[0] for a in ranked["account_id"]]
    ranked["role_evidence"] = [declared.get(a, (None, ""))[1] or None for a in ranked["account_id"]]
    return ranked[COLUMNS]


def _reasons(row: object, reached: Mapping[int, float], labels: Mapping[int, str]) -> str:
    """The numbers behind a ranking in plain words (the report and the dashboard show this sentence)."""
    camps = ", ".join(
        f"{labels.get(c, f'camp {c}')} ({w:.0f})" for c, w in sorted(reached.items(), key=lambda kv: -kv[1])
    )
    n_posts, n_camps = int(row.n_posts), len(reached)  # type: ignore[attr-defined]
    people = "one camp" if n_camps == 1 else f"{n_camps} camps"
    engaged = (
        f"People from {people} engage with them constructively: {camps}. "
        if n_camps
        else "No camp engages with them constructively yet. "
    )
    return (
        f"About {row.constructiveness:.0%} of their {n_posts} post{'s' * (n_posts != 1)} read as "  # type: ignore[attr-defined]
        "constructive (smoothed when there are few). "
        + engaged
        + f"Hostile in about {row.hostility:.0%} of them."  # type: ignore[attr-defined]
    )
