"""Constructive-voice ranking on a hand-made conversation where the answer is clear."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd

from flows.analysis import voice_params
from models.voices import VoiceParams, constructive_voices
from warehouse.settings import Settings


def params(**changes: Any) -> VoiceParams:
    """The configured defaults (settings), with a test's changes."""
    return replace(voice_params(Settings()), **changes)


def conversation() -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int | None]]:
    camps: dict[str, int | None] = {f"{c}{i}": c_id for c_id, c in enumerate("abc") for i in range(10)}
    camps.update({"bridger": 0, "leader": 1, "troll": 2})
    posts, inter = [], []

    def post(author: str, constructive: float, hostile: float, n: int) -> None:
        for k in range(n):
            posts.append((f"{author}-{k}", author, None, constructive, hostile))

    post("bridger", 0.85, 0.05, 6)
    post("leader", 0.85, 0.05, 30)
    post("troll", 0.1, 0.9, 40)
    for c in "abc":
        for i in range(10):
            post(f"{c}{i}", 0.5, 0.2, 2)
    # The leader is reposted by all of camp b; the bridger by a few people from each camp.
    inter += [("repost", f"b{i}", "leader", 0.05) for i in range(10) for _ in range(3)]
    inter += [("repost", f"{c}{i}", "bridger", 0.05) for c in "abc" for i in range(3)]
    inter += [("reply", "bridger", f"{c}0", 0.05) for c in "bc"]
    # The troll replies to everyone, hostilely; hostility is not engagement.
    inter += [("reply", "troll", f"{c}{i}", 0.95) for c in "ab" for i in range(10)]
    post_frame = pd.DataFrame(
        posts, columns=["post_id", "author_id", "repost_of_post_id", "constructive", "hostile"]
    )
    inter_frame = pd.DataFrame(inter, columns=["kind", "src_account_id", "dst_account_id", "hostile"])
    return post_frame, inter_frame, camps


def test_bridging_beats_popularity_and_hostility_never_ranks() -> None:
    posts, inter, camps = conversation()
    ranked = constructive_voices(posts, inter, camps, params(), {0: "A", 1: "B", 2: "C"})
    order = list(ranked["account_id"])
    assert order[0] == "bridger"
    assert order.index("leader") < order.index("troll")
    assert order.index("troll") > len(order) - 5
    top = ranked.iloc[0]
    assert set(top["camps_reached"]) == {0, 1, 2}
    assert "A (" in top["reasons"] and "B (" in top["reasons"]
    # plain words, no "camps' worth of people" or bare scores
    assert "People from 3 camps engage with them constructively" in top["reasons"]
    assert top["reasons"].startswith("About ") and "read as constructive" in top["reasons"]
    assert "worth" not in top["reasons"] and "0." not in top["reasons"]
    assert top["example_posts"][0].startswith("bridger-")
    assert list(ranked["rank"]) == list(range(1, len(ranked) + 1))


def test_few_posts_are_shrunk_towards_the_mean_and_min_posts_applies() -> None:
    posts, inter, camps = conversation()
    lucky = pd.DataFrame([("lucky-0", "lucky", None, 1.0, 0.0)], columns=posts.columns)
    ranked = constructive_voices(pd.concat([posts, lucky]), inter, camps, params(min_posts=1))
    row = ranked.set_index("account_id").loc["lucky"]
    assert row["constructiveness"] < 0.8  # one perfect post is not a track record
    assert "lucky" not in set(
        constructive_voices(pd.concat([posts, lucky]), inter, camps, params())["account_id"]
    )


def test_no_scored_posts_gives_an_empty_ranking() -> None:
    posts, inter, camps = conversation()
    empty = constructive_voices(posts.head(0), inter, camps, params())
    assert empty.empty and "reasons" in empty.columns


def test_mentions_are_visibility_not_engagement() -> None:
    posts, inter, camps = conversation()
    # Every camp tags the newsdesk; nobody reposts or replies to it.
    post_rows = pd.DataFrame(
        [(f"news-{k}", "newsdesk", None, 0.85, 0.05) for k in range(10)], columns=posts.columns
    )
    tags = pd.DataFrame(
        [("mention", f"{c}{i}", "newsdesk", 0.05) for c in "abc" for i in range(10)], columns=inter.columns
    )
    camps = {**camps, "newsdesk": 0}
    both = (pd.concat([posts, post_rows]), pd.concat([inter, tags]))
    quiet = constructive_voices(*both, camps, params()).set_index("account_id")
    loud = constructive_voices(*both, camps, params(mention_weight=1.0)).set_index("account_id")
    assert quiet.loc["newsdesk", "bridging"] == 0.0
    assert loud.loc["newsdesk", "bridging"] > 0.5
    assert quiet.loc["bridger", "rank"] == 1


def test_roles_are_shown_but_never_scored() -> None:
    posts, inter, camps = conversation()
    plain = constructive_voices(posts, inter, camps, params())
    roles = {"bridger": ("gp", "GP partner"), "troll": ("journalist", "reporter")}
    labelled = constructive_voices(posts, inter, camps, params(), roles=roles)
    assert list(plain["account_id"]) == list(labelled["account_id"])
    row = labelled.set_index("account_id").loc["bridger"]
    assert (row["role"], row["role_evidence"]) == ("gp", "GP partner")
    assert pd.isna(labelled.set_index("account_id").loc["leader", "role"])
