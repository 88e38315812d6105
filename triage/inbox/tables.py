"""The durable intake table: every accepted raw message lives here until it is processed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from triage.db import Base, UtcDateTime, utcnow

PENDING, DONE, FAILED = "pending", "done", "failed"


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
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    processed_by: Mapped[str | None] = mapped_column(String(200))
    message_id: Mapped[int | None] = mapped_column()  # messages.id once processed (no FK: rows outlive tickets)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
