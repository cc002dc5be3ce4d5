"""Reddit comments and submissions from Pushshift / Arctic Shift dumps (NDJSON), as `reddit` posts.

Each line is one comment (`body`, `parent_id`, `link_id`) or one submission (`title`, `selftext`),
as Reddit's API returned it. Posts are keyed by Reddit's fullname (`t1_…` comment, `t3_…` submission),
which is what `parent_id` and `link_id` name, so a thread links up across dumps. The subreddit is the
post's topic (stored as its hashtag). A reply names only its parent, not the parent's author: the
reply edge is made when the parent is in the same file (`RedditContext` is filled by a first pass).
Deleted authors (`[deleted]`) are kept apart, one unknown account per post, so they never form a camp.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flows.sources.common import dump, interaction_adder, require, stub_account
from flows.sources.dates import parse_timestamp
from warehouse.records import Account, Batch, InteractionKind, Post, Provenance, qualified

SOURCE = "reddit"
DELETED = ("[deleted]", "[removed]", "")
MENTION = re.compile(r"(?<![\w/])/?u/([A-Za-z0-9_-]{3,20})\b")
SITE = "https://www.reddit.com"


@dataclass
class RedditContext:
    """The author of every post of the file (fullname → author), so a reply finds its parent's author."""

    provenance: Provenance
    authors: dict[str, str] = field(default_factory=dict)

    def learn(self, obj: Any) -> None:
        """First pass: remember who wrote this post, when it says."""
        if isinstance(obj, dict) and isinstance(obj.get("author"), str):
            try:
                self.authors[fullname(obj)] = obj["author"]
            except ValueError:
                return


def fullname(obj: dict[str, Any]) -> str:
    """`t1_<id>` for a comment, `t3_<id>` for a submission (Reddit's own `name`, when the dump has it)."""
    name = obj.get("name")
    if isinstance(name, str) and re.fullmatch(r"t[13]_[0-9a-z]+", name):
        return name
    native = str(require(obj, "id", (str, int)))
    return f"t1_{native}" if "body" in obj else f"t3_{native}"


def _author(obj: dict[str, Any], post_name: str, prov: Provenance) -> Account:
    name = obj.get("author")
    if not isinstance(name, str) or name in DELETED:
        native = f"[deleted]/{post_name}"
        return Account(
            qualified(SOURCE, native), SOURCE, native, "[deleted]", "[deleted]", "", None, None, prov, "{}"
        )
    flair = obj.get("author_flair_text")
    return Account(
        account_id=qualified(SOURCE, name),
        source=SOURCE,
        native_id=name,
        handle=name,
        display_name=name,
        bio=flair if isinstance(flair, str) else "",  # the flair is what a subreddit shows of a person
        followers_count=None,
        url=f"{SITE}/user/{name}",
        provenance=prov,
        raw=dump({k: obj.get(k) for k in ("author", "author_fullname", "author_flair_text")}),
    )


def _text(obj: dict[str, Any]) -> str:
    if "body" in obj:
        body = obj["body"]
        if not isinstance(body, str):
            raise ValueError(f"comment 'body' must be text, got {type(body).__name__}")
        return body
    title = require(obj, "title", str)
    selftext = obj.get("selftext")
    if isinstance(selftext, str) and selftext.strip() and selftext not in DELETED:
        return f"{title}\n\n{selftext}"
    return str(title)


def normalise_reddit(obj: Any, ctx: RedditContext) -> Batch:
    """One comment or submission → a post, its author, and reply and mention interactions."""
    if not isinstance(obj, dict):
        raise ValueError(f"expected a Reddit comment or submission object, got {type(obj).__name__}")
    name = fullname(obj)
    subreddit = require(obj, "subreddit", str)
    text = _text(obj)
    created_at = parse_timestamp(obj.get("created_utc", obj.get("created")), "created_utc")
    edited = obj.get("edited")
    version_at = parse_timestamp(edited, "edited") if not isinstance(edited, bool) and edited else None
    author = _author(obj, name, ctx.provenance)
    post_id = qualified(SOURCE, name)
    batch = Batch(read=1, accounts=[author])
    edge = interaction_adder(batch, SOURCE, post_id, author.account_id, created_at)
    parent = obj.get("parent_id") if "body" in obj else None
    reply_to = None
    if parent is not None:
        if not isinstance(parent, str) or not re.fullmatch(r"t[13]_[0-9a-z]+", parent):
            raise ValueError(f"'parent_id' must be a Reddit fullname like t1_abc or t3_abc, got {parent!r}")
        reply_to = qualified(SOURCE, parent)
        parent_author = ctx.authors.get(parent)
        edge(InteractionKind.REPLY, parent_author if parent_author not in DELETED else None, reply_to)
    for handle in dict.fromkeys(MENTION.findall(text)):
        edge(InteractionKind.MENTION, handle, None)
        batch.accounts.append(stub_account(SOURCE, handle, handle, ctx.provenance, dump({"mention": handle})))
    permalink = obj.get("permalink")
    batch.posts.append(
        Post(
            post_id=post_id,
            source=SOURCE,
            native_id=name,
            author_id=author.account_id,
            created_at=created_at,
            text=text,
            lang=None,
            url=f"{SITE}{permalink}" if isinstance(permalink, str) and permalink.startswith("/") else None,
            reply_to_post_id=reply_to,
            quote_of_post_id=None,
            repost_of_post_id=None,
            hashtags=(subreddit,),
            provenance=ctx.provenance,
            raw=dump(obj),
            version_at=version_at,
        )
    )
    return batch
