"""Widget conversations: what a customer's browser holds instead of a key.

The browser keeps a random token; only its SHA-256 is stored (as web sessions do), so a copy of the database
cannot speak in anybody's chat. The conversation id is the chat webhook's `conversation_id`: the ticket is
found by it (`chat:<id>`) exactly as for any other chat integration.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from triage.db import Base, UtcDateTime, utcnow


class WidgetConversation(Base):
    __tablename__ = "widget_conversations"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    conversation_id: Mapped[str] = mapped_column(String(250), unique=True)
    customer_ref: Mapped[str] = mapped_column(String(300))  # the chat customer id sent with every message
    name: Mapped[str | None] = mapped_column(String(200))  # as the customer typed them: unverified
    email: Mapped[str | None] = mapped_column(String(320))
    origin: Mapped[str | None] = mapped_column(String(300))  # the site the widget was opened on, when known
    ip: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
