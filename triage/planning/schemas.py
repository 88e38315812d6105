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


class HandleTime(BaseModel):
    """Handling time of a channel's intent ("*": the channel as a whole), where it came from, on how many."""

    channel: str
    intent: str
    seconds: float
    samples: int
    source: str  # learned | default


class StaffingInterval(BaseModel):
    start: datetime  # the hour (UTC)
    volume: float  # forecast new tickets
    required: float  # agents to schedule, shrinkage included
    scheduled: float  # agents on shift (shared agents count in parts)
    gap: float  # scheduled - required: negative is under-staffed


class StaffingSeries(BaseModel):
    queue: str
    channel: str
    method: str  # erlang_c | workload
    handle_seconds: float
    under_hours: int
    over_hours: int
    under_agent_hours: float
    over_agent_hours: float
    intervals: list[StaffingInterval]


class StaffingReport(BaseModel):
    start: datetime
    hours: int
    service_level: float
    chat_answer_seconds: float
    email_window_hours: float
    shrinkage: float
    max_occupancy: float
    handle_times: list[HandleTime]
    series: list[StaffingSeries]


class AlertOut(BaseModel):
    """An emerging-issue episode: a rise of an intent or queue above its seasonal baseline, or a new topic."""

    id: int
    kind: str  # intent | queue | topic
    key: str  # the intent, the queue, or the topic's top words
    new: bool  # opened (and notified) by this pass
    opened_at: datetime
    last_seen_at: datetime
    closed_at: datetime | None
    observed: int  # tickets in the window (topic: messages in the cluster)
    expected: float  # mean of the same window in recent weeks (topic: 0)
    p_value: float | None
    terms: list[str]
    examples: list[str]


class AlertsReport(BaseModel):
    at: datetime
    window: str
    tested: int  # intents and queues tested
    topics_checked: bool
    alerts: list[AlertOut]
