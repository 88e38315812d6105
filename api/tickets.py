"""Ticket routes: list, filter and search; detail with SLA state; status, reply, relabel, reassign.

Agents see and act on the tickets of their own queues and those assigned to them; any other ticket
answers 404, so that ticket ids do not reveal what exists elsewhere.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import MAX_ID, Principal, RowId, RuntimeDep, SessionDep, allow
from api.idempotency import IDEMPOTENT_RESPONSES, IdempotencyDep
from models.vocabulary import Priority, Sentiment, Task
from triage.agents.tables import Agent
from triage.conversations.schemas import MessageOut, TicketDetail, TicketSummary, ticket_detail, ticket_summary
from triage.conversations.service import TicketFilter, get_ticket, list_tickets
from triage.conversations.tables import Ticket
from triage.errors import InvalidInput, ModelMissingError
from triage.flows.tickets import MAX_REPLY, change_status, reassign, relabel, reply
from triage.runtime import Triage
from triage.sla.schemas import SlaStateOut
from triage.sla.service import sla_state
from triage.users.service import Role

router = APIRouter(prefix="/api/v1", tags=["tickets"])

ReaderDep = Annotated[Principal, allow(Role.agent, Role.qa, Role.supervisor)]
WorkerDep = Annotated[Principal, allow(Role.agent, Role.supervisor)]
SupervisorDep = Annotated[Principal, allow(Role.supervisor)]

Status = Literal["new", "open", "pending", "solved", "closed"]


class TicketPage(BaseModel):
    items: list[TicketSummary]
    next_cursor: str | None


class TicketView(TicketDetail):
    sla: SlaStateOut


def _visible(ticket_id: int, user: Principal, *, session: Session) -> Ticket:
    """The ticket if this caller may see it; 404 otherwise (also for tickets outside an agent's queues)."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or not user.sees_ticket(ticket.queue, ticket.assignee_id):
        raise HTTPException(404, f"no ticket #{ticket_id}")
    return ticket


def _agent_id(email: str, *, session: Session) -> int:
    found = session.scalar(select(Agent.id).where(Agent.email == email.strip().lower()))
    if found is None:
        raise HTTPException(422, f"no agent with email {email!r}")
    return found


@router.get("/tickets", response_model=TicketPage)
def tickets(
    session: SessionDep,
    user: ReaderDep,
    status: Annotated[Status | None, Query()] = None,
    queue: Annotated[str | None, Query(max_length=100, description="queue (team) name")] = None,
    assignee: Annotated[str | None, Query(max_length=320, description="the agent's email, `me` (the calling "
                                          "agent) or `none` for unassigned tickets")] = None,
    customer: Annotated[str | None, Query(min_length=1, max_length=320, description="the customer's tickets: "
                                          "any address or chat id they wrote from")] = None,
    intent: Annotated[str | None, Query(max_length=100)] = None,
    needs_review: Annotated[bool | None, Query(description="true: only tickets whose intent was unsure or out of "
                                                           "scope and not yet relabelled by an agent")] = None,
    sentiment: Annotated[Sentiment | None, Query()] = None,
    priority: Annotated[Priority | None, Query()] = None,
    channel: Annotated[Literal["email", "chat"] | None, Query()] = None,
    created_since: Annotated[datetime | None, Query(description="ISO 8601, inclusive")] = None,
    created_until: Annotated[datetime | None, Query(description="ISO 8601, exclusive")] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200,
                                   description="a phrase in the subject or any message (case-insensitive)")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=20, description="next_cursor from the previous page")] = None,
) -> TicketPage:
    """Tickets newest first, filtered and searched, paged with an opaque cursor (pass `next_cursor` back).

    Agents see the tickets of their own queues and those assigned to them. Times without an offset are UTC.
    """
    after = None
    if cursor is not None:
        if not cursor.isdigit():
            raise HTTPException(400, "cursor is not one this API issued")
        after = int(cursor)
    unassigned = assignee is not None and assignee.strip().lower() == "none"
    if assignee is not None and assignee.strip().lower() == "me":
        if user.agent_id is None:
            raise InvalidInput("assignee=me needs an agent's key or session; give the agent's email")
        assignee_id: int | None = user.agent_id
    else:
        assignee_id = _agent_id(assignee, session=session) if assignee and not unassigned else None
    where = TicketFilter(
        assignee_id=assignee_id, unassigned=unassigned, customer=customer,
        intent=intent, sentiment=sentiment, priority=priority, channel=channel,
        needs_review=needs_review,
        created_since=_utc(created_since), created_until=_utc(created_until), q=q)
    rows = list_tickets(session=session, status=status, queue=queue, limit=limit + 1, after_id=after,
                        visible_queues=user.queues, or_assignee=user.agent_id, where=where)
    page = rows[:limit]
    return TicketPage(items=[ticket_summary(t) for t in page],
                      next_cursor=str(page[-1].id) if len(rows) > limit else None)


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@router.get("/tickets/{ticket_id}", response_model=TicketView)
def ticket(ticket_id: RowId, session: SessionDep, user: ReaderDep, rt: RuntimeDep) -> TicketView:
    """One ticket with its messages, classifications, assignment history and SLA clocks."""
    found = get_ticket(ticket_id, session=session)
    # Outside an agent's queues the ticket does not exist for him: 404, so ids do not leak.
    if found is None or not user.sees_ticket(found.queue, found.assignee_id):
        raise HTTPException(404, f"no ticket #{ticket_id}")
    return TicketView(**ticket_detail(found).model_dump(), sla=sla_state(found, rt.config, session=session))


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Status


