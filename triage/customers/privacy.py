"""What a self-hosted helpdesk owes its customers (issue 14): a copy of their data, its erasure, and a retention limit.

- `export_customer`: one JSON document with everything stored about the customer writing from an address.
- `erase_customer`: their personal data deleted or anonymised wherever it lives; what is kept (the tickets' counts,
  times and labels, for reports) is listed in docs/data.md#privacy. Idempotent.
- `purge_expired`: raw bytes and attachment contents older than `[privacy] retention_days`, never those of intake
  rows still waiting or failed (they are needed for a retry).

These read and write the tables of several domains (conversations, inbox, outbox, QA, knowledge, feedback, events)
directly: the data is theirs, the rule for it is one. Plain functions with a keyword-only `session`; they flush,
the caller commits.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Text, cast, delete, func, or_, select, update
from sqlalchemy.orm import Session

from triage.agents.tables import Assignment
from triage.conversations.tables import (
    AttachmentBlob,
    Classification,
    Customer,
    CustomerIdentity,
    Message,
    MessageEmbedding,
    Ticket,
)
from triage.customers.masking import mask_personal_data
from triage.db import utcnow
from triage.errors import NotFound
from triage.events.service import record
from triage.events.tables import Event
from triage.feedback.tables import LabelFeedback
from triage.inbox.service import erased_key
from triage.inbox.tables import DONE, InboxItem
from triage.knowledge.tables import Suggestion, SuggestionFeedback
from triage.outbox.tables import SENT, OutboxItem
from triage.qa.tables import QaReview, QaSample

if TYPE_CHECKING:
    from triage.knowledge.index import KnowledgeIndex

log = logging.getLogger(__name__)

EXPORT_FORMAT = "triage.customer-export/1"


def normalise_address(email: str) -> str:
    return (email or "").strip().lower()


def address_hash(email: str) -> str:
    """SHA-256 of the normalised address: the audit log says *that* an address was erased without holding it."""
    return hashlib.sha256(normalise_address(email).encode("utf-8")).hexdigest()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _b64(data: bytes | None) -> str | None:
    return base64.b64encode(data).decode("ascii") if data else None


def _affected(result: Any) -> int:
    """Rows an UPDATE or DELETE touched."""
    return int(result.rowcount or 0)


def _chunks(ids: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


# ---------------------------------------------------------------------------- who and where


class _Scope:
    """Everything stored about one person: their customer row (when there still is one), addresses and rows."""

    def __init__(self, session: Session, email: str) -> None:
        self.email = normalise_address(email)
        self.customer = session.scalar(select(Customer).join(CustomerIdentity).where(
            CustomerIdentity.kind == "email", CustomerIdentity.value == self.email))
        identities = list(self.customer.identities) if self.customer is not None else []
        self.identities = sorted(identities, key=lambda i: i.id)
        self.addresses = sorted({i.value for i in identities if i.kind == "email"} | {self.email} - {""})
        self.chat_ids = sorted({i.value for i in identities if i.kind == "chat"})
        name = (self.customer.name or "") if self.customer is not None else ""
        # The whole name and each part of it: "Kind to Ottilie" names her as much as "Ottilie Zanetti".
        self.names = tuple(n for n in dict.fromkeys([name, *name.split()]) if len(n) > 1)
        self.ticket_ids: list[int] = list(session.scalars(
            select(Ticket.id).where(Ticket.customer_id == self.customer.id).order_by(Ticket.id))) \
            if self.customer is not None else []
        # Their messages: everything on their tickets, and what they wrote on someone else's (a Cc'd thread).
        conditions = [func.lower(Message.author).in_(self.addresses)]
        if self.ticket_ids:
            conditions.append(Message.ticket_id.in_(self.ticket_ids))
        self.messages: list[Message] = list(session.scalars(
            select(Message).where(or_(*conditions)).order_by(Message.ticket_id, Message.sent_at, Message.id)))
        self.message_ids = [m.id for m in self.messages]
        linked = {m.inbox_id for m in self.messages if m.inbox_id is not None}
        if self.message_ids:
            for chunk in _chunks(self.message_ids):
                linked |= set(session.scalars(select(InboxItem.id).where(InboxItem.message_id.in_(chunk))))
        self.inbox_ids = sorted(linked)
        # Intake rows not processed (waiting, failed, quarantined, orphan) carry only raw bytes: look inside.
        needles = [a.encode("utf-8") for a in self.addresses] + [c.encode("utf-8") for c in self.chat_ids]
        self.unprocessed: list[InboxItem] = [
            item for item in session.scalars(select(InboxItem).where(InboxItem.status != DONE).order_by(InboxItem.id))
            if item.id not in linked and any(n in (item.payload or b"").lower() for n in needles if n)]

    @property
    def found(self) -> bool:
        return self.customer is not None or bool(self.messages or self.unprocessed)

    def personal(self) -> tuple[str, ...]:
        """Their name, addresses and chat ids: replaced wherever they appear in what is kept."""
        return (*self.names, *self.addresses, *self.chat_ids)

    def events(self, session: Session) -> list[Event]:
        """Audit-log rows about them: on their tickets or intake rows, about the customer, or naming an address."""
        conditions = [func.lower(cast(Event.data, Text)).contains(a, autoescape=True) for a in self.addresses]
        if self.customer is not None:
            conditions += [Event.data["customer_id"].as_integer() == self.customer.id,
                           Event.data["merged_from"].as_integer() == self.customer.id]
        inbox_ids = [*self.inbox_ids, *(i.id for i in self.unprocessed)]
        for chunk in _chunks(self.ticket_ids):
            conditions.append(Event.ticket_id.in_(chunk))
        for chunk in _chunks(inbox_ids):
            conditions.append(Event.inbox_id.in_(chunk))
        return list(session.scalars(select(Event).where(or_(*conditions)).order_by(Event.id)))

    def qa_samples(self, session: Session) -> list[QaSample]:
        conditions = []
        if self.ticket_ids:
            conditions.append(QaSample.ticket_id.in_(self.ticket_ids))
        if self.message_ids:
            conditions.append(QaSample.message_id.in_(self.message_ids))
        if not conditions:
            return []
        return list(session.scalars(select(QaSample).where(or_(*conditions)).order_by(QaSample.id)))

    def outbox(self, session: Session) -> list[OutboxItem]:
        conditions = [func.lower(OutboxItem.recipient).in_(self.addresses)]
        if self.ticket_ids:
            conditions.append(OutboxItem.ticket_id.in_(self.ticket_ids))
        return list(session.scalars(select(OutboxItem).where(or_(*conditions)).order_by(OutboxItem.id)))


# ---------------------------------------------------------------------------- export


def export_customer(email: str, *, session: Session) -> dict[str, Any]:
    """Everything stored about the customer writing from `email`, as one JSON-ready document.

    Byte contents (the raw message as received, attachment contents, sent mail) are base64 strings, so the
    document is self-contained; a purged or never-stored content is null. Reviewers' scores of agents' replies
    are the agents' data, not the customer's, and are left out.
    """
    scope = _Scope(session, email)
    if scope.customer is None:
        raise NotFound(f"no customer writes from {scope.email or 'an empty address'}")
    customer = scope.customer
    blobs = _blobs({a.get("sha256") for m in scope.messages for a in (m.attachments or [])}, session=session)
    classifications: dict[int, list[Classification]] = {}
    for chunk in _chunks(scope.message_ids):
        for c in session.scalars(select(Classification).where(Classification.message_id.in_(chunk))
                                 .order_by(Classification.id)):
            classifications.setdefault(c.message_id, []).append(c)
    tickets = {t.id: t for t in session.scalars(select(Ticket).where(Ticket.id.in_(scope.ticket_ids)))} \
        if scope.ticket_ids else {}
    by_ticket: dict[int, list[dict[str, Any]]] = {}
    elsewhere: list[dict[str, Any]] = []
    for m in scope.messages:
        item = _message_out(m, blobs, classifications.get(m.id, []))
        (by_ticket.setdefault(m.ticket_id, []) if m.ticket_id in tickets else elsewhere).append(item)
    corrections = [lf for chunk in _chunks(scope.message_ids) for lf in session.scalars(
        select(LabelFeedback).where(LabelFeedback.message_id.in_(chunk)).order_by(LabelFeedback.id))]
    suggestions = list(session.scalars(select(Suggestion).where(Suggestion.ticket_id.in_(scope.ticket_ids))
                                       .order_by(Suggestion.id))) if scope.ticket_ids else []
    return {
        "format": EXPORT_FORMAT,
        "exported_at": utcnow().isoformat(),
        "address": scope.email,
        "customer": {"id": customer.id, "name": customer.name, "vip": customer.vip, "language": customer.language,
                     "timezone": customer.timezone, "created_at": _iso(customer.created_at)},
        "identities": [{"kind": i.kind, "value": i.value, "created_at": _iso(i.created_at),
                        "bouncing_since": _iso(i.bouncing_since), "bounce_reason": i.bounce_reason}
                       for i in scope.identities],
        "tickets": [_ticket_out(tickets[tid], by_ticket.get(tid, [])) for tid in scope.ticket_ids],
        "messages_on_other_tickets": elsewhere,
        "intake": [_inbox_out(i) for i in _inbox_rows(scope, session)],
        "outbox": [{"id": o.id, "kind": o.kind, "ticket_id": o.ticket_id, "sender": o.sender,
                    "recipient": o.recipient, "subject": o.subject, "status": o.status,
                    "created_at": _iso(o.created_at), "sent_at": _iso(o.sent_at), "raw_base64": _b64(o.raw)}
                   for o in scope.outbox(session)],
        "label_corrections": [{"message_id": lf.message_id, "task": lf.task, "old_label": lf.old_label,
                               "label": lf.label, "text": lf.text, "created_at": _iso(lf.created_at)}
                              for lf in corrections],
        "suggestions": [{"id": s.id, "ticket_id": s.ticket_id, "draft": s.draft, "created_at": _iso(s.created_at)}
                        for s in suggestions],
        "qa_samples": [{"id": s.id, "ticket_id": s.ticket_id, "message_id": s.message_id, "purpose": s.purpose,
                        "reasons": s.reasons, "prechecks": s.prechecks, "created_at": _iso(s.created_at)}
                       for s in scope.qa_samples(session)],
        "events": [{"id": e.id, "kind": e.kind, "ticket_id": e.ticket_id, "data": e.data,
                    "created_at": _iso(e.created_at)} for e in scope.events(session)],
    }


def _blobs(shas: Iterable[str | None], *, session: Session) -> dict[str, AttachmentBlob]:
    wanted = sorted({s for s in shas if s})
    return {b.sha256: b for chunk in _chunks(wanted)
            for b in session.scalars(select(AttachmentBlob).where(AttachmentBlob.sha256.in_(chunk)))}


def _message_out(m: Message, blobs: dict[str, AttachmentBlob], classified: list[Classification]) -> dict[str, Any]:
    attachments = []
    for meta in m.attachments or []:
        blob = blobs.get(meta.get("sha256") or "")
        attachments.append({**meta, "content_base64": _b64(blob.data) if blob is not None else None})
    return {"id": m.id, "ticket_id": m.ticket_id, "direction": m.direction, "author_kind": m.author_kind,
            "author": m.author, "message_id": m.message_id, "subject": m.subject, "sent_at": _iso(m.sent_at),
            "language": m.language, "auto_kind": m.auto_kind, "text": m.text, "full_text": m.full_text,
            "raw_base64": _b64(m.raw), "attachments": attachments,
            "classifications": [{"task": c.task, "label": c.label, "confidence": c.confidence,
                                 "model_version": c.model_version, "created_at": _iso(c.created_at)}
                                for c in classified]}


def _ticket_out(t: Ticket, messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": t.id, "channel": t.channel, "subject": t.subject, "status": t.status, "priority": t.priority,
            "queue": t.queue, "intent": t.intent, "sentiment": t.sentiment, "urgency": t.urgency,
            "language": t.language, "created_at": _iso(t.created_at), "first_responded_at": _iso(t.first_responded_at),
            "solved_at": _iso(t.solved_at), "messages": messages}


def _inbox_rows(scope: _Scope, session: Session) -> list[InboxItem]:
    linked = [i for chunk in _chunks(scope.inbox_ids)
              for i in session.scalars(select(InboxItem).where(InboxItem.id.in_(chunk)))]
    return sorted([*linked, *scope.unprocessed], key=lambda i: i.id)


def _inbox_out(i: InboxItem) -> dict[str, Any]:
    # A processed row's bytes are its message's `raw_base64`: given once, there.
    return {"id": i.id, "kind": i.kind, "source": i.source, "status": i.status, "envelope": i.envelope,
            "received_at": _iso(i.received_at), "processed_at": _iso(i.processed_at), "message_id": i.message_id,
            "payload_base64": None if i.message_id is not None else _b64(i.payload)}


# ---------------------------------------------------------------------------- erase


def _scrub(value: Any, personal: Sequence[str]) -> Any:
    """A JSON value whose strings that name the person are masked (the rest, such as an agent's address, stays)."""
    if isinstance(value, str):
        lowered = value.lower()
        if any(p and p.lower() in lowered for p in personal):
            return mask_personal_data(value, names=tuple(personal))
        return value
    if isinstance(value, list):
        return [_scrub(v, personal) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v, personal) for k, v in value.items()}
    return value


