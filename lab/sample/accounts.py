"""Make the sample's accounts: how many of each role, which camp, and a handle, name and bio for each."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from lab.sample.phrases import (
    BIO_SUFFIXES,
    BIOS,
    CONSTITUENCIES,
    DISPLAY_NAMES,
    DISPLAY_ROLE,
    HANDLE_WORDS,
    NATIONAL_ACCOUNTS,
    PLACES,
    TRUSTS,
    Slot,
    expand,
)
from lab.sample.world import (
    BRIDGER,
    HOSTILE_ROLE,
    LEADER,
    NEWSDESK,
    REGULAR,
    ROLE_VOLUME,
    Account,
    Camp,
    pick_weighted,
)

# Bridgers come from the professions that tend to talk across camps; they are assigned in this order.
_BRIDGER_STAKEHOLDERS = ("researcher", "nurse", "pharmacist", "patient", "gp", "allied_health")
# Relative camp sizes (the first camps are the biggest), cut to the number of camps in play.
_CAMP_SIZES = (1.25, 1.05, 0.95, 0.85, 0.8)
# log(followers) ~ Normal(mu, sigma) per role.
_FOLLOWERS = {
    REGULAR: (5.4, 1.0),
    LEADER: (9.9, 0.45),
    NEWSDESK: (10.8, 0.8),
    HOSTILE_ROLE: (6.4, 0.5),
    BRIDGER: (7.0, 0.3),
}


def make_accounts(
    rng: random.Random,
    n: int,
    camps: Sequence[Camp],
    n_bridgers: int,
    *,
    taken: set[str] | None = None,
) -> list[Account]:
    """`n` accounts in random order with ids a1..an, described and weighted by how much they post.

    `taken`: handles already in use elsewhere (other shards of a large conversation); new ones are added.
    """
    n_hostile = max(3, round(0.01 * n))
    n_newsdesk = max(len(camps), round(0.02 * n))
    leaders_per_camp = max(2, round(0.028 * n / len(camps)))
    fixed = n_hostile + n_newsdesk + leaders_per_camp * len(camps) + n_bridgers
    if n - fixed < 6 * len(camps):
        raise ValueError(f"n_accounts={n} is too small: need at least {fixed + 6 * len(camps)}")
    accounts = _newsdesks(n_newsdesk, camps)
    for camp in camps:
        for _ in range(leaders_per_camp):
            accounts.append(Account(camp, LEADER, pick_weighted(rng, camp.stakeholders)))
    for i in range(n_bridgers):
        accounts.append(Account(camps[i % len(camps)], BRIDGER, _BRIDGER_STAKEHOLDERS[i % 6]))
    for i in range(n_hostile):
        camp = camps[(i + 1) % len(camps)]  # hostile accounts start from the second camp
        accounts.append(Account(camp, HOSTILE_ROLE, pick_weighted(rng, camp.stakeholders)))
    accounts += _regulars(rng, n - len(accounts), camps)
    rng.shuffle(accounts)
    used: set[str] = {a.handle for a in accounts if a.handle}
    if taken is not None:
        used = taken
        used.update(a.handle for a in accounts if a.handle)
    for i, acct in enumerate(accounts, start=1):
        acct.id = f"a{i}"
        if acct.role != NEWSDESK:
            _describe(rng, acct, used)
        acct.followers = _followers(rng, acct)
        acct.weight = _volume(rng, acct)
    return accounts


def _newsdesks(n_newsdesk: int, camps: Sequence[Camp]) -> list[Account]:
    """The national accounts, numbered handles once they run out."""
    accounts = []
    for i in range(n_newsdesk):
        handle, display, bio, stakeholder = NATIONAL_ACCOUNTS[i % len(NATIONAL_ACCOUNTS)]
        suffix = "" if i < len(NATIONAL_ACCOUNTS) else str(i // len(NATIONAL_ACCOUNTS) + 1)
        acct = Account(camps[i % len(camps)], NEWSDESK, stakeholder)
        acct.handle, acct.display_name, acct.bio = handle + suffix, display, bio
        accounts.append(acct)
    return accounts


def _regulars(rng: random.Random, count: int, camps: Sequence[Camp]) -> list[Account]:
    """The rank and file: six per camp first so that small samples still fill every camp."""
    sizes = list(_CAMP_SIZES[: len(camps)])
    accounts = []
    for i in range(count):
        camp = camps[i % len(camps)] if i < 6 * len(camps) else rng.choices(camps, weights=sizes)[0]
        stakeholder = pick_weighted(rng, camp.stakeholders)
        accounts.append(Account(camp, REGULAR, stakeholder, insider=rng.random() < 0.2))
    return accounts


def _volume(rng: random.Random, acct: Account) -> float:
    """How many posts the account makes relative to others; regulars vary a lot, insiders post more."""
    if acct.role != REGULAR:
        return ROLE_VOLUME[acct.role]
    return min(6.0, rng.lognormvariate(0.0, 0.9)) * (1.6 if acct.insider else 1.0)


def _followers(rng: random.Random, acct: Account) -> int:
    mu, sigma = _FOLLOWERS[acct.role]
    return max(3, int(math.exp(rng.gauss(mu, sigma))))


def _describe(rng: random.Random, acct: Account, used: set[str]) -> None:
    """A bio, a handle not in `used` (added to it) and a display name, all naming one home town."""
    place = rng.choice(PLACES)
    grammar: dict[str, Slot] = {
        "place": (place,),
        "trust": TRUSTS,
        "constituency": CONSTITUENCIES,
    }
    acct.bio = expand(rng, rng.choice(BIOS[acct.stakeholder]), grammar)
    if rng.random() < 0.35 and "Views my own" not in acct.bio:
        if not acct.bio.endswith("."):
            acct.bio += "."
        acct.bio += rng.choice(BIO_SUFFIXES)
    acct.handle = _handle(rng, acct.stakeholder, place, used)
    role_word = rng.choice(DISPLAY_ROLE[acct.stakeholder])
    acct.display_name = rng.choice(DISPLAY_NAMES).format(place=place, role=role_word)


def _handle(rng: random.Random, stakeholder: str, place: str, used: set[str]) -> str:
    place_slug = place.lower().replace(" ", "").replace("&", "")
    while True:
        word = rng.choice(HANDLE_WORDS[stakeholder])
        style = rng.random()
        if style < 0.4:
            handle = f"{word}_{place_slug}{rng.randint(1, 99)}"
        elif style < 0.7:
            handle = f"{place_slug}{word}{rng.randint(1, 999)}"
        else:
            handle = f"{word}{rng.choice(('', '_'))}{place_slug[:5]}{rng.randint(1, 9999)}"
        if handle not in used:
            used.add(handle)
            return handle
