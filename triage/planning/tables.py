"""Emerging-issue alert episodes (issue 17 item 3): one row per episode, notified once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from triage.db import Base, JsonType, UtcDateTime, utcnow


class AlertEpisode(Base):
    """A rise of an intent or queue above its seasonal baseline, or a new topic, from opening to closing.

    `open_key` is "kind:key" while the episode is open and NULL once closed: its unique constraint is the claim
    that makes a second process (or a second pass) find the open episode instead of alerting again.
    """

    __tablename__ = "alert_episodes"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # intent | queue | topic
    key: Mapped[str] = mapped_column(String(200))
    open_key: Mapped[str | None] = mapped_column(String(220), unique=True)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    observed: Mapped[int] = mapped_column(default=0)  # count in the window that opened it
    expected: Mapped[float] = mapped_column(Float, default=0.0)
    p_value: Mapped[float | None] = mapped_column(Float)
    details: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