class StatusOut(BaseModel):
    ticket: TicketSummary
    previous: str
    assigned: int = Field(description="waiting tickets that took the slot this one freed")


@router.post("/tickets/{ticket_id}/status", response_model=StatusOut)
def set_ticket_status(ticket_id: RowId, body: StatusIn, session: SessionDep, rt: RuntimeDep,
                      user: WorkerDep) -> StatusOut:
    """Change the status: pending pauses the SLA clocks; solved and closed stop them and free the agent's
    slot for the most urgent waiting ticket (solving also teaches the router how long such work takes)."""
    _visible(ticket_id, user, session=session)
    change = change_status(ticket_id, body.status, config=rt.config, session=session, actor=user.actor)
    return StatusOut(ticket=ticket_summary(change.ticket), previous=change.old, assigned=change.assigned)


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_REPLY, description="the answer, plain text")
    status: Literal["open", "pending", "solved"] | None = Field(
        default=None, description="also set this status, e.g. pending when waiting on the customer")


class ReplyOut(BaseModel):
    message: MessageOut
    delivery: Literal["email", "chat"]
    outbox_id: int | None = Field(description="the queued email (`triage outbox list`); none for chat")
    ticket: TicketSummary


@router.post("/tickets/{ticket_id}/replies", response_model=ReplyOut, status_code=201,
             responses=IDEMPOTENT_RESPONSES)
