"""What people do to tickets: change the status, reply, correct a label, move it to an agent.

These join several domains in one place so that the CLI and the API behave the same: a status change
is both an SLA event (clocks pause, stop or resume) and a routing event (a solved ticket frees its
agent's slot and teaches the router how long such work takes); a reply is mail through the outbox and
the agent's response for the SLA clocks; a correction is feedback for training and applies to the ticket.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mail.parse import message_id_key
from models.vocabulary import OUT_OF_SCOPE
from triage.agents.tables import Agent
from triage.config import TriageConfig
from triage.conversations.bounces import bounce_reason
from triage.conversations.subjects import normalise_subject, ticket_token
from triage.conversations.tables import OPEN_STATUSES, TICKET_STATUSES, Message, Ticket
from triage.db import utcnow
from triage.errors import Conflict, InvalidInput, NotFound
from triage.events.service import record
from triage.feedback.service import record_correction
from triage.feedback.tables import LabelFeedback
from triage.flows.mail import queue_outgoing, sender_address, written_to
from triage.outbox.tables import OutboxItem
from triage.routing import service as routing
from triage.sla.service import agent_replied, follow_status

MAX_REPLY = 50_000


@dataclass
class StatusChange:
    ticket: Ticket
    old: str
    new: str
    assigned: int  # waiting tickets that took the freed slot


def change_status(ticket_id: int, status: str, *, config: TriageConfig, session: Session, actor: str,
                  now: datetime | None = None) -> StatusChange:
    """Set a ticket's status (taken under its row lock) with both halves: SLA clocks and the router."""
    status = status.strip().lower()
    _check_status(status)
    ticket = routing.lock_ticket(ticket_id, session=session)
    if ticket is None:
        raise NotFound(f"no ticket #{ticket_id}")
    return apply_status(ticket, status, config=config, session=session, actor=actor, now=now)


def apply_status(ticket: Ticket, status: str, *, config: TriageConfig, session: Session, actor: str = "system",
                 now: datetime | None = None, reroute: bool = True) -> StatusChange:
    """The one place a ticket's status changes: the SLA clocks follow, and so does the router.

    Leaving the open statuses (solved, closed) frees the assignee's slot for the most urgent waiting
    ticket; solving also learns the handling time. Reopening an unassigned ticket routes it again, unless
    `reroute` is False because the caller routes it itself (processing does, once the message is classified).
    """
    _check_status(status)
    old = ticket.status
    if status == old:
        return StatusChange(ticket, old, status, 0)
    now = now or utcnow()
    freeing = reroute and old in OPEN_STATUSES and status not in OPEN_STATUSES
    # Loaded while the ticket still counts as open work, so releasing it removes exactly its slot.
    board = routing.Board.load(session=session, now=now) if freeing else None
    ticket.status = status
    record("ticket.status", session=session, ticket_id=ticket.id, actor=actor, old=old, new=status)
    follow_status(ticket, config=config, session=session, now=now)
    assigned = 0
    if board is not None:
        assigned = routing.release(ticket, board=board, session=session, now=now, learn=status == "solved",
                                   actor=actor)
    elif reroute and old not in OPEN_STATUSES and ticket.assignee_id is None:
        routing.assign(ticket, session=session, now=now)
    return StatusChange(ticket, old, status, assigned)


def _check_status(status: str) -> None:
    if status not in TICKET_STATUSES:
        raise InvalidInput(f"unknown status {status!r}: use one of {', '.join(TICKET_STATUSES)}")


@dataclass
class Reply:
    message: Message
    outbox: OutboxItem | None  # the queued email; None for chat, whose widget reads the ticket's messages


def reply(ticket_id: int, text: str, *, config: TriageConfig, session: Session, actor: str,
          agent_id: int | None = None, now: datetime | None = None) -> Reply:
    """Store an agent's answer on the ticket and send it: email through the outbox, chat for the widget.

    It counts as the agent's response for the SLA clocks. `actor` is who wrote it (kept on the message
    when no agent is named).
    """
    if not text.strip():
        raise InvalidInput("the reply is empty")
    if len(text) > MAX_REPLY:
        raise InvalidInput(f"the reply is longer than {MAX_REPLY} characters")
    now = now or utcnow()
    ticket = routing.lock_ticket(ticket_id, session=session)
    if ticket is None:
        raise NotFound(f"no ticket #{ticket_id}")
    if ticket.status == "closed":
        raise Conflict(f"ticket #{ticket_id} is closed; a new message from the customer opens a new one")
    agent = session.get(Agent, agent_id) if agent_id is not None else None
    author = agent.email if agent is not None else actor
    queued: OutboxItem | None = None
    if ticket.channel == "email":
        last = _last_customer_message(ticket, session=session)
        queued = _queue_email(ticket, last, text, agent, config=config, session=session, now=now)
        message = Message(ticket_id=ticket.id, direction="out", author_kind="agent", author=author[:320],
                          dedup_key=message_id_key(queued.message_id), message_id=queued.message_id,
                          in_reply_to=last.message_id, references=_references(last), subject=queued.subject,
                          text=text, full_text=text, raw=queued.raw, sent_at=now)
    else:
        message = Message(ticket_id=ticket.id, direction="out", author_kind="agent", author=author[:320],
                          dedup_key=f"reply:{uuid.uuid4().hex}", text=text, full_text=text, sent_at=now)
    session.add(message)
    session.flush()
    if ticket.last_message_at is None or now > ticket.last_message_at:
        ticket.last_message_at = now
    agent_replied(ticket, now, config=config, session=session)
    record("ticket.replied", session=session, ticket_id=ticket.id, actor=actor, message_id=message.id,
           channel=ticket.channel, outbox_id=queued.id if queued is not None else None)
    return Reply(message, queued)


