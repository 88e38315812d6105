"""Agents and their assignment history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from triage.db import Base, JsonType, UtcDateTime, utcnow


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    teams: Mapped[list[str]] = mapped_column(JsonType, default=list)
    skills: Mapped[list[str]] = mapped_column(JsonType, default=list)
    languages: Mapped[list[str]] = mapped_column(JsonType, default=list)
    capacity: Mapped[int] = mapped_column(default=10)  # per channel, unless capacity_by_channel says otherwise
    channels: Mapped[list[str] | None] = mapped_column(JsonType)  # None: every channel
    capacity_by_channel: Mapped[dict[str, int] | None] = mapped_column(JsonType)  # e.g. {"chat": 3, "email": 12}
    status: Mapped[str] = mapped_column(String(16), default="online")
    status_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    working_hours: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(default=True)
    last_assigned_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Assignment(Base):
    """Why a ticket went to an agent (or back to the queue); never updated, only appended."""

    __tablename__ = "assignments"
    __table_args__ = (Index("ix_assignments_ticket", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    action: Mapped[str] = mapped_column(String(32))  # assigned | queued | unassigned | reassigned
    reason: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(200), default="router")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    agent: Mapped[Agent | None] = relationship()
