"""One row per training job: what to train on, who asked, its progress, and what came out of it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from triage.db import Base, JsonType, UtcDateTime, utcnow

STATUSES = ("queued", "running", "succeeded", "failed")
SOURCES = ("upload", "export")


class TrainingJob(Base):
    """A training run; the row outlives the process so a crash never loses a queued or running job."""

    __tablename__ = "training_jobs"
    __table_args__ = (Index("ix_training_jobs_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task: Mapped[str] = mapped_column(String(32))  # intent | sentiment | urgency
    source: Mapped[str] = mapped_column(String(16))  # upload | export
    status: Mapped[str] = mapped_column(String(16), default="queued")
    promote: Mapped[bool] = mapped_column(Boolean, default=False)  # when not worse than the model in service
    # Promote even a model whose labels differ from the routing or the model in service (issue 12).
    force: Mapped[bool] = mapped_column(Boolean, default=False)
    # Uploads are stored as a normalised text,label CSV under TRIAGE_HOME before the row is written.
    data_path: Mapped[str | None] = mapped_column(String(1000))
    data_name: Mapped[str | None] = mapped_column(String(300))  # the uploaded file's own name
    data_sha256: Mapped[str | None] = mapped_column(String(64))
    rows: Mapped[int | None] = mapped_column(Integer)
    phase: Mapped[str | None] = mapped_column(String(32))  # embedding | fitting | reports, from the trainer
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    model_version: Mapped[str | None] = mapped_column(String(200))
    metrics: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    result: Mapped[dict[str, Any] | None] = mapped_column(JsonType)  # promotion decision, comparison, feedback
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(200))  # host:pid of the process running it
    created_by: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
