"""Baseline routing: the online agent of the ticket's queue with the lowest load relative to capacity.

Never above capacity: when every agent is full the ticket waits unassigned in its queue.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from triage.agents.tables import Agent, Assignment
from triage.conversations.tables import OPEN_STATUSES, Ticket
from triage.db import utcnow
from triage.events.service import record


def agent_loads(agent_ids: list[int], *, session: Session) -> dict[int, int]:
    """Open tickets held by each agent."""
    if not agent_ids:
        return {}
    rows = session.execute(
        select(Ticket.assignee_id, func.count()).where(Ticket.assignee_id.in_(agent_ids),
                                                       Ticket.status.in_(OPEN_STATUSES))
        .group_by(Ticket.assignee_id)
    )
    loads = {agent_id: 0 for agent_id in agent_ids}
    loads.update({int(agent_id): int(n) for agent_id, n in rows})
    return loads


def queue_agents(queue: str, *, session: Session, lock: bool = False) -> list[Agent]:
    """Active online agents of a queue; `lock` takes row locks so concurrent workers serialise."""
    query = select(Agent).where(Agent.active.is_(True), Agent.status == "online").order_by(Agent.id)
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return [a for a in session.scalars(query) if queue in (a.teams or [])]


def assign(ticket: Ticket, *, session: Session, now: datetime | None = None) -> Agent | None:
    """Assign the ticket to the least-loaded online agent with room; record why, or that it waits."""
    now = now or utcnow()
    agents = queue_agents(ticket.queue or "", session=session, lock=True)
    loads = agent_loads([a.id for a in agents], session=session)
    candidates = [a for a in agents if a.capacity > 0 and loads[a.id] < a.capacity]
    if not candidates:
        reason = "no online agent in queue" if not agents else "all agents in queue at capacity"
        session.add(Assignment(ticket_id=ticket.id, agent_id=None, action="queued", reason=reason))
        record("ticket.queued", session=session, ticket_id=ticket.id, queue=ticket.queue, reason=reason)
        return None
    # Lowest load relative to capacity, then the longest idle, then the oldest agent record.
    epoch = datetime.min.replace(tzinfo=now.tzinfo)
    best = min(candidates, key=lambda a: (loads[a.id] / a.capacity, a.last_assigned_at or epoch, a.id))
    ticket.assignee_id = best.id
    best.last_assigned_at = now
    reason = f"least loaded in {ticket.queue}: {loads[best.id]}/{best.capacity} open before this ticket"
    session.add(Assignment(ticket_id=ticket.id, agent_id=best.id, action="assigned", reason=reason))
    record("ticket.assigned", session=session, ticket_id=ticket.id, agent=best.email, reason=reason)
    session.flush()
    return best
