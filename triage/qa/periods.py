"""Review periods in UTC: ISO weeks, months, days or an explicit date range."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from triage.errors import BadRequest

HELP = ("use 2026-W47 (ISO week), 2026-11 (month), 2026-11-16 (the configured period containing that day), "
        "2026-11-01..2026-11-15 (days, inclusive), 'current' or 'previous'")


@dataclass(frozen=True)
class Period:
    label: str
    start: datetime  # inclusive, UTC
    end: datetime  # exclusive, UTC


def _at(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _week(year: int, week: int) -> Period:
    monday = date.fromisocalendar(year, week, 1)
    return Period(f"{year}-W{week:02d}", _at(monday), _at(monday + timedelta(days=7)))


def _month(year: int, month: int) -> Period:
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return Period(f"{year}-{month:02d}", _at(first), _at(following))


def period_of(day: date, kind: str) -> Period:
    """The day, ISO week or month that contains `day`."""
    if kind == "day":
        return Period(day.isoformat(), _at(day), _at(day + timedelta(days=1)))
    if kind == "week":
        year, week, _ = day.isocalendar()
        return _week(year, week)
    if kind == "month":
        return _month(day.year, day.month)
    raise ValueError(f"unknown period kind {kind!r}")


def parse_period(text: str | None, *, kind: str, today: date | None = None) -> Period:
    """A period from what a person types; None means the last complete one (the usual weekly review)."""
    today = today or datetime.now(UTC).date()
    spec = (text or "previous").strip()
    try:
        if spec in ("previous", "last"):
            return period_of(period_of(today, kind).start.date() - timedelta(days=1), kind)
        if spec == "current":
            return period_of(today, kind)
        if m := re.fullmatch(r"(\d{4})-W(\d{1,2})", spec, flags=re.I):
            return _week(int(m.group(1)), int(m.group(2)))
        if m := re.fullmatch(r"(\d{4})-(\d{2})", spec):
            return _month(int(m.group(1)), int(m.group(2)))
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", spec):
            return period_of(date.fromisoformat(spec), kind)
        if m := re.fullmatch(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})", spec):
            first, last = date.fromisoformat(m.group(1)), date.fromisoformat(m.group(2))
            if last < first:
                raise BadRequest(f"period {spec!r}: the range ends before it starts")
            return Period(spec, _at(first), _at(last + timedelta(days=1)))
    except (ValueError, OverflowError) as exc:  # a week 54, a month 13, a 31 February, the year 10000
        raise BadRequest(f"period {spec!r} is not a real date: {exc}; {HELP}") from exc
    raise BadRequest(f"period {spec!r} not understood: {HELP}")
