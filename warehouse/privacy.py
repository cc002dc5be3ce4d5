"""Pseudonyms for exported files, the same ones the published snapshot shows (Warehouse.publish)."""

from __future__ import annotations

import hashlib
import re

PSEUDONYM_PREFIX = "member-"
# Mentions inside post text name people too; publish() replaces them with this SQL pattern.
MENTION = re.compile(r"@[A-Za-z0-9_.@-]+")


def pseudonym(account_id: str) -> str:
    """The stable pseudonym of an account: publish() computes `'member-' || substr(sha256(id), 1, 8)`."""
    return PSEUDONYM_PREFIX + hashlib.sha256(account_id.encode("utf-8")).hexdigest()[:8]


def without_mentions(text: str) -> str:
    """Post text with every @mention replaced by `@user`, as in a pseudonymised snapshot."""
    return MENTION.sub("@user", text)
