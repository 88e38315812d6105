"""What the API shows of a ticket's SLA: the running clocks, whether they are paused, what has fired."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

SlaMetric = Literal["first_response", "next_response", "resolution"]
SlaTimerState = Literal["ok", "warning", "breached"]


class SlaTimerOut(BaseModel):
    metric: SlaMetric
    started_at: datetime
    warn_at: datetime
    due_at: datetime
    target_minutes: float
    state: SlaTimerState
    seconds_left: int  # negative once breached; stands still while the ticket is pending


class SlaEventOut(BaseModel):
    metric: str
    kind: str  # warning | breach
    due_at: datetime
    fired_at: datetime


class SlaStateOut(BaseModel):
    policy: dict[str, str | None] | None  # the targets that apply (channel and priority), None when no policy does
    paused_since: datetime | None
    first_responded_at: datetime | None
    solved_at: datetime | None
    timers: list[SlaTimerOut]
    events: list[SlaEventOut]