def _last_customer_message(ticket: Ticket, *, session: Session) -> Message:
    found = session.scalars(
        select(Message).where(Message.ticket_id == ticket.id, Message.direction == "in",
                              Message.auto_kind.is_(None))
        .order_by(Message.sent_at.desc(), Message.id.desc()).limit(1)).first()
    if found is None:
        raise Conflict(f"ticket #{ticket.id} has no message from the customer to answer")
    return found


def _references(last: Message) -> list[str]:
    refs = [r for r in (last.references or []) if r]
    return refs + ([last.message_id] if last.message_id and last.message_id not in refs else [])


def _queue_email(ticket: Ticket, last: Message, text: str, agent: Agent | None, *, config: TriageConfig,
                 session: Session, now: datetime) -> OutboxItem:
    """Compose the answer to the customer's latest message, threaded under it, and queue it."""
    recipient = last.author if "@" in (last.author or "") else None
    if recipient is None and ticket.customer is not None:
        recipient = next((i.value for i in ticket.customer.identities if i.kind == "email"), None)
    if recipient is None:
        raise Conflict(f"the customer of ticket #{ticket.id} has no email address to answer")
    bouncing = bounce_reason(recipient, session=session)
    if bouncing is not None:  # issue 14: nothing more goes to an address that bounced until a person clears it
        raise Conflict(f"mail to the customer of ticket #{ticket.id} bounces ({bouncing}); "
                       "clear it with `triage customers clear-bounce` once the address is fixed")
    sender = sender_address(config, kind="agent_reply", team=ticket.queue, written_to=written_to(last.raw))
    if sender is None:
        raise Conflict("no mailbox to send from: add one under [[mailboxes]] in triage.toml")
    subject = normalise_subject(ticket.subject) or "your message"
    name = f"{agent.name} ({config.company})" if agent is not None else f"{config.company} Support"
    return queue_outgoing("agent_reply", config=config, session=session, ticket_id=ticket.id, sender=sender,
                          sender_name=name, to=recipient, to_name=ticket.customer.name if ticket.customer else None,
                          subject=f"Re: {subject} {ticket_token(ticket.id)}", body=text,
                          in_reply_to=last.message_id, references=list(last.references or []), date=now)


def relabel(ticket_id: int, task: str, label: str, *, session: Session, actor: str,
            message_id: int | None = None, config: TriageConfig | None = None,
            intents: Collection[str] | None = None) -> LabelFeedback:
    """Record an agent's correction of a customer message's label (default: the latest one) as feedback.

    An intent must be one the served model knows (`intents`), one a team in the configuration takes, or out
    of scope. With `config`, an unassigned open ticket follows its new intent to that intent's queue and is
    routed there; an assigned one stays with its agent (moving an agent's work is a supervisor's reassign).
    """
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"no ticket #{ticket_id}")
    if message_id is None:
        message_id = _last_customer_message(ticket, session=session).id
    else:
        message = session.get(Message, message_id)
        if message is None or message.ticket_id != ticket_id:
            raise NotFound(f"ticket #{ticket_id} has no message #{message_id}")
    if task == "intent" and intents is not None:
        known = set(intents) | {OUT_OF_SCOPE}
        if config is not None:
            known |= {intent for team in config.teams for intent in team.intents}
        if (label or "").strip() not in known:
            raise InvalidInput(f"unknown intent {label!r}: choose one of {', '.join(sorted(known))}")
    feedback = record_correction(session=session, message_id=message_id, task=task, label=label, actor=actor)
    if task == "intent" and config is not None:
        _follow_intent(ticket, config, session=session, actor=actor)
    return feedback


def _follow_intent(ticket: Ticket, config: TriageConfig, *, session: Session, actor: str) -> None:
    queue = config.team_for_intent(ticket.intent)
    if ticket.assignee_id is not None or ticket.status not in OPEN_STATUSES or queue == ticket.queue:
        return
    record("ticket.requeued", session=session, ticket_id=ticket.id, actor=actor, queue=queue,
           previous_queue=ticket.queue, reason=f"intent relabelled to {ticket.intent}")
    ticket.queue = queue
    routing.assign(ticket, session=session)


def reassign(ticket_id: int, email: str, *, session: Session, reason: str, actor: str, force: bool = False,
             now: datetime | None = None) -> dict[str, int]:
    """A supervisor moves a ticket to an agent: refused above capacity or to an agent not online unless forced.

    Routing's rules decide; this is the ticket action the API and the CLI call, beside the others here.
    """
    return routing.reassign(ticket_id, email, session=session, reason=reason, actor=actor, force=force, now=now)
