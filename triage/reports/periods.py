"""Report periods and local-time buckets that the database can compute.

A report covers [since, until) and reads days and hours in one IANA time zone. Databases differ
in how (and whether) they convert time zones, so the period is cut into stretches with one UTC
offset (daylight saving changes it); inside a stretch the local day or hour of an instant is plain
integer arithmetic on its epoch seconds, which SQLite and PostgreSQL both do in SQL.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import BigInteger, cast, func
from sqlalchemy.orm import Session

from triage.db import on_postgres, utcnow
from triage.errors import BadRequest

DEFAULT_DAYS = 30
MAX_DAYS = 731  # two years of daily points is as much as a chart (or a person) can read
EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)
DAY = 86400
HOUR = 3600
EARLIEST = datetime(1970, 1, 2, tzinfo=UTC)  # epoch-second buckets start in 1970
LATEST = datetime(9999, 12, 1, tzinfo=UTC)  # leaves room for the last local day's end


def zone(name: str) -> ZoneInfo:
    """The IANA time zone, or BadRequest saying what to write."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise BadRequest(f"unknown time zone {name!r}: use an IANA name such as 'Europe/Berlin' or 'UTC'") from exc


@dataclass(frozen=True)
class Period:
    """[since, until) in UTC, read in the time zone `tz`."""

    since: datetime
    until: datetime
    tz: str = "UTC"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def local_days(self) -> list[date]:
        """Every local calendar day the period touches, in order."""
        first = self.since.astimezone(self.zone).date()
        last = (self.until - timedelta(microseconds=1)).astimezone(self.zone).date()
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]

    def day_end(self, day: date) -> datetime:
        """The instant (UTC) a local day ends: the next local midnight."""
        return datetime.combine(day + timedelta(days=1), time(0), self.zone).astimezone(UTC)


def make_period(since: datetime | None = None, until: datetime | None = None, *, tz: str = "UTC",
                now: datetime | None = None, days: int = DEFAULT_DAYS) -> Period:
    """A checked period; defaults to the last `days` days. Times without an offset are read in `tz`."""
    where = zone(tz)

    def aware(value: datetime) -> datetime:
        try:
            return (value.replace(tzinfo=where) if value.tzinfo is None else value).astimezone(UTC)
        except OverflowError as exc:
            raise BadRequest(f"{value.isoformat()} is out of range: use a time between 1970 and 9999") from exc

    end = aware(until) if until is not None else (now or utcnow()).astimezone(UTC)
    start = aware(since) if since is not None else end - timedelta(days=days)
    for name, moment in (("since", start), ("until", end)):
        if not EARLIEST <= moment <= LATEST:
            raise BadRequest(f"{name} ({moment.isoformat()}) must be between 1970 and 9999")
    if start >= end:
        raise BadRequest(f"since ({start.isoformat()}) must be before until ({end.isoformat()})")
    if end - start > timedelta(days=MAX_DAYS):
        raise BadRequest(f"the period is longer than {MAX_DAYS} days: narrow since/until")
    return Period(start, end, tz)


def offset_stretches(period: Period) -> list[tuple[datetime, datetime, int]]:
    """[start, end) pieces of the period with one UTC offset each (in seconds), in order."""
    tz = period.zone

    def offset(moment: datetime) -> int:
        delta = moment.astimezone(tz).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    out: list[tuple[datetime, datetime, int]] = []
    start, current, probe = period.since, offset(period.since), period.since
    while probe < period.until:
        step = min(probe + timedelta(days=1), period.until)
        if offset(step) != current:  # zones change offset at most once a day: find the second it happens
            lo, hi = math.floor(probe.timestamp()), math.ceil(step.timestamp())
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if offset(datetime.fromtimestamp(mid, UTC)) == current else (lo, mid)
            change = datetime.fromtimestamp(hi, UTC)
            if change < period.until:
                out.append((start, change, current))
                start, current = change, offset(change)
        probe = step
    out.append((start, period.until, current))
    return out


def epoch_seconds(column: Any, session: Session) -> Any:
    """SQL for a timestamp column as whole seconds since 1970 (UTC), on SQLite and PostgreSQL."""
    if on_postgres(session):
        return cast(func.floor(func.extract("epoch", column)), BigInteger)
    return cast(func.strftime("%s", column), BigInteger)


def local_bucket(column: Any, offset: int, size: int, session: Session) -> Any:
    """SQL: which local `size`-second bucket (counted from local 1970-01-01) a timestamp falls in."""
    return (epoch_seconds(column, session) + offset) // size


def day_of(index: int) -> date:
    """The local date of a day bucket from `local_bucket(..., DAY)`."""
    return date(1970, 1, 1) + timedelta(days=index)


def weekday_hour(index: int) -> tuple[int, int]:
    """(weekday Monday=0, hour) of an hour bucket from `local_bucket(..., HOUR)`."""
    return (index // 24 + EPOCH_WEEKDAY) % 7, index % 24
