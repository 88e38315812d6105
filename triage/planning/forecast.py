"""Volume forecasts per queue and channel by hour, for the next 1-4 weeks (issue 17 item 1).

The model is a Poisson regression (statsmodels GLM, log link) of hourly new-ticket counts on the local
day of week, hour of day, a weekend x hour interaction (weekend days have their own daily shape), a
holiday indicator and a linear trend in weeks. Why this and not a per-hour-of-week average: 31+23 shape
parameters learn from every week at once, so a few weeks of history already give a steady profile where
168 separate averages still copy each week's noise, and the trend and holidays are explicit terms instead
of being smeared into the profile.

Holidays come from the business calendars in triage.toml (the queue's team calendar; a team without one
takes the holidays of every configured calendar, since customers write less on public holidays whether or
not the team works). Hours are read in the team calendar's time zone. A holiday in the forecast horizon
with none in the history to learn from is forecast like a Sunday.

`backtest` measures the model on rolling origins beside two baselines computed on the same hours:
seasonal naive (the last observed day repeated) and last week (the last observed week repeated).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session
from statsmodels.genmod.families import Poisson
from statsmodels.genmod.generalized_linear_model import GLM
from threadpoolctl import threadpool_limits

from triage.config import TriageConfig
from triage.conversations.tables import Ticket
from triage.db import utcnow
from triage.errors import InvalidInput
from triage.planning.schemas import DayTotal, ForecastReport, MethodError, SeriesForecast

# statsmodels is imported with the module, not on the first forecast: the import takes seconds (pandas), and a
# request paying it on a loaded machine ran past a client's 10 s timeout. The API imports this module at start-up.
HOURS_PER_WEEK = 168
HOUR = timedelta(hours=1)
NO_QUEUE = "(none)"
METHODS: tuple[str, ...] = ("model", "seasonal_naive", "last_week")
# Pseudo-observations (one flat week at the mean rate, each hour weighing this much) keep every hour's coefficient
# finite when a level never saw a ticket (3 am on Sundays), instead of a diverging fit.
PRIOR_WEIGHT = 0.05
# A trend is extrapolated only when the history is long enough to tell it from noise and its coefficient is
# clearly not zero (|z| >= 3): on three sparse weeks (26, 28, 38 tickets) a free trend forecast +18% a week.
MIN_TREND_WEEKS = 4
TREND_Z = 3.0


def _without_trend(design: np.ndarray) -> np.ndarray:
    out = design.copy()
    out[:, 53] = 0.0
    return out


def floor_hour(moment: datetime) -> datetime:
    """The UTC hour that contains `moment`."""
    moment = moment.astimezone(UTC)
    return moment.replace(minute=0, second=0, microsecond=0)


def _features(start: datetime, hours: int, tz: ZoneInfo, holidays: frozenset[date], *, holiday_term: bool,
              origin: datetime) -> np.ndarray:
    """The design matrix for `hours` UTC hours from `start`; trend in weeks after `origin`."""
    cols = 1 + 6 + 23 + 23 + 1 + int(holiday_term)
    x = np.zeros((hours, cols))
    for i in range(hours):
        moment = start + i * HOUR
        local = moment.astimezone(tz)
        dow, hod = local.weekday(), local.hour
        holiday = local.date() in holidays
        if holiday and not holiday_term:
            dow = 6  # nothing learned about holidays: a Sunday is the nearest day customers write like
        x[i, 0] = 1.0
        if dow:
            x[i, dow] = 1.0
        if hod:
            x[i, 6 + hod] = 1.0
            if dow >= 5:
                x[i, 29 + hod] = 1.0
        x[i, 53] = (moment - origin) / timedelta(weeks=1)
        if holiday_term and holiday:
            x[i, 54] = 1.0
    return x


class HourOfWeekPoisson:
    """Poisson GLM of hourly counts on day, hour, weekend x hour, holiday and trend; fit returns self."""

    def __init__(self, *, tz: str = "UTC", holidays: Iterable[date] = (), trend: bool = True,
                 history_weeks: int = 8) -> None:
        self.tz = tz
        self.holidays = holidays
        self.trend = trend
        self.history_weeks = history_weeks

    def fit(self, start: datetime, counts: Sequence[float] | np.ndarray) -> HourOfWeekPoisson:
        y = np.asarray(counts, dtype=float)
        keep = min(len(y), self.history_weeks * HOURS_PER_WEEK)
        start = start + (len(y) - keep) * HOUR
        y = y[len(y) - keep:]
        zone, holidays = ZoneInfo(self.tz), frozenset(self.holidays)
        self.end_ = start + len(y) * HOUR
        self.mean_ = float(y.mean()) if len(y) else 0.0
        days = {(start + i * HOUR).astimezone(zone).date() for i in range(0, len(y), 1)}
        self.holiday_term_ = bool(days & holidays)
        self.zone_, self.holidays_ = zone, holidays
        if self.mean_ == 0.0:
            self.params_ = None
            return self
        x = _features(start, len(y), zone, holidays, holiday_term=self.holiday_term_, origin=self.end_)
        prior = _features(self.end_ - HOURS_PER_WEEK * HOUR, HOURS_PER_WEEK, zone, frozenset(),
                          holiday_term=self.holiday_term_, origin=self.end_)
        prior[:, 53] = 0.0
        weights = np.concatenate([np.ones(len(y)), np.full(HOURS_PER_WEEK, PRIOR_WEIGHT)])
        design = np.vstack([x, prior])
        target = np.concatenate([y, np.full(HOURS_PER_WEEK, self.mean_)])
        trend = self.trend and len(y) >= MIN_TREND_WEEKS * HOURS_PER_WEEK
        result, used = self._glm(design if trend else _without_trend(design), target, weights)
        if trend and abs(result.tvalues[list(used).index(53)]) < TREND_Z:
            result, used = self._glm(_without_trend(design), target, weights)
        params = np.zeros(design.shape[1])
        params[used] = result.params
        if not np.all(np.isfinite(params)):
            params = np.zeros(design.shape[1])
            params[0] = math.log(self.mean_)
        self.params_ = params
        return self

    @staticmethod
    def _glm(design: np.ndarray, target: np.ndarray, weights: np.ndarray) -> tuple[Any, np.ndarray]:
        used = np.flatnonzero(design.any(axis=0))  # a column never set (no weekend seen yet) stays out
        # One BLAS thread: the matrices are small, and on a shared 2-core machine threaded least squares ran the
        # whole backtest 15 times slower than a single thread.
        with warnings.catch_warnings(), threadpool_limits(limits=1):
            warnings.simplefilter("ignore")  # non-integer pseudo-counts are intended; the fit is checked after
            result = GLM(target, design[:, used], family=Poisson(), freq_weights=weights).fit(
                maxiter=100)
        return result, used

    def predict(self, start: datetime, hours: int) -> np.ndarray:
        """Expected counts for `hours` UTC hours from `start`."""
        if self.params_ is None:
            return np.zeros(hours)
        x = _features(start, hours, self.zone_, self.holidays_, holiday_term=self.holiday_term_, origin=self.end_)
        eta = np.clip(x @ self.params_, -30.0, 30.0)
        return np.exp(eta)


def seasonal_naive(history: np.ndarray, hours: int, season: int = 24) -> np.ndarray:
    """The last `season` hours repeated (with season 24: the last observed day)."""
    if len(history) < season:
        return np.full(hours, float(history.mean()) if len(history) else 0.0)
    last = np.asarray(history[-season:], dtype=float)
    return np.resize(last, hours)


def last_week(history: np.ndarray, hours: int) -> np.ndarray:
    """The last observed week repeated."""
    return seasonal_naive(history, hours, HOURS_PER_WEEK)


@dataclass(frozen=True)
class Errors:
    """Pooled absolute error, actual volume, and MAPE terms over the backtest hours."""

    abs_error: float
    actual: float
    ape_sum: float
    ape_hours: int

    @property
    def wape(self) -> float | None:
        return self.abs_error / self.actual if self.actual else None

    @property
    def mape(self) -> float | None:
        return self.ape_sum / self.ape_hours if self.ape_hours else None

    def __add__(self, other: Errors) -> Errors:
        return Errors(self.abs_error + other.abs_error, self.actual + other.actual, self.ape_sum + other.ape_sum,
                      self.ape_hours + other.ape_hours)


ZERO = Errors(0.0, 0.0, 0.0, 0)


def errors(actual: np.ndarray, predicted: np.ndarray) -> Errors:
    """WAPE terms over all hours; MAPE terms over the hours with at least one ticket (it is undefined at 0)."""
    actual = np.asarray(actual, dtype=float)
    diff = np.abs(actual - predicted)
    busy = actual > 0
    return Errors(float(diff.sum()), float(actual.sum()), float((diff[busy] / actual[busy]).sum()),
                  int(busy.sum()))


def backtest(start: datetime, counts: np.ndarray, *, horizon_weeks: int = 1, origins: int = 3,
             min_train_weeks: int = 2, tz: str = "UTC", holidays: Iterable[date] = (),
             history_weeks: int = 8) -> tuple[dict[str, Errors], int]:
    """Errors of the model and both baselines on rolling origins (the last `origins` week boundaries that leave
    a full horizon after them and `min_train_weeks` before); also how many origins were used."""
    counts = np.asarray(counts, dtype=float)
    horizon = horizon_weeks * HOURS_PER_WEEK
    last_origin = len(counts) - horizon
    cuts = [c for c in range(last_origin, min_train_weeks * HOURS_PER_WEEK - 1, -HOURS_PER_WEEK)][:origins]
    out = dict.fromkeys(METHODS, ZERO)
    holidays = frozenset(holidays)
    for cut in sorted(cuts):
        train, actual = counts[:cut], counts[cut:cut + horizon]
        origin = start + cut * HOUR
        model = HourOfWeekPoisson(tz=tz, holidays=holidays, history_weeks=history_weeks).fit(start, train)
        preds = {"model": model.predict(origin, horizon), "seasonal_naive": seasonal_naive(train, horizon),
                 "last_week": last_week(train, horizon)}
        for method, predicted in preds.items():
            out[method] = out[method] + errors(actual, predicted)
    return out, len(cuts)


# -- from the database --------------------------------------------------------------------------------------

def hourly_counts(*, session: Session, since: datetime, until: datetime, queue: str | None = None,
                  channel: str | None = None) -> dict[tuple[str, str], np.ndarray]:
    """New tickets per UTC hour in [since, until) (hour-aligned), per (queue, channel)."""
    since, until = floor_hour(since), floor_hour(until)
    hours = int((until - since) / HOUR)
    query = select(Ticket.queue, Ticket.channel, Ticket.created_at).where(Ticket.created_at >= since,
                                                                           Ticket.created_at < until)
    if queue is not None:
        query = query.where(Ticket.queue == queue)
    if channel is not None:
        query = query.where(Ticket.channel == channel)
    stamps: dict[tuple[str, str], list[float]] = {}
    base = since.timestamp()
    for q, ch, created in session.execute(query):
        stamps.setdefault((q or NO_QUEUE, ch), []).append(created.timestamp() - base)
    out = {}
    for key, seconds in sorted(stamps.items()):
        index = (np.asarray(seconds) // 3600).astype(int)
        out[key] = np.bincount(index, minlength=hours)[:hours].astype(float)
    return out


def calendar_for_queue(config: TriageConfig, queue: str) -> tuple[str, frozenset[date]]:
    """The time zone and holidays a queue's volume is read with (see the module docstring)."""
    team = config.team(queue)
    if team is not None and team.calendar is not None:
        cal = config.calendar_for(queue)
        return cal.timezone, cal.holidays
    every = frozenset(d for c in config.calendars for d in c.holidays)
    return "UTC", every


