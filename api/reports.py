"""Report routes: response times, SLA attainment, volume, backlog, intent/sentiment mix, as JSON or PNG.

Every report covers a period (`since`, `until`; default the last 30 days) read in the time zone
`tz`; times without an offset are taken in that zone. An empty period gives an empty report, not
an error.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel

from api.deps import SessionDep, allow
from triage.reports import service
from triage.reports.charts import render_png
from triage.reports.periods import Period, make_period
from triage.reports.schemas import (
    BacklogReport,
    GroupBy,
    Interval,
    MixReport,
    ResponseTimesReport,
    SlaReport,
    VolumeReport,
    VolumeUnit,
)
from triage.users.service import Role

router = APIRouter(prefix="/api/v1/reports", tags=["reports"],
                   responses={400: {"description": "a bad period or time zone (the detail says which)",
                                    "content": {"application/problem+json": {}}}})
READERS = [allow(Role.supervisor, Role.qa, Role.data_scientist)]  # runs before the query is checked

PRINTABLE = r"^[^\x00-\x1f\x7f]*$"  # PostgreSQL refuses NUL in text; no name holds control characters
ReportName = Literal["response-times", "sla", "volume", "backlog", "mix"]


def report_period(
    since: Annotated[datetime | None, Query(description="start (ISO 8601); default 30 days before `until`")] = None,
    until: Annotated[datetime | None, Query(description="end, exclusive (ISO 8601); default now")] = None,
    tz: Annotated[str, Query(max_length=64, pattern=PRINTABLE,
                             description="IANA time zone for days and hours")] = "UTC",
) -> Period:
    return make_period(since, until, tz=tz)  # BadRequest (400) names what to fix


PeriodDep = Annotated[Period, Depends(report_period)]
Channel = Annotated[str | None, Query(max_length=16, pattern=PRINTABLE,
                                     description="only tickets of this channel (email, chat)")]
Queue = Annotated[str | None, Query(max_length=100, pattern=PRINTABLE, description="only tickets of this queue")]
By = Annotated[GroupBy, Query(description="response-times: group by channel, queue or agent (current assignee)")]
IncludePending = Annotated[bool, Query(description="response-times: count time pending on the customer "
                                                   "in resolution times")]
Unit = Annotated[VolumeUnit, Query(description="volume: count new tickets or customer messages")]
IntervalQ = Annotated[Interval, Query(description="mix: one point per day or per week (Monday first)")]


@router.get("/response-times", response_model=ResponseTimesReport, dependencies=READERS)
def response_times(session: SessionDep, period: PeriodDep, channel: Channel = None, queue: Queue = None,
                   by: By = "queue", include_pending: IncludePending = False) -> ResponseTimesReport:
    """First-response and resolution times (count, mean, median, p90 in seconds, wall clock) per channel,
    queue or agent.

    First response: the first customer message to the first agent reply after it, over tickets created
    in the period. Resolution: creation to solved, over tickets solved in the period, without the time
    spent pending unless `include_pending`. p90 interpolates linearly between ranks (numpy's default).
    """
    return service.response_times(session=session, period=period, by=by, channel=channel, queue=queue,
                                  exclude_pending=not include_pending)


@router.get("/sla", response_model=SlaReport, dependencies=READERS)
def sla(session: SessionDep, period: PeriodDep, channel: Channel = None, queue: Queue = None) -> SlaReport:
    """Share of tickets created in the period that met their first-response and resolution targets, per queue
    and priority.

    A target is missed when its breach fired, when it was met late, or when it is overdue now; tickets
    still inside their target are counted as open and left out of the share.
    """
    return service.sla_attainment(session=session, period=period, channel=channel, queue=queue)


@router.get("/volume", response_model=VolumeReport, dependencies=READERS)
def volume(session: SessionDep, period: PeriodDep, channel: Channel = None, queue: Queue = None,
           unit: Unit = "tickets") -> VolumeReport:
    """New tickets (or customer messages) per weekday and local hour: a 7 x 24 matrix, Monday first."""
    return service.volume(session=session, period=period, unit=unit, channel=channel, queue=queue)


@router.get("/backlog", response_model=BacklogReport, dependencies=READERS)
def backlog(session: SessionDep, period: PeriodDep, channel: Channel = None, queue: Queue = None) -> BacklogReport:
    """Unsolved tickets (new, open, pending) at the end of each local day, and the open tickets now by queue
    and age."""
    return service.backlog(session=session, period=period, channel=channel, queue=queue)


@router.get("/mix", response_model=MixReport, dependencies=READERS)
def mix(session: SessionDep, period: PeriodDep, channel: Channel = None, queue: Queue = None,
        interval: IntervalQ = "day") -> MixReport:
    """Tickets created per day or week by intent and by sentiment, as counts and shares."""
    return service.mix(session=session, period=period, interval=interval, channel=channel, queue=queue)


@router.get("/{name}/png", dependencies=READERS, response_class=Response,
            responses={200: {"content": {"image/png": {}}, "description": "the chart"}})
def chart(name: ReportName, session: SessionDep, period: PeriodDep, channel: Channel = None, queue: Queue = None,
          by: By = "queue", include_pending: IncludePending = False, unit: Unit = "tickets",
          interval: IntervalQ = "day") -> Response:
    """The report drawn as a PNG chart (the same one `triage report NAME --png` writes)."""
    report: BaseModel
    if name == "response-times":
        report = response_times(session, period, channel, queue, by, include_pending)
    elif name == "sla":
        report = sla(session, period, channel, queue)
    elif name == "volume":
        report = volume(session, period, channel, queue, unit)
    elif name == "backlog":
        report = backlog(session, period, channel, queue)
    else:
        report = mix(session, period, channel, queue, interval)
    return Response(render_png(report), media_type="image/png")
