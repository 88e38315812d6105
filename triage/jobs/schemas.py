"""What the API and the CLI show of a training job."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from models.vocabulary import Task
from triage.jobs.tables import TrainingJob


class JobProgress(BaseModel):
    phase: str | None = Field(description="embedding, fitting or reports (from the trainer); null before it starts")
    done: int
    total: int


class JobOut(BaseModel):
    id: int
    task: Task
    source: Literal["upload", "export"]
    status: Literal["queued", "running", "succeeded", "failed"]
    promote: bool = Field(description="promote the new model when it is not worse than the one in service")
    force: bool = Field(description="promote it even when its labels differ from the routing or the model in "
                                    "service")
    data_name: str | None
    data_sha256: str | None
    rows: int | None
    progress: JobProgress
    model_version: str | None
    promoted: bool | None = Field(description="whether the new model now serves; null until the job succeeds")
    metrics: dict[str, Any] | None
    result: dict[str, Any] | None
    error: str | None
    attempts: int
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


def job_out(job: TrainingJob) -> JobOut:
    return JobOut(id=job.id, task=job.task, source=job.source, status=job.status,  # type: ignore[arg-type]
                  promote=job.promote, force=job.force, data_name=job.data_name, data_sha256=job.data_sha256,
                  rows=job.rows,
                  progress=JobProgress(phase=job.phase, done=job.done, total=job.total),
                  model_version=job.model_version,
                  promoted=None if job.result is None else bool(job.result.get("promoted")),
                  metrics=job.metrics, result=job.result, error=job.error, attempts=job.attempts,
                  created_by=job.created_by, created_at=job.created_at, started_at=job.started_at,
                  finished_at=job.finished_at)
