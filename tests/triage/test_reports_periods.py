"""Report periods: defaults, checks, local days and the stretches of one UTC offset."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from triage.errors import UserError
from triage.reports.periods import day_of, make_period, offset_stretches, weekday_hour
from triage.reports.service import duration_stats

NOW = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)


def test_default_is_the_last_30_days_and_naive_times_are_local() -> None:
    p = make_period(now=NOW)
    assert (p.since, p.until) == (NOW - timedelta(days=30), NOW)
    berlin = make_period(datetime(2026, 11, 1), datetime(2026, 11, 2), tz="Europe/Berlin")
    assert berlin.since == datetime(2026, 10, 31, 23, tzinfo=UTC)
    assert make_period(datetime(2026, 11, 1, 9, tzinfo=UTC), datetime(2026, 11, 2), tz="Asia/Tokyo").since.hour == 9


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"since": datetime(2026, 11, 2), "until": datetime(2026, 11, 1)}, "must be before until"),
    ({"since": datetime(2026, 11, 1), "until": datetime(2026, 11, 1)}, "must be before until"),
    ({"since": datetime(2020, 1, 1), "until": datetime(2026, 1, 1)}, "longer than"),
    ({"tz": "Mars/Base"}, "unknown time zone 'Mars/Base'"),
    ({"since": datetime(1, 1, 1), "until": datetime(1, 1, 2)}, "must be between 1970 and 9999"),
    ({"until": datetime(1, 1, 1, 3), "tz": "Asia/Tokyo"}, "out of range"),
    ({"since": datetime(9999, 12, 30), "until": datetime(9999, 12, 31, 23)}, "must be between 1970 and 9999"),
])
def test_bad_periods_say_what_to_fix(kwargs: dict, message: str) -> None:
    with pytest.raises(UserError, match=message):
        make_period(now=NOW, **kwargs)


def test_local_days_and_day_ends_in_a_zone() -> None:
    p = make_period(datetime(2026, 3, 28, 12), datetime(2026, 3, 30), tz="Europe/Berlin")
    assert p.local_days() == [date(2026, 3, 28), date(2026, 3, 29)]
    # 29 March has 23 hours in Berlin: its end is 22:00 UTC, the 28th ends at 23:00 UTC.
    assert p.day_end(date(2026, 3, 28)) == datetime(2026, 3, 28, 23, tzinfo=UTC)
    assert p.day_end(date(2026, 3, 29)) == datetime(2026, 3, 29, 22, tzinfo=UTC)


def test_offset_stretches_split_exactly_at_daylight_saving_changes() -> None:
    spring = make_period(datetime(2026, 3, 20), datetime(2026, 4, 5), tz="Europe/Berlin")
    assert offset_stretches(spring) == [
        (datetime(2026, 3, 19, 23, tzinfo=UTC), datetime(2026, 3, 29, 1, tzinfo=UTC), 3600),
        (datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 4, 4, 22, tzinfo=UTC), 7200)]
    autumn = make_period(datetime(2026, 10, 1), datetime(2026, 12, 1), tz="America/New_York")
    assert [o for _, _, o in offset_stretches(autumn)] == [-4 * 3600, -5 * 3600]
    assert offset_stretches(autumn)[0][1] == datetime(2026, 11, 1, 6, tzinfo=UTC)
    year = make_period(datetime(2026, 1, 1), datetime(2027, 1, 1), tz="Europe/London")
    assert len(offset_stretches(year)) == 3
    kathmandu = make_period(datetime(2026, 11, 1), datetime(2026, 11, 8), tz="Asia/Kathmandu")
    assert offset_stretches(kathmandu) == [(kathmandu.since, kathmandu.until, 5 * 3600 + 45 * 60)]


def test_bucket_indices_map_to_dates_and_weekday_hours() -> None:
    assert day_of(0) == date(1970, 1, 1)
    assert day_of(20395) == date(2025, 11, 3)
    assert weekday_hour(0) == (3, 0)  # 1970-01-01 00:00 was a Thursday
    monday_9 = int(datetime(2026, 11, 2, 9, tzinfo=UTC).timestamp()) // 3600
    assert weekday_hour(monday_9) == (0, 9)


def test_duration_stats_use_linear_percentiles() -> None:
    s = duration_stats([60, 600, 120, 180])
    # sorted [60, 120, 180, 600]: median between 120 and 180; p90 at rank 2.7 = 180 + 0.7 * 420
    assert (s.count, s.mean, s.median, s.p90) == (4, 240.0, 150.0, 474.0)
    assert duration_stats([42]).p90 == 42.0
    assert duration_stats([]).model_dump() == {"count": 0, "mean": None, "median": None, "p90": None}
