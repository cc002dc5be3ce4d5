"""Write the text of every sample post: sentences from the phrase tables, then mentions, links and hashtags.

Each (kind, tone) has its own recipe for how many sentences of which sort a post gets; the recipes vary
length on purpose so that a classifier cannot read the tone off the length of a post.
"""

from __future__ import annotations

import hashlib
import random
from collections import ChainMap
from collections.abc import Callable, Sequence

from lab.sample.phrases import EMOJI, PLACES, SHARED, TONE, Slot, expand, random_url
from lab.sample.world import (
    BRIDGER,
    CONSTRUCTIVE,
    HOSTILE,
    LEADER,
    NEUTRAL,
    NEWSDESK,
    ORIGINAL,
    QUOTE,
    REPLY,
    REPOST,
    Account,
    Camp,
    Post,
)

# Chance that a post gets a link (unless it has one) and emoji, by tone.
_P_LINK = {CONSTRUCTIVE: 0.14, NEUTRAL: 0.12, HOSTILE: 0.03}
_P_EMOJI = {CONSTRUCTIVE: 0.2, NEUTRAL: 0.15, HOSTILE: 0.35}
# Chance that a post carries hashtags at all, by kind (reposts copy their target's).
_P_TAGGED = {ORIGINAL: 0.85, QUOTE: 0.5, REPLY: 0.15}


class _Writer:
    """Says things in one post's voice: its camp's vocabulary, the tone templates and the shared words."""

    def __init__(self, rng: random.Random, post: Post, camps: Sequence[Camp]) -> None:
        self.rng = rng
        self.post = post
        camp = post.author.camp
        other = rng.choice([c for c in camps if c is not camp])
        target_camp = post.target.author.camp if post.target is not None else other
        extra: dict[str, Slot] = {
            "other_group": other.grammar["group_name"],
            "their_topic": target_camp.grammar["topic"],
        }
        self.grammar = ChainMap(extra, camp.grammar, TONE, SHARED)
        self.bridging = 0.5 if post.author.role == BRIDGER else 0.03

    def say(self, slot: str) -> str:
        return expand(self.rng, "{" + slot + "}", self.grammar)

    def say_distinct(self, slot: str, n: int) -> list[str]:
        """Up to `n` sentences from `slot`'s templates, no template twice."""
        templates = self.grammar[slot]
        assert not callable(templates)
        return [
            expand(self.rng, t, self.grammar)
            for t in self.rng.sample(list(templates), min(n, len(templates)))
        ]

    def constructive_parts(self, n_parts: int) -> list[str]:
        """A claim, some evidence or a story, topped up with solutions, invitations and thanks."""
        rng = self.rng
        core = rng.choices(("claim", "evidence", "story"), weights=(0.4, 0.35, 0.25))[0]
        parts = [self.say(core)]
        extras = ["evidence", "c_solution", "c_solution", "c_dialogue", "c_respect", "story", "claim"]
        if rng.random() < self.bridging:
            parts.append(self.say("c_bridge"))
        while len(parts) < n_parts:
            choice = rng.choice(extras)
            if choice == core:
                continue
            parts.append(self.say(choice))
            extras.remove(choice)
        if len(parts) > 2 and rng.random() < 0.5:
            middle = parts[1:-1]
            rng.shuffle(middle)
            parts = [parts[0], *middle, parts[-1]]
        return parts


# ---------------------------------------------------------------------------------------------------------
# Sentences, one recipe per (kind, tone)
# ---------------------------------------------------------------------------------------------------------


def _original_constructive(w: _Writer) -> list[str]:
    n_parts = w.rng.choices((1, 2, 3, 4), weights=(0.28, 0.37, 0.25, 0.1))[0]
    if n_parts == 1 and w.rng.random() < 0.45:
        return [w.say("c_short")]
    sentences = w.constructive_parts(n_parts)
    if w.rng.random() < 0.3:
        sentences.insert(0, w.say("c_opener"))
    return sentences


def _original_neutral(w: _Writer) -> list[str]:
    sentences = [w.say("n_line")]
    if w.rng.random() < 0.45:
        sentences.append(w.say(w.rng.choice(("n_line", "claim", "news", "n_reply"))))
    return sentences


def _original_hostile(w: _Writer) -> list[str]:
    n_lines = w.rng.choices((1, 2, 3, 4, 5, 6), weights=(0.18, 0.27, 0.23, 0.16, 0.1, 0.06))[0]
    return w.say_distinct("h_line", n_lines)


