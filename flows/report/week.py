"""ISO weeks as the report names them: `2026-W47` is Monday 16 Nov 2026 00:00 UTC up to the next Monday."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True)
class IsoWeek:
    """One ISO week, `[start, end)` in UTC (times without zone, like the warehouse's)."""

    year: int
    week: int

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @property
    def start(self) -> datetime:
        return datetime.combine(date.fromisocalendar(self.year, self.week, 1), datetime.min.time())

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=7)

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(days=1)).date()

    def previous(self) -> IsoWeek:
        return IsoWeek.containing(self.start - timedelta(days=1))

    @classmethod
    def containing(cls, moment: datetime) -> IsoWeek:
        year, week, _ = moment.isocalendar()
        return cls(year, week)


def parse_week(text: str) -> IsoWeek:
    """`YYYY-Www` (e.g. 2026-W47) as an IsoWeek; anything else is a ValueError that says the format."""
    match = _WEEK.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not an ISO week: write it as YYYY-Www, e.g. 2026-W47.")
    year, week = int(match.group(1)), int(match.group(2))
    try:
        date.fromisocalendar(year, week, 1)
    except ValueError:
        raise ValueError(f"{text!r}: {year} has no ISO week {week} (weeks run 01 to 52 or 53).") from None
    return IsoWeek(year, week)


def last_complete_week(now: datetime) -> IsoWeek:
    """The newest ISO week that has ended by `now` (UTC): on a Monday, the week that just ended."""
    return IsoWeek.containing(now).previous()
