"""What the planning services answer: volume forecasts, staffing per interval, emerging-issue alerts."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel


class MethodError(BaseModel):
    """Backtest error of one method: WAPE over every hour, MAPE over hours with at least one ticket."""

    method: str  # model | seasonal_naive | last_week
    wape: float | None
    mape: float | None


class DayTotal(BaseModel):
    day: date  # local day in the series' time zone
    tickets: float


class SeriesForecast(BaseModel):
    queue: str
    channel: str
    timezone: str
    total: float
    hourly: list[float]  # expected new tickets per hour from the report's start
    daily: list[DayTotal]
    holidays: list[date]  # holidays inside the horizon
    history_hours: int
    backtest_origins: int
    backtest: list[MethodError]


class ForecastReport(BaseModel):
    start: datetime  # first forecast hour (UTC)
    weeks: int
    hours: int
    model: str
    series: list[SeriesForecast]
    backtest: list[MethodError]  # pooled over every series
