"""Live notices for the desk over server-sent events: a ticket was just assigned to me.

The assignment history (`assignments`, append-only) is the feed, read by id, so any process that assigns (the
router in a worker, a supervisor in another `triage serve`) is heard without a message bus; `Last-Event-ID`
lets a reconnecting browser continue where it stopped. A stream ends after a few minutes and the browser
reconnects by itself (EventSource), so a server shutting down never waits long for open streams.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from typing import Annotated

import anyio
from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.deps import RuntimeDep
from api.desk.auth import DeskUser
from triage.agents.tables import Assignment
from triage.conversations.tables import Ticket

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


@router.get("/events")
async def desk_events(request: Request, desk: DeskUser, rt: RuntimeDep,
                      last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=20)] = None,
                      ) -> Response:
    """`assigned` events for the signed-in agent; 204 (EventSource then stops asking) for people without a queue."""
    agent_id = desk.principal.agent_id
    if agent_id is None:
        return Response(status_code=204)

    def read(after: int | None) -> tuple[int, list[AssignedNotice]]:
        with rt.db.session() as session:
            if after is None:  # a new page: only what is assigned from now on
                return last_assignment_id(session=session), []
            found = assigned_since(agent_id, after, session=session)
            return (found[-1].id if found else after), found

    async def stream() -> AsyncIterator[str]:
        cursor, _ = await anyio.to_thread.run_sync(
            read, int(last_event_id) if last_event_id and last_event_id.isdigit() else None)
        yield "retry: 3000\n\n"
        started = quiet_since = time.monotonic()
        while time.monotonic() - started < STREAM_SECONDS:
            cursor, found = await anyio.to_thread.run_sync(read, cursor)
            for notice in found:
                yield f"id: {notice.id}\nevent: assigned\ndata: {json.dumps(asdict(notice))}\n\n"
                quiet_since = time.monotonic()
            if time.monotonic() - quiet_since > KEEPALIVE_SECONDS:
                yield ": still here\n\n"
                quiet_since = time.monotonic()
            await anyio.sleep(POLL_SECONDS)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
