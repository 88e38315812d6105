"""The SLA scheduler: fires each warning and breach once, then runs the configured escalations.

The clocks themselves are `triage.sla.service` (pure timer logic and the event claim); this flow adds what
reaches other domains: notification mail through the one composer, webhooks, moving a ticket to the lead.

Safe in several processes: a ticket is taken with FOR UPDATE SKIP LOCKED on PostgreSQL (SQLite has
one writer anyway), and the unique key of `sla_events` is the real claim, so even two processes
looking at the same ticket insert the event once and only the inserter runs the actions. Actions
happen in the same transaction as the claim; mail and webhooks only go to the outbox there, so a
crash either loses both or keeps both, and slow receivers never hold a database lock.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mail.parse import message_id_key
from models.vocabulary import PRIORITIES
from triage.agents.tables import Agent
from triage.config import EscalationRule, TriageConfig
from triage.conversations.bounces import bounce_reason
from triage.conversations.subjects import normalise_subject
from triage.conversations.tables import Message, Ticket
from triage.db import Database, on_postgres, utcnow
from triage.events.service import record
from triage.flows.mail import queue_outgoing, sender_address, written_to
from triage.inbox.tables import InboxItem
from triage.outbox.service import queue_webhook
from triage.routing import service as routing
from triage.sla.service import (
    Event,
    claim_event,
    fired_keys,
    pending_events,
    refresh_sla,
    set_priority,
    ticket_pauses,
    timers,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Fired:
    ticket_id: int
    metric: str
    kind: str
    due_at: datetime


def _name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def check_due(db: Database, config: TriageConfig, *, now: datetime | None = None, limit: int = 1000,
              name: str | None = None) -> list[Fired]:
    """Fire every warning and breach due by `now` (default: the current time); one transaction per ticket."""
    name = name or _name()
    fired: list[Fired] = []
    seen: list[int] = []
    for _ in range(limit):
        moment = now or utcnow()
        with db.transaction() as session:
            query = (select(Ticket).where(Ticket.sla_next_check_at <= moment, Ticket.sla_paused_at.is_(None))
                     .order_by(Ticket.sla_next_check_at, Ticket.id).limit(1))
            if seen:
                # Once per call: `fire_due` fires all that is due, what its escalations made due included. A ticket
                # still due after it (a claim lost to a process yet to commit) waits for the next call; it is never
                # parked, which lost its later warnings and breaches (issue 14).
                query = query.where(Ticket.id.not_in(seen))
            if on_postgres(session):
                query = query.with_for_update(skip_locked=True)
            ticket = session.scalar(query)
            if ticket is None:
                break
            seen.append(ticket.id)
            fired.extend(fire_due(ticket, config, session=session, now=moment, name=name))
    return fired


def fire_due(ticket: Ticket, config: TriageConfig, *, session: Session, now: datetime,
             name: str = "") -> list[Fired]:
    """Claim and act on the ticket's events that are due; then schedule its next check.

    The clocks are read again after every event acted on: an escalation may move them (a raised priority
    brings the resolution deadline forward, perhaps into the past), and what it made due fires now.
    """
    out: list[Fired] = []
    pauses = ticket_pauses(ticket.id, session=session)
    for _ in range(_MAX_EVENTS):
        event = _claim_next(ticket, config, pauses=pauses, session=session, now=now, name=name)
        if event is None:
            break
        timer, kind, at = event
        priority = ticket.priority
        record(f"sla.{kind}", session=session, ticket_id=ticket.id, actor="sla", metric=timer.metric,
               due_at=timer.due_at.isoformat(), priority=priority, late_by_seconds=int((now - at).total_seconds()))
        log.info("SLA %s: ticket #%s %s due %s", kind, ticket.id, timer.metric, timer.due_at.isoformat())
        for rule in config.sla_timers.escalations:
            if rule.matches(kind, timer.metric, priority):
                escalate(ticket, rule, config=config, session=session, metric=timer.metric, kind=kind,
                         due_at=timer.due_at, now=now)
        out.append(Fired(ticket.id, timer.metric, kind, timer.due_at))
    refresh_sla(ticket, config, session=session, now=now)
    if ticket.sla_next_check_at is not None and ticket.sla_next_check_at <= now:
        # Only possible when a claim lost to another process that has not committed yet: look again soon.
        log.debug("ticket #%s still has due SLA events after this pass", ticket.id)
    return out


# Three clocks with a warning and a breach each: a bound against a loop, never reached.
_MAX_EVENTS = 12


def _claim_next(ticket: Ticket, config: TriageConfig, *, pauses: list[tuple[datetime, datetime | None]],
                session: Session, now: datetime, name: str) -> Event | None:
    """The earliest due event of the ticket's current clocks that this process claimed, or None."""
    running = timers(ticket, config, pauses=pauses, now=now)
    due = [(t, kind, at) for t, kind, at in pending_events(running, fired_keys(ticket.id, session=session))
           if at <= now]
    breached = {t.metric for t, kind, _ in due if kind == "breach"}
    for timer, kind, at in due:
        if kind == "warning" and timer.metric in breached:
            continue  # the scheduler was behind: the breach says it all
        if claim_event(ticket.id, timer, kind, session=session, now=now, name=name):
            return timer, kind, at
    return None


