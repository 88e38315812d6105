"""Processing one intake row: parse, deduplicate, thread, attach to the customer, classify, route.

Rows are claimed in batches and embedded in one encoder pass (issue 18); each row's attempt is counted and
committed first, then it is processed and marked in a transaction of its own.
Processing runs inside a savepoint: when it fails, only its work is undone and the row is marked failed
(with the error) in the same transaction, so nothing accepted is ever lost and a crash mid-way leaves the
row pending, until its attempts run out and it is quarantined (issue 14).
"""

from __future__ import annotations

import logging
import os
import socket
import traceback
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import takewhile
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.orm import Session

from mail.bounces import read_delivery_report
from mail.loops import auto_reply_blocker
from mail.outgoing import LOOP_HEADER
from mail.parse import ParsedEmail, message_id_key, parse_email
from models.language import detect_language
from models.suite import ClassifierSuite
from models.vocabulary import OUT_OF_SCOPE, URGENCY_LEVELS, URGENCY_TO_PRIORITY
from triage.config import TriageConfig, parse_duration
from triage.conversations.bounces import bounce_reason, mark_bouncing
from triage.conversations.sentiment import ANSWERED_STATUSES, conversation_sentiment
from triage.conversations.service import (
    find_message,
    resolve_customer,
    store_message_embedding,
    thread_chat,
    thread_email,
)
from triage.conversations.subjects import classification_text, normalise_subject
from triage.conversations.tables import AttachmentBlob, Classification, Message, Ticket
from triage.customers.service import urgency_context
from triage.db import Database, on_postgres, utcnow
from triage.events.service import record
from triage.flows.expected import expected_reply, team_back, template_values
from triage.flows.mail import queue_outgoing, sender_address
from triage.flows.tickets import apply_status
from triage.inbox.service import (
    Orphaned,
    claim_batch,
    quarantine_if_exhausted,
    record_attempts,
    release_claim,
    wait_for_earlier,
)
from triage.inbox.tables import DONE, FAILED, ORPHAN, PENDING, QUARANTINED, InboxItem
from triage.ingest.chat import ChatRecord
from triage.outbox.service import sent_count
from triage.routing.service import assign, lock_ticket
from triage.sla.service import agent_replied, customer_wrote, refresh_sla

log = logging.getLogger(__name__)

# Chat arriving from a live conversation gets the bot's acknowledgement; imported transcripts never do.
LIVE_CHAT_SOURCES = ("api", "chat")

@dataclass
class Prepared:
    """What a row needs of the models and the parser, computed before its write transaction opens.

    The encoder is the slow part of processing (hundreds of milliseconds on a long text); on SQLite the
    write transaction locks the whole database, so running it inside would stall the API and SMTP intake
    behind every message (issue 14). Everything here is optional: what is missing is computed in `process`.
    """

    parsed: ParsedEmail | None = None
    text: str | None = None  # the classification text the embedding belongs to
    embedding: np.ndarray | None = None

    def embedding_for(self, text: str) -> np.ndarray | None:
        return self.embedding if self.text == text else None


