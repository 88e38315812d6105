"""Customer satisfaction surveys (issue 17 item 4): one invitation per solved ticket, and opt-outs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from triage.db import Base, UtcDateTime, utcnow


class SurveyInvitation(Base):
    """An invitation to rate a solved ticket; the unique ticket_id is what makes it once per ticket.

    The link carries the id, `nonce` and an HMAC of both under the secret key; `responded_at` makes it single-use.
    Who handled the ticket, and where, is copied at invitation time so reports do not move when a ticket does.
    """

    __tablename__ = "survey_invitations"
    __table_args__ = (Index("ix_survey_invitations_customer_sent", "customer_id", "sent_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    queue: Mapped[str | None] = mapped_column(String(100))
    intent: Mapped[str | None] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(16))
    nonce: Mapped[str] = mapped_column(String(32))
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    responded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    rating: Mapped[int | None] = mapped_column(SmallInteger)  # 1-5
    comment: Mapped[str | None] = mapped_column(Text)


class SurveyOptOut(Base):
    """A customer who asked for no more surveys."""

    __tablename__ = "survey_opt_outs"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