MODEL_NAME = "Poisson GLM (statsmodels): day + hour + weekend x hour + holiday + trend"


def method_errors(scores: dict[str, Errors]) -> list[MethodError]:
    """The backtest scores as report rows, in METHODS order, rounded to 4 places."""
    def r(v: float | None) -> float | None:
        return None if v is None else round(v, 4)

    return [MethodError(method=m, wape=r(scores[m].wape), mape=r(scores[m].mape)) for m in METHODS]


@dataclass(frozen=True)
class History:
    """Hourly new-ticket counts per (queue, channel) over [since, start): what a forecast learns from."""

    start: datetime  # the first forecast hour
    since: datetime
    history_weeks: int
    counts: dict[tuple[str, str], np.ndarray]


def load_history(*, session: Session, queue: str | None = None, channel: str | None = None,
                 now: datetime | None = None, history_weeks: int = 8) -> History:
    """Read the history a forecast from the current hour needs (one query; the fits need no database)."""
    if not 2 <= history_weeks <= 104:
        raise InvalidInput(f"history_weeks: {history_weeks} is not between 2 and 104")
    start = floor_hour(now or utcnow())
    since = start - history_weeks * HOURS_PER_WEEK * HOUR
    counts = hourly_counts(session=session, since=since, until=start, queue=queue, channel=channel)
    return History(start, since, history_weeks, counts)


