"""The reports as charts in the supervisor view (issue 16 item 3): PNGs behind the desk session, and their numbers.

The charts are the ones `GET /api/v1/reports/NAME/png` and `triage report NAME --png` draw
(`triage.reports.charts`), from the same report services; here they are served to a signed-in supervisor
or admin (a browser holds no API key). Under each chart the page shows the same numbers as a table, for
anyone who cannot see the image and for anyone who wants the exact count.

The period comes from a GET form on the supervisor page: the last 1, 7, 30 or 90 days, or from / to dates,
read in UTC or one of the configured calendars' time zones.

The page reloads every 30 seconds and asks for five charts each time; a report over 100k tickets takes up to
2 s (docs/performance.md). So a period that ends now ends at the current minute, and each app keeps the reports it
built for a minute: the page's tables and its five images share one computation per minute and period.
"""

from __future__ import annotations

import threading
import time as clock
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from api.deps import RuntimeDep, SessionDep
from api.desk.auth import Desk, DeskDenied, DeskUser
from triage.db import utcnow
from triage.errors import BadRequest
from triage.reports import service
from triage.reports.charts import render_png
from triage.reports.periods import Period, make_period
from triage.reports.schemas import (
    BacklogReport,
    DurationStats,
    MixReport,
    MixSeries,
    ResponseTimesReport,
    SlaReport,
    VolumeReport,
)
from triage.runtime import Triage
from triage.users.service import Role

router = APIRouter(include_in_schema=False)

# As api.desk.routes.SUPERVISOR_ROLES (not imported: routes imports this module for the page's charts).
CHART_ROLES = frozenset({Role.supervisor, Role.admin})
DAY_CHOICES = (1, 7, 30, 90)
DEFAULT_DAYS = 7
WEEKLY_AFTER = 31  # a longer period is mixed per week: 90 daily bars are too thin to read
ChartName = Literal["response-times", "sla", "volume", "backlog", "mix"]
TITLES: dict[str, str] = {"response-times": "Response times by agent", "sla": "SLA attainment",
                          "volume": "Volume by hour of week", "backlog": "Backlog",
                          "mix": "Intent and sentiment mix"}
Text = Annotated[str | None, Query(max_length=40)]


def _check(desk: Desk) -> None:
    if desk.principal.role not in CHART_ROLES:
        raise DeskDenied(403, "the supervisor view is for supervisors")


@dataclass
class PeriodChoice:
    """What the period form says, checked: the values to show in the form and to put in the charts' URLs."""

    days: int = DEFAULT_DAYS
    since: str = ""
    until: str = ""
    tz: str = "UTC"
    error: str | None = None

    def query(self) -> str:
        values = {"days": self.days, "tz": self.tz} if not self.since else {
            "since": self.since, "until": self.until, "tz": self.tz}
        return urlencode({k: v for k, v in values.items() if v != ""})


def zones(rt: Triage) -> list[str]:
    """UTC and the time zones of the configured calendars: the zones a supervisor reads days in."""
    return ["UTC", *sorted({c.timezone for c in rt.config.calendars} - {"UTC"})]


