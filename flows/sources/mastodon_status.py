"""Mastodon statuses → records: the normaliser that `MastodonSource` and file imports (Mastodon API JSON
dumps) share. It needs no Mastodon.py, so importing a file does not load the API client.

A status is keyed by its ActivityPub URI, so the same status read through two instances is one post.
An account is keyed by its full address (`user@domain`), for the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

from flows.sources.common import (
    client_version,
    dump,
    html_to_text,
    interaction_adder,
    normalise_each,
    require,
    stub_account,
)
from flows.sources.dates import parse_timestamp
from warehouse.records import (
    Account,
    Batch,
    InteractionKind,
    Post,
    Provenance,
    qualified,
)

SOURCE = "mastodon"
CLIENT = client_version("Mastodon.py")
USER_AGENT = "commonground (+https://github.com/commonground)"


@dataclass
class StatusContext:
    """What normalising needs beyond one status: the instance it came through, and the instance-local
    ids of statuses and accounts already seen there (a reply names its parent only by local id)."""

    instance: str | None  # None for dumps: each account's own URL then says where it lives
    provenance: Provenance
    status_uris: dict[str, str] = field(default_factory=dict)
    account_ids: dict[str, str] = field(default_factory=dict)


def full_address(acct: str, instance: str | None, url: Any = None) -> str:
    """`user@domain`: local accounts are written without their domain by the instance that hosts them."""
    acct = acct.lstrip("@")
    if "@" in acct:
        return acct
    domain = instance or (urlparse(url).netloc if isinstance(url, str) else "")
    if not domain:
        raise ValueError(f"cannot tell which instance the local account {acct!r} belongs to (no url)")
    return f"{acct}@{domain}"


def _account(obj: Any, ctx: StatusContext, where: str) -> Account:
    require(obj, "id", (str, int), where)
    acct = require(obj, "acct", str, where)
    address = full_address(acct, ctx.instance, obj.get("url"))
    ctx.account_ids[str(obj["id"])] = address
    followers = obj.get("followers_count")
    return Account(
        account_id=qualified(SOURCE, address),
        source=SOURCE,
        native_id=address,
        handle=address,
        display_name=str(obj.get("display_name") or obj.get("username") or acct),
        bio=html_to_text(obj["note"]) if isinstance(obj.get("note"), str) else "",
        followers_count=followers if isinstance(followers, int) else None,
        url=obj.get("url") if isinstance(obj.get("url"), str) else None,
        provenance=ctx.provenance,
        raw=dump(obj),
    )


def normalise_status(status: Any, ctx: StatusContext) -> Batch:
    """One Mastodon status entity → posts (a boost also yields the boosted status), accounts, interactions.

    Raises ValueError, naming the field, on anything that is not a status entity.
    """
    require(status, "id", (str, int))
    uri = require(status, "uri", str)
    created_at = parse_timestamp(status.get("created_at"))
    author = _account(status.get("account"), ctx, "account.")
    content = status.get("content")
    if not isinstance(content, str):
        raise ValueError("missing or malformed field 'content' (the status HTML)")
    ctx.status_uris[str(status["id"])] = uri
    post_id = qualified(SOURCE, uri)
    batch = Batch(read=1)
    batch.accounts.append(author)

    edge = interaction_adder(batch, SOURCE, post_id, author.account_id, created_at)

    mentions = status.get("mentions") or []
    if not isinstance(mentions, list):
        raise ValueError("'mentions' must be a list of mention entities")
    for mention in mentions:
        address = full_address(require(mention, "acct", str, "mentions[]."), ctx.instance, mention.get("url"))
        ctx.account_ids[str(require(mention, "id", (str, int), "mentions[]."))] = address
    text = html_to_text(content)
    if isinstance(status.get("spoiler_text"), str) and status["spoiler_text"].strip():
        text = f"{status['spoiler_text'].strip()}\n\n{text}"

    repost_of = quote_of = reply_to = None
    reblog = status.get("reblog")
    if reblog is not None:
        original = normalise_status(reblog, ctx)
        batch.extend(original)
        boosted = original.posts[0]
        repost_of, text = boosted.post_id, boosted.text
        edge(InteractionKind.REPOST, boosted.author_id.removeprefix(f"{SOURCE}:"), boosted.post_id)
    quote = status.get("quote")
    if isinstance(quote, dict) and isinstance(quote.get("quoted_status"), dict):
        quoted = normalise_status(quote["quoted_status"], ctx)
        batch.extend(quoted)
        quote_of = quoted.posts[0].post_id
        edge(InteractionKind.QUOTE, quoted.posts[0].author_id.removeprefix(f"{SOURCE}:"), quote_of)
    parent = status.get("in_reply_to_id")
    if parent is not None:
        # A reply names its parent by an id local to this instance: resolve it to the URI when the
        # parent was seen, else keep the API address that returns it.
        home = ctx.instance or urlparse(uri).netloc
        parent_uri = ctx.status_uris.get(str(parent), f"https://{home}/api/v1/statuses/{parent}")
        reply_to = qualified(SOURCE, parent_uri)
        edge(InteractionKind.REPLY, ctx.account_ids.get(str(status.get("in_reply_to_account_id"))), reply_to)
    for mention in mentions:
        address = full_address(mention["acct"], ctx.instance, mention.get("url"))
        edge(InteractionKind.MENTION, address, None)
        url = mention.get("url") if isinstance(mention.get("url"), str) else None
        batch.accounts.append(stub_account(SOURCE, address, address, ctx.provenance, dump(mention), url))
    tags = status.get("tags") or []
    hashtags = tuple(t["name"] for t in tags if isinstance(t, dict) and isinstance(t.get("name"), str))
    batch.posts.insert(
        0,
        Post(
            post_id=post_id,
            source=SOURCE,
            native_id=uri,
            author_id=author.account_id,
            created_at=created_at,
            text=text,
            lang=status.get("language") if isinstance(status.get("language"), str) else None,
            url=status.get("url") if isinstance(status.get("url"), str) else uri,
            reply_to_post_id=reply_to,
            quote_of_post_id=quote_of,
            repost_of_post_id=repost_of,
            hashtags=hashtags,
            provenance=ctx.provenance,
            raw=dump(status),
            version_at=_edited_at(status),
        ),
    )
    return batch


def _edited_at(status: dict[str, Any]) -> datetime | None:
    """When the status was last edited (Mastodon 3.5+); a status never edited has `edited_at` null."""
    edited = status.get("edited_at")
    return parse_timestamp(edited, "edited_at") if edited is not None else None


def normalise_mastodon_item(obj: Any, ctx: StatusContext, origin: str, line_no: int) -> Batch:
    """A file item: one status, a list of them, a thread context (`/statuses/:id/context`: ancestors
    from the root down, then descendants) or a search result (`/api/v2/search`: `statuses`)."""
    if (
        isinstance(obj, dict)
        and isinstance(obj.get("ancestors"), list)
        and isinstance(obj.get("descendants"), list)
    ):
        obj = [*obj["ancestors"], *obj["descendants"]]
    elif isinstance(obj, dict) and isinstance(obj.get("statuses"), list):
        obj = obj["statuses"]
    if isinstance(obj, list):
        return normalise_each(
            obj, lambda s: normalise_status(s, ctx), source=SOURCE, origin=origin, line_no=line_no
        )
    return normalise_status(obj, ctx)
