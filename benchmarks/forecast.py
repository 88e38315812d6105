"""Forecast benchmark (issue 17): rolling-origin backtest of `triage forecast` against seasonal-naive and
last-week baselines, measured in the same run, on two generated histories stored in SQLite:

- the reports benchmark's 100,000 tickets over 30 days (`benchmarks.reports.populate`): three queues, two
  channels, arrivals uniform in time, so every hour has the same expected volume;
- a 10-week history with a daily curve (a morning and an afternoon peak), quiet weekends, volume growing 4% a
  week and two public holidays at a quarter of the usual volume, both in the team calendar (`trend_history`).

The figures come from `triage.planning.forecast.forecast`, the code path the command and the API use.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime, timedelta

import numpy as np
from sqlalchemy import insert, select

from benchmarks.common import Row, temp_runtime, timed
from benchmarks.reports import UNTIL
from benchmarks.reports import populate as populate_uniform
from triage.config import TriageConfig, load_config
from triage.conversations.tables import Customer, Ticket
from triage.planning.forecast import METHODS, forecast
from triage.planning.schemas import ForecastReport

NAME = "forecast"
TREND_START = datetime(2026, 9, 7, tzinfo=UTC)  # a Monday
TREND_WEEKS = 10
HOLIDAYS = (date(2026, 10, 8), date(2026, 11, 5))  # Thursdays in weeks 5 and 9
# Tickets per hour at the daily curve's top in week 1: about 58,000 tickets in ten weeks.
QUEUES = {("customer-care", "email"): 30.0, ("customer-care", "chat"): 20.0, ("billing", "email"): 14.0,
          ("billing", "chat"): 7.0, ("technical", "email"): 10.0, ("technical", "chat"): 5.0}


def daily_curve(hour: float) -> float:
    """Relative arrivals over a day: quiet nights, a late-morning peak and a smaller afternoon one."""
    return 0.1 + math.exp(-(((hour - 10.5) / 2.5) ** 2)) + 0.7 * math.exp(-(((hour - 15.0) / 2.5) ** 2))


def trend_rates(level: float, weeks: int = TREND_WEEKS, *, growth: float = 0.04,
                holidays: tuple[date, ...] = HOLIDAYS) -> np.ndarray:
    """Expected tickets per UTC hour from TREND_START: the daily curve, weekends at 35%, holidays at 25%."""
    out = np.empty(weeks * 168)
    for i in range(len(out)):
        moment = TREND_START + timedelta(hours=i)
        rate = level * daily_curve(moment.hour + 0.5) * (0.35 if moment.weekday() >= 5 else 1.0)
        out[i] = rate * (1 + growth * i / 168) * (0.25 if moment.date() in holidays else 1.0)
    return out


def populate_trend(rt, seed: int = 11) -> int:  # type: ignore[no-untyped-def]
    """Tickets drawn hour by hour from `trend_rates` for every queue and channel; how many were stored."""
    rng = np.random.default_rng(seed)
    jitter = random.Random(seed)
    with rt.db.transaction() as session:
        session.execute(insert(Customer), [{"name": f"t{i}"} for i in range(500)])
        customers = list(session.scalars(select(Customer.id)))
    rows = []
    for (queue, channel), level in QUEUES.items():
        for hour, n in enumerate(rng.poisson(trend_rates(level))):
            for _ in range(int(n)):
                created = TREND_START + timedelta(hours=hour, seconds=jitter.uniform(0, 3599))
                rows.append({"channel": channel, "queue": queue, "customer_id": jitter.choice(customers),
                             "status": "solved", "created_at": created, "updated_at": created})
    with rt.db.transaction() as session:
        for first in range(0, len(rows), 10_000):
            session.execute(insert(Ticket), rows[first:first + 10_000])
    return len(rows)


def holiday_config() -> TriageConfig:
    """The bundled configuration with every team on a calendar that lists the generated holidays."""
    data = load_config().model_dump()
    data["calendars"] = [{"name": "office", "timezone": "UTC", "hours": "Mon-Fri 08:00-18:00",
                          "holidays": list(HOLIDAYS)}]
    for team in data["teams"]:
        team["calendar"] = "office"
    return TriageConfig.model_validate(data)


def _rows(report: ForecastReport, where: str, seconds: float) -> list[Row]:
    errors = {m.method: m for m in report.backtest}
    model = errors["model"]
    rows = []
    for metric in ("wape", "mape"):
        value = getattr(model, metric)
        best = min(getattr(errors[m], metric) for m in METHODS[1:])
        notes = ", ".join(f"{m} {100 * getattr(errors[m], metric):.1f}%" for m in METHODS[1:])
        beats = all(value < getattr(errors[m], metric) for m in METHODS[1:])
        rows.append(Row(NAME, f"backtest {metric.upper()}, model ({where})", round(100 * value, 1), "%",
                        round(100 * best, 1), f"baselines: {notes}; beats both: {'yes' if beats else 'NO'}"))
    origins = max(s.backtest_origins for s in report.series)
    rows.append(Row(NAME, f"forecast + backtest time ({where})", seconds, "s",
                    note=f"{len(report.series)} series, {origins} origins of 1 week, horizon {report.weeks} week(s)"))
    return rows


def run() -> list[Row]:
    rows: list[Row] = []
    config = load_config()
    rt = temp_runtime()
    try:
        populate_uniform(rt, 100_000)
        with rt.db.session() as session:
            report: list[ForecastReport] = []
            seconds = timed(lambda: report.append(forecast(session=session, config=config, weeks=1, now=UNTIL,
                                                           history_weeks=5)))
        rows += _rows(report[0], "reports benchmark's 100,000 tickets, 30 days", seconds)
    finally:
        rt.db.dispose()
    rt = temp_runtime()
    try:
        n = populate_trend(rt)
        until = TREND_START + timedelta(weeks=TREND_WEEKS)
        with rt.db.session() as session:
            report = []
            seconds = timed(lambda: report.append(forecast(session=session, config=holiday_config(), weeks=1,
                                                           now=until, history_weeks=TREND_WEEKS)))
        rows += _rows(report[0], f"{n:,} tickets, {TREND_WEEKS} weeks, +4%/week, 2 holidays", seconds)
    finally:
        rt.db.dispose()
    return rows
