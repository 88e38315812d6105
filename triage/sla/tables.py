"""SLA pauses (a ticket pending on the customer) and the warnings and breaches that fired."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from triage.db import Base, UtcDateTime, utcnow


class SlaPause(Base):
    """One stretch during which a ticket's SLA clocks stood still; `ended_at` is None while it lasts."""

    __tablename__ = "sla_pauses"
    __table_args__ = (Index("ix_sla_pauses_ticket", "ticket_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class SlaEvent(Base):
    """A warning or breach that fired. The unique key is the claim: each fires once, whoever inserts first.

    `clock_started_at` identifies the clock (the ticket's creation, or the unanswered customer message
    for next_response), so moving a deadline (a priority change) never fires the same clock twice.
    """

    __tablename__ = "sla_events"
    __table_args__ = (UniqueConstraint("ticket_id", "metric", "kind", "clock_started_at",
                                       name="uq_sla_events_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    metric: Mapped[str] = mapped_column(String(32))  # first_response | next_response | resolution
    kind: Mapped[str] = mapped_column(String(16))  # warning | breach
    clock_started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    fired_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    fired_by: Mapped[str] = mapped_column(String(200), default="")