def _scrub_prechecks(prechecks: dict[str, Any]) -> dict[str, Any]:
    """Keep each pre-check's verdicts, counts and shares (QA reports read them); drop the words quoted."""
    out: dict[str, Any] = {}
    for name, check in (prechecks or {}).items():
        if isinstance(check, dict):
            out[name] = {k: ([] if isinstance(v, list) else None if k == "name" else v) for k, v in check.items()}
        else:
            out[name] = check
    return out


def erase_customer(email: str, *, session: Session, actor: str = "system",
                   index: KnowledgeIndex | None = None) -> dict[str, Any]:
    """Delete or anonymise the personal data of the customer writing from `email` (all their addresses).

    Tickets and messages stay as anonymous rows (channel, times, status, queue, labels) so reports and SLA
    figures keep their counts; texts, raw bytes, attachments, addresses, names, drafts, corrections and the
    past-reply index entries built from their tickets go. An audit event `customer.erased` records the address's
    SHA-256, never the address. Erasing again finds nothing and changes nothing; an address that was never
    known is NotFound.
    """
    scope = _Scope(session, email)
    digest = address_hash(scope.email)
    if not scope.found:
        done = any(e.data.get("address_sha256") == digest
                   for e in session.scalars(select(Event).where(Event.kind == "customer.erased")))
        if not done:
            raise NotFound(f"no customer writes from {scope.email or 'an empty address'}")
        return {"customer_id": None, "address_sha256": digest, "already_erased": True,
                "counts": dict.fromkeys(ERASE_COUNTS, 0)}
    personal = scope.personal()
    counts = dict.fromkeys(ERASE_COUNTS, 0)
    ticket_ids, message_ids = scope.ticket_ids, scope.message_ids

    # Agents' corrections snapshot the customer's text: they go (a later retraining no longer learns from them).
    for chunk in _chunks(message_ids):
        counts["label_corrections"] += _affected(session.execute(
            delete(LabelFeedback).where(LabelFeedback.message_id.in_(chunk))))
        # A text's embedding is derived from its words (and can partly be read back): it goes with them.
        session.execute(delete(MessageEmbedding).where(MessageEmbedding.message_id.in_(chunk)))

    # QA samples stay (they score the agent) without the words quoted from the conversation.
    for sample in scope.qa_samples(session):
        sample.prechecks = _scrub_prechecks(sample.prechecks)
        for review in session.scalars(select(QaReview).where(QaReview.sample_id == sample.id)):
            review.comment = mask_personal_data(review.comment or "", names=personal)
            review.item_comments = _scrub(review.item_comments or {}, personal)
        counts["qa_samples"] += 1

    if ticket_ids:
        counts["suggestions"] = _affected(session.execute(
            update(Suggestion).where(Suggestion.ticket_id.in_(ticket_ids)).values(draft="", snippets=[])
            .execution_options(synchronize_session=False)))
        session.execute(update(SuggestionFeedback).where(SuggestionFeedback.ticket_id.in_(ticket_ids))
                        .values(final_text=None).execution_options(synchronize_session=False))
    # Their agent's replies shown as snippets on other tickets: the (masked) text goes there too.
    reply_ids = {f"reply:{mid}" for mid in message_ids}
    if reply_ids:
        shown = select(Suggestion).where(cast(Suggestion.snippets, Text).contains("reply:", autoescape=True))
        for suggestion in session.scalars(shown):
            snippets = suggestion.snippets or []
            if any(s.get("id") in reply_ids for s in snippets):
                suggestion.snippets = [{**s, "text": ""} if s.get("id") in reply_ids else s for s in snippets]

    for chunk in _chunks(message_ids):
        for c in session.scalars(select(Classification).where(Classification.message_id.in_(chunk))):
            if (c.details or {}).get("reasons"):
                c.details = {**c.details, "reasons": []}

    events = scope.events(session)  # before intake rows go: their events lose the link then
    shas: set[str] = {a["sha256"] for m in scope.messages for a in (m.attachments or []) if a.get("sha256")}
    for m in scope.messages:
        m.subject = m.text = m.full_text = m.author = ""
        m.raw, m.message_id, m.in_reply_to = None, None, None
        m.references, m.attachments, m.parse_notes = [], [], []
        m.dedup_key = erased_key(m.dedup_key)
    counts["messages"] = len(scope.messages)
    for ticket in session.scalars(select(Ticket).where(Ticket.id.in_(ticket_ids))) if ticket_ids else []:
        ticket.subject, ticket.external_ref = "", None
    counts["tickets"] = len(ticket_ids)

    for item in _inbox_rows(scope, session):
        if item.message_id is None and item.status != DONE:
            session.delete(item)  # never processed: nothing but their bytes
        else:
            item.payload, item.envelope, item.source_ref, item.error = b"", None, "", None
            item.dedup_key = erased_key(item.dedup_key)
        counts["intake"] += 1
    session.flush()

    # An attachment also sent by someone else stays for them.
    for sha in sorted(shas):
        if session.scalar(select(Message.id).where(cast(Message.attachments, Text).contains(sha)).limit(1)) is None:
            counts["attachments"] += _affected(session.execute(
                delete(AttachmentBlob).where(AttachmentBlob.sha256 == sha)))

    for out in scope.outbox(session):
        session.delete(out)
        counts["outbox"] += 1

    # A supervisor's reason for a manual assignment may name the customer ("VIP, Ms Zanetti asked for Omar").
    for chunk in _chunks(ticket_ids):
        for assignment in session.scalars(select(Assignment).where(Assignment.ticket_id.in_(chunk))):
            assignment.reason = _scrub(assignment.reason or "", personal)

    for event in events:
        event.data = _scrub(event.data or {}, personal)
        if normalise_address(event.actor) in scope.addresses:
            event.actor = "erased"
        counts["events"] += 1

    customer_id = scope.customer.id if scope.customer is not None else None
    if scope.customer is not None:
        for identity in scope.identities:
            session.delete(identity)
        counts["identities"] = len(scope.identities)
        customer = scope.customer
        customer.name = customer.language = customer.timezone = None
        customer.vip = False
    session.flush()

    if index is not None and message_ids:
        counts["reply_index"] = index.forget_replies(message_ids)
    changed: dict[str, Any] = {k: v for k, v in counts.items() if v}
    record("customer.erased", session=session, actor=actor, customer_id=customer_id, address_sha256=digest,
           **changed)
    log.info("erased customer #%s (%d messages, %d tickets)", customer_id, counts["messages"], counts["tickets"])
    return {"customer_id": customer_id, "address_sha256": digest, "already_erased": False, "counts": counts}