@dataclass
class Pipeline:
    config: TriageConfig
    suite: ClassifierSuite

    def prepare(self, item: InboxItem) -> Prepared:
        """Parse and embed a row without touching the database; never raises (`prepare_many` of one row)."""
        return self.prepare_many([item])[0]

    def prepare_many(self, items: Sequence[InboxItem]) -> list[Prepared]:
        """Parse every row, then embed all their classification texts in one encoder pass; never raises.

        One pass over a batch costs a fraction of one pass per message (issue 18: padding to similar lengths,
        one call into torch). A row that cannot be parsed gets an empty `Prepared`: `process` parses it again
        inside its savepoint, where the error is recorded on that row alone. If the batch's pass fails, every
        row embeds its own text in `process`, so one bad text fails only its own row.
        """
        prepared = [self._parse(item) for item in items]
        wanted = [p for p in prepared if p.text is not None]
        if wanted:
            try:
                vectors = self.suite.embed([p.text for p in wanted if p.text is not None])
            except Exception as exc:
                log.warning("a batch of %d texts was not embedded (each row embeds its own): %s", len(wanted), exc)
            else:
                for p, vector in zip(wanted, vectors, strict=True):
                    p.embedding = vector
        return prepared

    def _parse(self, item: InboxItem) -> Prepared:
        try:
            if item.kind == "email":
                parsed = parse_email(item.payload)
                if parsed.auto_kind is not None or parsed.from_address in self.config.our_addresses():
                    return Prepared(parsed)  # not classified: nothing to embed
                return Prepared(parsed, email_classification_text(parsed))
            if item.kind == "chat":
                rec = ChatRecord.model_validate_json(item.payload)
                if rec.role != "customer":
                    return Prepared()
                return Prepared(None, classification_text(None, rec.text))
        except Exception as exc:  # process() meets the same error again, where it is recorded on the row
            log.debug("inbox row %s not prepared: %s", item.id, exc)
        return Prepared()

    def process(self, item: InboxItem, *, session: Session, prepared: Prepared | None = None) -> Message | None:
        """Turn one intake row into a stored message on a ticket (an existing one when it is a duplicate).

        None means the row was deliberately not turned into a message (our own mail looping back).
        """
        prepared = prepared or Prepared()
        if item.kind == "email":
            return self._email(item, prepared, session=session)
        if item.kind == "chat":
            return self._chat(item, prepared, session=session)
        raise ValueError(f"unknown intake kind {item.kind!r}")

    # -- email --
    def _email(self, item: InboxItem, prepared: Prepared, *, session: Session) -> Message | None:
        parsed = prepared.parsed or parse_email(item.payload)
        mail = self.config.mail
        if parsed.headers.get(LOOP_HEADER.lower(), "").strip() == mail.instance_id:
            record("inbox.dropped", session=session, inbox_id=item.id, reason="carries our own loop header")
            return None
        existing = find_message(item.dedup_key, session=session)
        if existing is not None:
            return existing
        if parsed.auto_kind == "bounce" or _null_sender(item):
            bounce = self._bounce(item, parsed, session=session)
            if bounce is not None:
                return bounce
        ours = self.config.our_addresses()
        outbound = parsed.from_address in ours
        if outbound:
            others = [a for a in parsed.to + parsed.cc if a not in ours]
            if not others:  # between our own mailboxes: no customer, nothing to track (raw stays in the inbox)
                record("inbox.dropped", session=session, inbox_id=item.id, reason="sent between our own mailboxes")
                return None
            customer_address, customer_name = others[0], None
        else:
            customer_address, customer_name = parsed.from_address, parsed.from_name or None
        if not customer_address:  # RFC 5321's reverse-path still says who sent it (issue 14)
            customer_address = parsed.from_address = _envelope_sender(item)
            if customer_address:
                parsed.notes.append("no usable From: the envelope sender is used")
        if not customer_address:
            raise Orphaned("no sender: From is missing or malformed and there is no envelope sender")
        automatic = parsed.auto_kind is not None and not outbound
        parents = [ref for ref in (parsed.in_reply_to, *parsed.references) if ref]
        if wait_for_earlier([message_id_key(ref) for ref in parents], before_id=item.id, session=session):
            record("inbox.waited_for_parent", session=session, inbox_id=item.id)
        customer = resolve_customer([("email", customer_address)], session=session,
                                    name=None if automatic else customer_name)
        sent_at = _clamp(parsed.date, item.received_at)
        ticket, how = thread_email(session=session, in_reply_to=parsed.in_reply_to, references=parsed.references,
                                   subject=parsed.subject, customer_id=customer.id, sent_at=sent_at,
                                   window=parse_duration(mail.thread_window))
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
        message = Message(
            ticket_id=ticket.id, direction="out" if outbound else "in",
            author_kind="agent" if outbound else ("system" if automatic else "customer"),
            author=parsed.from_address, dedup_key=item.dedup_key, message_id=parsed.message_id,
            in_reply_to=parsed.in_reply_to, references=parsed.references, subject=parsed.subject,
            text=parsed.text, full_text=parsed.full_text, raw=item.payload,
            attachments=self._store_attachments(parsed, session=session), parse_notes=parsed.notes,
            auto_kind=parsed.auto_kind if automatic else None, inbox_id=item.id, sent_at=sent_at,
        )
        session.add(message)
        session.flush()
        _touch(ticket, sent_at)
        if outbound:
            agent_replied(ticket, sent_at, config=self.config, session=session)
        elif automatic:
            record("message.automatic", session=session, ticket_id=ticket.id, message_id=message.id,
                   auto_kind=parsed.auto_kind)
        else:
            team = self._mailbox_team(parsed)
            self._classify_and_route(ticket, message, email_classification_text(parsed), created=created,
                                     session=session, team=team, prepared=prepared)
            if item.source != "file":  # importing an archive must never write to its customers
                self._auto_reply(ticket, parsed, customer_name, session=session)
        return message

    def _bounce(self, item: InboxItem, parsed: ParsedEmail, *, session: Session) -> Message | None:
        """A delivery-status report (RFC 3464): a system message on the ticket of the mail it returns, and the
        failed recipients marked bouncing. None when no ticket of ours matches: the caller files it as usual."""
        report = read_delivery_report(item.payload)
        if parsed.auto_kind != "bounce" and not report.failed_recipients:
            return None  # `<>` alone also carries vacation replies (RFC 3834 §3.3): not a bounce
        ids = report.original_message_ids
        ticket, how = thread_email(session=session, in_reply_to=ids[0] if ids else parsed.in_reply_to,
                                   references=[*parsed.references,
                                               *([parsed.in_reply_to] if ids and parsed.in_reply_to else []),
                                               *reversed(ids[1:])], subject=parsed.subject)
        if ticket is None:
            return None
        author = parsed.from_address or _envelope_sender(item) or "mailer-daemon"
        message = Message(
            ticket_id=ticket.id, direction="in", author_kind="system", author=author, dedup_key=item.dedup_key,
            message_id=parsed.message_id, in_reply_to=parsed.in_reply_to, references=parsed.references,
            subject=parsed.subject, text=parsed.text, full_text=parsed.full_text, raw=item.payload,
            attachments=self._store_attachments(parsed, session=session), parse_notes=parsed.notes,
            auto_kind="bounce", inbox_id=item.id, sent_at=_clamp(parsed.date, item.received_at))
        session.add(message)
        session.flush()
        reason = " ".join(filter(None, [report.status, report.diagnostic])) or "delivery failed"
        marked = mark_bouncing(report.failed_recipients, reason, session=session, ticket_id=ticket.id)
        record("message.bounce", session=session, ticket_id=ticket.id, message_id=message.id, how=how,
               recipients=len(report.failed_recipients), marked=len(marked))
        return message

    def _store_attachments(self, parsed: ParsedEmail, *, session: Session) -> list[dict[str, Any]]:
        """Metadata for every attachment; contents up to the configured limit, once per sha256."""
        limit = self.config.mail.attachment_content_limit
        out = []
        for att in parsed.attachments:
            meta = att.as_dict()
            meta["stored"] = 0 < att.size <= limit
            if meta["stored"]:
                # Two workers may meet the same file at once: insert-or-ignore instead of check-then-add.
                insert = pg_insert if on_postgres(session) else sqlite_insert
                session.execute(insert(AttachmentBlob).values(
                    sha256=att.sha256, content_type=att.content_type[:200], size=att.size, data=att.data,
                    created_at=utcnow()).on_conflict_do_nothing(index_elements=["sha256"]))
            out.append(meta)
        return out

    def _auto_reply(self, ticket: Ticket, parsed: ParsedEmail, name: str | None, *, session: Session) -> None:
        """Acknowledge receipt, unless any loop rule or rate limit says no (the reason is recorded)."""
        conf = self.config.auto_reply
        if not conf.enabled:
            return
        ours = self.config.our_addresses()
        reason = auto_reply_blocker(parsed.headers, parsed.from_address, our_addresses=ours,
                                    instance_id=self.config.mail.instance_id, auto_kind=parsed.auto_kind)
        bouncing = bounce_reason(parsed.from_address, session=session) if reason is None else None
        if bouncing is not None:
            reason = f"the address is bouncing ({bouncing}); `triage customers clear-bounce` lets mail go again"
        if reason is None:
            if sent_count(session=session, kind="auto_reply", since=datetime.min.replace(tzinfo=UTC),
                          ticket_id=ticket.id) >= conf.per_ticket:
                reason = f"already acknowledged this ticket ({conf.per_ticket} per ticket)"
            elif sent_count(session=session, kind="auto_reply", recipient=parsed.from_address,
                            since=utcnow() - parse_duration(conf.sender_window)) >= conf.per_sender:
                reason = f"sender had {conf.per_sender} auto-replies within {conf.sender_window}"
        if reason is not None:
            record("auto_reply.suppressed", session=session, ticket_id=ticket.id, reason=reason)
            return
        sender = sender_address(self.config, kind="auto_reply", written_to=parsed.to + parsed.cc)
        if sender is None:
            record("auto_reply.suppressed", session=session, ticket_id=ticket.id, reason="no mailbox to send from")
            return
        now = utcnow()
        language = ticket.reply_language
        chosen = conf.pick(language, ticket.intent)
        values = {"ticket_id": ticket.id, "subject": normalise_subject(parsed.subject) or "your message",
                  "customer_name": name, "company": self.config.company, "queue": ticket.queue,
                  "priority": ticket.priority, "first_response_due": ticket.first_response_due,
                  "intent": ticket.intent,
                  **template_values(expected_reply(ticket, self.config, session=session, now=now), now=now,
                                    language=chosen.language if chosen else None)}
        subject, body = render_auto_reply(*conf.template_for(language, ticket.intent), values)
        queued = queue_outgoing("auto_reply", config=self.config, session=session, ticket_id=ticket.id,
                                sender=sender, sender_name=f"{self.config.company} Support", to=parsed.from_address,
                                to_name=name, subject=subject, body=body, in_reply_to=parsed.message_id,
                                references=parsed.references)
        # On the ticket too: its history shows it, and replies or bounces to it thread by Message-ID.
        session.add(Message(ticket_id=ticket.id, direction="out", author_kind="bot", author=sender,
                            dedup_key=message_id_key(queued.message_id), message_id=queued.message_id,
                            in_reply_to=parsed.message_id, references=parsed.references, subject=subject,
                            text=body, full_text=body, raw=queued.raw, auto_kind="auto_reply"))
        session.flush()

    def _mailbox_team(self, parsed: ParsedEmail) -> str | None:
        recipients = set(parsed.to + parsed.cc)
        for box in self.config.mailboxes:
            if box.team and box.address in recipients:
                return box.team
        return None

    # -- chat --
    def _chat(self, item: InboxItem, prepared: Prepared, *, session: Session) -> Message:
        existing = find_message(item.dedup_key, session=session)
        if existing is not None:
            return existing
        rec = ChatRecord.model_validate_json(item.payload)
        identities = [("chat", rec.customer.id)] + ([("email", rec.customer.email)] if rec.customer.email else [])
        customer = resolve_customer(identities, session=session, name=rec.customer.name)
        ticket = thread_chat(rec.conversation_id, session=session)
        if ticket is not None:
            # Held until commit, before the message gets its id: a reader of the conversation (chat_transcript)
            # waits for it, so an `after` cursor never passes over a message still being stored.
            ticket = lock_ticket(ticket.id, session=session)
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
        _touch(ticket, rec.timestamp)
        if rec.role == "agent":
            agent_replied(ticket, rec.timestamp, config=self.config, session=session)
        elif inbound:
            # The same rule as email and as the feedback that retrains on this message (capped, no subject).
            self._classify_and_route(ticket, message, classification_text(None, rec.text), created=created,
                                     session=session, prepared=prepared)
            if item.source in LIVE_CHAT_SOURCES and self.config.auto_reply.chat_enabled:
                self._chat_ack(ticket, rec, session=session)
        return message

    def _chat_ack(self, ticket: Ticket, rec: ChatRecord, *, session: Session) -> None:
        """The bot's first answer in a live chat, once per conversation, in the ticket's (else the customer's)
        language: queue position and expected wait, or, when nobody who could take it is on shift, when the
        team is back (issue 15)."""
        dedup_key = f"bot-ack:{ticket.id}"
        if find_message(dedup_key, session=session) is not None:
            return
        now = utcnow()
        conf = self.config.auto_reply
        language = ticket.reply_language
        chosen = conf.pick(language, ticket.intent, chat=True)
        back = team_back(ticket, session=session, now=now)
        values = {"ticket_id": ticket.id, "customer_name": rec.customer.name, "company": self.config.company,
                  "queue": ticket.queue, "priority": ticket.priority, "intent": ticket.intent,
                  **template_values(expected_reply(ticket, self.config, session=session, now=now), now=now,
                                    back=back, language=chosen.language if chosen else None)}
        _, text = render_auto_reply("", conf.chat_body_for(language, ticket.intent), values)
        session.add(Message(ticket_id=ticket.id, direction="out", author_kind="bot", author="bot",
                            dedup_key=dedup_key, text=text, full_text=text, auto_kind="auto_reply",
                            sent_at=rec.timestamp))
        session.flush()
        record("chat.acknowledged", session=session, ticket_id=ticket.id, queue_position=values["queue_position"],
               expected_wait_minutes=values["expected_wait_minutes"],
               team_back=back.isoformat() if back is not None else None)

    # -- shared --
    def _set_language(self, ticket: Ticket, message: Message, text: str) -> None:
        """Detected language on the message, the ticket and (when it has none) the customer.

        A confident guess sets the message's and the ticket's language (a ticket follows the customer when
        they confidently switch); an unconfident one leaves the ticket alone and the message takes what is
        known: the ticket's language, else the customer's. A customer's language is only ever filled in,
        never overwritten, so one set by hand stays.
        """
        guess = detect_language(text, self.config.language.detect)
        customer = ticket.customer
        if guess is not None and guess.confident:
            message.language = ticket.language = guess.code
            if customer.language is None:
                customer.language = guess.code
        else:
            message.language = ticket.language or (customer.language.lower() if customer.language else None)

    def _classify_and_route(self, ticket: Ticket, message: Message, text: str, *, created: bool,
                            session: Session, team: str | None = None, prepared: Prepared | None = None) -> None:
        self._set_language(ticket, message, text)
        # What the text alone does not say: a VIP, or a customer who keeps writing, raises urgency.
        context = urgency_context(ticket.customer, session=session, config=self.config, now=message.sent_at)
        embedding = prepared.embedding_for(text) if prepared is not None else None
        if embedding is None:
            embedding = self.suite.embed([text])[0]
        results = self.suite.classify_one(text, dict(context), embedding=embedding)
        # Computed once, kept for every later reader of this message (suggestions, similar tickets: issue 18).
        store_message_embedding(message.id, embedding, text=text, session=session,
                                encoder=getattr(self.suite, "encoder_name", None) or type(self.suite).__name__)
        for task, (pred, version) in results.items():
            session.add(Classification(message_id=message.id, task=task, label=pred.label,
                                       confidence=pred.confidence, model_version=version,
                                       details={"top": pred.as_dict()["top"], "reasons": pred.reasons}))
        intent, _ = results["intent"]
        sentiment, _ = results["sentiment"]
        urgency, _ = results["urgency"]
        if ticket.intent in (None, "other") or created:
            ticket.intent, ticket.intent_confidence = intent.label, intent.confidence
            ticket.needs_review = (intent.label == OUT_OF_SCOPE
                                   or intent.confidence < self.config.review.intent_confidence)
        # The customer's state: a bare "thanks" after a complaint keeps it (conversation_sentiment's rule).
        ticket.sentiment = conversation_sentiment(None if created else ticket.sentiment, sentiment.label,
                                                  message.text, answered=ticket.status in ANSWERED_STATUSES)
        previous = ticket.urgency
        ticket.urgency = _max_urgency(previous, urgency.label)
        ticket.priority = URGENCY_TO_PRIORITY.get(ticket.urgency, "normal")
        if ticket.status in ("solved", "pending"):
            # Resumes the SLA clocks; routing waits until the queue is known (below).
            apply_status(ticket, "open", config=self.config, session=session, now=message.sent_at, reroute=False)
            record("ticket.reopened", session=session, ticket_id=ticket.id)
        if ticket.assignee_id is None:
            ticket.queue = team or self.config.team_for_intent(ticket.intent)
        customer_wrote(ticket, message.sent_at)
        refresh_sla(ticket, self.config, session=session, now=message.sent_at)
        session.flush()
        record("ticket.classified", session=session, ticket_id=ticket.id, message_id=message.id,
               intent=intent.label, sentiment=sentiment.label, urgency=urgency.label,
               urgency_reasons=list(urgency.reasons))
        if ticket.assignee_id is None:
            assign(ticket, session=session)