def escalate(ticket: Ticket, rule: EscalationRule, *, config: TriageConfig, session: Session, metric: str,
             kind: str, due_at: datetime, now: datetime | None = None) -> None:
    """Run one rule's actions in order; an action that cannot run says why in the event log."""
    now = now or utcnow()
    what = f"SLA {metric.replace('_', ' ')} {kind}"
    for action in rule.actions:
        if action == "raise_priority":
            index = PRIORITIES.index(ticket.priority) if ticket.priority in PRIORITIES else 1
            if index + 1 < len(PRIORITIES):
                set_priority(ticket, PRIORITIES[index + 1], config=config, session=session, actor="sla",
                             reason=what, now=now)
        elif action == "reassign_to_lead":
            _reassign_to_lead(ticket, config=config, session=session, reason=what, now=now)
        elif action == "notify_email":
            _notify(ticket, rule, config=config, session=session, metric=metric, kind=kind, due_at=due_at)
        elif action == "notify_customer":
            notify_customer(ticket, config=config, session=session, metric=metric, kind=kind, due_at=due_at,
                            now=now)
        elif action == "webhook":
            assert rule.webhook_url is not None  # the config validator demands it
            payload = {"event": f"sla.{kind}", "metric": metric, "ticket_id": ticket.id, "due_at": due_at.isoformat(),
                       "priority": ticket.priority, "queue": ticket.queue, "status": ticket.status,
                       "subject": ticket.subject, "assignee": ticket.assignee.email if ticket.assignee else None}
            queue_webhook(rule.webhook_url, payload, session=session, ticket_id=ticket.id, kind=f"sla.{kind}")


def _lead(ticket: Ticket, config: TriageConfig, *, session: Session) -> Agent | None:
    team = config.team(ticket.queue)
    if team is None or team.lead is None:
        return None
    return session.scalar(select(Agent).where(Agent.email == team.lead.lower(), Agent.active.is_(True)))


def _reassign_to_lead(ticket: Ticket, *, config: TriageConfig, session: Session, reason: str, now: datetime) -> None:
    """Tell the lead, and give them the ticket if the routing rules let them take it (issue 14).

    The lead is told in any case (the `sla.escalated` event; a rule's `notify_email` mails them too). The
    ticket moves only within the lead's capacity, status and working hours, as any reassignment: otherwise
    an assigned ticket stays with its agent, and an unassigned one waits in its queue, where the waiting
    order puts it ahead of every ticket of its priority that is not overdue.
    """
    lead = _lead(ticket, config, session=session)
    if lead is None:
        record("sla.escalation_skipped", session=session, ticket_id=ticket.id, actor="sla",
               action="reassign_to_lead", reason=f"queue {ticket.queue!r} has no active team lead")
        return
    why = f"{reason}: escalated to the team lead of {ticket.queue}"
    holder = ticket.assignee.email if ticket.assignee else None
    result = routing.escalate_to(ticket, lead.id, session=session, reason=why, actor="sla", now=now)
    if result.moved:
        session.refresh(ticket, ["assignee"])
        note = f"{why}; taken from {holder}" if holder else why
    elif result.outcome == "already_held":
        note = f"{why}; the lead already holds it"
    elif result.outcome == "kept":
        note = f"{why}; not moved: {result.reason}, so it stays with {holder}"
    else:
        note = (f"{why}; not moved: {result.reason}, so it waits in queue {ticket.queue} "
                f"with {result.position} ticket(s) ahead")
    record("sla.escalated", session=session, ticket_id=ticket.id, actor="sla", agent_id=lead.id, lead=lead.email,
           action="reassign_to_lead", outcome=result.outcome, assignee=ticket.assignee.email if ticket.assignee
           else None, position=result.position, reason=note)
    log.info("SLA escalation of ticket #%s to the lead of %s: %s", ticket.id, ticket.queue, result.outcome)


def _notify(ticket: Ticket, rule: EscalationRule, *, config: TriageConfig, session: Session, metric: str,
            kind: str, due_at: datetime) -> None:
    recipients: list[str] = []
    for target in rule.notify:
        if target == "lead":
            team = config.team(ticket.queue)
            address = team.lead if team else None
        elif target == "assignee":
            address = ticket.assignee.email if ticket.assignee else None
        else:
            address = target
        if address and address.lower() not in recipients:
            recipients.append(address.lower())
    sender = sender_address(config, kind="notification")
    if not recipients or sender is None:
        record("sla.escalation_skipped", session=session, ticket_id=ticket.id, actor="sla", action="notify_email",
               reason="no recipient" if not recipients else "no mailbox to send from")
        return
    cal = config.calendar_for(ticket.queue)
    local_due = due_at.astimezone(cal.tz)
    subject = f"[SLA {kind}] #{ticket.id} {metric.replace('_', ' ')} due {local_due:%Y-%m-%d %H:%M %Z}"
    body = (f"Ticket #{ticket.id}: {ticket.subject or '(no subject)'}\n"
            f"{metric.replace('_', ' ')} {'is overdue since' if kind == 'breach' else 'is due at'} "
            f"{local_due:%A %d %B %Y %H:%M %Z}.\n"
            f"Queue: {ticket.queue or '-'}  priority: {ticket.priority}  status: {ticket.status}  "
            f"assignee: {ticket.assignee.email if ticket.assignee else 'nobody'}\n")
    for address in recipients:
        queue_outgoing("notification", config=config, session=session, ticket_id=ticket.id, sender=sender,
                       sender_name=f"{config.company} SLA", to=address, subject=subject, body=body)


