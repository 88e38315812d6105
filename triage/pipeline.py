"""Processing one intake row: parse, deduplicate, thread, attach to the customer, classify, route.

Each row is claimed, processed and marked in one transaction. Processing runs inside a savepoint:
when it fails, only its work is undone and the row is marked failed (with the error) in the same
transaction, so nothing accepted is ever lost and a crash mid-way leaves the row pending.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import traceback
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from mail.parse import ParsedEmail, parse_email
from models.suite import URGENCY_ORDER, ClassifierSuite
from triage.config import TriageConfig
from triage.conversations.service import find_message, resolve_customer, thread_chat, thread_email
from triage.conversations.tables import Classification, Message, Ticket
from triage.db import Database, utcnow
from triage.events.service import record
from triage.inbox.service import claim_next
from triage.inbox.tables import DONE, FAILED, InboxItem
from triage.ingest.chat import ChatRecord
from triage.routing.service import assign
from triage.sla.service import URGENCY_TO_PRIORITY, apply_sla

log = logging.getLogger(__name__)

_SUBJECT_PREFIX = re.compile(r"^\s*((re|fwd?|aw|wg|sv|vs|tr|r)(\[\d+\])?\s*:\s*)+", re.IGNORECASE)


def normalise_subject(subject: str) -> str:
    """Subject without reply/forward prefixes (Re:, Fwd:, AW:, SV:, RE[2]:)."""
    return _SUBJECT_PREFIX.sub("", subject or "").strip()


@dataclass
class Pipeline:
    config: TriageConfig
    suite: ClassifierSuite

    def process(self, item: InboxItem, *, session: Session) -> Message:
        """Turn one intake row into a stored message on a ticket (an existing one when it is a duplicate)."""
        if item.kind == "email":
            return self._email(item, session=session)
        if item.kind == "chat":
            return self._chat(item, session=session)
        raise ValueError(f"unknown intake kind {item.kind!r}")

    # -- email --
    def _email(self, item: InboxItem, *, session: Session) -> Message:
        existing = find_message(item.dedup_key, session=session)
        if existing is not None:
            return existing
        parsed = parse_email(item.payload)
        ours = self.config.our_addresses()
        outbound = parsed.from_address in ours
        if outbound:
            others = [a for a in parsed.to + parsed.cc if a not in ours]
            customer_address, customer_name = (others[0] if others else ""), None
        else:
            customer_address, customer_name = parsed.from_address, parsed.from_name or None
        if not customer_address:
            raise ValueError("the message has no usable sender address (From is missing or malformed)")
        customer = resolve_customer([("email", customer_address)], session=session, name=customer_name)
        ticket, how = thread_email(session=session, in_reply_to=parsed.in_reply_to,
                                   references=parsed.references, subject=parsed.subject)
        sent_at = _clamp(parsed.date, item.received_at)
        if ticket is not None and ticket.status == "closed":
            record("ticket.follow_up", session=session, ticket_id=ticket.id)
            ticket = None
        created = ticket is None
        if ticket is None:
            ticket = Ticket(channel="email", subject=normalise_subject(parsed.subject)[:1000],
                            customer_id=customer.id, status="new", created_at=sent_at)
            session.add(ticket)
            session.flush()
            record("ticket.created", session=session, ticket_id=ticket.id, inbox_id=item.id, channel="email")
        else:
            record("ticket.threaded", session=session, ticket_id=ticket.id, inbox_id=item.id, how=how)
        system = parsed.auto_submitted
        message = Message(
            ticket_id=ticket.id, direction="out" if outbound else "in",
            author_kind="agent" if outbound else ("system" if system else "customer"),
            author=parsed.from_address, dedup_key=item.dedup_key, message_id=parsed.message_id,
            in_reply_to=parsed.in_reply_to, references=parsed.references, subject=parsed.subject,
            text=parsed.text, full_text=parsed.full_text, raw=item.payload,
            attachments=[a.as_dict() for a in parsed.attachments], parse_notes=parsed.notes,
            inbox_id=item.id, sent_at=sent_at,
        )
        session.add(message)
        session.flush()
        if outbound:
            _agent_replied(ticket, sent_at)
        elif not system:
            team = self._mailbox_team(parsed)
            self._classify_and_route(ticket, message, _email_text(parsed), created=created, session=session,
                                     team=team)
        return message

    def _mailbox_team(self, parsed: ParsedEmail) -> str | None:
        recipients = set(parsed.to + parsed.cc)
        for box in self.config.mailboxes:
            if box.team and box.address in recipients:
                return box.team
        return None

    # -- chat --
    def _chat(self, item: InboxItem, *, session: Session) -> Message:
        existing = find_message(item.dedup_key, session=session)
        if existing is not None:
            return existing
        rec = ChatRecord.model_validate_json(item.payload)
        identities = [("chat", rec.customer.id)] + ([("email", rec.customer.email)] if rec.customer.email else [])
        customer = resolve_customer(identities, session=session, name=rec.customer.name)
        ticket = thread_chat(rec.conversation_id, session=session)
        created = ticket is None
        if ticket is None:
            ticket = Ticket(channel="chat", subject="", customer_id=customer.id,
                            status="new", external_ref=f"chat:{rec.conversation_id}", created_at=rec.timestamp)
            session.add(ticket)
            session.flush()
            record("ticket.created", session=session, ticket_id=ticket.id, inbox_id=item.id, channel="chat")
        inbound = rec.role == "customer"
        if inbound and not ticket.subject:  # a bot greeting often opens the chat; the customer's words name it
            ticket.subject = _chat_subject(rec.text)
        message = Message(
            ticket_id=ticket.id, direction="in" if inbound else "out", author_kind=rec.role,
            author=rec.customer.id if inbound else rec.role, dedup_key=item.dedup_key, text=rec.text.strip(),
            full_text=rec.text, inbox_id=item.id, sent_at=rec.timestamp,
        )
        session.add(message)
        session.flush()
        if rec.role == "agent":
            _agent_replied(ticket, rec.timestamp)
        elif inbound:
            self._classify_and_route(ticket, message, rec.text, created=created, session=session)
        return message

    # -- shared --
    def _classify_and_route(self, ticket: Ticket, message: Message, text: str, *, created: bool,
                            session: Session, team: str | None = None) -> None:
        results = self.suite.classify_one(text)
        for task, (pred, version) in results.items():
            session.add(Classification(message_id=message.id, task=task, label=pred.label,
                                       confidence=pred.confidence, model_version=version,
                                       details={"top": pred.as_dict()["top"], "reasons": pred.reasons}))
        intent, _ = results["intent"]
        sentiment, _ = results["sentiment"]
        urgency, _ = results["urgency"]
        if ticket.intent in (None, "other") or created:
            ticket.intent, ticket.intent_confidence = intent.label, intent.confidence
        ticket.sentiment = sentiment.label
        previous = ticket.urgency
        ticket.urgency = _max_urgency(previous, urgency.label)
        ticket.priority = URGENCY_TO_PRIORITY.get(ticket.urgency, "normal")
        ticket.last_message_at = message.sent_at
        if ticket.status in ("solved", "pending"):
            ticket.status = "open"
            record("ticket.reopened", session=session, ticket_id=ticket.id)
        if ticket.assignee_id is None:
            ticket.queue = team or self.config.team_for_intent(ticket.intent)
        if created or ticket.urgency != previous:
            apply_sla(ticket, self.config, start=ticket.created_at)
        session.flush()
        record("ticket.classified", session=session, ticket_id=ticket.id, message_id=message.id,
               intent=intent.label, sentiment=sentiment.label, urgency=urgency.label)
        if ticket.assignee_id is None:
            assign(ticket, session=session)


def _email_text(parsed: ParsedEmail) -> str:
    subject = normalise_subject(parsed.subject)
    return f"{subject}\n{parsed.text}" if subject else parsed.text


def _chat_subject(text: str) -> str:
    first = " ".join(text.split())
    return first if len(first) <= 80 else first[:77].rstrip() + "..."


def _max_urgency(a: str | None, b: str) -> str:
    if a not in URGENCY_ORDER:
        return b
    return max(a, b, key=lambda u: URGENCY_ORDER.index(u) if u in URGENCY_ORDER else 1)


def _clamp(date: datetime | None, received: datetime) -> datetime:
    """The message's own date, unless missing or in the future (clocks and spammers lie)."""
    if date is None or date > received:
        return received
    return date


