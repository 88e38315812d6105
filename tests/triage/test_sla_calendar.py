"""Business calendars: the worked examples from issue 5, DST, holidays, bad input and properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.sla.calendar import BusinessCalendar, parse_hours

BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = BusinessCalendar("Europe/Berlin", "Mon-Fri 09:00-17:00")


def local(*args: int, tz: ZoneInfo = BERLIN) -> datetime:
    return datetime(*args, tzinfo=tz)


def test_friday_afternoon_plus_one_hour_is_monday_morning() -> None:
    # 2026-11-20 is a Friday
    assert OFFICE.add(local(2026, 11, 20, 16, 30), timedelta(hours=1)) == local(2026, 11, 23, 9, 30)


def test_before_opening_counts_from_opening() -> None:
    # 2026-11-18 is a Wednesday
    assert OFFICE.add(local(2026, 11, 18, 7, 0), timedelta(hours=2)) == local(2026, 11, 18, 11, 0)


def test_results_are_utc() -> None:
    result = OFFICE.add(local(2026, 11, 18, 7, 0), timedelta(hours=2))
    assert result.tzinfo is UTC and result == datetime(2026, 11, 18, 10, 0, tzinfo=UTC)


def test_holiday_is_skipped() -> None:
    cal = BusinessCalendar("Europe/Berlin", "Mon-Fri 09:00-17:00", frozenset({date(2026, 12, 25)}))
    # Thursday 24 Dec 16:00 + 2h: one hour on Thursday, Friday 25th is a holiday, then Monday 28th
    assert cal.add(local(2026, 12, 24, 16, 0), timedelta(hours=2)) == local(2026, 12, 28, 10, 0)
    assert cal.business_time_between(local(2026, 12, 24, 0, 0), local(2026, 12, 29, 0, 0)) == timedelta(hours=16)


def test_spring_forward_keeps_wall_clock_hours() -> None:
    # Europe/Berlin moves from +01:00 to +02:00 on Sunday 2026-03-29
    friday = local(2026, 3, 27, 16, 0)
    due = OFFICE.add(friday, timedelta(hours=2))
    assert due == local(2026, 3, 30, 10, 0)
    assert due.astimezone(UTC).hour == 8  # opening at 09:00 is 07:00 UTC after the change, 08:00 before
    assert OFFICE.business_time_between(friday, due) == timedelta(hours=2)


def test_dst_day_has_23_and_25_hours_around_the_clock() -> None:
    cal = BusinessCalendar("Europe/Berlin", "24x7")
    assert cal.business_time_between(local(2026, 3, 29, 0, 0), local(2026, 3, 30, 0, 0)) == timedelta(hours=23)
    assert cal.business_time_between(local(2026, 10, 25, 0, 0), local(2026, 10, 26, 0, 0)) == timedelta(hours=25)
    assert cal.add(local(2026, 3, 28, 12, 0), timedelta(hours=24)) == local(2026, 3, 29, 13, 0)


def test_interval_across_the_gap_counts_real_time() -> None:
    cal = BusinessCalendar("Europe/Berlin", "Sun 01:00-04:00")
    # 02:00-03:00 does not exist on 2026-03-29: the span lasts two real hours
    assert cal.business_time_between(local(2026, 3, 29, 0, 0), local(2026, 3, 30, 0, 0)) == timedelta(hours=2)


def test_lunch_break_and_several_rules() -> None:
    cal = BusinessCalendar("UTC", "Mon-Fri 09:00-12:00,13:00-17:00; Sat 10:00-12:00")
    # Wednesday 11:30 + 1h: 30 min before lunch, 30 min after
    assert cal.add(datetime(2026, 11, 18, 11, 30, tzinfo=UTC), timedelta(hours=1)) == \
        datetime(2026, 11, 18, 13, 30, tzinfo=UTC)
    # Friday 16:00 + 2h: one hour Friday, one hour Saturday morning
    assert cal.add(datetime(2026, 11, 20, 16, 0, tzinfo=UTC), timedelta(hours=2)) == \
        datetime(2026, 11, 21, 11, 0, tzinfo=UTC)


def test_default_is_around_the_clock_utc() -> None:
    start = datetime(2026, 11, 21, 23, 0, tzinfo=UTC)
    assert BusinessCalendar().add(start, timedelta(hours=5)) == start + timedelta(hours=5)


def test_negative_span_and_zero_duration() -> None:
    a, b = local(2026, 11, 18, 10, 0), local(2026, 11, 18, 12, 0)
    assert OFFICE.business_time_between(b, a) == -timedelta(hours=2)
    assert OFFICE.add(a, timedelta(0)) == a


@pytest.mark.parametrize(("hours", "message"), [
    ("Mon-Fri 9-17", "invalid hours"),
    ("Mon-Fri 17:00-09:00", "end must be after"),
    ("Mon-Fry 09:00-17:00", "unknown day"),
    ("Mon 09:00-25:00", "invalid time"),
    ("", "no working time"),
])
def test_bad_hours_say_what_to_fix(hours: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_hours(hours)


def test_unknown_zone_and_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        BusinessCalendar("Mars/Base")
    with pytest.raises(ValueError, match="naive"):
        OFFICE.add(datetime(2026, 11, 18, 9, 0), timedelta(hours=1))


def test_wrapping_day_ranges() -> None:
    week = parse_hours("Sat-Mon 10:00-11:00")
    assert [day for day, spans in week.items() if spans] == [0, 5, 6]


def test_all_holidays_gives_up_with_a_clear_error() -> None:
    cal = BusinessCalendar("UTC", "Mon 09:00-10:00",
                           frozenset(date(2026, 1, 5) + timedelta(weeks=i) for i in range(200)))
    with pytest.raises(ValueError, match="no working time"):
        cal.add(datetime(2026, 1, 1, tzinfo=UTC), timedelta(hours=2))


CALENDARS = st.sampled_from([
    OFFICE,
    BusinessCalendar("America/New_York", "Mon-Fri 09:00-12:00,13:00-17:30; Sat 10:00-14:00"),
    BusinessCalendar("Australia/Lord_Howe", "Mon-Sun 00:00-24:00"),  # a 30-minute DST shift
    BusinessCalendar("Europe/London", "Mon-Fri 08:00-18:00", frozenset({date(2026, 12, 25), date(2026, 3, 30)})),
])
INSTANTS = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC))
DURATIONS = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20))


@settings(max_examples=150, deadline=None)
@given(CALENDARS, INSTANTS, DURATIONS)
def test_add_then_measure_gives_the_duration_back(cal: BusinessCalendar, start: datetime,
                                                   duration: timedelta) -> None:
    due = cal.add(start, duration)
    assert due >= start
    assert cal.business_time_between(start, due) == duration


@settings(max_examples=100, deadline=None)
@given(CALENDARS, INSTANTS, DURATIONS, DURATIONS)
def test_add_is_monotonic_and_additive(cal: BusinessCalendar, start: datetime, d1: timedelta,
                                       d2: timedelta) -> None:
    assert cal.add(start, min(d1, d2)) <= cal.add(start, max(d1, d2))
    assert cal.add(cal.add(start, d1), d2) == cal.add(start, d1 + d2)


@settings(max_examples=100, deadline=None)
@given(CALENDARS, INSTANTS, INSTANTS, INSTANTS)
def test_measure_is_additive_and_bounded(cal: BusinessCalendar, a: datetime, b: datetime, c: datetime) -> None:
    a, b, c = sorted((a, b, c))
    assert cal.business_time_between(a, c) == cal.business_time_between(a, b) + cal.business_time_between(b, c)
    assert timedelta(0) <= cal.business_time_between(a, c) <= c - a