def _render(template: str, values: dict[str, Any]) -> str:
    """Configured Jinja2 in a sandbox: configuration is not code."""
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(autoescape=False, keep_trailing_newline=True).from_string(template).render(values)


def notify_customer(ticket: Ticket, *, config: TriageConfig, session: Session, metric: str, kind: str,
                    due_at: datetime, now: datetime) -> Message | None:
    """Tell the customer their ticket is late, in their language (English when no template has it).

    Email goes through the outbox, threaded under the customer's last message; a chat gets a bot message
    in the conversation. Either way the text is kept on the ticket, so agents see what the customer was told.
    A ticket imported from a file (an archive), no address, one that bounces or no mailbox to send from skips
    the notice and says why in the event log.
    """
    conf = config.sla_timers.customer_notice
    chat = ticket.channel == "chat"
    wanted = ticket.reply_language
    language, subject_t, body_t = conf.pick(wanted, chat=chat)
    last = session.scalars(
        select(Message).where(Message.ticket_id == ticket.id, Message.direction == "in", Message.auto_kind.is_(None))
        .order_by(Message.sent_at.desc(), Message.id.desc()).limit(1)).first()
    customer = ticket.customer

    def skipped(reason: str) -> None:
        record("sla.customer_notice_skipped", session=session, ticket_id=ticket.id, actor="sla", metric=metric,
               on=kind, reason=reason)

    if last is None:
        skipped("the ticket has no message from the customer")
        return None
    source = session.scalar(select(InboxItem.source).where(InboxItem.id == last.inbox_id)) if last.inbox_id else None
    if source == "file":  # as for acknowledgements: importing an archive must never write to its customers
        skipped("the customer's message was imported from a file")
        return None
    values = {"ticket_id": ticket.id, "subject": normalise_subject(ticket.subject) or "your message",
              "customer_name": customer.name if customer is not None else None, "company": config.company,
              "queue": ticket.queue, "priority": ticket.priority, "intent": ticket.intent, "metric": metric,
              "kind": kind, "due_at": due_at}
    body = _render(body_t, values)
    dedup = f"sla-notice:{ticket.id}:{metric}:{kind}:{due_at.isoformat()}"
    if chat:
        message = Message(ticket_id=ticket.id, direction="out", author_kind="bot", author="bot", dedup_key=dedup,
                          text=body, full_text=body, auto_kind="sla_notice", language=language or "en",
                          sent_at=now)
        outbox_id = None
    else:
        recipient = last.author if "@" in (last.author or "") else None
        if recipient is None and customer is not None:
            recipient = next((i.value for i in customer.identities if i.kind == "email"), None)
        if recipient is None:
            skipped("the customer has no email address")
            return None
        bouncing = bounce_reason(recipient, session=session)
        if bouncing is not None:
            skipped(f"the address is bouncing ({bouncing})")
            return None
        sender = sender_address(config, kind="notification", written_to=written_to(last.raw))
        if sender is None:
            skipped("no mailbox to send from")
            return None
        subject = _render(subject_t, values)
        refs = [r for r in (last.references or []) if r]
        refs += [last.message_id] if last.message_id and last.message_id not in refs else []
        queued = queue_outgoing("notification", config=config, session=session, ticket_id=ticket.id, sender=sender,
                                sender_name=f"{config.company} Support", to=recipient,
                                to_name=customer.name if customer is not None else None, subject=subject, body=body,
                                in_reply_to=last.message_id, references=list(last.references or []), date=now)
        message = Message(ticket_id=ticket.id, direction="out", author_kind="bot", author=sender,
                          dedup_key=message_id_key(queued.message_id), message_id=queued.message_id,
                          in_reply_to=last.message_id, references=refs, subject=subject, text=body,
                          full_text=body, raw=queued.raw, auto_kind="sla_notice", language=language or "en",
                          sent_at=now)
        outbox_id = queued.id
    session.add(message)
    session.flush()
    record("sla.customer_notified", session=session, ticket_id=ticket.id, actor="sla", metric=metric, on=kind,
           channel=ticket.channel, language=language or "en", wanted_language=wanted,
           fallback=language is None and wanted not in (None, "en"), outbox_id=outbox_id)
    return message
