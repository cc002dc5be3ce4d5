"""Checks for the schedule settings: five-field cron strings and IANA time zones, with errors that say why.

Prefect checks both too, but only when `commonground serve` builds its deployments and with a message that
names neither the setting nor the field; these run when the settings are read, and importing Prefect here
would slow down every command and the dashboard.
"""

from __future__ import annotations

import re
from functools import lru_cache

# (name, lowest, highest, names allowed in place of numbers)
FIELDS: tuple[tuple[str, int, int, tuple[str, ...]], ...] = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")),
    ("day of week", 0, 7, ("sun", "mon", "tue", "wed", "thu", "fri", "sat")),
)
ALIASES = frozenset({"@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly", "@annually"})
_ITEM = re.compile(r"^(?:(?P<star>\*)|(?P<lo>\w+)(?:-(?P<hi>\w+))?)(?:/(?P<step>\d+))?$")


def _value(text: str, field: tuple[str, int, int, tuple[str, ...]]) -> int:
    name, low, high, names = field
    lowered = text.lower()
    if lowered in names:
        return names.index(lowered) + (1 if name == "month" else 0)
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValueError(f"the {name} field takes {low}-{high}{' or names' if names else ''}, not {text!r}")
    return int(text)


def _check_field(text: str, field: tuple[str, int, int, tuple[str, ...]]) -> None:
    for item in text.split(","):
        match = _ITEM.match(item)
        if match is None:
            raise ValueError(
                f"the {field[0]} field has {item!r}, which is not *, N, N-M or one of them /STEP"
            )
        if match["step"] is not None and int(match["step"]) == 0:
            raise ValueError(f"the {field[0]} field has a step of 0")
        if match["lo"] is not None:
            low = _value(match["lo"], field)
            if match["hi"] is not None and _value(match["hi"], field) < low:
                raise ValueError(f"the {field[0]} field has the range {item!r}, which runs backwards")


def check_cron(value: str) -> str:
    """The cron string itself when it is valid: five fields (minute hour day-of-month month day-of-week)
    or an alias such as @daily. A ValueError says which field is wrong and how."""
    text = " ".join(value.split())
    if text.lower() in ALIASES:
        return text.lower()
    parts = text.split(" ")
    if len(parts) != len(FIELDS):
        raise ValueError(
            f"{value!r} has {len(parts)} field(s); a cron string has five: minute hour day-of-month month "
            "day-of-week, e.g. '0 * * * *' (hourly) or '0 7 * * 1' (Mondays at 07:00)"
        )
    for part, field in zip(parts, FIELDS, strict=True):
        _check_field(part, field)
    return text


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    import zoneinfo

    return frozenset(zoneinfo.available_timezones())


def check_timezone(value: str) -> str:
    """The IANA time-zone name itself when it is known (e.g. 'Europe/London', 'UTC')."""
    if value not in _time_zones():
        raise ValueError(f"{value!r} is not an IANA time zone; use a name such as 'Europe/London' or 'UTC'")
    return value
