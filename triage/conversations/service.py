"""Customers, threading and ticket queries: plain functions that take a session and flush."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from triage.agents.tables import Agent, Assignment
from triage.conversations.subjects import REPLY_PREFIX, TICKET_TOKEN, normalise_subject
from triage.conversations.tables import Customer, CustomerIdentity, Message, MessageEmbedding, Ticket
from triage.db import on_postgres, utcnow
from triage.errors import InvalidInput, NotFound
from triage.events.service import record

# What the customer sees of a chat: never system messages, nor anything agents write only for each other.
CUSTOMER_VISIBLE = ("customer", "agent", "bot")
# An internal note: a message with this direction and author kind, so every reader of customer mail ("in"),
# of our answers ("out") and of the chat transcript (CUSTOMER_VISIBLE) passes it by; staff see it in place.
NOTE = "note"
MAX_NOTE = 10_000


def normalise_identity(kind: str, value: str) -> str:
    value = value.strip()
    return value.lower() if kind == "email" else value


def resolve_customer(
    identities: Sequence[tuple[str, str]], *, session: Session, name: str | None = None
) -> Customer:
    """Find the customer behind any of these identities (creating or merging as needed).

    One person writing by email and by chat is one customer: when the identities point at two
    customers, the newer is merged into the older and the merge is recorded.
    """
    wanted = [(kind, normalise_identity(kind, value)) for kind, value in identities if value and value.strip()]
    if not wanted:
        raise ValueError("a customer needs at least one identity")
    _lock_identities(wanted, session=session)
    found: list[CustomerIdentity] = []
    for kind, value in wanted:
        row = session.scalar(select(CustomerIdentity).where(CustomerIdentity.kind == kind,
                                                            CustomerIdentity.value == value))
        if row is not None:
            found.append(row)
    customer_ids = sorted({row.customer_id for row in found})
    if customer_ids:
        customer = session.get(Customer, customer_ids[0])
        assert customer is not None
        for other_id in customer_ids[1:]:
            _merge_customer(other_id, into=customer, session=session)
    else:
        customer = Customer(name=name or None)
        session.add(customer)
        session.flush()
        record("customer.created", session=session, customer_id=customer.id)
    if name and not customer.name:
        customer.name = name
    known = {(row.kind, row.value) for row in found}
    for kind, value in wanted:
        if (kind, value) not in known:
            session.add(CustomerIdentity(customer_id=customer.id, kind=kind, value=value))
    session.flush()
    return customer


# pg_advisory_xact_lock(class, key): the class keeps these apart from the inbox's and QA's advisory locks.
_IDENTITY_LOCK_CLASS = 0x4355  # "CU"


def _lock_identities(identities: Sequence[tuple[str, str]], *, session: Session) -> None:
    """On PostgreSQL, hold each identity's lock until commit, so two workers meeting a new customer at once
    make one: the second waits, then finds the first's row instead of inserting a duplicate. Locks are taken
    in a fixed order so two workers never wait on each other. SQLite has one writer at a time already."""
    if not on_postgres(session):
        return
    for kind, value in sorted(set(identities)):
        session.execute(select(func.pg_advisory_xact_lock(_IDENTITY_LOCK_CLASS, func.hashtext(f"{kind}:{value}"))))


def _merge_customer(source_id: int, *, into: Customer, session: Session) -> None:
    session.execute(update(CustomerIdentity).where(CustomerIdentity.customer_id == source_id)
                    .values(customer_id=into.id))
    session.execute(update(Ticket).where(Ticket.customer_id == source_id).values(customer_id=into.id))
    source = session.get(Customer, source_id)
    if source is not None:
        if not into.name and source.name:
            into.name = source.name
        session.delete(source)
    session.flush()
    session.expire_all()
    record("customer.merged", session=session, customer_id=into.id, merged_from=source_id)


def find_message(dedup_key: str, *, session: Session) -> Message | None:
    return session.scalar(select(Message).where(Message.dedup_key == dedup_key))


def thread_email(
    *, session: Session, in_reply_to: str | None, references: Sequence[str], subject: str,
    customer_id: int | None = None, sent_at: datetime | None = None, window: timedelta | None = None,
) -> tuple[Ticket | None, str]:
    """The ticket an email continues, and how it was found.

    In order: In-Reply-To, References (newest first), our `[#123]` token in the subject, and last a
    reply-prefixed subject matching an open ticket of the same customer active within `window`
    (mail clients that drop threading headers).
    """
    candidates = ([in_reply_to] if in_reply_to else []) + [r for r in reversed(references) if r != in_reply_to]
    for ref in candidates:
        msg = session.scalar(select(Message).where(Message.message_id == ref).order_by(Message.id).limit(1))
        if msg is not None:
            return session.get(Ticket, msg.ticket_id), ("in-reply-to" if ref == in_reply_to else "references")
    for token in TICKET_TOKEN.findall(subject or ""):
        ticket = session.get(Ticket, int(token))
        if ticket is not None:
            return ticket, "subject-token"
    normalised = normalise_subject(subject)[:1000]
    if customer_id is not None and window is not None and normalised and REPLY_PREFIX.match(subject or ""):
        since = (sent_at or utcnow()) - window
        ticket = session.scalar(
            select(Ticket).where(Ticket.customer_id == customer_id, Ticket.channel == "email",
                                 Ticket.subject == normalised, Ticket.status != "closed",
                                 Ticket.last_message_at >= since)
            .order_by(Ticket.last_message_at.desc()).limit(1))
        if ticket is not None:
            return ticket, "subject-and-customer"
    return None, "new"


def thread_chat(conversation_id: str, *, session: Session) -> Ticket | None:
    return session.scalar(select(Ticket).where(Ticket.external_ref == f"chat:{conversation_id}"))


@dataclass
class ChatTranscript:
    ticket: Ticket
    messages: list[Message]  # in the order stored (by id), the order an `after` cursor follows
    agent_names: dict[str, str]  # agent email -> name, for the agents who wrote these messages


def chat_transcript(conversation_id: str, *, session: Session, after_id: int | None = None,
                    limit: int = 100) -> ChatTranscript:
    """The messages the customer of a chat conversation sees, after message `after_id`; NotFound when unknown."""
    ticket = thread_chat(conversation_id, session=session)
    if ticket is None:
        raise NotFound(f"no chat conversation {conversation_id!r}")
    if on_postgres(session):
        # An agent's reply and the worker storing a customer's message hold this row lock from before their
        # message gets an id until they commit (flows.tickets.reply, flows.processing): waiting for it, an
        # `after` cursor cannot pass over a message still committing.
        session.execute(select(Ticket.id).where(Ticket.id == ticket.id).with_for_update(read=True))
    query = select(Message).where(Message.ticket_id == ticket.id, Message.author_kind.in_(CUSTOMER_VISIBLE))
    if after_id is not None:
        query = query.where(Message.id > after_id)
    messages = list(session.scalars(query.order_by(Message.id).limit(limit)))
    emails = {m.author for m in messages if m.author_kind == "agent" and "@" in m.author}
    names = {email: name for email, name in session.execute(select(Agent.email, Agent.name)
                                                           .where(Agent.email.in_(emails)))} if emails else {}
    return ChatTranscript(ticket, messages, names)


def add_note(ticket_id: int, text: str, *, author: str, session: Session, now: datetime | None = None) -> Message:
    """Keep a note for colleagues on the ticket: never sent, never in the chat transcript, no SLA effect."""
    text = text.replace("\r\n", "\n").strip()
    if not text:
        raise InvalidInput("the note is empty")
    if len(text) > MAX_NOTE:
        raise InvalidInput(f"the note is longer than {MAX_NOTE} characters")
    if session.get(Ticket, ticket_id) is None:
        raise NotFound(f"no ticket #{ticket_id}")
    note = Message(ticket_id=ticket_id, direction=NOTE, author_kind=NOTE, author=author[:320],
                   dedup_key=f"note:{uuid.uuid4().hex}", text=text, full_text=text, sent_at=now or utcnow())
    session.add(note)
    session.flush()
    record("ticket.noted", session=session, ticket_id=ticket_id, actor=author, message_id=note.id)
    return note


@dataclass(frozen=True)
class TicketFilter:
    """Further conditions for a ticket list; None (or False) means no condition."""

    assignee_id: int | None = None
    unassigned: bool = False
    intent: str | None = None
    sentiment: str | None = None
    priority: str | None = None
    channel: str | None = None
    created_since: datetime | None = None
    created_until: datetime | None = None
    q: str | None = None  # a phrase in the subject or any message, case-insensitive; % and _ are literal
    needs_review: bool | None = None
    customer: str | None = None  # any identity of the customer: an email address (any case) or a chat id


def _contains(text: str) -> str:
    """A LIKE pattern for `text` anywhere, with the wildcards in it escaped (escape character: backslash)."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _filtered(query: Select[Ticket], f: TicketFilter) -> Select[Ticket]:
    if f.unassigned:
        query = query.where(Ticket.assignee_id.is_(None))
    elif f.assignee_id is not None:
        query = query.where(Ticket.assignee_id == f.assignee_id)
    for column, value in ((Ticket.intent, f.intent), (Ticket.sentiment, f.sentiment),
                          (Ticket.priority, f.priority), (Ticket.channel, f.channel)):
        if value:
            query = query.where(column == value)
    if f.needs_review is not None:
        query = query.where(Ticket.needs_review == f.needs_review)
    if f.created_since is not None:
        query = query.where(Ticket.created_at >= f.created_since)
    if f.created_until is not None:
        query = query.where(Ticket.created_at < f.created_until)
    if f.customer and f.customer.strip():
        value = f.customer.strip()
        known = select(CustomerIdentity.customer_id).where(or_(
            (CustomerIdentity.kind == "email") & (CustomerIdentity.value == value.lower()),
            (CustomerIdentity.kind != "email") & (CustomerIdentity.value == value)))
        query = query.where(Ticket.customer_id.in_(known))
    if f.q and f.q.strip():
        pattern = _contains(f.q.strip())
        in_messages = select(Message.id).where(Message.ticket_id == Ticket.id,
                                               func.lower(Message.text).like(pattern, escape="\\"))
        query = query.where(or_(func.lower(Ticket.subject).like(pattern, escape="\\"), in_messages.exists()))
    return query


