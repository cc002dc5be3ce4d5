"""X API v1.1 tweets (twarc1, tweepy's `_json`, Hydrator, the research datasets published before 2023).

A v1.1 tweet carries its author (`user`) and, nested whole, the tweet it retweets (`retweeted_status`)
and the one it quotes (`quoted_status`); both nested tweets are stored as posts too, as a Mastodon boost
stores the boosted status. Long tweets keep their full text in `full_text` (tweet_mode=extended) or
`extended_tweet.full_text` (the streaming API). Posts get the same keys as through X API v2, so the
same tweet read both ways is one post.
"""

from __future__ import annotations

from typing import Any

from flows.sources import x
from flows.sources.common import dump, interaction_adder, normalise_each, require, stub_account, subobject
from flows.sources.dates import parse_timestamp
from warehouse.records import Account, Batch, InteractionKind, Provenance, qualified


def _native(obj: dict[str, Any], where: str = "") -> str:
    value = obj.get("id_str") if obj.get("id_str") not in (None, "") else obj.get("id")
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
        raise ValueError(f"missing or malformed field {where}'id_str': {str(value)[:60]!r}")
    return str(value)


def _account(user: Any, prov: Provenance) -> Account:
    native = _native(user, "user.") if isinstance(user, dict) else ""
    if not native:
        raise ValueError("missing object 'user' (the tweet's author)")
    handle = require(user, "screen_name", str, "user.")
    followers = user.get("followers_count")
    return Account(
        account_id=qualified(x.SOURCE, native),
        source=x.SOURCE,
        native_id=native,
        handle=handle,
        display_name=str(user.get("name") or handle),
        bio=str(user.get("description") or ""),
        followers_count=followers if isinstance(followers, int) and not isinstance(followers, bool) else None,
        url=f"https://x.com/{handle}",
        provenance=prov,
        raw=dump(user),
    )


def _text_and_entities(tweet: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    extended = subobject(tweet, "extended_tweet")
    for holder in (extended, tweet):
        for key in ("full_text", "text"):
            if isinstance(holder.get(key), str):
                return holder[key], subobject(holder, "entities") or subobject(tweet, "entities")
    raise ValueError("missing or malformed field 'full_text' / 'text'")


def normalise_v1_tweet(tweet: Any, prov: Provenance) -> Batch:
    """One v1.1 tweet → its post (first), the nested retweeted or quoted posts, accounts and interactions."""
    if not isinstance(tweet, dict):
        raise ValueError(f"expected a tweet object, got {type(tweet).__name__}")
    native = _native(tweet)
    author = _account(tweet.get("user"), prov)
    text, entities = _text_and_entities(tweet)
    chain = subobject(tweet, "edit_history").get("edit_tweet_ids")
    post_native, created_at, version_at = x.edit_version(
        native, chain, parse_timestamp(tweet.get("created_at"))
    )
    post_id = qualified(x.SOURCE, post_native)
    batch = Batch(read=1, accounts=[author])
    edge = interaction_adder(batch, x.SOURCE, post_id, author.account_id, created_at)
    links: dict[InteractionKind, str] = {}
    retweeted = tweet.get("retweeted_status")
    nested = [(InteractionKind.REPOST, retweeted)] if isinstance(retweeted, dict) else []
    if not nested and isinstance(tweet.get("quoted_status"), dict):
        nested = [(InteractionKind.QUOTE, tweet["quoted_status"])]
    for kind, inner in nested:
        original = normalise_v1_tweet(inner, prov)
        batch.extend(original)
        target = original.posts[0]
        links[kind] = target.post_id
        edge(kind, target.author_id.removeprefix(f"{x.SOURCE}:"), target.post_id)
        if kind is InteractionKind.REPOST:
            text = target.text  # a retweet's own text is a truncated "RT @user: …"
    if not nested and tweet.get("quoted_status_id_str"):
        links[InteractionKind.QUOTE] = qualified(x.SOURCE, str(tweet["quoted_status_id_str"]))
    parent = tweet.get("in_reply_to_status_id_str") or tweet.get("in_reply_to_status_id")
    if parent:
        links[InteractionKind.REPLY] = qualified(x.SOURCE, str(parent))
        replied = tweet.get("in_reply_to_user_id_str") or tweet.get("in_reply_to_user_id")
        edge(InteractionKind.REPLY, str(replied) if replied else None, links[InteractionKind.REPLY])
    mentions = entities.get("user_mentions") or []
    if not isinstance(mentions, list):
        raise ValueError(f"entities.user_mentions: expected a list, got {type(mentions).__name__}")
    for mention in mentions:
        mention_id = _native(mention, "entities.user_mentions[].")
        handle = require(mention, "screen_name", str, "entities.user_mentions[].")
        edge(InteractionKind.MENTION, mention_id, None)
        batch.accounts.append(stub_account(x.SOURCE, mention_id, handle, prov, dump(mention)))
    hashtags = tuple(
        h["text"]
        for h in entities.get("hashtags") or []
        if isinstance(h, dict) and isinstance(h.get("text"), str)
    )
    version = x.TweetVersion(post_native, native, created_at, version_at)
    post = x.tweet_post(tweet, version, author, text, links, hashtags, prov)
    batch.posts.insert(0, post)
    return batch


def normalise_v1_item(obj: Any, prov: Provenance, origin: str, line_no: int) -> Batch:
    """A file item: one tweet, a list of tweets, or a v1.1 search response (`statuses`)."""
    if isinstance(obj, dict) and isinstance(obj.get("statuses"), list):
        obj = obj["statuses"]
    if isinstance(obj, list):
        return normalise_each(
            obj, lambda t: normalise_v1_tweet(t, prov), source=x.SOURCE, origin=origin, line_no=line_no
        )
    return normalise_v1_tweet(obj, prov)