def email_classification_text(parsed: ParsedEmail) -> str:
    """What the classifiers see of an email: its normalised subject, then the body without quotes or signature."""
    return classification_text(parsed.subject, parsed.text)


def _chat_subject(text: str) -> str:
    first = " ".join(text.split())
    return first if len(first) <= 80 else first[:77].rstrip() + "..."


def _max_urgency(a: str | None, b: str) -> str:
    if a not in URGENCY_LEVELS:
        return b
    return max(a, b, key=lambda u: URGENCY_LEVELS.index(u) if u in URGENCY_LEVELS else 1)


def _envelope_sender(item: InboxItem) -> str:
    """The SMTP MAIL FROM stored with the raw bytes; "" for the null sender and for other sources."""
    sender = str((item.envelope or {}).get("mail_from") or "").strip().strip("<>").lower()
    return sender if "@" in sender else ""


def _null_sender(item: InboxItem) -> bool:
    """Received by SMTP with the null reverse-path `<>`: RFC 5321 §4.5.5 reserves it for notifications."""
    return item.source == "smtp" and item.envelope is not None and item.envelope.get("mail_from") == ""


def _clamp(date: datetime | None, received: datetime) -> datetime:
    """The message's own date, unless missing or in the future (clocks and spammers lie)."""
    if date is None or date > received:
        return received
    return date


