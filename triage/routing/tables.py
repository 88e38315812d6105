"""What the router learns from history: handling effort per intent and channel."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from triage.db import Base, UtcDateTime, utcnow


class HandlingStat(Base):
    """Running mean of minutes from assignment to solved, one row per (intent, channel)."""

    __tablename__ = "handling_stats"

    intent: Mapped[str] = mapped_column(String(100), primary_key=True)  # "" for unclassified tickets
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
    mean_minutes: Mapped[float] = mapped_column(Float, default=0.0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
