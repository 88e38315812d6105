"""One row per (API user, Idempotency-Key): what the request was and the response it got."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from triage.db import Base, UtcDateTime, utcnow


class IdempotencyKey(Base):
    """A request made with an Idempotency-Key; the unique (user, key) makes a concurrent retry wait or fail."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_id_key"),
        Index("ix_idempotency_keys_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    route: Mapped[str] = mapped_column(String(300))  # method and path, e.g. "POST /api/v1/tickets/7/replies"
    fingerprint: Mapped[str] = mapped_column(String(64))  # sha256 of the route and the canonical JSON body
    # Null while the first request is running; it writes both in the transaction that does the work.
    response_status: Mapped[int | None] = mapped_column()
    response_body: Mapped[str | None] = mapped_column(Text)  # the JSON sent, byte for byte
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
