"""Label corrections: who relabelled which message's intent, sentiment or urgency, from what to what."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from triage.db import Base, UtcDateTime, utcnow


class LabelFeedback(Base):
    """One correction; the text is a snapshot so the example survives edits and deleted messages."""

    __tablename__ = "label_feedback"
    __table_args__ = (Index("ix_label_feedback_task_id", "task", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"), index=True)
    task: Mapped[str] = mapped_column(String(32))  # intent | sentiment | urgency
    old_label: Mapped[str | None] = mapped_column(String(100))
    label: Mapped[str] = mapped_column(String(100))
    actor: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)  # what the classifier saw (subject line + cleaned body)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
