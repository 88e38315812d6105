"""Live notices for the desk over server-sent events: a ticket was just assigned to me; a customer wrote on mine.

The assignment history (`assignments`, append-only) and the messages table are the feeds, each read by id, so
any process that assigns or stores mail (the router in a worker, a supervisor in another `triage serve`) is
heard without a message bus. Each event's id carries both cursors ("assignment.message"), so `Last-Event-ID`
lets a reconnecting browser continue both feeds where it stopped. A stream ends after a few minutes and the browser
reconnects by itself (EventSource), so a server shutting down never waits long for open streams.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Annotated

import anyio
from fastapi import APIRouter, Header, Request, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from api.deps import RuntimeDep
from api.desk.auth import DeskUser
from api.sse import event_stream, polled_events
from triage.agents.tables import Assignment
from triage.conversations.tables import Message, Ticket

router = APIRouter(include_in_schema=False)

POLL_SECONDS = 2.0
STREAM_SECONDS = 300.0
KEEPALIVE_SECONDS = 20.0  # a comment line now and then keeps proxies from closing an idle stream


@dataclass(frozen=True)
class AssignedNotice:
    id: int  # the assignment's id: the event id a browser sends back as Last-Event-ID
    ticket_id: int
    subject: str
    priority: str
    actor: str


def last_assignment_id(*, session: Session) -> int:
    return int(session.scalar(select(func.max(Assignment.id))) or 0)


def assigned_since(agent_id: int, after_id: int, *, session: Session, limit: int = 50) -> list[AssignedNotice]:
    """Tickets given to this agent after assignment `after_id`, oldest first."""
    rows = session.execute(
        select(Assignment.id, Assignment.ticket_id, Ticket.subject, Ticket.priority, Assignment.actor)
        .join(Ticket, Ticket.id == Assignment.ticket_id)
        .where(Assignment.id > after_id, Assignment.agent_id == agent_id,
               Assignment.action.in_(("assigned", "reassigned")))
        .order_by(Assignment.id).limit(limit))
    return [AssignedNotice(id=r.id, ticket_id=r.ticket_id, subject=r.subject or "(no subject)",
                           priority=r.priority, actor=r.actor) for r in rows]


@dataclass(frozen=True)
class WroteNotice:
    id: int  # the message's id: the second half of the event id
    ticket_id: int
    subject: str
    channel: str
    priority: str


def last_message_id(*, session: Session) -> int:
    return int(session.scalar(select(func.max(Message.id))) or 0)


def customer_wrote_since(agent_id: int, after_id: int, *, session: Session, limit: int = 50) -> list[WroteNotice]:
    """Customers' new messages (after message `after_id`) on tickets now assigned to this agent, oldest first.

    A ticket's first message is left out: a new ticket reaches its agent as an `assigned` notice already.
    Automatic mail (bounces, auto-replies) is no customer writing.
    """
    earlier = aliased(Message)  # its own FROM: not correlated with the outer query's messages
    first = select(func.min(earlier.id)).where(earlier.ticket_id == Ticket.id).scalar_subquery()
    rows = session.execute(
        select(Message.id, Message.ticket_id, Ticket.subject, Ticket.channel, Ticket.priority)
        .join(Ticket, Ticket.id == Message.ticket_id)
        .where(Message.id > after_id, Message.direction == "in", Message.author_kind == "customer",
               Message.auto_kind.is_(None), Ticket.assignee_id == agent_id, Message.id != first)
        .order_by(Message.id).limit(limit))
    return [WroteNotice(id=r.id, ticket_id=r.ticket_id, subject=r.subject or "(no subject)", channel=r.channel,
                        priority=r.priority) for r in rows]


def parse_event_id(value: str | None) -> tuple[int, int | None] | None:
    """`assignment.message` cursors from Last-Event-ID; a bare number (assignments only) is still understood."""
    if not value:
        return None
    head, _, tail = value.partition(".")
    if not head.isdigit() or (tail and not tail.isdigit()):
        return None
    return int(head), int(tail) if tail else None


@router.get("/events")
async def desk_events(request: Request, desk: DeskUser, rt: RuntimeDep,
                      last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=41)] = None,
                      ) -> Response:
    """`assigned` and `wrote` events for the signed-in agent; 204 (EventSource then stops asking) for people
    without a queue."""
    agent_id = desk.principal.agent_id
    if agent_id is None:
        return Response(status_code=204)

    def start(resumed: tuple[int, int | None] | None) -> tuple[int, int]:
        with rt.db.session() as session:
            if resumed is None:  # a new page: only what happens from now on
                return last_assignment_id(session=session), last_message_id(session=session)
            assigned, wrote = resumed
            return assigned, wrote if wrote is not None else last_message_id(session=session)

    def read(cursors: tuple[int, int]) -> tuple[list[AssignedNotice], list[WroteNotice]]:
        with rt.db.session() as session:
            return (assigned_since(agent_id, cursors[0], session=session),
                    customer_wrote_since(agent_id, cursors[1], session=session))

    cursors = (0, 0)

    async def begin() -> None:  # where this stream starts: now, or after Last-Event-ID
        nonlocal cursors
        cursors = await anyio.to_thread.run_sync(start, parse_event_id(last_event_id))

    async def poll() -> list[str]:
        nonlocal cursors
        assigned, wrote = await anyio.to_thread.run_sync(read, cursors)
        assigned_at, wrote_at = cursors
        events = []
        for notice in assigned:
            assigned_at = notice.id
            events.append(f"id: {assigned_at}.{wrote_at}\nevent: assigned\ndata: {json.dumps(asdict(notice))}\n\n")
        for wrote_notice in wrote:
            wrote_at = wrote_notice.id
            events.append(f"id: {assigned_at}.{wrote_at}\nevent: wrote\ndata: {json.dumps(asdict(wrote_notice))}\n\n")
        cursors = assigned_at, wrote_at
        return events

    return event_stream(polled_events(poll, retry_ms=3000, seconds=STREAM_SECONDS, every=POLL_SECONDS,
                                      keepalive=KEEPALIVE_SECONDS, begin=begin))