def _date(name: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise BadRequest(f"{name}: {value!r} is not a date (YYYY-MM-DD)") from exc


def _minute(now: datetime | None) -> datetime:
    # A period that ends "now" ends at the minute: the page and its five images then ask for the same one.
    return (now or utcnow()).replace(second=0, microsecond=0)


def choose_period(choice: PeriodChoice, *, allowed_zones: list[str],
                  now: datetime | None = None) -> tuple[PeriodChoice, Period | None]:
    """The period the form asks for, or the choice with an error that says what to fix (and no period)."""
    try:
        if choice.tz not in allowed_zones:
            raise BadRequest(f"time zone {choice.tz!r}: choose one of {', '.join(allowed_zones)}")
        if choice.since or choice.until:
            if not choice.since:
                raise BadRequest("from: give a start date with the end date, or choose a number of days")
            start = _date("from", choice.since)
            # The end date is inclusive in the form: the period runs to the next local midnight.
            end = datetime.combine(_date("to", choice.until) + timedelta(days=1), time(0)) if choice.until else None
            return choice, make_period(datetime.combine(start, time(0)), end, tz=choice.tz, now=_minute(now))
        if choice.days not in DAY_CHOICES:
            raise BadRequest(f"days: choose one of {', '.join(map(str, DAY_CHOICES))}")
        return choice, make_period(tz=choice.tz, days=choice.days, now=_minute(now))
    except BadRequest as exc:
        choice.error = str(exc)
        return choice, None


def period_choice(rt: RuntimeDep, days: Text = None, since: Text = None, until: Text = None,
                  tz: Text = None) -> tuple[PeriodChoice, Period | None]:
    """The period form's fields from the query string (strings, so a bad value is an in-page message)."""
    choice = PeriodChoice(since=(since or "").strip(), until=(until or "").strip(), tz=(tz or "UTC").strip())
    if days:
        try:
            choice.days = int(days)
        except ValueError:
            choice.days = -1
    return choose_period(choice, allowed_zones=zones(rt))


class ReportCache:
    """Reports built in the last `ttl` seconds, per (chart, period): one per app (`app.state`), so never shared
    between databases. Only supervisors and admins read it, and they see every queue."""

    def __init__(self, ttl: float = 60.0, size: int = 64) -> None:
        self.ttl, self.size = ttl, size
        self._items: dict[tuple[str, Period], tuple[float, BaseModel]] = {}
        self._lock = threading.Lock()

    def get(self, name: str, period: Period, make: Callable[[], BaseModel]) -> BaseModel:
        now = clock.monotonic()
        with self._lock:
            hit = self._items.get((name, period))
        if hit is not None and hit[0] > now:
            return hit[1]
        report = make()  # outside the lock: two first requests may both build; neither waits on the other
        with self._lock:
            self._items = {k: v for k, v in self._items.items() if v[0] > now}
            if len(self._items) < self.size:
                self._items[(name, period)] = (now + self.ttl, report)
        return report


def _cache(request: Request) -> ReportCache:
    state = request.app.state
    if not hasattr(state, "supervisor_reports"):
        state.supervisor_reports = ReportCache()
    cache: ReportCache = state.supervisor_reports
    return cache


def build(name: str, period: Period, *, session: Session) -> BaseModel:
    """One report, with the options the supervisor view uses (agents for response times; weeks for long mixes)."""
    if name == "response-times":
        return service.response_times(session=session, period=period, by="agent")
    if name == "sla":
        return service.sla_attainment(session=session, period=period)
    if name == "volume":
        return service.volume(session=session, period=period)
    if name == "backlog":
        return service.backlog(session=session, period=period)
    if name == "mix":
        long = period.until - period.since > timedelta(days=WEEKLY_AFTER)
        return service.mix(session=session, period=period, interval="week" if long else "day")
    raise ValueError(f"unknown chart {name!r}")


# -- the numbers under each chart ---------------------------------------------------------------------------

@dataclass
class Table:
    caption: str
    columns: list[str]
    rows: list[list[str]]


@dataclass
class Chart:
    name: str
    title: str
    src: str
    alt: str
    tables: list[Table] = field(default_factory=list)


@dataclass
class ChartsView:
    """What the supervisor page shows under "Reports": the period form and one chart per report."""

    choice: PeriodChoice
    zones: list[str]
    day_choices: tuple[int, ...] = DAY_CHOICES
    charts: list[Chart] = field(default_factory=list)


def _hours(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 3600:.2f}"


def _stats(s: DurationStats) -> list[str]:
    return [str(s.count), _hours(s.median), _hours(s.p90)]


def _share(share: float | None) -> str:
    return "n/a" if share is None else f"{100 * share:.0f}%"


def _mix_table(series: MixSeries, noun: str, interval: str) -> Table:
    labels = series.labels
    rows = [[f"{p.start:%Y-%m-%d}" + (" (partial)" if p.partial else ""), str(p.total),
             *(str(p.counts.get(label, 0)) for label in labels)] for p in series.points]
    return Table(f"Tickets per {interval} by {noun}", [interval.capitalize(), "Tickets", *labels], rows)


def tables(report: BaseModel) -> list[Table]:
    """The numbers a chart draws, as tables (every label, where the chart groups the smallest)."""
    if isinstance(report, ResponseTimesReport):
        return [Table("Response times by agent, hours (n = tickets measured)",
                      ["Agent", "Created", "Unanswered", "First response n", "median", "p90",
                       "Resolution n", "median", "p90"],
                      [[r.name or r.key, str(r.created), str(r.unanswered), *_stats(r.first_response),
                        *_stats(r.resolution)] for r in [*report.rows, report.total]])]
    if isinstance(report, SlaReport):
        return [Table("SLA targets met, missed and still open, per queue and priority",
                      ["Queue", "Priority", "Tickets", "First response met", "missed", "open", "share",
                       "Resolution met", "missed", "open", "share"],
                      [[r.queue, r.priority, str(r.tickets),
                        *(str(v) for v in (r.first_response.met, r.first_response.missed, r.first_response.open)),
                        _share(r.first_response.share),
                        *(str(v) for v in (r.resolution.met, r.resolution.missed, r.resolution.open)),
                        _share(r.resolution.share)] for r in [*report.rows, report.total]])]
    if isinstance(report, VolumeReport):
        return [Table(f"New {report.unit} per weekday and local hour ({report.period.timezone})",
                      ["Day", *(f"{h:02d}" for h in range(24))],
                      [[day, *map(str, row)] for day, row in zip(report.weekdays, report.matrix, strict=True)])]
    if isinstance(report, BacklogReport):
        return [Table("Unsolved tickets at the end of each day",
                      ["Day", "New", "Open", "Pending", "Total"],
                      [[f"{d.day:%Y-%m-%d}", str(d.new), str(d.open), str(d.pending), str(d.total)]
                       for d in report.daily]),
                Table("Open tickets now by queue and age", ["Queue", *report.age_buckets, "Total"],
                      [[b.queue, *(str(b.ages.get(a, 0)) for a in report.age_buckets), str(b.total)]
                       for b in report.current])]
    if isinstance(report, MixReport):
        return [_mix_table(report.intent, "intent", report.interval),
                _mix_table(report.sentiment, "sentiment", report.interval)]
    raise TypeError(f"no table for {type(report).__name__}")


def _alt(name: str, period: Period) -> str:
    return (f"{TITLES[name]}, {period.since:%Y-%m-%d %H:%M} to {period.until:%Y-%m-%d %H:%M} UTC; "
            "the numbers are in the table below")


def charts_view(request: Request, desk: DeskUser, session: SessionDep, rt: RuntimeDep,
                chosen: Annotated[tuple[PeriodChoice, Period | None], Depends(period_choice)]) -> ChartsView:
    """The supervisor page's reports: a dependency of `/supervisor`, so the page and its charts share one period."""
    _check(desk)
    choice, period = chosen
    view = ChartsView(choice=choice, zones=zones(rt))
    if period is None:
        return view
    query, cache = choice.query(), _cache(request)
    for name in TITLES:
        report = cache.get(name, period, partial(build, name, period, session=session))
        view.charts.append(Chart(name=name, title=TITLES[name], src=f"/supervisor/charts/{name}.png?{query}",
                                 alt=_alt(name, period), tables=tables(report)))
    return view


ChartsDep = Annotated[ChartsView, Depends(charts_view)]


@router.get("/supervisor/charts/{name}.png", response_class=Response)
def chart_png(name: ChartName, request: Request, desk: DeskUser, session: SessionDep,
              chosen: Annotated[tuple[PeriodChoice, Period | None], Depends(period_choice)]) -> Response:
    """A report's chart for the supervisor view, behind the desk session (supervisors and admins)."""
    _check(desk)
    choice, period = chosen
    if period is None:
        raise DeskDenied(400, choice.error or "bad period")
    png = render_png(_cache(request).get(name, period, partial(build, name, period, session=session)))
    # Private: the numbers are the company's. A minute: the page reloads every 30 s and need not redraw each time.
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=60"})
