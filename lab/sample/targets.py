"""Choose what an account reacts to, and in what tone: the rules that make camps into echo chambers.

Regulars endorse (repost, quote) almost only inside their camp and reply across camps more often, and
more angrily; bridgers reach across constructively; hostile accounts go looking for fights. The odds
below are tuned against the checks in tests/lab/test_sample.py.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from lab.sample.world import (
    BRIDGER,
    CONSTRUCTIVE,
    HOSTILE,
    HOSTILE_ROLE,
    INSIDER,
    LEADER,
    NEUTRAL,
    NEWSDESK,
    ORIGINAL,
    QUOTE,
    REGULAR,
    REPOST,
    WEEK_SECONDS,
    Account,
    Camp,
    Post,
    choose,
    pick_weighted,
)

Weight = Callable[[Post], float]

# Chance that an endorsement (by voice; hostile accounts are handled apart) or a reply goes to another camp.
_ENDORSE_ACROSS = {INSIDER: 0.0, REGULAR: 0.045, LEADER: 0.03, NEWSDESK: 0.15}  # bridgers: 0.5
_REPLY_ACROSS = {INSIDER: 0.0, REGULAR: 0.33, LEADER: 0.3, NEWSDESK: 0.2, HOSTILE_ROLE: 0.8}  # bridgers: 0.95
# Tones inside the account's own camp, by voice. The key order inside each mix is part of the seeded output.
_ENDORSE_TONES = {
    INSIDER: {CONSTRUCTIVE: 0.85, NEUTRAL: 0.15},
    BRIDGER: {CONSTRUCTIVE: 0.85, NEUTRAL: 0.15},
    NEWSDESK: {NEUTRAL: 0.9, CONSTRUCTIVE: 0.1},
}
_ENDORSE_TONES_DEFAULT = {CONSTRUCTIVE: 0.4, NEUTRAL: 0.45, HOSTILE: 0.15}
_REPLY_TONES = {
    HOSTILE_ROLE: {HOSTILE: 0.85, NEUTRAL: 0.15},
    BRIDGER: {CONSTRUCTIVE: 0.85, NEUTRAL: 0.15},
    INSIDER: {CONSTRUCTIVE: 0.85, NEUTRAL: 0.15},
    NEWSDESK: {NEUTRAL: 0.85, CONSTRUCTIVE: 0.15},
    LEADER: {CONSTRUCTIVE: 0.45, NEUTRAL: 0.5, HOSTILE: 0.05},
    REGULAR: {CONSTRUCTIVE: 0.35, NEUTRAL: 0.52, HOSTILE: 0.13},
}
# Tones of a regular's reply to another camp: to one of its bridgers, or to anyone.
_REPLY_TO_BRIDGER_TONES = {CONSTRUCTIVE: 0.7, NEUTRAL: 0.25, HOSTILE: 0.05}
_REPLY_ACROSS_TONES = {HOSTILE: 0.5, NEUTRAL: 0.3, CONSTRUCTIVE: 0.2}


def _endorse_weight(acct: Account) -> Weight:
    """Popular posts draw more endorsements; authors nobody has endorsed yet get a boost."""

    def weight(p: Post) -> float:
        if p.author is acct:
            return 0.0
        boost = 3.0 if p.author.endorsed_in == 0 else 1.0
        return p.w_endorse * (1.0 + p.endorsements) * boost

    return weight


def _reply_weight(acct: Account) -> Weight:
    """Busy threads draw more replies."""

    def weight(p: Post) -> float:
        return 0.0 if p.author is acct else p.w_reply * (1.0 + 0.5 * p.replies)

    return weight


def _times(base: Weight, factor: Callable[[Post], float]) -> Weight:
    return lambda p: base(p) * factor(p)


class Pools:
    """The posts open to reactions, per camp: everything but reposts, and the bridgers' and newsdesks' own.

    Posts in the last quarter hour of the week stay out: a reaction to them would fall after the week.
    """

    def __init__(self, camps: Sequence[Camp]) -> None:
        self.by_camp: dict[str, list[Post]] = {c.key: [] for c in camps}
        self.bridger: dict[str, list[Post]] = {c.key: [] for c in camps}
        self.newsdesk: dict[str, list[Post]] = {c.key: [] for c in camps}

    def add(self, post: Post) -> None:
        if post.kind == REPOST or post.t >= WEEK_SECONDS - 900:
            return
        camp = post.author.camp.key
        self.by_camp[camp].append(post)
        if post.author.role == BRIDGER and post.kind == ORIGINAL:
            self.bridger[camp].append(post)
        if post.author.role == NEWSDESK and post.kind == ORIGINAL:
            self.newsdesk[camp].append(post)


class TargetPicker:
    """Picks the post an account reacts to and the reaction's tone; None when nothing fits."""

    def __init__(self, rng: random.Random, camps: Sequence[Camp], pools: Pools) -> None:
        self.rng = rng
        self.camps = camps
        self.pools = pools

    def other_camps(self, acct: Account) -> list[str]:
        return [c.key for c in self.camps if c.key != acct.camp.key]

    def pick(self, acct: Account, kind: str) -> tuple[Post | None, str]:
        if kind in (REPOST, QUOTE):
            return self._endorsement(acct, kind)
        return self._reply(acct)

    # -- reposts and quotes ------------------------------------------------------------------------------

    def _endorsement(self, acct: Account, kind: str) -> tuple[Post | None, str]:
        rng = self.rng
        if acct.role == HOSTILE_ROLE:
            # Hostile accounts never repost the other side; their quotes mostly mock it.
            p_cross = 0.0 if kind == REPOST else 0.7
        else:
            p_cross = _ENDORSE_ACROSS.get(acct.voice, 0.5)
        if rng.random() < p_cross:
            camp = rng.choice(self.other_camps(acct))
            if acct.role == HOSTILE_ROLE:
                target = choose(rng, self.pools.by_camp[camp], _reply_weight(acct))
                return target, HOSTILE if rng.random() < 0.95 else NEUTRAL
            found = self._endorse_across(acct, camp)
            if found is not None:
                return found
        if acct.role == HOSTILE_ROLE:
            return self._hostile_endorse_within(acct)
        target = choose(rng, self.pools.by_camp[acct.camp.key], _endorse_weight(acct))
        return target, pick_weighted(rng, _ENDORSE_TONES.get(acct.voice, _ENDORSE_TONES_DEFAULT))

    def _endorse_across(self, acct: Account, camp: str) -> tuple[Post, str] | None:
        """Endorse another camp through its bridgers (sometimes its newsdesk), or not at all."""
        rng = self.rng
        weight = _endorse_weight(acct)
        pool = self.pools.bridger[camp] if rng.random() < 0.85 else self.pools.newsdesk[camp]
        target = choose(rng, pool, weight) or choose(rng, self.pools.bridger[camp], weight)
        if target is None:
            return None
        tone = NEUTRAL if target.author.role == NEWSDESK else CONSTRUCTIVE
        if rng.random() < 0.15:
            tone = NEUTRAL
        return target, tone

    def _hostile_endorse_within(self, acct: Account) -> tuple[Post | None, str]:
        """Hostile accounts amplify the angriest posts of their own camp."""
        rng = self.rng
        weight = _times(_endorse_weight(acct), lambda p: 30.0 if p.tone == HOSTILE else 1.0)
        target = choose(rng, self.pools.by_camp[acct.camp.key], weight)
        return target, HOSTILE if rng.random() < 0.9 else NEUTRAL

    # -- replies -----------------------------------------------------------------------------------------

    def _reply(self, acct: Account) -> tuple[Post | None, str]:
        rng = self.rng
        if rng.random() < _REPLY_ACROSS.get(acct.voice, 0.95):
            return self._reply_across(acct, rng.choice(self.other_camps(acct)))
        target = choose(rng, self.pools.by_camp[acct.camp.key], _reply_weight(acct))
        return target, pick_weighted(rng, _REPLY_TONES[acct.voice])

    def _reply_across(self, acct: Account, camp: str) -> tuple[Post | None, str]:
        rng = self.rng
        role = acct.role
        weight = _reply_weight(acct)
        if role == BRIDGER:
            target = choose(rng, self.pools.by_camp[camp], weight)
            return target, CONSTRUCTIVE if rng.random() < 0.92 else NEUTRAL
        if role == HOSTILE_ROLE:
            # Going after the other camp's leaders gets the most attention.
            leaders_first = _times(weight, lambda p: 2.0 if p.author.role == LEADER else 1.0)
            target = choose(rng, self.pools.by_camp[camp], leaders_first)
            return target, HOSTILE if rng.random() < 0.96 else NEUTRAL
        if role == REGULAR and rng.random() < 0.25 and self.pools.bridger[camp]:
            target = choose(rng, self.pools.bridger[camp], weight)
            return target, pick_weighted(rng, _REPLY_TO_BRIDGER_TONES)
        target = choose(rng, self.pools.by_camp[camp], weight)
        if role == NEWSDESK:
            return target, NEUTRAL
        return target, pick_weighted(rng, _REPLY_ACROSS_TONES)