def list_tickets(
    *, session: Session, status: str | None = None, queue: str | None = None, limit: int = 100,
    after_id: int | None = None, visible_queues: Collection[str] | None = None, or_assignee: int | None = None,
    where: TicketFilter | None = None,
) -> list[Ticket]:
    """Tickets newest first, optionally filtered; `after_id` pages by id (cursor pagination).

    `visible_queues` narrows to what one agent may see: those queues, plus tickets assigned to
    `or_assignee` wherever they sit. `where` adds the API's other filters and the text search.
    """
    query = (
        select(Ticket)
        .options(selectinload(Ticket.customer).selectinload(Customer.identities), selectinload(Ticket.assignee))
        .order_by(Ticket.id.desc())
        .limit(limit)
    )
    if status:
        query = query.where(Ticket.status == status)
    if queue:
        query = query.where(Ticket.queue == queue)
    if after_id is not None:
        query = query.where(Ticket.id < after_id)
    if visible_queues is not None:
        scope = Ticket.queue.in_(sorted(visible_queues))
        query = query.where(or_(scope, Ticket.assignee_id == or_assignee) if or_assignee is not None else scope)
    if where is not None:
        query = _filtered(query, where)
    return list(session.scalars(query))


def get_ticket(ticket_id: int, *, session: Session) -> Ticket | None:
    return session.scalar(
        select(Ticket).where(Ticket.id == ticket_id).options(
            selectinload(Ticket.messages).selectinload(Message.classifications),
            selectinload(Ticket.customer).selectinload(Customer.identities),
            selectinload(Ticket.assignee),
            selectinload(Ticket.assignments).selectinload(Assignment.agent),
        )
    )


