"""Planning routes (issue 17): volume forecast, staffing to SLA (JSON or PNG), emerging-issue alerts; the same
roles as reports.

The forecast starts at the current hour and learns from `[planning] history_weeks` of tickets; staffing uses
the forecast, handling times learned from the same history and the agents' working hours in triage.toml.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from api.deps import RuntimeDep, SessionDep, allow
from api.reports import PRINTABLE
from triage.planning.alerts import list_alerts
from triage.planning.charts import forecast_png, staffing_png
from triage.planning.forecast import forecast as forecast_volume
from triage.planning.schemas import AlertOut, ForecastReport, StaffingReport
from triage.planning.staffing import staffing as staffing_plan
from triage.users.service import Role

router = APIRouter(prefix="/api/v1/planning", tags=["planning"])
READERS = [allow(Role.supervisor, Role.qa, Role.data_scientist)]  # as /api/v1/reports

Queue = Annotated[str | None, Query(max_length=100, pattern=PRINTABLE, description="only this queue")]
ChannelQ = Annotated[Literal["email", "chat"] | None, Query(description="only this channel")]
Weeks = Annotated[int, Query(ge=1, le=4, description="weeks ahead (1-4)")]


@router.get("/forecast", response_model=ForecastReport, dependencies=READERS)
def forecast(rt: RuntimeDep, session: SessionDep, queue: Queue = None, channel: ChannelQ = None,
             weeks: Weeks = 1) -> ForecastReport:
    """New tickets expected per queue and channel, hour by hour from the current hour, with the backtest
    (WAPE/MAPE on rolling origins) of the model beside seasonal-naive and last-week baselines."""
    return forecast_volume(session=session, config=rt.config, weeks=weeks, queue=queue, channel=channel,
                           history_weeks=rt.config.planning.history_weeks)


@router.get("/staffing", response_model=StaffingReport, dependencies=READERS)
def staffing(rt: RuntimeDep, session: SessionDep, queue: Queue = None, channel: ChannelQ = None,
             weeks: Weeks = 1) -> StaffingReport:
    """Agents needed per hour to meet the SLA (Erlang C for chat, workload for email, shrinkage and occupancy
    cap from `[planning]`) against the agents on shift, with the gap (negative: under-staffed)."""
    return staffing_plan(session=session, config=rt.config, weeks=weeks, queue=queue, channel=channel)


@router.get("/alerts", response_model=list[AlertOut], dependencies=READERS)
def alerts(session: SessionDep, include_closed: Annotated[bool, Query(description="closed episodes too")] = False,
           limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[AlertOut]:
    """Emerging-issue episodes, newest first: intents and queues above their seasonal baseline and new topics.
    `triage alerts` (one detection pass) opens and notifies them; this route only reads."""
    return list_alerts(session=session, include_closed=include_closed, limit=limit)


@router.get("/{name}/png", dependencies=READERS, response_class=Response,
            responses={200: {"content": {"image/png": {}}, "description": "the chart"}})
def chart(name: Literal["forecast", "staffing"], rt: RuntimeDep, session: SessionDep, queue: Queue = None,
          channel: ChannelQ = None, weeks: Weeks = 1) -> Response:
    """The forecast or the staffing plan drawn as a PNG chart (as `triage forecast --png` writes it)."""
    if name == "forecast":
        return Response(forecast_png(forecast(rt, session, queue, channel, weeks)), media_type="image/png")
    return Response(staffing_png(staffing(rt, session, queue, channel, weeks)), media_type="image/png")