def _agent_replied(ticket: Ticket, at: datetime) -> None:
    if ticket.first_responded_at is None or at < ticket.first_responded_at:
        ticket.first_responded_at = at
    if ticket.status == "new":
        ticket.status = "open"


@dataclass
class Outcome:
    inbox_id: int
    status: str
    message_id: int | None = None
    ticket_id: int | None = None
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Worker:
    """Claims and processes intake rows one transaction at a time; safe to run in several processes."""

    def __init__(self, db: Database, pipeline: Pipeline, name: str | None = None) -> None:
        self.db = db
        self.pipeline = pipeline
        self.name = name or worker_name()

    def run_once(self) -> Outcome | None:
        """Process the oldest pending row; None when the inbox is empty."""
        with self.db.session() as session, session.begin():
            item = claim_next(session=session, worker=self.name)
            if item is None:
                return None
            try:
                with session.begin_nested():
                    message = self.pipeline.process(item, session=session)
            except Exception as exc:  # any failure: keep the row, its bytes and the error
                item.status = FAILED
                item.error = f"{type(exc).__name__}: {exc}"[:4000]
                item.processed_at = utcnow()
                log.warning("inbox row %s failed: %s", item.id, item.error)
                log.debug("inbox row %s traceback:\n%s", item.id, traceback.format_exc())
                record("inbox.failed", session=session, inbox_id=item.id, error=item.error)
                return Outcome(item.id, FAILED, error=item.error)
            duplicate = message.inbox_id != item.id
            item.status = DONE
            item.error = None
            item.message_id = message.id
            item.processed_at = utcnow()
            record("inbox.processed", session=session, inbox_id=item.id, ticket_id=message.ticket_id,
                   worker=self.name, duplicate=duplicate)
            return Outcome(item.id, DONE, message.id, message.ticket_id, extra={"duplicate": duplicate})

    def drain(self, limit: int | None = None, on_outcome: Any = None) -> list[Outcome]:
        """Process until the inbox is empty (or `limit` rows); returns what happened to each."""
        outcomes: list[Outcome] = []
        while limit is None or len(outcomes) < limit:
            outcome = self.run_once()
            if outcome is None:
                break
            outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)
        return outcomes