def text_digest(text: str) -> str:
    """What `MessageEmbedding.text_sha256` holds for a text (`MessageEmbedding.embeds` compares with it)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def store_message_embedding(message_id: int, vector: np.ndarray, *, text: str, encoder: str,
                            session: Session) -> MessageEmbedding:
    """Keep the vector the worker computed for a message's classification text (issue 18).

    Classification already paid for it; suggestions and anything else that reads this message reuse it
    instead of running the encoder again on a request.
    """
    row = MessageEmbedding(message_id=message_id, encoder=encoder[:200], text_sha256=text_digest(text),
                           vector=np.asarray(vector, dtype="<f4").reshape(-1).tobytes())
    session.add(row)
    session.flush()
    return row


def message_embedding(message_id: int, *, session: Session, text: str | None = None,
                      encoder: str | None = None) -> np.ndarray | None:
    """The stored vector for a message's classification text, or None: then the caller embeds it itself.

    None when the message was never classified (agent replies, automatic mail, messages from before issue 18,
    erased customers), when `text` is given and is not the text that was embedded, or when `encoder` is given
    and another encoder made the vector (vectors of two encoders are not comparable).
    """
    row = session.get(MessageEmbedding, message_id)
    if row is None:
        return None
    if (text is not None and row.text_sha256 != text_digest(text)) or (encoder is not None and row.encoder != encoder):
        return None
    return row.values()


def message_embeddings(message_ids: Collection[int], *, session: Session) -> dict[int, np.ndarray]:
    """`message_embedding` for many messages in one query: message id -> vector, for those that have one."""
    if not message_ids:
        return {}
    rows = session.execute(select(MessageEmbedding.message_id, MessageEmbedding.vector)
                           .where(MessageEmbedding.message_id.in_(sorted(message_ids))))
    return {mid: np.frombuffer(vector, dtype="<f4").copy() for mid, vector in rows}