def _touch(ticket: Ticket, at: datetime) -> None:
    if ticket.last_message_at is None or at > ticket.last_message_at:
        ticket.last_message_at = at


def render_auto_reply(subject: str, body: str, values: dict[str, Any]) -> tuple[str, str]:
    """Render the configured Jinja2 templates in a sandbox (configuration is not code)."""
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(autoescape=False, keep_trailing_newline=True)
    return env.from_string(subject).render(values), env.from_string(body).render(values)


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


# Rows embedded in one encoder pass: the encoder's own batch, so a full claim is one forward pass.
BATCH_SIZE = 32


@dataclass
class _Batch:
    """Rows claimed and prepared, waiting to be processed; `stack` lets go of the claims."""

    stack: ExitStack
    claims: Session
    outcomes: list[Outcome]  # rows quarantined while claiming
    items: list[InboxItem]
    prepared: list[Prepared]
    last_id: int
    suspect: bool  # one row begun before and never finished, taken alone


class Worker:
    """Claims intake rows in batches, embeds each batch in one encoder pass and commits every row on its own
    (issue 18); safe to run in several processes."""

    def __init__(self, db: Database, pipeline: Pipeline, name: str | None = None,
                 batch_size: int = BATCH_SIZE) -> None:
        self.db = db
        self.pipeline = pipeline
        self.name = name or worker_name()
        self.batch_size = max(1, batch_size)

    def run_once(self) -> Outcome | None:
        """Process the oldest pending row; None when the inbox is empty."""
        outcomes = self.run_batch(1)
        return outcomes[0] if outcomes else None

    def run_batch(self, limit: int | None = None) -> list[Outcome]:
        """Claim up to `limit` (at most `batch_size`) of the oldest pending rows and process them; [] when none.

        The attempts are committed before the work starts (issue 14). The rows are parsed and embedded together
        before any processing transaction takes a write lock (`Pipeline.prepare_many`); then each row is
        processed and committed in a transaction of its own, so a failure stays with its row. A row begun
        before and never finished (a worker died on it) is taken alone: a poison row then kills only its own
        attempts, and its innocent neighbours are never quarantined with it.
        """
        while True:
            batch = self._take(self._size(limit))
            if batch is None:
                return []
            outcomes = self._finish(batch)
            if outcomes:
                return outcomes
            # Every claimed row was finished by another SQLite worker meanwhile: look again.

    def drain(self, limit: int | None = None, on_outcome: Any = None) -> list[Outcome]:
        """Process until the inbox is empty (or `limit` rows); returns what happened to each.

        The next batch is claimed, parsed and embedded in a second thread while this one's rows are processed
        (issue 18): the encoder (which releases the GIL) and the database work overlap instead of taking
        turns, so on two cores the encoder is seldom idle. The look-ahead claims only rows after those in
        hand; once it finds none, a last look from the start picks up any row it passed over.
        """
        outcomes: list[Outcome] = []
        coming: Future[_Batch | None] | None = None
        with ThreadPoolExecutor(1, thread_name_prefix="triage-prepare") as ahead:
            while limit is None or len(outcomes) < limit:
                if coming is not None:
                    batch, coming = coming.result(), None
                    if batch is None:  # nothing after the rows in hand: one look from the start
                        continue
                else:
                    batch = self._take(self._size(limit, len(outcomes)))
                    if batch is None:
                        break
                taken = len(outcomes) + len(batch.outcomes) + len(batch.items)
                # Not beside a suspect row: if it kills the process, rows claimed meanwhile would count an
                # attempt they never had; and only fresh rows are looked ahead at, so an innocent row is
                # charged at most once for a neighbour's death (issue 14's quarantine stays its own).
                if not batch.suspect and (limit is None or taken < limit):
                    coming = ahead.submit(self._take, self._size(limit, taken), batch.last_id, True)
                try:
                    done = self._finish(batch)
                    outcomes.extend(done)
                    if on_outcome is not None:
                        for outcome in done:
                            on_outcome(outcome)
                except BaseException:
                    if coming is not None:  # let go of the look-ahead's rows too (their attempts stay counted)
                        waiting = coming.result()
                        if waiting is not None:
                            waiting.stack.close()
                    raise
        return outcomes

    def _size(self, limit: int | None, done: int = 0) -> int:
        return max(1, min(self.batch_size, self.batch_size if limit is None else limit - done))

    def _take(self, size: int, after: int = 0, fresh_only: bool = False) -> _Batch | None:
        """Claim, parse and embed up to `size` rows with ids above `after`; None when there is nothing to claim."""
        stack = ExitStack()
        try:
            claims = stack.enter_context(self._claims())
            outcomes, items, suspect = self._claim(size, after, fresh_only, session=claims)
            if not outcomes and not items:
                stack.close()
                return None
            last_id = max([o.inbox_id for o in outcomes] + [i.id for i in items])
            return _Batch(stack, claims, outcomes, items, self.pipeline.prepare_many(items), last_id, suspect)
        except BaseException:
            stack.close()
            raise

    def _finish(self, batch: _Batch) -> list[Outcome]:
        """Process a claimed batch's rows, each in its own transaction, letting go of each once committed."""
        with batch.stack:
            outcomes = list(batch.outcomes)
            for item, ready in zip(batch.items, batch.prepared, strict=True):
                try:
                    outcome = self._process_claimed(item.id, ready)
                finally:
                    release_claim(item.id, session=batch.claims)
                    batch.claims.commit()
                if outcome is not None:
                    outcomes.append(outcome)
        return outcomes

    @contextmanager
    def _claims(self) -> Iterator[Session]:
        """The session that claims rows and holds them until released.

        On PostgreSQL it owns one connection for the whole batch, because the claims are session-level
        advisory locks (`claim_batch`); whatever happens, they are all let go before the connection goes
        back to the pool.
        """
        if self.db.engine.dialect.name != "postgresql":
            with self.db.session() as session:
                yield session
            return
        self.db.ensure_schema()
        conn = self.db.engine.connect()
        try:
            with Session(bind=conn, expire_on_commit=False) as session:
                yield session
        finally:
            try:
                conn.rollback()
                conn.execute(select(func.pg_advisory_unlock_all()))
                conn.commit()
            except DBAPIError:  # the connection is gone, and its locks with it
                conn.invalidate()
            conn.close()

    def _claim(self, size: int, after: int, fresh_only: bool, *,
               session: Session) -> tuple[list[Outcome], list[InboxItem], bool]:
        """Hold up to `size` pending rows, quarantine the exhausted ones and count an attempt on those to process.

        Returns the quarantined rows' outcomes, the rows to process and whether that is one suspect row alone.
        """
        with session.begin():
            rows = claim_batch(session=session, limit=size, after=after)
            outcomes: list[Outcome] = []
            live: list[InboxItem] = []
            for item in rows:
                if self._quarantine(item, session=session):
                    outcomes.append(Outcome(item.id, QUARANTINED, error=item.error))
                else:
                    live.append(item)
            suspect = bool(live) and live[0].attempts > 0 and not fresh_only
            chosen = live[:1] if suspect else list(takewhile(lambda i: i.attempts == 0, live))
            record_attempts([item.id for item in chosen], session=session, worker=self.name)
        for item in rows:  # after the commit: until then another worker would still read them pending
            if item not in chosen:
                release_claim(item.id, session=session)
        session.commit()
        return outcomes, chosen, suspect

    def _process_claimed(self, item_id: int, prepared: Prepared) -> Outcome | None:
        """One claimed row in its own transaction; None when another (SQLite) worker finished it meanwhile."""
        with self.db.session() as session, session.begin():
            item = session.get(InboxItem, item_id)
            if item is None or item.status != PENDING:
                return None
            return self._process(item, prepared, session=session)

    def _quarantine(self, item: InboxItem, *, session: Session) -> bool:
        if not quarantine_if_exhausted(item, max_attempts=self.pipeline.config.inbox.max_attempts):
            return False
        log.error("inbox row %s quarantined: %s (`triage inbox retry %s` releases it)", item.id, item.error, item.id)
        record("inbox.quarantined", session=session, inbox_id=item.id, attempts=item.attempts)
        return True

    def _process(self, item: InboxItem, prepared: Prepared | None, *, session: Session) -> Outcome:
        try:
            with session.begin_nested():
                message = self.pipeline.process(item, session=session, prepared=prepared)
        except (OperationalError, DisconnectionError):
            # Not the row's fault: the database went away, or it gave up on a lock, a deadlock or a statement.
            # The row stays pending for a later pass (its attempt is already counted) rather than failed for good.
            raise
        except Orphaned as exc:  # nobody to answer or file it under: a person decides (issue 14)
            item.status, item.error, item.processed_at = ORPHAN, str(exc), utcnow()
            log.warning("inbox row %s kept as an orphan: %s", item.id, item.error)
            record("inbox.orphan", session=session, inbox_id=item.id, reason=item.error)
            return Outcome(item.id, ORPHAN, error=item.error)
        except Exception as exc:  # any failure: keep the row, its bytes and the error
            item.status = FAILED
            item.error = f"{type(exc).__name__}: {exc}"[:4000]
            item.processed_at = utcnow()
            log.warning("inbox row %s failed: %s", item.id, item.error)
            log.debug("inbox row %s traceback:\n%s", item.id, traceback.format_exc())
            record("inbox.failed", session=session, inbox_id=item.id, error=item.error)
            return Outcome(item.id, FAILED, error=item.error)
        item.status = DONE
        item.error = None
        item.processed_at = utcnow()
        if message is None:
            record("inbox.processed", session=session, inbox_id=item.id, worker=self.name, dropped=True)
            return Outcome(item.id, DONE, extra={"dropped": True})
        duplicate = message.inbox_id != item.id
        item.message_id = message.id
        record("inbox.processed", session=session, inbox_id=item.id, ticket_id=message.ticket_id,
               worker=self.name, duplicate=duplicate)
        return Outcome(item.id, DONE, message.id, message.ticket_id, extra={"duplicate": duplicate})

