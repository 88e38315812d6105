"""QA runs (one sampling of a period), the sampled replies, and each reviewer's task and scorecard."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from triage.db import Base, JsonType, UtcDateTime, utcnow

SAMPLE_PURPOSES = ("review", "calibration")
SAMPLE_STATUSES = ("assigned", "partly_scored", "scored")


class QaRun(Base):
    """One sampling of a period. The seed and rubric are kept so the run can be redone and its scores read."""

    __tablename__ = "qa_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(40), index=True)  # label: 2026-W47, 2026-11, 2026-11-16, a..b
    period_start: Mapped[datetime] = mapped_column(UtcDateTime)
    period_end: Mapped[datetime] = mapped_column(UtcDateTime)  # exclusive
    seed: Mapped[int] = mapped_column(Integer)
    sample_size: Mapped[int] = mapped_column(Integer)
    rubric: Mapped[list[dict[str, Any]]] = mapped_column(JsonType)  # the rubric the samples are scored on
    summary: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)  # per agent: replies, sampled, why
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class QaSample(Base):
    """An agent reply picked for review (one reviewer) or calibration (a panel of reviewers).

    A reply is never sampled twice for the same purpose: the unique key is the guard.
    """

    __tablename__ = "qa_samples"
    __table_args__ = (
        UniqueConstraint("message_id", "purpose", name="uq_qa_samples_message_id_purpose"),
        Index("ix_qa_samples_agent_id_id", "agent_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("qa_runs.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    purpose: Mapped[str] = mapped_column(String(16))  # review | calibration
    reasons: Mapped[list[str]] = mapped_column(JsonType, default=list)  # random, sla_breach, negative_sentiment
    status: Mapped[str] = mapped_column(String(16), default="assigned", index=True)
    prechecks: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime)  # the reply's time, for reports over periods
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    run: Mapped[QaRun] = relationship()
    reviews: Mapped[list[QaReview]] = relationship(back_populates="sample", order_by="QaReview.id")


class QaReview(Base):
    """One reviewer's task on a sample and, once submitted, the scorecard (amendments are counted and logged)."""

    __tablename__ = "qa_reviews"
    __table_args__ = (
        UniqueConstraint("sample_id", "reviewer_id", name="uq_qa_reviews_sample_id_reviewer_id"),
        Index("ix_qa_reviews_reviewer_id_submitted_at", "reviewer_id", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("qa_samples.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    scores: Mapped[dict[str, int] | None] = mapped_column(JsonType)  # rubric item -> score; None until submitted
    item_comments: Mapped[dict[str, str]] = mapped_column(JsonType, default=dict)
    comment: Mapped[str] = mapped_column(Text, default="")
    total: Mapped[float | None] = mapped_column(Float)  # weighted score, percent
    amendments: Mapped[int] = mapped_column(Integer, default=0)
    assigned_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    amended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    sample: Mapped[QaSample] = relationship(back_populates="reviews")