def _reply_constructive(w: _Writer) -> list[str]:
    rng = w.rng
    sentences = [w.say("c_reply_lead")] if rng.random() < 0.6 else []
    n_parts = rng.choices((1, 2, 3), weights=(0.55, 0.35, 0.1))[0]
    pool = ["evidence", "c_solution", "c_dialogue", "story", "c_short", "claim"]
    sentences += [w.say(s) for s in rng.sample(pool, n_parts)]
    if w.post.author.role == BRIDGER and rng.random() < 0.35:
        sentences.insert(1 if sentences else 0, w.say("c_bridge"))
    return sentences


def _reply_neutral(w: _Writer) -> list[str]:
    sentences = [w.say("n_reply")]
    if w.rng.random() < 0.4:
        sentences.append(w.say(w.rng.choice(("n_reply", "news", "n_line"))))
    return sentences


def _reply_hostile(w: _Writer) -> list[str]:
    rng = w.rng
    n_lines = rng.choices((1, 2, 3, 4), weights=(0.3, 0.3, 0.25, 0.15))[0]
    if w.post.pile_on:
        n_lines = min(n_lines, 2)  # a pile-on is many short jabs
    sentences = w.say_distinct("h_reply", n_lines)
    if rng.random() < 0.3:
        sentences.insert(rng.randint(0, len(sentences)), w.say("h_line"))
    return sentences


def _quote_constructive(w: _Writer) -> list[str]:
    rng = w.rng
    sentences = [w.say("c_quote_lead"), w.say(rng.choice(("evidence", "c_solution", "c_short", "story")))]
    if rng.random() < 0.3:
        sentences.append(w.say(rng.choice(("c_dialogue", "c_bridge" if w.bridging > 0.1 else "c_respect"))))
    return sentences


def _quote_neutral(w: _Writer) -> list[str]:
    sentences = [w.say("n_quote")]
    if w.rng.random() < 0.3:
        sentences.append(w.say("url"))
    return sentences


def _quote_hostile(w: _Writer) -> list[str]:
    sentences = [w.say("h_quote")]
    if w.rng.random() < 0.45:
        sentences.append(w.say(w.rng.choice(("h_reply", "h_line"))))
    return sentences


_SENTENCES: dict[tuple[str, str], Callable[[_Writer], list[str]]] = {
    (ORIGINAL, CONSTRUCTIVE): _original_constructive,
    (ORIGINAL, NEUTRAL): _original_neutral,
    (ORIGINAL, HOSTILE): _original_hostile,
    (REPLY, CONSTRUCTIVE): _reply_constructive,
    (REPLY, NEUTRAL): _reply_neutral,
    (REPLY, HOSTILE): _reply_hostile,
    (QUOTE, CONSTRUCTIVE): _quote_constructive,
    (QUOTE, NEUTRAL): _quote_neutral,
    (QUOTE, HOSTILE): _quote_hostile,
}


def _join(rng: random.Random, sentences: list[str], tone: str) -> str:
    """The sentences as one post, with the shouting, links and emoji real posts have."""
    sentences = list(dict.fromkeys(s for s in sentences if s))  # no sentence twice in one post
    if tone == HOSTILE and len(sentences) > 1 and rng.random() < 0.1:
        i = rng.randrange(len(sentences))
        sentences[i] = sentences[i].upper()
    text = " ".join(sentences)
    if tone == HOSTILE and rng.random() < 0.2:
        text = text.rstrip(".") + "!"
    if rng.random() < 0.06:
        text = text.lower()
    if "https://" not in text and rng.random() < _P_LINK[tone]:
        text += " " + random_url(rng)
    if rng.random() < _P_EMOJI[tone]:
        text += " " + "".join(rng.sample(EMOJI[tone], rng.choice((1, 1, 1, 2))))
    return text


def render(rng: random.Random, post: Post, camps: Sequence[Camp]) -> str:
    """The body text of an original, reply or quote (before mentions and hashtags)."""
    writer = _Writer(rng, post, camps)
    return _join(rng, _SENTENCES[post.kind, post.tone](writer), post.tone)


# ---------------------------------------------------------------------------------------------------------
# Mentions and hashtags
# ---------------------------------------------------------------------------------------------------------