ERASE_COUNTS = ("tickets", "messages", "intake", "attachments", "outbox", "identities", "events", "qa_samples",
                "suggestions", "label_corrections", "reply_index")


# ---------------------------------------------------------------------------- retention


def purge_expired(*, session: Session, retention_days: int, now: datetime | None = None,
                  dry_run: bool = False) -> dict[str, int]:
    """Delete raw bytes and attachment contents older than `retention_days`; how many of each (would) go.

    Raw bytes: a message's original email, a processed intake row's payload, a sent outbox row's copy. Intake
    rows waiting, failed, quarantined or orphaned keep theirs (a retry needs them), and so does mail not yet
    sent. An attachment's contents go once no message received since the cutoff carries the same file; its
    metadata (name, type, size, hash) stays on the message, marked `purged`.
    """
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    targets: dict[str, tuple[Any, list[Any], dict[str, Any]]] = {
        "message_raw": (Message, [Message.raw.is_not(None), Message.created_at < cutoff], {"raw": None}),
        "intake_payloads": (InboxItem, [InboxItem.status == DONE, InboxItem.received_at < cutoff,
                                        func.length(InboxItem.payload) > 0], {"payload": b""}),
        "outbox_raw": (OutboxItem, [OutboxItem.status == SENT, func.coalesce(OutboxItem.sent_at, OutboxItem.created_at)
                                    < cutoff, func.length(OutboxItem.raw) > 0], {"raw": b""}),
    }
    counts: dict[str, int] = {}
    for name, (table, where, values) in targets.items():
        if dry_run:
            counts[name] = session.scalar(select(func.count()).select_from(table).where(*where)) or 0
        else:
            counts[name] = _affected(session.execute(update(table).where(*where).values(**values)
                                                     .execution_options(synchronize_session=False)))
    recent: set[str] = set()
    for attachments in session.scalars(select(Message.attachments).where(Message.created_at >= cutoff)):
        recent.update(a.get("sha256") for a in attachments or [] if a.get("stored"))
    old = [sha for sha in session.scalars(select(AttachmentBlob.sha256).where(AttachmentBlob.created_at < cutoff))
           if sha not in recent]
    counts["attachments"] = len(old)
    if old and not dry_run:
        for chunk in _chunks(old):
            session.execute(delete(AttachmentBlob).where(AttachmentBlob.sha256.in_(chunk)))
        gone = set(old)
        for message in session.scalars(select(Message).where(Message.created_at < cutoff,
                                                              cast(Message.attachments, Text).contains("sha256"))):
            if any(a.get("sha256") in gone and a.get("stored") for a in message.attachments or []):
                message.attachments = [{**a, "stored": False, "purged": True} if a.get("sha256") in gone else a
                                       for a in message.attachments]
    if not dry_run:
        session.flush()
        session.expire_all()  # the bulk updates bypassed any rows already loaded in this session
        if any(counts.values()):
            purged: dict[str, Any] = dict(counts)
            record("privacy.purged", session=session, retention_days=retention_days, **purged)
        session.flush()
    return counts


def erasure_preview(email: str, *, session: Session) -> dict[str, Any]:
    """What `erase_customer` would touch, for a confirmation prompt: customer id, tickets, messages, intake rows."""
    scope = _Scope(session, email)
    return {"customer_id": scope.customer.id if scope.customer is not None else None, "found": scope.found,
            "addresses": scope.addresses, "tickets": len(scope.ticket_ids), "messages": len(scope.messages),
            "intake": len(scope.inbox_ids) + len(scope.unprocessed)}
