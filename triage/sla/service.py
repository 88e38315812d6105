"""SLA clocks: due times in business hours, pauses while pending, and what the scheduler fires.

Three clocks per ticket: first response and resolution run from the ticket's creation; next response
runs from the oldest customer message left unanswered after the first reply. Targets come from the
policy for the ticket's channel and priority and are measured in the business hours of its team's
calendar. Time spent pending (waiting on the customer) does not count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from models.vocabulary import PRIORITIES
from triage.config import TriageConfig, parse_duration
from triage.conversations.tables import Ticket
from triage.db import on_postgres, utcnow
from triage.events.service import record
from triage.sla.calendar import BusinessCalendar
from triage.sla.schemas import SlaEventOut, SlaMetric, SlaStateOut, SlaTimerOut, SlaTimerState
from triage.sla.tables import SlaEvent, SlaPause

STOPPED_STATUSES = ("solved", "closed")  # no clock runs
PAUSED_STATUS = "pending"


@dataclass(frozen=True)
class Timer:
    """One running clock: when it started, when the warning and the breach are due."""

    metric: SlaMetric
    started_at: datetime
    warn_at: datetime
    due_at: datetime
    target: timedelta


def _paused_time(cal: BusinessCalendar, since: datetime, pauses: Iterable[tuple[datetime, datetime]]) -> timedelta:
    total = timedelta(0)
    for start, end in pauses:
        if end > since:
            total += cal.business_time_between(max(start, since), end)
    return total


def _timer(metric: SlaMetric, start: datetime, target: timedelta, cal: BusinessCalendar, warn_share: float,
           pauses: list[tuple[datetime, datetime]]) -> Timer:
    paused = _paused_time(cal, start, pauses)
    due = cal.add(start, target + paused).replace(microsecond=0)
    warn = cal.add(start, target * warn_share + paused).replace(microsecond=0)
    return Timer(metric, start, min(warn, due), due, target)


def timers(ticket: Ticket, config: TriageConfig, *, pauses: Iterable[tuple[datetime, datetime | None]] = (),
           now: datetime | None = None) -> list[Timer]:
    """The clocks that run for a ticket (pure: no database, `pauses` as (start, end or None))."""
    policy = config.sla_for(ticket.channel, ticket.priority)
    if policy is None or ticket.status in STOPPED_STATUSES:
        return []
    moment = now or utcnow()
    closed = [(start, end or max(start, moment)) for start, end in pauses]
    cal = config.calendar_for(ticket.queue)
    warn = config.sla_timers.warn_at
    out = []
    if ticket.first_responded_at is None:
        out.append(_timer("first_response", ticket.created_at, parse_duration(policy.first_response), cal, warn,
                          closed))
    elif policy.next_response and ticket.awaiting_reply_since is not None:
        out.append(_timer("next_response", ticket.awaiting_reply_since, parse_duration(policy.next_response), cal,
                          warn, closed))
    out.append(_timer("resolution", ticket.created_at, parse_duration(policy.resolution), cal, warn, closed))
    return out


def apply_sla(ticket: Ticket, config: TriageConfig, *, start: datetime) -> None:
    """Set first-response and resolution due times from `start` (no pauses); no policy means no due times."""
    policy = config.sla_for(ticket.channel, ticket.priority)
    if policy is None:
        ticket.first_response_due = ticket.resolution_due = None
        return
    cal = config.calendar_for(ticket.queue)
    if ticket.first_responded_at is None:
        ticket.first_response_due = cal.add(start, parse_duration(policy.first_response))
    ticket.resolution_due = cal.add(start, parse_duration(policy.resolution))


def ticket_pauses(ticket_id: int, *, session: Session) -> list[tuple[datetime, datetime | None]]:
    rows = session.execute(select(SlaPause.started_at, SlaPause.ended_at).where(SlaPause.ticket_id == ticket_id)
                           .order_by(SlaPause.started_at))
    return [(start, end) for start, end in rows]


def fired_keys(ticket_id: int, *, session: Session) -> set[tuple[str, str, datetime]]:
    rows = session.execute(select(SlaEvent.metric, SlaEvent.kind, SlaEvent.clock_started_at)
                           .where(SlaEvent.ticket_id == ticket_id))
    return {(metric, kind, started) for metric, kind, started in rows}


Event = tuple[Timer, str, datetime]  # (timer, "warning" | "breach", when)


def pending_events(running: Iterable[Timer], fired: set[tuple[str, str, datetime]]) -> list[Event]:
    """(timer, kind, at) not fired yet, earliest first; a warning is moot once its breach fired."""
    out = []
    for t in running:
        if (t.metric, "breach", t.started_at) in fired:
            continue
        out.append((t, "breach", t.due_at))
        if (t.metric, "warning", t.started_at) not in fired:
            out.append((t, "warning", t.warn_at))
    return sorted(out, key=lambda e: (e[2], e[1] == "breach"))


def claim_event(ticket_id: int, timer: Timer, kind: str, *, session: Session, now: datetime, name: str) -> bool:
    """Insert the event row unless it exists; True only for the one caller whose insert took.

    The unique key of `sla_events` is the real claim: two processes looking at the same ticket insert the
    event once, and only the inserter acts on it.
    """
    insert = pg_insert if on_postgres(session) else sqlite_insert
    stmt = insert(SlaEvent).values(ticket_id=ticket_id, metric=timer.metric, kind=kind,
                                   clock_started_at=timer.started_at, due_at=timer.due_at if kind == "breach"
                                   else timer.warn_at, fired_at=now, fired_by=name[:200])
    result = session.execute(stmt.on_conflict_do_nothing(
        index_elements=["ticket_id", "metric", "kind", "clock_started_at"]))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def refresh_sla(ticket: Ticket, config: TriageConfig, *, session: Session, now: datetime | None = None) -> list[Timer]:
    """Recompute and store the ticket's due times and when the scheduler must next look at it."""
    session.flush()
    running = timers(ticket, config, pauses=ticket_pauses(ticket.id, session=session), now=now)
    by_metric = {t.metric: t for t in running}
    if config.sla_for(ticket.channel, ticket.priority) is None:
        ticket.first_response_due = ticket.resolution_due = None
    if "first_response" in by_metric:
        ticket.first_response_due = by_metric["first_response"].due_at
    if "resolution" in by_metric:
        ticket.resolution_due = by_metric["resolution"].due_at
    nxt = by_metric.get("next_response")
    ticket.next_response_due = nxt.due_at if nxt else None
    upcoming = pending_events(running, fired_keys(ticket.id, session=session))
    paused = ticket.sla_paused_at is not None
    ticket.sla_next_check_at = upcoming[0][2] if upcoming and not paused else None
    session.flush()
    return running


