"""Customers (with identities across channels), tickets, messages and their classifications."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import Float, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from triage.db import Base, JsonType, UtcDateTime, utcnow

if TYPE_CHECKING:
    from triage.agents.tables import Agent, Assignment

TICKET_STATUSES = ("new", "open", "pending", "solved", "closed")
OPEN_STATUSES = ("new", "open", "pending")


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    vip: Mapped[bool] = mapped_column(default=False)
    language: Mapped[str | None] = mapped_column(String(16))
    timezone: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    identities: Mapped[list[CustomerIdentity]] = relationship(back_populates="customer")


class CustomerIdentity(Base):
    """An address by which we know a customer: one row per email address or chat id."""

    __tablename__ = "customer_identities"
    __table_args__ = (UniqueConstraint("kind", "value", name="uq_customer_identities_kind_value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # email | chat
    value: Mapped[str] = mapped_column(String(320))  # normalised: emails lower-cased
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Set by a delivery-status report for this address; no mail goes to it until a person clears it (issue 14).
    bouncing_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    bounce_reason: Mapped[str | None] = mapped_column(Text)

    customer: Mapped[Customer] = relationship(back_populates="identities")


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_status_queue", "status", "queue"),
        Index("ix_tickets_assignee_status", "assignee_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))  # email | chat
    subject: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="new")
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    queue: Mapped[str | None] = mapped_column(String(100))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    queued_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # since when it waits for an agent
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    # Chat conversations thread by their transcript id ("chat:<conversation_id>").
    external_ref: Mapped[str | None] = mapped_column(String(300), unique=True)
    intent: Mapped[str | None] = mapped_column(String(100))
    intent_confidence: Mapped[float | None] = mapped_column(Float)
    # The served intent was unsure or out of scope ([review] in triage.toml); an agent's relabel clears it.
    needs_review: Mapped[bool] = mapped_column(default=False)
    sentiment: Mapped[str | None] = mapped_column(String(16))
    urgency: Mapped[str | None] = mapped_column(String(16))
    # The first confidently detected customer language; kept unless a later message is confidently another.
    language: Mapped[str | None] = mapped_column(String(16))
    first_response_due: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolution_due: Mapped[datetime | None] = mapped_column(UtcDateTime)
    first_responded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # SLA timers (triage/sla): the oldest unanswered customer message after the first reply, the
    # running pause (status pending) and when the scheduler must next look at the ticket.
    next_response_due: Mapped[datetime | None] = mapped_column(UtcDateTime)
    awaiting_reply_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sla_paused_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sla_next_check_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    solved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_message_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    messages: Mapped[list[Message]] = relationship(back_populates="ticket", order_by="Message.sent_at, Message.id")
    customer: Mapped[Customer] = relationship()
    assignee: Mapped[Agent | None] = relationship()
    assignments: Mapped[list[Assignment]] = relationship(order_by="Assignment.id")

    @property
    def reply_language(self) -> str | None:
        """The language we write to the customer in: this ticket's (detected), else the customer's (issue 15).

        One rule for acknowledgements, SLA notices and drafts; lower case, as the detector writes codes.
        """
        language = self.language or (self.customer.language if self.customer is not None else None)
        return language.lower() if language else None


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    direction: Mapped[str] = mapped_column(String(8))  # in | out
    author_kind: Mapped[str] = mapped_column(String(16))  # customer | agent | bot | system
    author: Mapped[str] = mapped_column(String(320), default="")
    # "mid:<Message-ID>" or "sha256:<hex>": what makes intake idempotent.
    dedup_key: Mapped[str] = mapped_column(String(600), unique=True)
    message_id: Mapped[str | None] = mapped_column(String(600), index=True)  # RFC 5322 Message-ID, no <>
    in_reply_to: Mapped[str | None] = mapped_column(String(600))
    references: Mapped[list[str]] = mapped_column(JsonType, default=list)
    subject: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")  # cleaned: quotes and signature removed
    full_text: Mapped[str] = mapped_column(Text, default="")  # everything, for audit
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)  # original RFC 5322 bytes for email
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    parse_notes: Mapped[list[str]] = mapped_column(JsonType, default=list)  # e.g. charset fallbacks used
    # Set for mail no person wrote: bounce, complaint (ARF), auto_reply, ... (not classified, never answered).
    auto_kind: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str | None] = mapped_column(String(16))  # detected (customer messages), else the ticket's
    inbox_id: Mapped[int | None] = mapped_column(ForeignKey("inbox.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="messages")
    classifications: Mapped[list[Classification]] = relationship(back_populates="message")


class Classification(Base):
    """One model's answer for one task on one message, kept for audit and retraining."""

    __tablename__ = "classifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    task: Mapped[str] = mapped_column(String(32))  # intent | sentiment | urgency
    label: Mapped[str] = mapped_column(String(100))
    confidence: Mapped[float] = mapped_column(Float)
    model_version: Mapped[str] = mapped_column(String(100))
    details: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    message: Mapped[Message] = relationship(back_populates="classifications")


class AttachmentBlob(Base):
    """Attachment contents up to the configured size, stored once per distinct content (sha256)."""

    __tablename__ = "attachment_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column()
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class MessageEmbedding(Base):
    """The encoder's vector for a message's classification text, computed once by the worker (issue 18).

    Its own table, not a column of `messages`: loading a message never drags 1.5 KB of floats along, and a
    message embedded by another encoder (TRIAGE_ENCODER) is told apart by `encoder` instead of misread.
    """

    __tablename__ = "message_embeddings"

    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True)
    encoder: Mapped[str] = mapped_column(String(200))
    # sha256 of the embedded text: a consumer embedding other words can tell they are not these.
    text_sha256: Mapped[str] = mapped_column(String(64))
    vector: Mapped[bytes] = mapped_column(LargeBinary)  # float32, little-endian, L2-normalised
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    def embeds(self, text: str) -> bool:
        """True when this vector is of exactly these words (a consumer embedding other words must not use it)."""
        return self.text_sha256 == hashlib.sha256(text.encode("utf-8")).hexdigest()

    def values(self) -> np.ndarray:
        """The vector as float32 (a copy: the stored bytes stay read-only)."""
        return np.frombuffer(self.vector, dtype="<f4").copy()