def _choose_mentions(rng: random.Random, post: Post, accounts: Sequence[Account]) -> list[Account]:
    """One or two accounts to @: the replied-to author, the big national accounts or the camp's figures."""
    author = post.author
    orgs = [a for a in accounts if a.role == NEWSDESK]
    figures = [a for a in accounts if a.camp is author.camp and a.role in (LEADER, NEWSDESK)]
    chosen: list[Account] = []
    for _ in range(1 if rng.random() < 0.75 else 2):
        roll = rng.random()
        if post.kind == REPLY and post.target is not None and roll < 0.5:
            candidate = post.target.author
        elif roll < 0.75 and not author.insider:
            candidate = rng.choice(orgs[:2] if rng.random() < 0.6 else orgs)
        else:
            candidate = rng.choice(figures)
        if candidate is not author and candidate not in chosen:
            chosen.append(candidate)
    return chosen


def _with_mentions(rng: random.Random, post: Post, text: str) -> str:
    handles = [f"@{m.handle}" for m in post.mentions]
    if not handles:
        return text
    roll = rng.random()
    if roll < 0.45 or (post.kind == REPLY and roll < 0.75):
        return " ".join(handles) + " " + text
    if roll < 0.8:
        return text + " cc " + " ".join(handles)
    return text + " " + " ".join(handles)


def _choose_tags(rng: random.Random, post: Post, camps: Sequence[Camp]) -> list[str]:
    """#NHS and the camp's own tags, earlier tags more likely; bridgers sometimes borrow another camp's."""
    if rng.random() >= _P_TAGGED[post.kind]:
        return []
    camp = post.author.camp
    tags: list[str] = []
    if rng.random() < 0.55:
        tags.append("NHS")
    n_camp = rng.choices((0, 1, 2), weights=(0.1 if tags else 0.0, 0.6, 0.3))[0]
    weights = [1.0 / (i + 1) for i in range(len(camp.tags))]
    for _ in range(n_camp):
        tag = rng.choices(camp.tags, weights=weights)[0]
        if tag not in tags:
            tags.append(tag)
    if post.author.role == BRIDGER and rng.random() < 0.35:
        other = rng.choice([c for c in camps if c is not camp])
        tags.append(other.tags[0])
    rng.shuffle(tags)
    return tags


def _with_tags(rng: random.Random, tags: list[str], text: str) -> str:
    if not tags:
        return text
    hashes = [f"#{t}" for t in tags]
    if rng.random() < 0.15:
        return f"{hashes[0]}: {text}" + "".join(f" {h}" for h in hashes[1:])
    return text + " " + " ".join(hashes)


def write_texts(
    rng: random.Random,
    posts: Sequence[Post],
    accounts: Sequence[Account],
    camps: Sequence[Camp],
    *,
    seen: set[int] | None = None,
) -> None:
    """Fill in text, mentions and hashtags of every post, in order; a repost copies its target's.

    With `seen` (digests of texts written so far, shared across calls) every non-repost text is made
    distinct: re-filled from the phrase tables a few times, then tagged with a town, as local posts are.
    """
    for post in posts:
        if post.kind == REPOST:
            # Targets come earlier in the timeline, so their text is already written.
            assert post.target is not None and post.target.text
            post.text, post.mentions, post.hashtags = (
                post.target.text,
                post.target.mentions,
                post.target.hashtags,
            )
            continue
        _write_one(rng, post, accounts, camps)
        if seen is not None:
            _make_distinct(rng, post, accounts, camps, seen)


def _write_one(rng: random.Random, post: Post, accounts: Sequence[Account], camps: Sequence[Camp]) -> None:
    text = render(rng, post, camps)
    post.mentions = _choose_mentions(rng, post, accounts) if rng.random() < 0.15 else []
    text = _with_mentions(rng, post, text)
    post.hashtags = _choose_tags(rng, post, camps)
    post.text = _with_tags(rng, post.hashtags, text)


def text_digest(text: str) -> int:
    """A 64-bit digest of a text, the same in every process (unlike `hash`)."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")


def _make_distinct(
    rng: random.Random, post: Post, accounts: Sequence[Account], camps: Sequence[Camp], seen: set[int]
) -> None:
    for _ in range(3):
        if text_digest(post.text) not in seen:
            break
        _write_one(rng, post, accounts, camps)
    base, tags, n = post.text, post.hashtags, 0
    while text_digest(post.text) in seen:
        n += 1
        town = rng.choice(PLACES).replace(" ", "").replace("&", "") + (str(n) if n >= 4 else "")
        post.text, post.hashtags = f"{base} #{town}", [*tags, town]
    seen.add(text_digest(post.text))
