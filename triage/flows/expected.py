"""The reply time we tell a customer: the SLA target on the team calendar, corrected by the live queue.

The SLA deadline is what we promise; the queue says what is likely. When agents who can take the
ticket are online, the estimate is the work ahead of it shared among them plus its own handling,
laid onto the business calendar (nobody answers at night). Without anyone online there is no
honest queue estimate, so the SLA deadline stands.

A flow because it joins two domains: the SLA deadline and calendar, and routing's live queue.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from triage.agents.tables import Agent
from triage.config import TriageConfig
from triage.conversations.tables import OPEN_STATUSES, Ticket
from triage.routing.balancer import CHANNELS, estimate_wait
from triage.routing.service import load_effort, waiting_order
from triage.routing.shifts import next_on_shift
from triage.sla.calendar import BusinessCalendar


@dataclass(frozen=True)
class QueueSnapshot:
    """What the queue looks like from one ticket: tickets to be handled first and who can take them."""

    ahead: int
    agents: int
    handling_minutes: float


@dataclass(frozen=True)
class ExpectedReply:
    at: datetime | None  # UTC; None when there is neither a policy nor a queue estimate
    position: int  # 1: next in line
    timezone: str  # the zone the customer is told the time in


def expected_reply_at(*, now: datetime, sla_due: datetime | None, calendar: BusinessCalendar,
                      snapshot: QueueSnapshot) -> datetime | None:
    """Pure: the queue estimate on the business calendar when one exists, else the SLA deadline."""
    wait = estimate_wait(snapshot.ahead, snapshot.handling_minutes, snapshot.agents)
    if wait is None:
        return sla_due
    return calendar.add(now, timedelta(minutes=wait + snapshot.handling_minutes))


def queue_snapshot(ticket: Ticket, *, session: Session) -> QueueSnapshot:
    """Tickets ahead (the assignee's unanswered older ones, or the waiting queue's order) and the agents."""
    handling = load_effort(session=session).expected(ticket.intent, ticket.channel)
    session.flush()
    if ticket.assignee_id is not None:
        ahead = session.scalar(select(func.count()).select_from(Ticket).where(
            Ticket.assignee_id == ticket.assignee_id, Ticket.status.in_(OPEN_STATUSES), Ticket.id != ticket.id,
            Ticket.first_responded_at.is_(None), Ticket.created_at <= ticket.created_at)) or 0
        return QueueSnapshot(int(ahead), 1, handling)
    waiting = list(session.scalars(select(Ticket.id).where(
        Ticket.assignee_id.is_(None), Ticket.status.in_(OPEN_STATUSES), Ticket.queue == ticket.queue)
        .order_by(*waiting_order()).limit(10000)))
    ahead = waiting.index(ticket.id) if ticket.id in waiting else len(waiting)
    agents = [a for a in session.scalars(select(Agent).where(Agent.active.is_(True), Agent.status == "online"))
              if ticket.queue in (a.teams or []) and ticket.channel in (a.channels or CHANNELS)]
    return QueueSnapshot(ahead, len(agents), handling)


def _customer_zone(ticket: Ticket, calendar: BusinessCalendar) -> str:
    name = ticket.customer.timezone if ticket.customer is not None else None
    if name:
        try:
            ZoneInfo(name)
            return name
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return calendar.timezone


def expected_reply(ticket: Ticket, config: TriageConfig, *, session: Session, now: datetime) -> ExpectedReply:
    calendar = config.calendar_for(ticket.queue)
    snapshot = queue_snapshot(ticket, session=session)
    sla_due = ticket.first_response_due if ticket.first_responded_at is None else ticket.next_response_due
    at = expected_reply_at(now=now, sla_due=sla_due, calendar=calendar, snapshot=snapshot)
    return ExpectedReply(at, snapshot.ahead + 1, _customer_zone(ticket, calendar))


def team_back(ticket: Ticket, *, session: Session, now: datetime) -> datetime | None:
    """When the first agent who could take the ticket is on shift again (UTC), if nobody is on shift now.

    Who could take it: active agents of the ticket's queue (its team) who work its channel, by their working
    hours alone (a status set by hand says nothing about when someone is back). None when one of them is on
    shift, or when the team has nobody at all (then there is no time to promise).
    """
    if ticket.queue is None:
        return None
    agents = [a for a in session.scalars(select(Agent).where(Agent.active.is_(True)))
              if ticket.queue in (a.teams or []) and ticket.channel in (a.channels or CHANNELS)]
    backs = [next_on_shift(a.timezone, a.working_hours or "", now) for a in agents]
    if not backs or any(b is None for b in backs):
        return None
    return min(b for b in backs if b is not None)


def _round_up(moment: datetime, minutes: int = 5) -> datetime:
    step = minutes * 60
    ts = math.ceil(moment.timestamp() / step) * step
    return datetime.fromtimestamp(ts, tz=moment.tzinfo)


# The words the values below are made of, for the languages we ship templates in (issue 15); any other
# language gets English ones, and templates can format `expected_reply_at`/`team_back_at` themselves.
_WAIT = {
    "en": ("about a minute", "about {n} minutes", "about {n} hours", "about {n} days"),
    "de": ("etwa eine Minute", "etwa {n} Minuten", "etwa {n} Stunden", "etwa {n} Tage"),
    "fr": ("environ une minute", "environ {n} minutes", "environ {n} heures", "environ {n} jours"),
    "es": ("aproximadamente un minuto", "aproximadamente {n} minutos", "aproximadamente {n} horas",
           "aproximadamente {n} días"),
}
_WEEKDAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
}


def _words(language: str | None) -> str:
    code = (language or "").lower()
    return code if code in _WAIT else "en"


def humanise_wait(wait: timedelta, language: str | None = None) -> str:
    """A wait in words ("about 40 minutes"), in English, German, French or Spanish (else English)."""
    one, minutes_, hours_, days_ = _WAIT[_words(language)]
    minutes = math.ceil(wait.total_seconds() / 60)
    if minutes <= 1:
        return one
    if minutes < 90:
        return minutes_.format(n=minutes)
    if minutes < 36 * 60:
        return hours_.format(n=round(minutes / 60))
    return days_.format(n=round(minutes / 1440))


def template_values(expected: ExpectedReply, *, now: datetime, back: datetime | None = None,
                    language: str | None = None) -> dict[str, Any]:
    """Variables for the acknowledgement templates (times in the customer's zone, rounded up to 5 minutes).

    `back` is when the team is on shift again (`team_back`); words come in `language` where we have them.
    """
    words = _words(language)
    values: dict[str, Any] = {"queue_position": expected.position, "expected_reply": None,
                              "expected_reply_at": None, "expected_reply_date": None, "expected_reply_time": None,
                              "expected_reply_timezone": expected.timezone, "expected_wait": None,
                              "expected_wait_minutes": None, "team_back": None, "team_back_at": None,
                              "team_back_day": None, "team_back_date": None, "team_back_time": None,
                              "team_back_zone": None}
    zone = ZoneInfo(expected.timezone)
    if back is not None:
        local = back.astimezone(zone)
        day = _WEEKDAYS[words][local.weekday()]
        if local.date() - now.astimezone(zone).date() >= timedelta(days=6):
            day += f" {local:%Y-%m-%d}"  # a weekday alone could mean this week (after holidays, say)
        values.update({"team_back": f"{day} {local:%H:%M %Z}", "team_back_at": local, "team_back_day": day,
                       "team_back_date": f"{local:%Y-%m-%d}", "team_back_time": f"{local:%H:%M}",
                       "team_back_zone": f"{local:%Z}"})
    if expected.at is None:
        return values
    local = _round_up(expected.at).astimezone(zone)
    wait = max(timedelta(0), expected.at - now)
    values.update({
        "expected_reply": f"{local:%A %d %B %Y, %H:%M} ({expected.timezone})",
        "expected_reply_at": local, "expected_reply_date": f"{local:%Y-%m-%d}",
        "expected_reply_time": f"{local:%H:%M}", "expected_wait": humanise_wait(wait, words),
        "expected_wait_minutes": math.ceil(wait.total_seconds() / 60)})
    return values
