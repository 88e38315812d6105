"""Volume forecast (issue 17 item 1): shapes, holidays, and a backtest that beats both baselines on small
generated histories; the service on SQLite and PostgreSQL."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from triage.config import Settings, TriageConfig, load_config
from triage.conversations.tables import Customer, Ticket
from triage.db import Database
from triage.errors import InvalidInput
from triage.planning.forecast import HOURS_PER_WEEK, HourOfWeekPoisson, backtest, forecast, last_week, seasonal_naive

START = datetime(2026, 9, 7, tzinfo=UTC)  # a Monday
HOLIDAY = date(2026, 10, 1)  # a Thursday in week 4
NEXT_HOLIDAY = date(2026, 10, 22)  # a Thursday in week 7


def curve(hour: float) -> float:
    return 0.15 + math.exp(-(((hour - 10.5) / 2.5) ** 2)) + 0.7 * math.exp(-(((hour - 15.0) / 2.5) ** 2))


def rates(weeks: int, *, level: float = 6.0, growth: float = 0.05, holidays: frozenset[date] = frozenset()) \
        -> np.ndarray:
    out = np.empty(weeks * HOURS_PER_WEEK)
    for i in range(len(out)):
        moment = START + timedelta(hours=i)
        rate = level * curve(moment.hour + 0.5) * (0.3 if moment.weekday() >= 5 else 1.0)
        rate *= 1 + growth * i / HOURS_PER_WEEK
        out[i] = rate * (0.25 if moment.date() in holidays else 1.0)
    return out


def test_baselines_repeat_the_last_day_and_week() -> None:
    history = np.arange(2 * HOURS_PER_WEEK, dtype=float)
    assert list(seasonal_naive(history, 48)) == list(history[-24:]) * 2
    assert list(last_week(history, 200)[:HOURS_PER_WEEK]) == list(history[-HOURS_PER_WEEK:])
    assert last_week(history, 200)[HOURS_PER_WEEK] == history[-HOURS_PER_WEEK]


def test_forecast_follows_the_weekly_shape_and_the_trend() -> None:
    truth = rates(6)
    counts = np.random.default_rng(3).poisson(truth)
    model = HourOfWeekPoisson().fit(START, counts)
    future = model.predict(START + timedelta(weeks=6), 2 * HOURS_PER_WEEK)
    assert future.shape == (2 * HOURS_PER_WEEK,)
    expected = rates(8)[6 * HOURS_PER_WEEK:]
    # Weekday late mornings are busier than Sunday nights; and the total grows as the history did.
    assert future[10] > 5 * future[6 * 24 + 2]
    assert abs(future.sum() - expected.sum()) / expected.sum() < 0.08
    assert future[HOURS_PER_WEEK:].sum() > future[:HOURS_PER_WEEK].sum()


def test_a_holiday_seen_in_the_history_lowers_the_next_one() -> None:
    holidays = frozenset({HOLIDAY, NEXT_HOLIDAY})
    counts = np.random.default_rng(4).poisson(rates(6, growth=0.0, holidays=holidays))
    model = HourOfWeekPoisson(holidays=holidays).fit(START, counts)
    week7 = model.predict(START + timedelta(weeks=6), HOURS_PER_WEEK)
    thursday, wednesday = week7[3 * 24:4 * 24].sum(), week7[2 * 24:3 * 24].sum()
    assert thursday < 0.4 * wednesday
    # Without the calendar the same Thursday is an ordinary weekday.
    plain = HourOfWeekPoisson().fit(START, counts).predict(START + timedelta(weeks=6), HOURS_PER_WEEK)
    assert plain[3 * 24:4 * 24].sum() > 0.8 * wednesday


def test_a_holiday_never_seen_is_forecast_like_a_sunday() -> None:
    counts = np.random.default_rng(5).poisson(rates(3, growth=0.0))
    model = HourOfWeekPoisson(holidays={date(2026, 10, 1)}).fit(START, counts)
    week4 = model.predict(START + timedelta(weeks=3), HOURS_PER_WEEK)
    assert week4[3 * 24:4 * 24].sum() == pytest.approx(week4[6 * 24:7 * 24].sum(), rel=0.05)


@pytest.mark.parametrize("growth", [0.0, 0.06])
def test_backtest_beats_both_baselines_on_a_generated_history(growth: float) -> None:
    holidays = frozenset({HOLIDAY, NEXT_HOLIDAY})
    counts = np.random.default_rng(6).poisson(rates(8, growth=growth, holidays=holidays))
    scores, origins = backtest(START, counts, origins=3, holidays=holidays)
    assert origins == 3
    for baseline in ("seasonal_naive", "last_week"):
        assert scores["model"].wape < scores[baseline].wape  # type: ignore[operator]
        assert scores["model"].mape < scores[baseline].mape  # type: ignore[operator]
    assert scores["model"].actual == pytest.approx(counts[5 * HOURS_PER_WEEK:].sum())


def test_backtest_needs_two_weeks_of_training() -> None:
    counts = np.ones(2 * HOURS_PER_WEEK)
    assert backtest(START, counts)[1] == 0
    assert backtest(START, np.ones(3 * HOURS_PER_WEEK))[1] == 1


@pytest.fixture
def db(tmp_path: Path, database_url: str) -> Iterator[Database]:
    database = Database(Settings(home=tmp_path / "home", database_url=database_url, environment="test"))
    database.ensure_schema()
    yield database
    database.dispose()


def config_with_holiday() -> TriageConfig:
    config = load_config()
    data = config.model_dump()
    data["calendars"] = [{"name": "office", "timezone": "Europe/Berlin", "hours": "Mon-Fri 09:00-17:00",
                          "holidays": [date(2026, 10, 8)]}]
    for team in data["teams"]:
        team["calendar"] = "office" if team["name"] == "billing" else None
    return TriageConfig.model_validate(data)


def test_forecast_service_per_queue_and_channel(db: Database) -> None:
    rng = np.random.default_rng(7)
    truth = rates(4, level=1.0, growth=0.0)
    with db.transaction() as session:
        customer = Customer(name="c")
        session.add(customer)
        session.flush()
        rows = []
        for queue, channel, factor in (("billing", "email", 1.0), ("technical", "chat", 0.5)):
            for hour, n in enumerate(rng.poisson(truth * factor)):
                for k in range(int(n)):
                    created = START + timedelta(hours=hour, minutes=int(k * 7 % 60))
                    rows.append(Ticket(channel=channel, queue=queue, customer_id=customer.id, created_at=created))
        session.add_all(rows)
    now = START + timedelta(weeks=4, minutes=20)
    with db.session() as session:
        report = forecast(session=session, config=config_with_holiday(), weeks=2, now=now, history_weeks=4)
        only = forecast(session=session, config=config_with_holiday(), weeks=1, now=now, history_weeks=4,
                        queue="technical")
        with pytest.raises(InvalidInput):
            forecast(session=session, config=config_with_holiday(), weeks=5, now=now)
    assert report.start == START + timedelta(weeks=4)
    assert [(s.queue, s.channel) for s in report.series] == [("billing", "email"), ("technical", "chat")]
    billing, technical = report.series
    assert len(billing.hourly) == report.hours == 2 * HOURS_PER_WEEK
    assert billing.timezone == "Europe/Berlin" and technical.timezone == "UTC"
    # The calendar's holiday falls in the horizon; the queue without a calendar takes every calendar's holidays.
    assert billing.holidays == technical.holidays == [date(2026, 10, 8)]
    assert 4 * HOURS_PER_WEEK - 24 < billing.history_hours <= 4 * HOURS_PER_WEEK  # from its first ticket on
    assert sum(d.tickets for d in billing.daily) == pytest.approx(billing.total, abs=1.0)
    week = truth[:HOURS_PER_WEEK]
    # Two weeks, the holiday Thursday forecast like a Sunday (none in the history to learn from).
    expected = 2 * week.sum() - week[3 * 24:4 * 24].sum() + week[6 * 24:].sum()
    assert billing.total == pytest.approx(expected, rel=0.15)
    assert technical.total == pytest.approx(billing.total / 2, rel=0.2)
    # 4 weeks of history leave one origin with 2 weeks to train on and a week to test.
    assert billing.backtest_origins == 1 and [m.method for m in report.backtest] == ["model", "seasonal_naive",
                                                                                     "last_week"]
    assert all(m.wape is not None and m.wape > 0 for m in billing.backtest)
    assert [(s.queue, s.channel) for s in only.series] == [("technical", "chat")]
