"""Timestamps as exports write them → naive UTC: ISO 8601, RFC 2822 and Twitter's, epoch s and ms.

A date whose day and month could be either way round (`06/01/14`) is never guessed: it is read only with
an explicit format (`--date-format '%d/%m/%y'`), and the error says which order the value allows.
A time without a zone is taken as UTC; one with a zone is converted to UTC. Every path that builds a
post's time comes through here, so this is where a time no post can have (before 2006, or more than a
day ahead of now) is refused: one post dated 9999 would move the analysis window there.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

# Epoch values beyond this are milliseconds: 1e11 seconds is the year 5138.
MS_THRESHOLD = 100_000_000_000
# The platforms we read began in 2006 (Twitter; Reddit's few 2005 posts are refused with them).
EARLIEST = datetime(2006, 1, 1)
# Clocks and time zones differ a little; a time further ahead than this is an export's or a clock's error.
AHEAD = timedelta(days=1)
TWITTER_FORMAT = "%a %b %d %H:%M:%S %z %Y"  # Sun Oct 12 18:32:49 +0000 2014
_NUMBER = re.compile(r"^\d{9,16}(\.\d+)?$")
_DAY_MONTH = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})\b")
_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse_timestamp(value: Any, field: str = "created_at", date_format: str | None = None) -> datetime:
    """`value` as naive UTC; a ValueError that names `field`, quotes the value and says what to do."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{field} is missing or not a time: {value!r}")
    if isinstance(value, int | float):
        return _epoch(value, field)
    if not isinstance(value, str):
        raise ValueError(f"{field} must be a time (text or epoch seconds), got {type(value).__name__}")
    text = value.strip()
    if date_format:
        try:
            parsed = datetime.strptime(text, date_format)
        except ValueError:
            raise ValueError(
                f"{field} {_quote(value)} does not match --date-format {date_format!r}; fix the format "
                "(Python strptime codes, e.g. '%d/%m/%Y %H:%M')"
            ) from None
        return _in_range(parsed, field, value)
    if _NUMBER.match(text):
        return _epoch(float(text), field)
    day_month = _DAY_MONTH.match(text)
    if day_month:
        raise ValueError(_ambiguous(field, value, day_month))
    for parse in (_iso, _twitter, _rfc2822):
        found = parse(text)
        if found is not None:
            return _in_range(found, field, value)
    raise ValueError(
        f"{field} {_quote(value)} is not a time this import reads (ISO 8601, RFC 2822, "
        "'Sun Oct 12 18:32:49 +0000 2014', epoch seconds or ms); give its layout with --date-format"
    )


def _quote(value: Any) -> str:
    return repr(value if len(str(value)) <= 60 else f"{str(value)[:60]}…")


def latest() -> datetime:
    """The latest time a post can have: now (naive UTC) and a day."""
    return datetime.now(UTC).replace(tzinfo=None) + AHEAD


def _in_range(parsed: datetime, field: str, value: Any) -> datetime:
    """`parsed` as naive UTC when a post can have been written then, else a ValueError that says why."""
    try:
        utc = parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo is not None else parsed
    except OverflowError:  # 9999-12-31T23:59:59-05:00 is in the year 10000 in UTC
        utc = datetime.max if parsed.year > EARLIEST.year else datetime.min
    if utc < EARLIEST:
        raise ValueError(
            f"{field} {_quote(value)} is before {EARLIEST:%Y-%m-%d}, earlier than any platform we read: "
            "not a post's time (check the column or --date-format)"
        )
    if utc > latest():
        raise ValueError(
            f"{field} {_quote(value)} is in the future (after now + 1 day): not a post's time "
            "(check the column, the time zone or --date-format)"
        )
    return utc


def _epoch(number: float, field: str) -> datetime:
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{field} {number!r} is not an epoch time")
    seconds = number / 1000 if number >= MS_THRESHOLD else number
    try:
        parsed = datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"{field} {number!r} is not an epoch time") from None
    return _in_range(parsed, field, number)


def _iso(text: str) -> datetime | None:
    # Python reads at most 6 fractional digits; Bluesky and others write up to 9.
    try:
        return datetime.fromisoformat(
            _FRACTION.sub(r"\1", text).replace("Z", "+00:00").replace("z", "+00:00")
        )
    except ValueError:
        return None


def _twitter(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, TWITTER_FORMAT)
    except ValueError:
        return None


def _rfc2822(text: str) -> datetime | None:
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None


def _ambiguous(field: str, value: str, match: re.Match[str]) -> str:
    first, second, year = int(match.group(1)), int(match.group(2)), match.group(3)
    sep = value.strip()[len(match.group(1))]
    year_code = "%Y" if len(year) == 4 else "%y"
    rest = " %H:%M" if ":" in value else ""
    day_first = f"%d{sep}%m{sep}{year_code}{rest}"
    month_first = f"%m{sep}%d{sep}{year_code}{rest}"
    if first > 12 >= second:
        hint = f"it reads as day/month: --date-format '{day_first}'"
    elif second > 12 >= first:
        hint = f"it reads as month/day: --date-format '{month_first}'"
    else:
        hint = f"pass --date-format '{day_first}' (day first, UK) or '{month_first}' (month first, US)"
    return f"{field} {_quote(value)} has day and month in an order this value cannot tell; {hint}"
