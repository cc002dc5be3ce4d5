"""Generate a seeded synthetic week of UK healthcare-hashtag posts in the JSONL import format, with truth.

This module is the sample's public face (the API below and `python -m lab.sample.generate`); the work
is done by the other modules of lab.sample:

- phrases.py and phrases.json: the phrase tables and the template filling;
- world.py: the week, the camps, accounts, posts and role tables;
- accounts.py: who posts; targets.py: who reacts to what; text.py: what the posts say;
- conversation.py: the steps in order, and the output objects.

The output is byte-for-byte reproducible from the arguments; data/sample holds the default one.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lab.sample.conversation import Generator
from lab.sample.scale import SHARD_POSTS, write_large
from lab.sample.world import CAMPS, REGULAR, SampleConversation

__all__ = [
    "CAMPS",
    "SampleConversation",
    "dumps_jsonl",
    "dumps_truth",
    "generate_conversation",
    "main",
    "summarise",
    "write_sample",
]


def generate_conversation(
    seed: int = 2026,
    n_accounts: int = 420,
    n_posts: int = 3200,
    n_bridgers: int = 5,
    n_camps: int = 4,
) -> SampleConversation:
    """A seeded week (ISO 2026-W47) of posts on UK healthcare hashtags, with ground truth.

    Exactly `n_posts` posts by exactly `n_accounts` distinct authors, in chronological order; the same
    arguments always give the same output.
    """
    return Generator(seed, n_accounts, n_posts, n_bridgers, n_camps).build()


def dumps_jsonl(posts: Sequence[Mapping[str, Any]]) -> str:
    """The posts as commonground JSONL text, one object per line (the exact bytes `write_sample` writes)."""
    return "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in posts)


def dumps_truth(truth: Mapping[str, Any]) -> str:
    """The ground truth as the exact text `write_sample` writes to truth.json."""
    return json.dumps(truth, ensure_ascii=False, indent=1) + "\n"


def write_sample(out_dir: Path, **kwargs: int) -> tuple[Path, Path]:
    """Generate a conversation and write conversation.jsonl and truth.json into `out_dir`."""
    conversation = generate_conversation(**kwargs)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    posts_path = out_dir / "conversation.jsonl"
    truth_path = out_dir / "truth.json"
    posts_path.write_text(dumps_jsonl(conversation.posts), encoding="utf-8", newline="\n")
    truth_path.write_text(dumps_truth(conversation.truth), encoding="utf-8", newline="\n")
    return posts_path, truth_path


def summarise(conversation: SampleConversation) -> dict[str, Any]:
    """Headline statistics of a generated conversation (kinds, camp endorsement, text variety)."""
    posts, truth = conversation.posts, conversation.truth
    accounts = truth["accounts"]
    kinds: Counter[str] = Counter()
    inside = total = 0
    for p in posts:
        kind = next((k for k in ("repost_of", "quote_of", "reply_to") if k in p), "original")
        kinds[kind] += 1
        if kind in ("repost_of", "quote_of"):
            src = accounts[p["author"]["id"]]
            if src["role"] == REGULAR:
                total += 1
                inside += src["camp"] == accounts[p[kind]["author_id"]]["camp"]
    originals = [p["text"] for p in posts if "repost_of" not in p]
    return {
        "posts": len(posts),
        "accounts": len({p["author"]["id"] for p in posts}),
        "kinds": dict(sorted(kinds.items())),
        "tones": dict(sorted(Counter(truth["posts"].values()).items())),
        "within_camp_endorsement_share": round(inside / total, 3) if total else None,
        "unique_original_text_share": round(len(set(originals)) / len(originals), 3) if originals else None,
        "mention_share": round(sum(1 for p in posts if p.get("mentions")) / len(posts), 3),
        "bytes": len(dumps_jsonl(posts).encode("utf-8")),
    }


def main(argv: list[str] | None = None) -> int:
    """`python -m lab.sample.generate --out data/sample [--seed N --accounts N --posts N]`.

    Above 3,200 posts the conversation is written shard by shard (lab/sample/scale.py)."""
    parser = argparse.ArgumentParser(
        prog="python -m lab.sample.generate", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--out", type=Path, default=Path("data/sample"), help="output folder")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--accounts", type=int, default=420)
    parser.add_argument("--posts", type=int, default=3200)
    parser.add_argument("--bridgers", type=int, default=5)
    parser.add_argument("--camps", type=int, default=4)
    args = parser.parse_args(argv)
    kwargs = {
        "seed": args.seed,
        "n_accounts": args.accounts,
        "n_posts": args.posts,
        "n_bridgers": args.bridgers,
        "n_camps": args.camps,
    }
    if args.posts > SHARD_POSTS:
        stats = write_large(
            args.out, n_posts=args.posts, n_accounts=args.accounts, seed=args.seed, n_camps=args.camps
        )
        print(json.dumps(stats, indent=1))
        return 0
    try:
        posts_path, truth_path = write_sample(args.out, **kwargs)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    conversation = SampleConversation(
        posts=[json.loads(line) for line in posts_path.read_text(encoding="utf-8").splitlines()],
        truth=json.loads(truth_path.read_text(encoding="utf-8")),
    )
    print(f"wrote {posts_path} and {truth_path}")
    print(json.dumps(summarise(conversation), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
