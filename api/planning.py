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
from triage.planning.forecast import History, forecast_history, load_history
from triage.planning.schemas import AlertOut, ForecastReport, StaffingReport
from triage.planning.staffing import load_inputs, plan_staffing
from triage.runtime import Triage
from triage.users.service import Role

router = APIRouter(prefix="/api/v1/planning", tags=["planning"])
READERS = [allow(Role.supervisor, Role.qa, Role.data_scientist)]  # as /api/v1/reports

Queue = Annotated[str | None, Query(max_length=100, pattern=PRINTABLE, description="only this queue")]
ChannelQ = Annotated[Literal["email", "chat"] | None, Query(description="only this channel")]
Weeks = Annotated[int, Query(ge=1, le=4, description="weeks ahead (1-4)")]


Backtest = Annotated[bool, Query(description="also measure the model on rolling origins beside the baselines "
                                            "(several more fits per series)")]


def _history(rt: Triage, queue: str | None, channel: str | None) -> History:
    # A short session of its own: SQLite takes its write lock for a whole transaction, and the fits that follow
    # take seconds; the request's SessionDep would hold that lock (and stall the workers) all along.
    with rt.db.session() as session:
        return load_history(session=session, queue=queue, channel=channel,
                            history_weeks=rt.config.planning.history_weeks)


@router.get("/forecast", response_model=ForecastReport, dependencies=READERS)
def forecast(rt: RuntimeDep, queue: Queue = None, channel: ChannelQ = None, weeks: Weeks = 1,
             backtest: Backtest = False) -> ForecastReport:
    """New tickets expected per queue and channel, hour by hour from the current hour; with `backtest`, the
    model's WAPE/MAPE on rolling origins beside seasonal-naive and last-week baselines."""
    return forecast_history(_history(rt, queue, channel), config=rt.config, weeks=weeks,
                            backtest_origins=3 if backtest else 0)


@router.get("/staffing", response_model=StaffingReport, dependencies=READERS)
def staffing(rt: RuntimeDep, queue: Queue = None, channel: ChannelQ = None, weeks: Weeks = 1) -> StaffingReport:
    """Agents needed per hour to meet the SLA (Erlang C for chat, workload for email, shrinkage and occupancy
    cap from `[planning]`) against the agents on shift, with the gap (negative: under-staffed)."""
    history = _history(rt, queue, channel)
    with rt.db.session() as session:
        inputs = load_inputs(session=session, config=rt.config, start=history.start)
    report = forecast_history(history, config=rt.config, weeks=weeks, backtest_origins=0)
    return plan_staffing(report, inputs, config=rt.config)


@router.get("/alerts", response_model=list[AlertOut], dependencies=READERS)
def alerts(session: SessionDep, include_closed: Annotated[bool, Query(description="closed episodes too")] = False,
           limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[AlertOut]:
    """Emerging-issue episodes, newest first: intents and queues above their seasonal baseline and new topics.
    `triage alerts` (one detection pass) opens and notifies them; this route only reads."""
    return list_alerts(session=session, include_closed=include_closed, limit=limit)


@router.get("/{name}/png", dependencies=READERS, response_class=Response,
            responses={200: {"content": {"image/png": {}}, "description": "the chart"}})
def chart(name: Literal["forecast", "staffing"], rt: RuntimeDep, queue: Queue = None, channel: ChannelQ = None,
          weeks: Weeks = 1) -> Response:
    """The forecast or the staffing plan drawn as a PNG chart (as `triage forecast --png` writes it)."""
    if name == "forecast":
        return Response(forecast_png(forecast(rt, queue, channel, weeks)), media_type="image/png")
    return Response(staffing_png(staffing(rt, queue, channel, weeks)), media_type="image/png")