def reply_to_ticket(ticket_id: RowId, body: ReplyIn, session: SessionDep, rt: RuntimeDep,
                    user: WorkerDep, idem: IdempotencyDep) -> ReplyOut | Response:
    """Answer the customer. Email goes out through the outbox (threaded under the customer's latest
    message, retried until the relay takes it); a chat answer is stored for the chat widget and read by
    the chat integration (`GET /api/v1/chat/{conversation_id}/messages`). Either way it is the agent's
    response for the SLA clocks. Send an `Idempotency-Key` so that a retry does not answer twice."""
    _visible(ticket_id, user, session=session)
    if (replay := idem.start(body, session=session)) is not None:
        return replay
    sent = reply(ticket_id, body.text, config=rt.config, session=session, actor=user.actor,
                 agent_id=user.agent_id)
    if body.status is not None:
        change_status(ticket_id, body.status, config=rt.config, session=session, actor=user.actor)
    message = sent.message
    ticket = session.get(Ticket, ticket_id)
    assert ticket is not None
    return idem.finish(ReplyOut(
        message=MessageOut(id=message.id, direction=message.direction, author_kind=message.author_kind,
                           author=message.author, sent_at=message.sent_at, subject=message.subject,
                           text=message.text, message_id=message.message_id, in_reply_to=message.in_reply_to,
                           attachments=[], parse_notes=[], classifications=[]),
        delivery="email" if sent.outbox is not None else "chat",
        outbox_id=sent.outbox.id if sent.outbox is not None else None, ticket=ticket_summary(ticket)),
        201, session=session)


class LabelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    task: Task
    label: str = Field(min_length=1, max_length=100)
    message_id: int | None = Field(default=None, ge=1, le=MAX_ID,
                                   description="the customer message corrected (default: its latest)")


class LabelOut(BaseModel):
    feedback_id: int
    message_id: int
    task: str
    old_label: str | None
    label: str
    ticket: TicketSummary


@router.post("/tickets/{ticket_id}/labels", response_model=LabelOut, status_code=201,
             responses=IDEMPOTENT_RESPONSES)
def relabel_ticket(ticket_id: RowId, body: LabelIn, session: SessionDep, user: WorkerDep,
                   rt: RuntimeDep, idem: IdempotencyDep) -> LabelOut | Response:
    """Correct the intent, sentiment or urgency of a customer message; kept as feedback for retraining
    and applied to the ticket (urgency also sets the priority). An intent must be one the model or a team
    knows; an unassigned ticket then moves to that intent's queue and is routed. An `Idempotency-Key`
    keeps a retry from recording the correction twice."""
    ticket = _visible(ticket_id, user, session=session)
    if (replay := idem.start(body, session=session)) is not None:
        return replay
    feedback = relabel(ticket_id, body.task, body.label, session=session, actor=user.actor,
                       message_id=body.message_id, config=rt.config, intents=_served_intents(rt))
    assert feedback.message_id is not None
    return idem.finish(LabelOut(feedback_id=feedback.id, message_id=feedback.message_id, task=feedback.task,
                                old_label=feedback.old_label, label=feedback.label, ticket=ticket_summary(ticket)),
                       201, session=session)


def _served_intents(rt: Triage) -> list[str] | None:
    """The intents the served model knows; None (no check) when no intent model is trained yet."""
    try:
        return [str(c) for c in rt.suite.models["intent"].model.classes_]
    except (ModelMissingError, KeyError, AttributeError):
        return None


class AssigneeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agent: str = Field(min_length=3, max_length=320, description="the agent's email")
    reason: str = Field(min_length=1, max_length=500, description="kept in the assignment history")
    force: bool = Field(default=False, description="assign even above capacity or to an agent not online")


class AssigneeOut(BaseModel):
    ticket: TicketSummary
    assigned: int = Field(description="waiting tickets that took the slot freed at the previous agent")


@router.post("/tickets/{ticket_id}/assignee", response_model=AssigneeOut)
def reassign_ticket(ticket_id: RowId, body: AssigneeIn, session: SessionDep, user: SupervisorDep) -> AssigneeOut:
    """Move a ticket to an agent by hand; refused (409) above capacity or to an agent not online unless
    `force`. The reason and who decided go into the assignment history."""
    _visible(ticket_id, user, session=session)
    _agent_id(body.agent, session=session)
    result = reassign(ticket_id, body.agent, session=session, reason=body.reason, actor=user.name,
                      force=body.force)
    ticket = session.get(Ticket, ticket_id)
    assert ticket is not None
    session.refresh(ticket, ["assignee"])
    return AssigneeOut(ticket=ticket_summary(ticket), assigned=result["assigned"])

