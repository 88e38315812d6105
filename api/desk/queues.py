"""What the desk's queue pages list: open tickets with the clock that runs out first, most pressing on top."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from api.deps import Principal
from models.vocabulary import PRIORITIES
from triage.conversations.schemas import customer_label
from triage.conversations.tables import OPEN_STATUSES, Customer, Ticket

MAX_ROWS = 500  # a queue longer than this is a supervisor's problem, not one page's


@dataclass(frozen=True)
class QueueRow:
    id: int
    subject: str
    customer: str
    channel: str
    status: str
    priority: str
    queue: str | None
    assignee: str | None
    intent: str | None
    intent_confidence: float | None
    sentiment: str | None
    language: str | None
    due: datetime | None  # the SLA clock that runs out first; None when paused or no policy applies
    due_metric: str | None
    waiting_since: datetime | None  # the customer's oldest unanswered message


def next_due(ticket: Ticket) -> tuple[datetime | None, str | None]:
    """The earliest running SLA deadline and its name, read from the ticket's columns (no query per row).

    A pending ticket's clocks are paused (issue 6), so it has no deadline to sort by.
    """
    if ticket.sla_paused_at is not None or ticket.status not in OPEN_STATUSES:
        return None, None
    candidates = [(ticket.first_response_due, "first response") if ticket.first_responded_at is None else (None, ""),
                  (ticket.next_response_due, "next response"), (ticket.resolution_due, "resolution")]
    running = [(due, name) for due, name in candidates if due is not None]
    return min(running) if running else (None, None)


def waiting_since(ticket: Ticket) -> datetime | None:
    if ticket.first_responded_at is None:
        return ticket.created_at
    return ticket.awaiting_reply_since


def _row(ticket: Ticket) -> QueueRow:
    due, metric = next_due(ticket)
    return QueueRow(id=ticket.id, subject=ticket.subject or "(no subject)", customer=customer_label(ticket.customer),
                    channel=ticket.channel, status=ticket.status, priority=ticket.priority, queue=ticket.queue,
                    assignee=ticket.assignee.name if ticket.assignee else None, intent=ticket.intent,
                    intent_confidence=ticket.intent_confidence, sentiment=ticket.sentiment,
                    language=ticket.language, due=due, due_metric=metric, waiting_since=waiting_since(ticket))


def _rank(row: QueueRow) -> tuple[int, float, int, float]:
    # Running deadlines first, earliest first; then the most urgent priority, then whoever has waited longest.
    urgency = -PRIORITIES.index(row.priority) if row.priority in PRIORITIES else 0
    waited = row.waiting_since.timestamp() if row.waiting_since else float("inf")
    return (row.due is None, row.due.timestamp() if row.due else 0.0, urgency, waited)


def _open_tickets(*conditions: object, session: Session) -> list[QueueRow]:
    query = (select(Ticket).where(Ticket.status.in_(OPEN_STATUSES), *conditions)  # type: ignore[arg-type]
             .options(selectinload(Ticket.customer).selectinload(Customer.identities),
                      selectinload(Ticket.assignee))
             .order_by(Ticket.id).limit(MAX_ROWS))
    return sorted((_row(t) for t in session.scalars(query)), key=_rank)


def my_queue(user: Principal, *, session: Session) -> list[QueueRow]:
    """The open tickets assigned to this agent; empty for people who are not agents."""
    if user.agent_id is None:
        return []
    return _open_tickets(Ticket.assignee_id == user.agent_id, session=session)


def team_queue(team: str, *, session: Session) -> list[QueueRow]:
    """A team's open tickets, assigned or waiting; the caller checks the team is visible to the user."""
    return _open_tickets(Ticket.queue == team, session=session)


def visible_teams(user: Principal, teams: list[str]) -> list[str]:
    """The configured teams this person may open: an agent's own, every team for other roles."""
    return [t for t in teams if user.sees_queue(t)]


AT_RISK = 3600  # seconds: a running clock with less than an hour left is shown as at risk


@dataclass(frozen=True)
class TeamLoad:
    team: str
    open: int
    waiting: int  # open and nobody holds it
    at_risk: int
    breached: int


def team_loads(teams: list[str], *, session: Session, now: datetime) -> list[TeamLoad]:
    """Per team: open tickets, those waiting for an agent, and running SLA clocks near or past their end."""
    rows = {team: _open_tickets(Ticket.queue == team, session=session) for team in teams}
    out = []
    for team, tickets in rows.items():
        left = [(r.due - now).total_seconds() for r in tickets if r.due is not None]
        out.append(TeamLoad(team=team, open=len(tickets), waiting=sum(1 for r in tickets if r.assignee is None),
                            at_risk=sum(1 for s in left if 0 <= s < AT_RISK), breached=sum(1 for s in left if s < 0)))
    return out