def forecast_history(history: History, *, config: TriageConfig, weeks: int = 1,
                     backtest_origins: int = 3) -> ForecastReport:
    """Forecast every series of the history hourly for `weeks` weeks; each with its backtest (1-week horizon,
    up to `backtest_origins` origins; 0 skips it)."""
    if not 1 <= weeks <= 4:
        raise InvalidInput(f"weeks: {weeks} is not between 1 and 4")
    start, since, history_weeks = history.start, history.since, history.history_weeks
    horizon = weeks * HOURS_PER_WEEK
    series, pooled = [], dict.fromkeys(METHODS, ZERO)
    for (q, ch), counts in history.counts.items():
        tz, holidays = calendar_for_queue(config, q)
        # From the first hour with a ticket: a queue opened last month has no older zeros to learn from.
        first = int(np.flatnonzero(counts)[0])
        counts, begin = counts[first:], since + first * HOUR
        values = HourOfWeekPoisson(tz=tz, holidays=holidays, history_weeks=history_weeks).fit(begin, counts) \
            .predict(start, horizon)
        zone = ZoneInfo(tz)
        daily: dict[date, float] = {}
        for i, v in enumerate(values):
            day = (start + i * HOUR).astimezone(zone).date()
            daily[day] = daily.get(day, 0.0) + float(v)
        scores, n = backtest(begin, counts, horizon_weeks=1, origins=backtest_origins, tz=tz, holidays=holidays,
                             history_weeks=history_weeks)
        pooled = {m: pooled[m] + scores[m] for m in METHODS}
        series.append(SeriesForecast(
            queue=q, channel=ch, timezone=tz, total=round(float(values.sum()), 1),
            hourly=[round(float(v), 3) for v in values],
            daily=[DayTotal(day=d, tickets=round(t, 1)) for d, t in daily.items()],
            holidays=sorted(set(daily) & holidays), history_hours=len(counts),
            backtest_origins=n, backtest=method_errors(scores)))
    return ForecastReport(start=start, weeks=weeks, hours=horizon, model=MODEL_NAME, series=series,
                          backtest=method_errors(pooled))


def forecast(*, session: Session, config: TriageConfig, weeks: int = 1, queue: str | None = None,
             channel: str | None = None, now: datetime | None = None, history_weeks: int = 8,
             backtest_origins: int = 3) -> ForecastReport:
    """Forecast every (queue, channel) with tickets in the last `history_weeks` weeks, hourly from the current
    hour on for `weeks` weeks; each series with its backtest (1-week horizon) on the same history."""
    if not 1 <= weeks <= 4:
        raise InvalidInput(f"weeks: {weeks} is not between 1 and 4")
    history = load_history(session=session, queue=queue, channel=channel, now=now, history_weeks=history_weeks)
    return forecast_history(history, config=config, weeks=weeks, backtest_origins=backtest_origins)
