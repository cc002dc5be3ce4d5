"""Write a large seeded conversation (up to millions of posts) to disk, shard by shard, without holding it.

Each shard is a conversation of the sample's own shape (lab.sample.conversation, about 3,200 posts), so
camps, leaders, bridgers, hostile accounts and pile-ons keep their planted structure at any size. The
shards are tied into one conversation: the national newsdesk accounts are the same accounts in every
shard, handles are unique over the whole output, every non-repost text is distinct (see
`text.write_texts`), and a share of each shard's within-camp reposts amplify a post of the same camp from
an earlier shard, so a camp is one camp across the whole output, not one per shard.

Posts are chronological within a shard, not across shards. The output is reproducible from the arguments.
"""

from __future__ import annotations

import json
import math
import random
import resource
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from lab.sample.conversation import Generator
from lab.sample.text import text_digest

SHARD_POSTS = 3200
# Share of a shard's within-camp reposts that go to a post of the same camp in an earlier shard.
CROSS_SHARD_REPOSTS = 0.35
_RESERVOIR = 2000  # earlier shards' originals kept per camp as cross-shard repost targets
_BRIDGERS_PER_ACCOUNT = 5 / 420  # the sample's share
_REFS = ("reply_to", "quote_of", "repost_of")


@dataclass
class _State:
    """What stays in memory across shards: ids, handles, text digests and a bounded reservoir."""

    rng: random.Random
    handles: set[str] = field(default_factory=set)
    seen_texts: set[int] = field(default_factory=set)
    written_texts: set[int] = field(default_factory=set)
    newsdesks: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)  # handle -> id, author
    newsdesk_authors: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> author object
    accounts: dict[str, dict[str, str]] = field(default_factory=dict)
    bridgers: list[str] = field(default_factory=list)
    hostile: list[str] = field(default_factory=list)
    pile_ons: list[dict[str, Any]] = field(default_factory=list)
    reservoir: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    offered: Counter[str] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    tones: Counter[str] = field(default_factory=Counter)
    posts: int = 0
    cross_shard: int = 0


def shard_sizes(total: int, n_shards: int) -> list[int]:
    base, extra = divmod(total, n_shards)
    return [base + (1 if k < extra else 0) for k in range(n_shards)]


def write_large(
    out_dir: Path,
    *,
    n_posts: int,
    n_accounts: int,
    seed: int = 2026,
    n_camps: int = 4,
    shard_posts: int = SHARD_POSTS,
) -> dict[str, Any]:
    """Write conversation.jsonl and truth.json for `n_posts` posts by about `n_accounts` accounts.

    Returns the summary (counts, repost share, distinct share of non-repost texts, seconds, peak RSS).
    """
    start = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    n_shards = max(1, math.ceil(n_posts / shard_posts))
    posts_per = shard_sizes(n_posts, n_shards)
    # Newsdesks are shared by all shards, so each shard gets them on top of its share of the others.
    newsdesk = max(n_camps, round(0.02 * n_accounts / n_shards))
    accounts_per = [a + newsdesk for a in shard_sizes(max(0, n_accounts - newsdesk), n_shards)]
    state = _State(rng=random.Random(f"scale-{seed}"))
    posts_path, tones_path = out_dir / "conversation.jsonl", out_dir / "truth_posts.tsv"
    with (
        posts_path.open("w", encoding="utf-8", newline="\n") as posts_out,
        tones_path.open("w", encoding="utf-8", newline="\n") as tones_out,
    ):
        for k in range(n_shards):
            n_bridgers = max(1, round(_BRIDGERS_PER_ACCOUNT * accounts_per[k]))
            generator = Generator(
                seed * 100_003 + k,
                accounts_per[k],
                posts_per[k],
                n_bridgers,
                n_camps,
                taken_handles=state.handles,
                seen_texts=state.seen_texts,
            )
            conversation = generator.build()
            _write_shard(state, k, conversation.posts, conversation.truth, posts_out, tones_out)
    truth_path = _write_truth(out_dir, state, seed, generator.truth()["camps"])
    non_repost = state.posts - state.kinds["repost_of"]
    return {
        "posts": state.posts,
        "accounts": len(state.accounts),
        "shards": n_shards,
        "kinds": dict(sorted(state.kinds.items())),
        "tones": dict(sorted(state.tones.items())),
        "repost_share": round(state.kinds["repost_of"] / max(1, state.posts), 3),
        "cross_shard_reposts": state.cross_shard,
        "distinct_non_repost_text_share": round(len(state.written_texts) / max(1, non_repost), 4),
        "seconds": round(time.perf_counter() - start, 1),
        "peak_rss_mib": round(_peak_rss() / 1024**2),
        "files": [str(posts_path), str(truth_path), str(tones_path)],
    }


