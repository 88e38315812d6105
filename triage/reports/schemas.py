"""What each report answers (the API returns these as JSON; the CLI prints and draws them)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

GroupBy = Literal["channel", "queue", "agent"]
Interval = Literal["day", "week"]
VolumeUnit = Literal["tickets", "messages"]
REPORT_NAMES = ("response-times", "sla", "volume", "backlog", "mix")


class PeriodOut(BaseModel):
    since: datetime
    until: datetime
    timezone: str = Field(description="IANA zone in which days and hours are read")


class DurationStats(BaseModel):
    """Seconds; None when nothing was measured. p90 interpolates linearly between ranks (numpy's default)."""

    count: int
    mean: float | None = None
    median: float | None = None
    p90: float | None = None


class ResponseTimesRow(BaseModel):
    key: str = Field(description="the channel, queue or agent email; '(none)' / '(unassigned)' when missing")
    name: str | None = Field(default=None, description="the agent's name, when grouped by agent")
    created: int = Field(description="tickets created in the period with a customer message")
    unanswered: int = Field(description="of those, how many have no agent reply yet")
    first_response: DurationStats
    resolution: DurationStats = Field(description="over tickets solved in the period")


class ResponseTimesReport(BaseModel):
    period: PeriodOut
    by: GroupBy
    exclude_pending: bool
    rows: list[ResponseTimesRow]
    total: ResponseTimesRow


class Attainment(BaseModel):
    """met / (met + missed); `open` tickets are still inside their target and not counted yet."""

    met: int = 0
    missed: int = 0
    open: int = 0
    no_target: int = Field(default=0, description="no SLA policy for the ticket's channel and priority")
    share: float | None = None


class SlaRow(BaseModel):
    queue: str
    priority: str
    tickets: int
    first_response: Attainment
    resolution: Attainment


class SlaReport(BaseModel):
    period: PeriodOut
    as_of: datetime = Field(description="unanswered or unsolved tickets past their due time by now count as missed")
    rows: list[SlaRow]
    total: SlaRow


class VolumeReport(BaseModel):
    period: PeriodOut
    unit: VolumeUnit
    weekdays: list[str] = Field(default=["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])
    matrix: list[list[int]] = Field(description="7 rows (Monday first) x 24 local hours")
    total: int


class BacklogDay(BaseModel):
    """Tickets not yet solved at the end of a local day (or at `until`/now for the last one)."""

    day: date
    at: datetime
    new: int = Field(description="no agent reply yet")
    open: int
    pending: int = Field(description="waiting on the customer")
    total: int


class BacklogQueue(BaseModel):
    queue: str
    ages: dict[str, int] = Field(description="open tickets per age bucket (time since created)")
    total: int


class BacklogReport(BaseModel):
    period: PeriodOut
    as_of: datetime
    daily: list[BacklogDay]
    age_buckets: list[str]
    current: list[BacklogQueue]
    current_total: int


class MixPoint(BaseModel):
    start: date = Field(description="the local day, or the Monday starting the week")
    partial: bool = Field(default=False, description="the period covers only part of this day or week")
    total: int
    counts: dict[str, int]
    shares: dict[str, float]


class MixSeries(BaseModel):
    labels: list[str] = Field(description="every label seen, most frequent first")
    points: list[MixPoint]


class MixReport(BaseModel):
    period: PeriodOut
    interval: Interval
    total: int
    intent: MixSeries
    sentiment: MixSeries
