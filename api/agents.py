"""Agents: who is online and how much they hold; status (agents set their own) and capacity (supervisors)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.orm import Session

from api.deps import Principal, SessionDep, allow
from triage.errors import NotFound
from triage.routing.service import agent_rows, set_capacity, set_status, waiting_count
from triage.users.service import Role

router = APIRouter(prefix="/api/v1/agents", tags=["agents"])

Email = Annotated[str, Path(max_length=320, description="the agent's email address, as in triage.toml")]


class AgentOut(BaseModel):
    email: str
    name: str
    status: str = Field(description="what the router goes by: online reads as away outside working hours")
    status_set: str = Field(description="the status the agent or a supervisor chose")
    status_reason: str = Field(description="why status differs from status_set, e.g. outside working hours")
    on_shift: bool = Field(description="within the agent's working hours, in the agent's time zone")
    active: bool = Field(description="false once the agent was removed from triage.toml (kept for history)")
    teams: list[str]
    open: dict[str, int] = Field(description="open tickets held, per channel")
    capacity: dict[str, int] = Field(description="tickets the agent may hold at once, per channel")
    load_minutes: float = Field(description="expected minutes of work in the open tickets held")


class AgentList(BaseModel):
    agents: list[AgentOut]
    waiting: int = Field(description="open tickets waiting for an agent with room")


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["online", "away", "offline"]


class StatusOut(BaseModel):
    email: str
    status: str
    requeued: int = Field(description="unanswered tickets sent back to the queue (going offline)")
    assigned: int = Field(description="waiting tickets assigned as a result")


class CapacityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    capacity: int | None = Field(default=None, ge=0, le=1000, description="per channel, unless by_channel says")
    by_channel: dict[Literal["email", "chat"], Annotated[int, Field(ge=0, le=1000)]] | None = None

    @model_validator(mode="after")
    def _something(self) -> CapacityIn:
        if self.capacity is None and not self.by_channel:
            raise ValueError("give capacity, by_channel or both")
        return self


@router.get("", response_model=AgentList)
def list_agents(session: SessionDep,
                _user: Annotated[Principal, allow(Role.agent, Role.qa, Role.supervisor)]) -> AgentList:
    """Every agent with status (effective now, and as set), open tickets per channel against capacity, and load."""
    rows = [AgentOut.model_validate(row) for row in agent_rows(session=session)]
    return AgentList(agents=rows, waiting=waiting_count(session=session))


def _row(email: str, *, session: Session) -> AgentOut:
    wanted = email.strip().lower()
    row = next((r for r in agent_rows(session=session) if r["email"] == wanted), None)
    if row is None:
        raise NotFound(f"no agent with email {email!r}")
    return AgentOut.model_validate(row)


@router.post("/{email}/status", response_model=StatusOut)
def change_agent_status(email: Email, body: StatusIn, session: SessionDep,
                        user: Annotated[Principal, allow(Role.agent, Role.supervisor)]) -> StatusOut:
    """Set an agent's status: online takes waiting work at once, offline hands unanswered tickets back.

    Agents may set only their own status.
    """
    email = email.strip().lower()
    if user.role == Role.agent and user.agent_email != email:
        raise HTTPException(403, "agents may set only their own status")
    result = set_status(email, body.status, session=session, actor=user.name)
    return StatusOut(email=email, status=body.status, **result)


@router.post("/{email}/capacity", response_model=AgentOut)
def change_agent_capacity(email: Email, body: CapacityIn, session: SessionDep,
                          user: Annotated[Principal, allow(Role.supervisor)]) -> AgentOut:
    """Change how many tickets an agent holds at once (per channel); more room takes waiting work at once.

    Lasts until triage.toml is applied again (`triage init`, restarting `triage serve`): put a permanent
    change in the file.
    """
    set_capacity(email, session=session, capacity=body.capacity,
                 by_channel={ch: n for ch, n in body.by_channel.items()} if body.by_channel else None, actor=user.name)
    return _row(email, session=session)
