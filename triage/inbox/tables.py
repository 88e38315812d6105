"""The durable intake table: every accepted raw message lives here until it is processed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from triage.db import Base, JsonType, UtcDateTime, utcnow

PENDING, DONE, FAILED = "pending", "done", "failed"
# A row whose processing killed the worker `max_attempts` times: skipped until a person releases it (issue 14).
QUARANTINED = "quarantined"
# Mail with no sender at all (no From, no envelope sender): kept for a person, never a failure (issue 14).
ORPHAN = "orphan"
STATUSES = (PENDING, DONE, FAILED, QUARANTINED, ORPHAN)


class InboxItem(Base):
    __tablename__ = "inbox"
    __table_args__ = (Index("ix_inbox_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # email | chat
    source: Mapped[str] = mapped_column(String(32))  # file | smtp | imap | api
    source_ref: Mapped[str] = mapped_column(Text, default="")  # e.g. path:line, mailbox/uid
    # "mid:<Message-ID>" or "sha256:<hex>": the same message offered twice is stored once.
    dedup_key: Mapped[str] = mapped_column(String(600), unique=True)
    payload: Mapped[bytes] = mapped_column(LargeBinary)  # raw RFC 5322 bytes, or the chat record as JSON
    # SMTP envelope (mail_from, rcpt_tos, peer) or IMAP origin (mailbox, folder, uid), when there is one.
    envelope: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    # Processing attempts begun since the row was last (re)queued, each committed before its work starts.
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    processed_by: Mapped[str | None] = mapped_column(String(200))
    message_id: Mapped[int | None] = mapped_column()  # messages.id once processed (no FK: rows outlive tickets)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ImapCheckpoint(Base):
    """How far a mailbox folder has been stored: advanced only in the transaction that stores the message."""

    __tablename__ = "imap_checkpoints"
    __table_args__ = (UniqueConstraint("mailbox", "folder", name="uq_imap_checkpoints_mailbox_folder"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(320))
    folder: Mapped[str] = mapped_column(String(300))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