def customer_wrote(ticket: Ticket, at: datetime) -> None:
    """A customer message starts the next-response clock unless an older one is still unanswered."""
    if ticket.awaiting_reply_since is None or at < ticket.awaiting_reply_since:
        ticket.awaiting_reply_since = at


def agent_replied(ticket: Ticket, at: datetime, *, config: TriageConfig, session: Session) -> None:
    """An agent's reply answers the customer: first response recorded, next-response clock stopped."""
    if ticket.first_responded_at is None or at < ticket.first_responded_at:
        ticket.first_responded_at = at
    if ticket.awaiting_reply_since is not None and at >= ticket.awaiting_reply_since:
        ticket.awaiting_reply_since = None
    if ticket.status == "new":
        ticket.status = "open"
    refresh_sla(ticket, config, session=session, now=at)


def follow_status(ticket: Ticket, *, config: TriageConfig, session: Session, now: datetime | None = None) -> None:
    """The clocks after a status change (`ticket.status` is already the new one): pending pauses them,
    leaving pending resumes them, solved and closed stop them. `triage.flows.tickets` changes statuses."""
    status, moment = ticket.status, now or utcnow()
    if status == PAUSED_STATUS and ticket.sla_paused_at is None:
        ticket.sla_paused_at = moment
        session.add(SlaPause(ticket_id=ticket.id, started_at=moment))
    elif status != PAUSED_STATUS and ticket.sla_paused_at is not None:
        pause = session.scalar(select(SlaPause).where(SlaPause.ticket_id == ticket.id, SlaPause.ended_at.is_(None)))
        if pause is not None:
            pause.ended_at = max(moment, pause.started_at)
        ticket.sla_paused_at = None
    if status == "solved":
        ticket.solved_at = moment
    elif status != "closed":
        ticket.solved_at = None
    refresh_sla(ticket, config, session=session, now=moment)


