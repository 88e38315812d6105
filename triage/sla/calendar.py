"""Business-hours calendars: when the SLA clock runs.

Weekly hours are written the way teams say them: "Mon-Fri 09:00-17:00", several intervals per
day ("Mon-Fri 09:00-12:00,13:00-17:00"), several rules separated by ";" ("Mon-Fri 09:00-17:00;
Sat 10:00-14:00"), or "24x7". Hours are wall-clock times in the calendar's zone, so a
daylight-saving change moves them in UTC; all arithmetic is done on UTC instants.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALWAYS = "24x7"
_RULE = re.compile(r"^\s*(?P<days>[A-Za-z]{3}(?:\s*-\s*[A-Za-z]{3})?(?:\s*,\s*[A-Za-z]{3}(?:\s*-\s*[A-Za-z]{3})?)*)"
                   r"\s+(?P<spans>\d{1,2}:\d{2}\s*-\s*\d{1,2}:\d{2}(?:\s*,\s*\d{1,2}:\d{2}\s*-\s*\d{1,2}:\d{2})*)\s*$")
# A calendar with no working time at all would make `add` search forever; give up after this.
_MAX_DAYS = 3 * 366

Span = tuple[int, int]  # minutes after local midnight, end exclusive, 0 <= start < end <= 1440


def _minutes(text: str) -> int:
    hours, minutes = (int(p) for p in text.strip().split(":"))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ValueError(f"invalid time {text.strip()!r}: use HH:MM between 00:00 and 24:00")
    return hours * 60 + minutes


def _days(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        ends = [p.strip().lower() for p in part.split("-")]
        for name in ends:
            if name not in DAYS:
                raise ValueError(f"unknown day {name!r}: use Mon, Tue, Wed, Thu, Fri, Sat, Sun")
        first, last = DAYS.index(ends[0]), DAYS.index(ends[-1])
        out.extend((first + i) % 7 for i in range((last - first) % 7 + 1))
    return out


def parse_hours(text: str) -> dict[int, list[Span]]:
    """Weekly hours as {weekday (Mon=0): sorted, merged spans}; raises ValueError saying what is wrong."""
    if text.strip().lower() == ALWAYS:
        return {day: [(0, 1440)] for day in range(7)}
    week: dict[int, list[Span]] = {day: [] for day in range(7)}
    for rule in filter(None, (r.strip() for r in text.split(";"))):
        m = _RULE.match(rule)
        if not m:
            raise ValueError(f"invalid hours {rule!r}: write e.g. 'Mon-Fri 09:00-12:00,13:00-17:00' or '24x7'")
        for span in m.group("spans").split(","):
            start, end = (_minutes(t) for t in span.split("-"))
            if start >= end:
                raise ValueError(f"invalid interval {span.strip()!r}: the end must be after the start")
            for day in _days(m.group("days")):
                week[day].append((start, end))
    if not any(week.values()):
        raise ValueError("hours contain no working time")
    return {day: _merge(spans) for day, spans in week.items()}


def _merge(spans: Iterable[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


@dataclass(frozen=True)
class BusinessCalendar:
    """Working time of a team: weekly hours in a time zone, minus holidays. The default is 24x7 UTC."""

    timezone: str = "UTC"
    hours: str = ALWAYS
    holidays: frozenset[date] = frozenset()
    _week: dict[int, list[Span]] = field(init=False, repr=False, compare=False)
    _tz: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_tz", _zone(self.timezone))
        object.__setattr__(self, "_week", parse_hours(self.hours))
        object.__setattr__(self, "holidays", frozenset(self.holidays))

    @property
    def tz(self) -> ZoneInfo:
        return self._tz

    def _day_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's working intervals as UTC instants (wall times converted, so DST is respected)."""
        if day in self.holidays:
            return []
        out = []
        for start, end in self._week[day.weekday()]:
            out.append((self._instant(day, start), self._instant(day, end)))
        return [(a, b) for a, b in out if b > a]  # a span swallowed by a DST gap has no length

    def _instant(self, day: date, minute: int) -> datetime:
        if minute == 1440:
            day, minute = day + timedelta(days=1), 0
        local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=self._tz)
        return local.astimezone(UTC)

    def _intervals_from(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        day = moment.astimezone(self._tz).date() - timedelta(days=1)  # yesterday's span may reach past midnight
        for _ in range(_MAX_DAYS):
            for a, b in self._day_intervals(day):
                if b > moment:
                    yield max(a, moment), b
            day += timedelta(days=1)

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant (UTC) when `duration` of working time has passed after `start`."""
        _aware(start)
        start = start.astimezone(UTC)
        if duration <= timedelta(0):
            return start
        remaining = duration
        for a, b in self._intervals_from(start):
            if remaining <= b - a:
                return a + remaining
            remaining -= b - a
        raise ValueError(f"no working time within {_MAX_DAYS} days of {start.isoformat()} (check hours/holidays)")

    def business_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Working time from `a` to `b` (negative when `b` is earlier)."""
        _aware(a)
        _aware(b)
        a, b = a.astimezone(UTC), b.astimezone(UTC)
        if b < a:
            return -self.business_time_between(b, a)
        total = timedelta(0)
        for start, end in self._intervals_from(a):
            if start >= b:
                break
            total += min(end, b) - start
        return total

    def is_working(self, moment: datetime) -> bool:
        """Whether the clock runs at this instant."""
        return self.business_time_between(moment, moment + timedelta(microseconds=1)) > timedelta(0)

    def next_working(self, moment: datetime) -> datetime:
        """The first working instant (UTC) at or after `moment`."""
        _aware(moment)
        moment = moment.astimezone(UTC)
        for start, _end in self._intervals_from(moment):
            return start
        raise ValueError(f"no working time within {_MAX_DAYS} days of {moment.isoformat()} (check hours/holidays)")


def _aware(value: datetime) -> None:
    if value.tzinfo is None:
        raise ValueError("naive datetime: pass a timezone-aware datetime")
