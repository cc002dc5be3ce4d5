"""The sample's world: the week, the camps, accounts and posts, and how each role behaves.

Everything here is shared by the generator's steps (accounts.py, targets.py, text.py, conversation.py).
The numbers are tuned so that the sample looks like a real hashtag stream and so that the tests in
tests/lab/test_sample.py hold; changing any of them changes the committed sample in data/sample.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from lab.sample.phrases import CAMP_TABLES, Slot, parse_grammar

# ISO week 2026-W47, Monday 2026-11-16 00:00 UTC to Sunday 2026-11-22 23:59 UTC.
WEEK_START = datetime(2026, 11, 16, tzinfo=UTC)
WEEK_SECONDS = 7 * 86400 - 60  # last allowed second offset: 23:59:00 on Sunday
PLATFORM = "sample"

ORIGINAL, REPLY, QUOTE, REPOST = "original", "reply", "quote", "repost"
CONSTRUCTIVE, NEUTRAL, HOSTILE = "constructive", "neutral", "hostile"
REGULAR, LEADER, BRIDGER, HOSTILE_ROLE, NEWSDESK = "regular", "leader", "bridger", "hostile", "newsdesk"
# Insiders are regulars who post constructively but only inside their camp; tables keyed by
# `Account.voice` treat them as a sixth role.
INSIDER = "insider"

# Posts per hour of day (UTC ≈ UK time in November) and per weekday: busy daytime and evenings, quiet nights.
HOUR_WEIGHTS = (
    0.25, 0.14, 0.08, 0.05, 0.05, 0.1, 0.35, 0.8, 1.1, 1.2, 1.15, 1.1,
    1.25, 1.2, 1.05, 1.0, 1.0, 1.1, 1.2, 1.3, 1.35, 1.25, 0.9, 0.5,
)  # fmt: skip
DAY_WEIGHTS = (1.0, 1.05, 1.0, 0.95, 0.9, 0.65, 0.7)
_MAX_HOUR_WEIGHT = max(HOUR_WEIGHTS)

ROLE_KINDS: dict[str, dict[str, float]] = {
    REGULAR: {REPOST: 0.43, QUOTE: 0.13, REPLY: 0.21, ORIGINAL: 0.23},
    LEADER: {ORIGINAL: 0.55, REPLY: 0.2, QUOTE: 0.1, REPOST: 0.15},
    NEWSDESK: {ORIGINAL: 0.8, REPOST: 0.1, QUOTE: 0.05, REPLY: 0.05},
    HOSTILE_ROLE: {REPLY: 0.68, ORIGINAL: 0.16, QUOTE: 0.1, REPOST: 0.06},
    BRIDGER: {ORIGINAL: 0.45, REPLY: 0.4, QUOTE: 0.1, REPOST: 0.05},
    # More own posts and replies, fewer reposts.
    INSIDER: {ORIGINAL: 0.34, REPLY: 0.3, QUOTE: 0.13, REPOST: 0.23},
}
ROLE_VOLUME = {REGULAR: 1.0, LEADER: 5.0, NEWSDESK: 3.0, HOSTILE_ROLE: 7.5, BRIDGER: 1.0}
ROLE_MIN_POSTS = {REGULAR: 1, LEADER: 8, NEWSDESK: 4, HOSTILE_ROLE: 16, BRIDGER: 6}
# How strongly a post draws endorsements (and, square-rooted, replies): by its author's role, tone and kind.
ROLE_PULL = {REGULAR: 1.0, LEADER: 10.0, NEWSDESK: 5.0, HOSTILE_ROLE: 0.6, BRIDGER: 3.0}
TONE_PULL = {CONSTRUCTIVE: 1.6, NEUTRAL: 1.0, HOSTILE: 0.35}
KIND_PULL = {ORIGINAL: 1.0, QUOTE: 0.6, REPLY: 0.25, REPOST: 0.0}
REPLY_KIND_PULL = {ORIGINAL: 1.0, QUOTE: 0.8, REPLY: 0.5}
# The tone of an account's own posts; the key order is part of the seeded output.
ORIGINAL_TONES: dict[str, dict[str, float]] = {
    LEADER: {CONSTRUCTIVE: 0.4, NEUTRAL: 0.4, HOSTILE: 0.2},
    NEWSDESK: {NEUTRAL: 0.9, CONSTRUCTIVE: 0.1},
    HOSTILE_ROLE: {HOSTILE: 0.92, NEUTRAL: 0.08},
    BRIDGER: {CONSTRUCTIVE: 0.9, NEUTRAL: 0.1},
    INSIDER: {CONSTRUCTIVE: 0.85, NEUTRAL: 0.15},
    REGULAR: {CONSTRUCTIVE: 0.25, NEUTRAL: 0.5, HOSTILE: 0.25},
}


@dataclass(frozen=True)
class Camp:
    """One echo chamber: its name, hashtags, stakeholder mix and its own vocabulary."""

    key: str
    name: str
    tags: tuple[str, ...]
    stakeholders: Mapping[str, float]
    grammar: dict[str, Slot]


CAMPS: tuple[Camp, ...] = tuple(
    Camp(
        key=table["key"],
        name=table["name"],
        tags=tuple(table["tags"]),
        stakeholders=dict(table["stakeholders"]),
        grammar=parse_grammar(table["grammar"]),
    )
    for table in CAMP_TABLES
)


@dataclass(eq=False)
class Account:
    camp: Camp
    role: str
    stakeholder: str
    insider: bool = False
    id: str = ""
    handle: str = ""
    display_name: str = ""
    bio: str = ""
    followers: int = 0
    weight: float = 1.0
    pending: list[str] = field(default_factory=list)  # kinds of post still to make
    endorsed_in: int = 0

    @property
    def voice(self) -> str:
        """The role, with constructive insiders told apart from the other regulars."""
        return INSIDER if self.insider else self.role


@dataclass(eq=False)
class Post:
    seq: int
    author: Account
    kind: str
    tone: str
    t: int  # seconds since WEEK_START
    target: Post | None = None
    w_endorse: float = 1.0
    w_reply: float = 1.0
    endorsements: int = 0
    replies: int = 0
    locked: bool = False  # placed on purpose (pile-on, bridger coverage): later fixes leave it alone
    pile_on: bool = False
    id: str = ""
    text: str = ""
    mentions: list[Account] = field(default_factory=list)
    hashtags: list[str] = field(default_factory=list)


@dataclass
class SampleConversation:
    """A generated week of posts (the JSONL objects, in file order) and its ground truth."""

    posts: list[dict[str, Any]]
    truth: dict[str, Any]


def pick_weighted(rng: random.Random, options: Mapping[str, float]) -> str:
    keys = list(options)
    return rng.choices(keys, weights=[options[k] for k in keys])[0]


def choose(rng: random.Random, pool: Sequence[Post], weight: Callable[[Post], float]) -> Post | None:
    """One post drawn by weight, or None when nothing in the pool has any weight."""
    if not pool:
        return None
    weights = [weight(p) for p in pool]
    if sum(weights) <= 0:
        return None
    return rng.choices(pool, weights=weights)[0]


def stamp(t: int) -> str:
    return (WEEK_START + timedelta(seconds=t)).strftime("%Y-%m-%dT%H:%M:%SZ")


def original_time(rng: random.Random) -> int:
    day = rng.choices(range(7), weights=DAY_WEIGHTS)[0]
    hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
    return min(WEEK_SECONDS, day * 86400 + hour * 3600 + rng.randint(0, 3599))


def reaction_time(rng: random.Random, base: int, kind: str) -> int:
    """A time after `base`, mostly soon after, following the daily rhythm, within the week."""
    fast, slow_hi, tail_hi = {REPOST: (2400, 12, 72), REPLY: (1800, 8, 48), QUOTE: (3600, 18, 72)}[kind]
    room = WEEK_SECONDS - base
    t = base + min(room, 60)
    for _ in range(8):
        roll = rng.random()
        if roll < 0.7:
            delay = 30 + rng.expovariate(1 / fast)
        elif roll < 0.95:
            delay = rng.uniform(3600, slow_hi * 3600)
        else:
            delay = rng.uniform(slow_hi * 3600, tail_hi * 3600)
        if delay >= room:
            continue
        t = base + int(delay)
        # Thin out night-time reactions: keep the time with the hour's share of the busiest hour's traffic.
        if rng.random() < HOUR_WEIGHTS[(t // 3600) % 24] / _MAX_HOUR_WEIGHT:
            return t
    return max(base + 20, min(t, WEEK_SECONDS))
