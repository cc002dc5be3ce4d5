"""The opt-out list: accounts never ranked, shown, exported or reported (table `opt_outs`).

The list lives in the warehouse (never in the snapshot: it names people). Analyze leaves these accounts
out of every analysis, publish leaves them and their posts out of the snapshot, the weekly report leaves
them out of every number, list and file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from warehouse.records import utcnow
from warehouse.store import Warehouse

if TYPE_CHECKING:
    import pandas as pd


class OptOutError(ValueError):
    """A handle or id that names no account, or names several: the message says what to give instead."""


@dataclass(frozen=True)
class OptOut:
    account_id: str
    known: bool  # whether the warehouse holds this account (an unknown id is still kept out when it comes)


def resolve(warehouse: Warehouse, who: str) -> OptOut:
    """The account a handle (`name`, `@name`, `@name@instance`) or account id (`platform:id`) names."""
    text = who.strip()
    if not text:
        raise OptOutError("Give a handle (e.g. @drjane) or an account id (e.g. mastodon:109876).")
    by_id = warehouse.query("SELECT account_id FROM accounts WHERE account_id = ?", [text])
    if len(by_id):
        return OptOut(text, True)
    handle = text.removeprefix("@").lower()
    local = handle.split("@")[0]
    # `@name@instance` names that account (stored as `name@instance`, or as `name` by its own
    # instance); a bare `name` names every account called so, on any instance.
    found = warehouse.query(
        """SELECT account_id FROM (SELECT account_id, lower(ltrim(handle, '@')) AS whole FROM accounts)
           WHERE whole = ? OR (CASE WHEN ? THEN whole = ? ELSE split_part(whole, '@', 1) = ? END)""",
        [handle, "@" in handle, local, handle],
    )
    ids = sorted(set(found["account_id"]))
    if len(ids) == 1:
        return OptOut(ids[0], True)
    if len(ids) > 1:
        raise OptOutError(
            f"{who!r} is the handle of {len(ids)} accounts ({', '.join(ids)}): give the account id instead."
        )
    if ":" in text and "@" not in text.split(":")[0]:
        return OptOut(text, False)  # an account id not collected yet: kept out when it is
    raise OptOutError(
        f"No account with handle or id {who!r} in the warehouse; give its account id (platform:id, "
        "e.g. mastodon:109876) to keep it out before it is collected."
    )


def add(warehouse: Warehouse, who: str, note: str = "") -> OptOut:
    """Put an account on the list (again: its note is updated); takes effect at the next analyze/publish."""
    found = resolve(warehouse, who)
    with warehouse.connect() as con:
        con.execute(
            """INSERT INTO opt_outs (account_id, added_at, note) VALUES (?, ?, ?)
               ON CONFLICT (account_id) DO UPDATE SET note = excluded.note""",
            [found.account_id, utcnow(), note or None],
        )
    return found


def remove(warehouse: Warehouse, who: str) -> str | None:
    """Take an account off the list; its id, or None when it was not on it."""
    text = who.strip()
    listed = warehouse.query("SELECT account_id FROM opt_outs WHERE account_id = ?", [text])
    account_id = text if len(listed) else None
    if account_id is None:
        try:
            account_id = resolve(warehouse, who).account_id
        except OptOutError:
            return None
    with warehouse.connect() as con:
        row = con.execute("DELETE FROM opt_outs WHERE account_id = ? RETURNING account_id", [account_id])
        return account_id if row.fetchall() else None


def listed(warehouse: Warehouse) -> pd.DataFrame:
    """account_id, handle (when known), added_at, note: the whole list, oldest first."""
    return warehouse.query(
        """SELECT o.account_id, a.handle, o.added_at, o.note FROM opt_outs o
           LEFT JOIN accounts a USING (account_id) ORDER BY o.added_at, o.account_id"""
    )


def account_ids(warehouse: Warehouse) -> set[str]:
    """The ids on the list."""
    return set(warehouse.query("SELECT account_id FROM opt_outs")["account_id"])


def handles(warehouse: Warehouse) -> list[str]:
    """The handles of the listed accounts the warehouse holds (to hide @mentions of them)."""
    return list(
        warehouse.query(
            "SELECT a.handle FROM opt_outs o JOIN accounts a USING (account_id) WHERE a.handle <> ''"
        )["handle"]
    )


def hidden_posts(warehouse: Warehouse) -> set[str]:
    """Posts of listed accounts and reposts of them (a repost carries their words)."""
    return set(
        warehouse.query(
            """SELECT post_id FROM posts WHERE author_id IN (SELECT account_id FROM opt_outs)
               OR repost_of_post_id IN (SELECT post_id FROM posts
                                        WHERE author_id IN (SELECT account_id FROM opt_outs))"""
        )["post_id"]
    )
