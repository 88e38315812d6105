"""What operators watch: backlogs, SLA breaches, readiness. Plain queries; the API turns them into metrics."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from triage.conversations.tables import OPEN_STATUSES, Ticket
from triage.db import Database, current_revision, head_revision
from triage.inbox.tables import FAILED, ORPHAN, PENDING, QUARANTINED, InboxItem
from triage.outbox.tables import FAILED as OUTBOX_FAILED
from triage.outbox.tables import QUEUED, OutboxItem
from triage.sla.tables import SlaEvent


@dataclass
class Backlog:
    """Counts at one moment: what waits to be processed, sent or answered, and breaches so far."""

    inbox: dict[str, int] = field(default_factory=dict)  # pending, failed, quarantined, orphan
    outbox: dict[str, int] = field(default_factory=dict)  # queued, failed
    open_tickets: dict[str, int] = field(default_factory=dict)  # by queue ("" when not queued yet)
    waiting_for_agent: int = 0
    sla_breaches: dict[str, int] = field(default_factory=dict)  # by metric, ever fired


def backlog(*, session: Session) -> Backlog:
    """Grouped counts only, so a scrape stays cheap however large the tables grow."""
    out = Backlog()
    waiting = (PENDING, FAILED, QUARANTINED, ORPHAN)
    inbox = dict(session.execute(select(InboxItem.status, func.count()).where(
        InboxItem.status.in_(waiting)).group_by(InboxItem.status)).all())
    out.inbox = {status: int(inbox.get(status, 0)) for status in waiting}
    outbox = dict(session.execute(select(OutboxItem.status, func.count()).where(
        OutboxItem.status.in_((QUEUED, OUTBOX_FAILED))).group_by(OutboxItem.status)).all())
    out.outbox = {status: int(outbox.get(status, 0)) for status in (QUEUED, OUTBOX_FAILED)}
    rows = session.execute(select(Ticket.queue, func.count()).where(Ticket.status.in_(OPEN_STATUSES))
                           .group_by(Ticket.queue)).all()
    out.open_tickets = {queue or "": int(n) for queue, n in rows}
    out.waiting_for_agent = int(session.scalar(select(func.count()).select_from(Ticket).where(
        Ticket.assignee_id.is_(None), Ticket.status.in_(OPEN_STATUSES))) or 0)
    breaches = session.execute(select(SlaEvent.metric, func.count()).where(SlaEvent.kind == "breach")
                               .group_by(SlaEvent.metric)).all()
    out.sla_breaches = {metric: int(n) for metric, n in breaches}
    return out


def database_problems(db: Database) -> list[str]:
    """Why the database cannot serve requests yet (unreachable, schema behind); empty when it can."""
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means "not ready"; the message says which
        first = (str(exc).splitlines() or [""])[0]
        return [f"database unreachable: {type(exc).__name__}: {first[:200]}"]
    current, head = current_revision(db.engine), head_revision(db.engine)
    if current != head:
        return [f"database schema is at {current or 'nothing'}, the code expects {head}"]
    return []
