"""Load the sample's phrase tables from phrases.json and fill templates from them with a seeded RNG.

The tables are plain data so that they can be read and edited without wading through generator code.
A few slots (numbers, sums of money, links) are drawn by code: the data file names them with a small
tagged form, `{"num": [lo, hi]}` or `{"fn": NAME}`, which `_slot` turns back into a function of the RNG.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "BIOS",
    "BIO_SUFFIXES",
    "CAMP_TABLES",
    "CONSTITUENCIES",
    "DISPLAY_NAMES",
    "DISPLAY_ROLE",
    "EMOJI",
    "HANDLE_WORDS",
    "NATIONAL_ACCOUNTS",
    "PHRASES_PATH",
    "PLACES",
    "SHARED",
    "TONE",
    "TRUSTS",
    "Grammar",
    "Slot",
    "expand",
    "parse_grammar",
    "random_url",
]

Slot = Sequence[str] | Callable[[random.Random], str]
Grammar = Mapping[str, Slot]

PHRASES_PATH = Path(__file__).with_name("phrases.json")
_DATA: dict[str, Any] = json.loads(PHRASES_PATH.read_text(encoding="utf-8"))

# ---------------------------------------------------------------------------------------------------------
# Slots drawn by code
# ---------------------------------------------------------------------------------------------------------

_URL_HOSTS: tuple[str, ...] = tuple(_DATA["url_hosts"])
_URL_WORDS: tuple[str, ...] = tuple(_DATA["url_words"])


def _num(lo: int, hi: int) -> Callable[[random.Random], str]:
    return lambda rng: str(rng.randint(lo, hi))


def _big(rng: random.Random) -> str:
    return f"{rng.randint(5, 240) * 100:,}"


def _money(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"£{rng.randint(2, 900)}m"
    return f"£{rng.randint(15, 950)}k"


def random_url(rng: random.Random) -> str:
    """A made-up link on an example.* host (never a real site)."""
    host = rng.choice(_URL_HOSTS)
    if "doi" in host:
        # randint(2026, 2026) always gives 2026 but still draws from the RNG, which the seeded output needs.
        return f"https://{host}/hsr.{rng.randint(2026, 2026)}.{rng.randint(100, 9999)}"
    words = "-".join(rng.sample(_URL_WORDS, rng.randint(1, 3)))
    return f"https://{host}/{words}-{rng.randint(2, 999)}"


_FUNCTIONS: dict[str, Callable[[random.Random], str]] = {"big": _big, "money": _money, "url": random_url}


def _slot(value: Any) -> Slot:
    """A slot from its data-file form: a list of templates, {"num": [lo, hi]} or {"fn": NAME}."""
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, dict) and "num" in value:
        lo, hi = value["num"]
        return _num(lo, hi)
    if isinstance(value, dict) and value.get("fn") in _FUNCTIONS:
        return _FUNCTIONS[value["fn"]]
    raise ValueError(f"{PHRASES_PATH.name}: unknown slot form {value!r}")


def parse_grammar(table: Mapping[str, Any]) -> dict[str, Slot]:
    """A grammar (slot name -> slot) from its data-file form, in the file's order."""
    return {key: _slot(value) for key, value in table.items()}


def _tuples(table: Mapping[str, list[str]]) -> dict[str, tuple[str, ...]]:
    return {key: tuple(values) for key, values in table.items()}


# ---------------------------------------------------------------------------------------------------------
# The tables
# ---------------------------------------------------------------------------------------------------------

SHARED: dict[str, Slot] = parse_grammar(_DATA["shared"])  # vocabulary every camp uses
TONE: dict[str, Slot] = parse_grammar(
    _DATA["tone"]
)  # sentence templates per tone, filled from a camp's vocabulary
CAMP_TABLES: tuple[Mapping[str, Any], ...] = tuple(_DATA["camps"])  # raw; world.py makes the Camp objects
EMOJI: dict[str, tuple[str, ...]] = _tuples(_DATA["emoji"])
PLACES: tuple[str, ...] = tuple(_DATA["shared"]["place"])
BIOS: dict[str, tuple[str, ...]] = _tuples(_DATA["bios"])
BIO_SUFFIXES: tuple[str, ...] = tuple(_DATA["bio_suffixes"])
HANDLE_WORDS: dict[str, tuple[str, ...]] = _tuples(_DATA["handle_words"])
DISPLAY_ROLE: dict[str, tuple[str, ...]] = _tuples(_DATA["display_role"])
DISPLAY_NAMES: tuple[str, ...] = tuple(_DATA["display_names"])
TRUSTS: tuple[str, ...] = tuple(_DATA["trusts"])
CONSTITUENCIES: tuple[str, ...] = tuple(_DATA["constituencies"])
# The national newsdesk accounts everyone mentions; the rest of the newsdesk role is invented.
NATIONAL_ACCOUNTS: tuple[tuple[str, str, str, str], ...] = tuple(
    (a["handle"], a["display_name"], a["bio"], a["stakeholder"]) for a in _DATA["national_accounts"]
)

# ---------------------------------------------------------------------------------------------------------
# Filling templates
# ---------------------------------------------------------------------------------------------------------

_SLOT = re.compile(r"\{(\w+)\}")


def expand(rng: random.Random, template: str, grammar: Grammar, depth: int = 0) -> str:
    """Fill every {slot} in a template from the grammar; {Slot} capitalises the filled text."""

    def fill(match: re.Match[str]) -> str:
        key = match.group(1)
        cap = False
        if key not in grammar:
            key = key[0].lower() + key[1:]
            cap = True
        slot = grammar[key]
        value = slot(rng) if callable(slot) else rng.choice(slot)
        if depth < 5 and "{" in value:
            value = expand(rng, value, grammar, depth + 1)
        return value[:1].upper() + value[1:] if cap else value

    return _SLOT.sub(fill, template)