def set_priority(ticket: Ticket, priority: str, *, config: TriageConfig, session: Session, actor: str = "system",
                 reason: str = "", now: datetime | None = None) -> None:
    """Change the priority and move the deadlines to the new policy's targets."""
    if priority not in PRIORITIES:
        raise ValueError(f"unknown priority {priority!r}: use one of {', '.join(PRIORITIES)}")
    if priority == ticket.priority:
        return
    old, ticket.priority = ticket.priority, priority
    record("ticket.priority", session=session, ticket_id=ticket.id, actor=actor, old=old, new=priority,
           reason=reason)
    refresh_sla(ticket, config, session=session, now=now)


def refresh_open_tickets(config: TriageConfig, *, session: Session, batch: int = 500) -> int:
    """Recompute every open ticket's due times, e.g. after a policy or calendar changed in triage.toml."""
    count, last_id = 0, 0
    while True:
        rows = list(session.scalars(select(Ticket).where(Ticket.status.not_in(STOPPED_STATUSES), Ticket.id > last_id)
                                    .order_by(Ticket.id).limit(batch)))
        if not rows:
            return count
        for ticket in rows:
            refresh_sla(ticket, config, session=session)
            count += 1
        last_id = rows[-1].id


def sla_state(ticket: Ticket, config: TriageConfig, *, session: Session, now: datetime | None = None) -> SlaStateOut:
    """The ticket's clocks as an agent sees them: due times, how much is left, and what already fired."""
    moment = now or utcnow()
    policy = config.sla_for(ticket.channel, ticket.priority)
    running = timers(ticket, config, pauses=ticket_pauses(ticket.id, session=session), now=moment)
    fired = list(session.scalars(select(SlaEvent).where(SlaEvent.ticket_id == ticket.id).order_by(SlaEvent.id)))
    breached = {(e.metric, e.clock_started_at) for e in fired if e.kind == "breach"}
    # While pending, `timers` pushes the due times out with the pause, so the time left stands still.
    out = []
    for t in running:
        state: SlaTimerState
        if moment >= t.due_at or (t.metric, t.started_at) in breached:
            state = "breached"
        elif moment >= t.warn_at:
            state = "warning"
        else:
            state = "ok"
        out.append(SlaTimerOut(metric=t.metric, started_at=t.started_at, warn_at=t.warn_at, due_at=t.due_at,
                               target_minutes=t.target.total_seconds() / 60, state=state,
                               seconds_left=int((t.due_at - moment).total_seconds())))
    return SlaStateOut(
        policy=None if policy is None else {"channel": policy.channel, "priority": policy.priority,
                                            "first_response": policy.first_response,
                                            "next_response": policy.next_response, "resolution": policy.resolution},
        paused_since=ticket.sla_paused_at, first_responded_at=ticket.first_responded_at, solved_at=ticket.solved_at,
        timers=out,
        events=[SlaEventOut(metric=e.metric, kind=e.kind, due_at=e.due_at, fired_at=e.fired_at) for e in fired],
    )