def _peak_rss() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def _account_map(state: _State, posts: list[dict[str, Any]], truth: dict[str, Any]) -> dict[str, str]:
    """Shard account id -> global id; a newsdesk handle names the same account in every shard."""
    mapping: dict[str, str] = {}
    authors = {p["author"]["id"]: p["author"] for p in posts}
    for old, info in truth["accounts"].items():
        author = authors.get(old)
        if info["role"] == "newsdesk" and author is not None and author["handle"] in state.newsdesks:
            mapping[old] = state.newsdesks[author["handle"]][0]
            continue
        new = f"a{len(state.accounts) + 1}"
        mapping[old] = new
        state.accounts[new] = info
        if info["role"] == "newsdesk" and author is not None:
            state.newsdesks[author["handle"]] = (new, {**author, "id": new})
            state.newsdesk_authors[new] = {**author, "id": new}
        elif info["role"] == "bridger":
            state.bridgers.append(new)
        elif info["role"] == "hostile":
            state.hostile.append(new)
    return mapping


def _write_shard(
    state: _State,
    k: int,
    posts: list[dict[str, Any]],
    truth: dict[str, Any],
    posts_out: IO[str],
    tones_out: IO[str],
) -> None:
    accounts = _account_map(state, posts, truth)
    offset = state.posts
    tones: dict[str, str] = truth["posts"]
    shard_originals: list[dict[str, Any]] = []
    for post in posts:
        tone = tones[post["id"]]
        post["id"] = str(int(post["id"]) + offset)
        _remap(post, accounts, offset, state)
        if "repost_of" in post and k > 0:
            tone = _maybe_cross_shard(state, post, truth, tone)
        kind = next((r for r in _REFS if r in post), "original")
        if kind == "original" and tone != "hostile":
            shard_originals.append(
                {"post": post, "tone": tone, "camp": truth["accounts"][_old(post)]["camp"]}
            )
        if kind != "repost_of":
            state.written_texts.add(text_digest(post["text"]))
        post.pop("_old_author", None)
        posts_out.write(json.dumps(post, ensure_ascii=False) + "\n")
        tones_out.write(f"{post['id']}\t{tone}\n")
        state.kinds[kind] += 1
        state.tones[tone] += 1
    state.posts += len(posts)
    for pile in truth["pile_ons"]:
        state.pile_ons.append(
            {
                "target": str(int(pile["target"]) + offset),
                "replies": [str(int(r) + offset) for r in pile["replies"]],
            }
        )
    for item in shard_originals:
        _offer(state, item)


def _old(post: dict[str, Any]) -> str:
    return str(post["_old_author"])


def _remap(post: dict[str, Any], accounts: dict[str, str], offset: int, state: _State) -> None:
    """Global post and account ids in place (the shard's author id kept in `_old_author` until written)."""
    old_author = post["author"]["id"]
    post["_old_author"] = old_author
    new_author = accounts[old_author]
    shared = state.newsdesk_authors.get(new_author)
    post["author"] = dict(shared) if shared is not None else {**post["author"], "id": new_author}
    post["url"] = f"https://social.example/@{post['author']['handle']}/{post['id']}"
    for ref in _REFS:
        if ref in post:
            target = post[ref]
            post[ref] = {"id": str(int(target["id"]) + offset), "author_id": accounts[target["author_id"]]}
    if "mentions" in post:
        post["mentions"] = [{"id": accounts[m["id"]], "handle": m["handle"]} for m in post["mentions"]]


def _maybe_cross_shard(state: _State, post: dict[str, Any], truth: dict[str, Any], tone: str) -> str:
    """Point a within-camp repost at a same-camp post of an earlier shard (sometimes); the post's tone."""
    rng = state.rng
    accounts = truth["accounts"]
    camp = accounts[_old(post)]["camp"]
    if rng.random() >= CROSS_SHARD_REPOSTS:
        return tone
    pool = [c for c in state.reservoir.get(camp, ()) if c["created_at"] < post["created_at"]]
    if not pool:
        return tone
    target = rng.choice(pool)
    post["repost_of"] = {"id": target["id"], "author_id": target["author_id"]}
    post["text"] = target["text"]
    post.pop("mentions", None)
    post.pop("hashtags", None)
    post.update({key: target[key] for key in ("mentions", "hashtags") if key in target})
    state.cross_shard += 1
    return str(target["tone"])


def _offer(state: _State, item: dict[str, Any]) -> None:
    """Reservoir sampling of originals per camp, so every shard's posts have a fair chance."""
    post, camp = item["post"], item["camp"]
    keep = {key: post[key] for key in ("id", "created_at", "text", "mentions", "hashtags") if key in post}
    keep.update(author_id=post["author"]["id"], tone=item["tone"])
    pool = state.reservoir.setdefault(camp, [])
    state.offered[camp] += 1
    if len(pool) < _RESERVOIR:
        pool.append(keep)
        return
    slot = state.rng.randrange(state.offered[camp])
    if slot < _RESERVOIR:
        pool[slot] = keep


def _write_truth(out_dir: Path, state: _State, seed: int, camps: dict[str, str]) -> Path:
    """truth.json as the sample's, with the per-post tones in truth_posts.tsv (id, tab, tone) instead."""
    path = out_dir / "truth.json"
    truth = {
        "seed": seed,
        "camps": camps,
        "accounts": state.accounts,
        "bridgers": state.bridgers,
        "hostile_accounts": state.hostile,
        "posts_file": "truth_posts.tsv",
        "pile_ons": state.pile_ons,
    }
    path.write_text(json.dumps(truth, ensure_ascii=False) + "\n", encoding="utf-8", newline="\n")
    return path
