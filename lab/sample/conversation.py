"""Build a sample conversation step by step: accounts, a plan of post kinds, the posts, then their text.

The steps run in a fixed order on one seeded RNG (see `Generator.build`), so reordering them, or any
draw inside them, changes the output. Originals come first so that every reaction has something to
react to; pile-ons and the bridgers' cross-camp audience are placed before the free-for-all so that
they are guaranteed, and `fix_coverage` patches up the few accounts left without an endorsement edge.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any

from lab.sample.accounts import make_accounts
from lab.sample.targets import Pools, TargetPicker
from lab.sample.text import write_texts
from lab.sample.world import (
    BRIDGER,
    CAMPS,
    CONSTRUCTIVE,
    HOSTILE,
    HOSTILE_ROLE,
    KIND_PULL,
    LEADER,
    NEUTRAL,
    NEWSDESK,
    ORIGINAL,
    ORIGINAL_TONES,
    PLATFORM,
    QUOTE,
    REGULAR,
    REPLY,
    REPLY_KIND_PULL,
    REPOST,
    ROLE_KINDS,
    ROLE_MIN_POSTS,
    ROLE_PULL,
    TONE_PULL,
    WEEK_SECONDS,
    Account,
    Post,
    SampleConversation,
    choose,
    original_time,
    pick_weighted,
    reaction_time,
    stamp,
)

# Every leader, bridger and newsdesk account posts at least this many originals.
_MIN_ORIGINALS = {LEADER: 3, BRIDGER: 3, NEWSDESK: 2}
_JSON_REF = {REPLY: "reply_to", QUOTE: "quote_of", REPOST: "repost_of"}


class Generator:
    def __init__(
        self,
        seed: int,
        n_accounts: int,
        n_posts: int,
        n_bridgers: int,
        n_camps: int,
        *,
        taken_handles: set[str] | None = None,
        seen_texts: set[int] | None = None,
    ) -> None:
        """`taken_handles` and `seen_texts` (used by the sharded large generator, lab/sample/scale.py) are
        shared across shards: handles stay unique and texts distinct over the whole output; left None, the
        output is exactly the classic sample's."""
        if not 2 <= n_camps <= len(CAMPS):
            raise ValueError(f"n_camps must be between 2 and {len(CAMPS)}")
        if n_bridgers < 1:
            raise ValueError("n_bridgers must be at least 1")
        self.rng = random.Random(seed)
        self.seed = seed
        self.n_accounts = n_accounts
        self.n_posts = n_posts
        self.n_bridgers = n_bridgers
        self.camps = CAMPS[:n_camps]
        self.accounts: list[Account] = []
        self.posts: list[Post] = []
        self.pools = Pools(self.camps)
        self.targets = TargetPicker(self.rng, self.camps, self.pools)
        self.endorsed_pairs: set[tuple[str, int]] = set()
        self.pile_ons: list[tuple[Post, list[Post]]] = []
        self.fallbacks = 0  # reactions that found no target and became originals
        self.taken_handles = taken_handles
        self.seen_texts = seen_texts

    def build(self) -> SampleConversation:
        self.accounts = make_accounts(
            self.rng, self.n_accounts, self.camps, self.n_bridgers, taken=self.taken_handles
        )
        self.plan_kinds()
        self.make_originals()
        self.make_pile_ons()
        self.make_bridger_coverage()
        self.make_reactions()
        self.fix_coverage()
        self.posts.sort(key=lambda p: (p.t, p.seq))
        for i, post in enumerate(self.posts):
            post.id = str(1001 + i)
        write_texts(self.rng, self.posts, self.accounts, self.camps, seen=self.seen_texts)
        return SampleConversation(posts=[_as_json(p) for p in self.posts], truth=self.truth())

    # -- post plan ----------------------------------------------------------------------------------------

    def plan_kinds(self) -> None:
        """Decide how many posts each account makes and of which kinds (its `pending` list)."""
        rng = self.rng
        counts = {a.id: ROLE_MIN_POSTS[a.role] for a in self.accounts}
        extra = self.n_posts - sum(counts.values())
        if extra < 0:
            raise ValueError(f"n_posts={self.n_posts} is too small for {self.n_accounts} accounts")
        for acct in rng.choices(self.accounts, weights=[a.weight for a in self.accounts], k=extra):
            counts[acct.id] += 1
        for acct in self.accounts:
            acct.pending = self._kinds(acct, counts[acct.id])

    def _kinds(self, acct: Account, count: int) -> list[str]:
        rng = self.rng
        kinds = [pick_weighted(rng, ROLE_KINDS[acct.voice]) for _ in range(count)]
        for i in range(min(_MIN_ORIGINALS.get(acct.role, 0), count)):
            kinds[i] = ORIGINAL
        if acct.role == HOSTILE_ROLE:
            for i in range(min(6, count)):
                kinds[i] = REPLY  # enough replies to join pile-ons
        if acct.role == REGULAR and count == 1:
            # One-post regulars are the silent majority: they endorse, they don't start threads.
            kinds = [REPOST if rng.random() < 0.75 else QUOTE]
        rng.shuffle(kinds)
        return kinds

    def _add(self, post: Post) -> Post:
        pull = ROLE_PULL[post.author.role]
        post.w_endorse = pull * TONE_PULL[post.tone] * KIND_PULL[post.kind]
        post.w_reply = (math.sqrt(pull) if pull >= 1 else 1.0) * REPLY_KIND_PULL.get(post.kind, 0.0)
        self.posts.append(post)
        self.pools.add(post)
        return post

    def _add_original(self, acct: Account) -> None:
        tone = pick_weighted(self.rng, ORIGINAL_TONES[acct.voice])
        self._add(Post(len(self.posts), acct, ORIGINAL, tone, original_time(self.rng)))

    def make_originals(self) -> None:
        for acct in self.accounts:
            for kind in acct.pending:
                if kind == ORIGINAL:
                    self._add_original(acct)
            acct.pending = [kind for kind in acct.pending if kind != ORIGINAL]

    def _react(self, acct: Account, kind: str, target: Post, tone: str, *, locked: bool = False) -> Post:
        if kind == REPOST:
            tone = target.tone
        t = reaction_time(self.rng, target.t, kind)
        post = Post(len(self.posts), acct, kind, tone, t, locked=locked)
        self._add(post)
        post.target = target  # after _add: the pools only look at the post itself
        if kind in (REPOST, QUOTE):
            target.endorsements += 1
            target.author.endorsed_in += 1
        else:
            target.replies += 1
        return post

    @staticmethod
    def _take(acct: Account, preferred: Sequence[str]) -> str | None:
        """Use up the first of the preferred kinds the account still has pending."""
        for kind in preferred:
            if kind in acct.pending:
                acct.pending.remove(kind)
                return kind
        return None

    # -- planted structure -----------------------------------------------------------------------------

    def make_pile_ons(self) -> None:
        """Bursts of hostile replies from other camps on one post within an hour."""
        rng = self.rng
        hostiles = [a for a in self.accounts if a.role == HOSTILE_ROLE]
        regulars = [a for a in self.accounts if a.role == REGULAR and not a.insider]
        for _ in range(max(3, self.n_posts // 200)):
            camp = rng.choice(self.camps).key
            attackers_h = [a for a in hostiles if a.camp.key != camp and REPLY in a.pending]
            if not attackers_h:
                continue
            pool = [
                p
                for p in self.pools.by_camp[camp]
                if p.kind == ORIGINAL
                and p.author.role in (LEADER, REGULAR, BRIDGER)
                and p.t < WEEK_SECONDS - 8000
            ]
            target = choose(rng, pool, lambda p: p.w_reply * (3.0 if p.author.role == LEADER else 1.0))
            if target is None:
                continue
            attackers = rng.sample(attackers_h, min(len(attackers_h), rng.randint(2, 3)))
            others = [
                a
                for a in regulars
                if a.camp.key != camp and len(a.pending) > 1 and (REPLY in a.pending or QUOTE in a.pending)
            ]
            attackers += rng.sample(others, min(len(others), rng.randint(2, 3)))
            self.pile_ons.append((target, self._pile_on(target, attackers)))

    def _pile_on(self, target: Post, attackers: list[Account]) -> list[Post]:
        rng = self.rng
        first = target.t + rng.randint(180, 2400)
        replies: list[Post] = []
        for attacker in attackers:
            if self._take(attacker, (REPLY, QUOTE)) is None:
                continue
            t = min(WEEK_SECONDS, first + rng.randint(0, 3300))
            post = self._add(Post(len(self.posts), attacker, REPLY, HOSTILE, t, locked=True, pile_on=True))
            post.target = target
            target.replies += 1
            replies.append(post)
        return replies

    def make_bridger_coverage(self) -> None:
        """Every bridger gets constructive endorsements or replies from members of every other camp."""
        rng = self.rng
        for bridger in [a for a in self.accounts if a.role == BRIDGER]:
            own = [p for p in self.pools.bridger[bridger.camp.key] if p.author is bridger]
            if not own:
                continue
            for camp_key in self.targets.other_camps(bridger):
                members = [
                    a
                    for a in self.accounts
                    if a.camp.key == camp_key and a.role == REGULAR and not a.insider and len(a.pending) > 1
                ]
                if not members:
                    continue
                member = rng.choice(members)
                order = (REPOST, QUOTE, REPLY) if rng.random() < 0.6 else (REPLY, QUOTE, REPOST)
                kind = self._take(member, order)
                if kind is None:
                    continue
                target = rng.choice(own)
                tone = CONSTRUCTIVE if kind != REPOST or target.tone != NEUTRAL else NEUTRAL
                self._react(member, kind, target, tone, locked=True)

    # -- everything else ---------------------------------------------------------------------------------

    def make_reactions(self) -> None:
        """Every remaining planned reaction, in random order so that no account always goes first."""
        rng = self.rng
        slots = [(acct, kind) for acct in self.accounts for kind in acct.pending]
        for acct in self.accounts:
            acct.pending = []
        rng.shuffle(slots)
        for acct, kind in slots:
            target, tone = self._find_target(acct, kind)
            if target is None:
                self.fallbacks += 1
                self._add_original(acct)
                continue
            if kind in (REPOST, QUOTE):
                self.endorsed_pairs.add((acct.id, target.seq))
            self._react(acct, kind, target, tone)

    def _find_target(self, acct: Account, kind: str) -> tuple[Post | None, str]:
        """Up to four tries for a target that is not the account's own nor one it has endorsed already."""
        target: Post | None = None
        tone = NEUTRAL
        for _ in range(4):
            target, tone = self.targets.pick(acct, kind)
            if target is None or target.author is acct:
                target = None
                continue
            if kind in (REPOST, QUOTE) and (acct.id, target.seq) in self.endorsed_pairs:
                target = None
                continue
            break
        return target, tone

    def fix_coverage(self) -> None:
        """Make sure every account has at least one repost or quote edge, in or out."""
        covered: set[str] = set()
        for post in self.posts:
            if (
                post.kind in (REPOST, QUOTE)
                and post.target is not None
                and post.target.author is not post.author
            ):
                covered.update((post.author.id, post.target.author.id))
        for acct in self.accounts:
            if acct.id in covered:
                continue
            own = [p for p in self.posts if p.author is acct]
            partner = self._quote_a_reply(acct, own) or self._borrow_a_repost(acct, own)
            if partner is not None:
                covered.update((acct.id, partner))

    def _quote_a_reply(self, acct: Account, own: list[Post]) -> str | None:
        """Turn one of the account's replies (same camp first) into a quote; the quoted author's id."""
        replies = [p for p in own if p.kind == REPLY and not p.locked and p.target is not None]
        if not replies:
            return None
        replies.sort(key=lambda p: (p.target is None or p.target.author.camp is not acct.camp, p.seq))
        post = replies[0]
        assert post.target is not None
        post.kind = QUOTE
        post.target.replies -= 1
        post.target.endorsements += 1
        post.target.author.endorsed_in += 1
        return post.target.author.id

    def _borrow_a_repost(self, acct: Account, own: list[Post]) -> str | None:
        """Point a campmate's repost at the account's earliest post instead; the reposter's id."""
        rng = self.rng
        originals = [p for p in own if p.kind != REPOST and p.t < WEEK_SECONDS - 900]
        if not originals:
            return None
        original = min(originals, key=lambda p: (p.kind != ORIGINAL, p.t))
        donors = [
            p
            for p in self.posts
            if p.kind == REPOST
            and not p.locked
            and p.author is not acct
            and p.author.camp is acct.camp
            and p.target is not None
            and p.target.author.endorsed_in >= 2  # the old target keeps an endorsement
        ]
        if not donors:
            return None
        donor = rng.choice(donors)
        assert donor.target is not None
        donor.target.endorsements -= 1
        donor.target.author.endorsed_in -= 1
        donor.target = original
        donor.tone = original.tone
        donor.t = reaction_time(rng, original.t, REPOST)
        donor.locked = True
        original.endorsements += 1
        acct.endorsed_in += 1
        self.endorsed_pairs.add((donor.author.id, original.seq))
        return donor.author.id

    # -- output ----------------------------------------------------------------------------------------------

    def truth(self) -> dict[str, Any]:
        by_number = sorted(self.accounts, key=lambda a: int(a.id[1:]))
        return {
            "seed": self.seed,
            "camps": {c.key: c.name for c in self.camps},
            "accounts": {
                a.id: {"camp": a.camp.key, "role": a.role, "stakeholder": a.stakeholder} for a in by_number
            },
            "bridgers": [a.id for a in by_number if a.role == BRIDGER],
            "hostile_accounts": [a.id for a in by_number if a.role == HOSTILE_ROLE],
            "posts": {p.id: p.tone for p in self.posts},
            "pile_ons": [
                {"target": target.id, "replies": sorted((r.id for r in replies), key=int)}
                for target, replies in sorted(self.pile_ons, key=lambda pr: int(pr[0].id))
                if len(replies) >= 3
            ],
        }


def _as_json(post: Post) -> dict[str, Any]:
    """The post as one object of the commonground JSONL import format."""
    author = post.author
    obj: dict[str, Any] = {
        "id": post.id,
        "created_at": stamp(post.t),
        "text": post.text,
        "author": {
            "id": author.id,
            "handle": author.handle,
            "display_name": author.display_name,
            "bio": author.bio,
            "followers": author.followers,
        },
        "platform": PLATFORM,
        "url": f"https://social.example/@{author.handle}/{post.id}",
        "lang": "en",
    }
    if post.target is not None:
        obj[_JSON_REF[post.kind]] = {"id": post.target.id, "author_id": post.target.author.id}
    if post.mentions:
        obj["mentions"] = [{"id": m.id, "handle": m.handle} for m in post.mentions]
    if post.hashtags:
        obj["hashtags"] = list(post.hashtags)
    return obj
