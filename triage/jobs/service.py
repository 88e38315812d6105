"""Training jobs: staging uploaded data, queueing, claiming, progress, results and crash recovery.

Plain functions: the ones taking a session only flush; the caller (a route, the runner, the CLI) commits.
"""

from __future__ import annotations

import logging
import os
import socket
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models.vocabulary import TASKS, URGENCY_LEVELS
from training.datasets import JSONL_SUFFIXES, load_csv, load_jsonl, write_csv
from training.train import check_splittable
from triage.db import utcnow
from triage.errors import BadRequest, InvalidInput, NotFound, UserError
from triage.jobs.tables import SOURCES, STATUSES, TrainingJob

log = logging.getLogger(__name__)

MIN_ROWS = 10  # fewer cannot give a model and a validation split worth measuring
MAX_ATTEMPTS = 3  # a job that took its server down this often is failed rather than requeued forever


class NotFoundError(NotFound):
    """A job or model version that does not exist."""


class UnsupportedFormatError(BadRequest):
    """An upload that is neither CSV nor JSON Lines."""

    http_status = 415
    title = "Unsupported media type"


class UntrainableError(InvalidInput):
    """Data that was read but cannot give a model (one label, too few rows, unknown labels): HTTP 422."""


def worker_name() -> str:
    """host:pid, so a restarted server can tell its own dead jobs from another live server's."""
    return f"{socket.gethostname()}:{os.getpid()}"


# ---------------------------------------------------------------------------- uploaded data


@dataclass
class StagedData:
    path: Path
    name: str
    sha256: str
    rows: int
    skipped: list[str] = field(default_factory=list)


def upload_format(filename: str | None, content_type: str | None) -> str:
    """'csv' or 'jsonl' from the file name, else the declared content type; UserError when neither says."""
    suffix = Path(filename or "").suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    media = (content_type or "").split(";")[0].strip().lower()
    if media in ("text/csv", "application/csv"):
        return "csv"
    if media in ("application/jsonl", "application/x-ndjson", "application/x-jsonlines", "application/json-lines"):
        return "jsonl"
    raise UnsupportedFormatError(f"{filename or 'the upload'}: unsupported format; send a .csv or .jsonl file "
                    "(columns or fields 'text' and 'label')")


def check_labels(task: str, labels: list[str], source: str) -> None:
    """Urgency drives priority and SLA clocks, so its labels must be the known levels (as for corrections)."""
    if task == "urgency":
        unknown = sorted(set(labels) - set(URGENCY_LEVELS))
        if unknown:
            raise UntrainableError(f"{source}: unknown urgency label(s) {', '.join(unknown)}; "
                                   f"use {', '.join(URGENCY_LEVELS)}")


def stage_upload(data: bytes, *, filename: str | None, content_type: str | None, task: str,
                 home: Path, text_column: str = "text", label_column: str = "label") -> StagedData:
    """Read, check and store uploaded training data before any job row exists.

    The data is parsed with the same loaders as `triage train` (the text and label in the named
    columns), checked for what training needs (two labels, enough rows for a validation split) and
    written as a normalised text,label CSV named by its hash under TRIAGE_HOME/training-data, so the
    job can run after a restart.
    """
    if task not in TASKS:
        raise UserError(f"unknown task {task!r}: choose one of {', '.join(TASKS)}")
    fmt = upload_format(filename, content_type)
    name = Path(filename or f"upload.{fmt}").name[:300]
    if not data.strip():
        raise BadRequest(f"{name}: the file is empty")
    folder = home / "training-data"
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".upload-", suffix=f".{fmt}", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        loader = load_jsonl if fmt == "jsonl" else load_csv
        dataset = loader(Path(tmp), name=name, text_column=text_column, label_column=label_column)
    finally:
        Path(tmp).unlink(missing_ok=True)
    if len(dataset) < MIN_ROWS:
        raise UntrainableError(f"{name}: {len(dataset)} labelled row(s); training needs at least {MIN_ROWS}")
    try:
        check_splittable(dataset)
    except UserError as exc:
        raise UntrainableError(str(exc)) from exc
    check_labels(task, dataset.labels, name)
    path = folder / f"{task}-{dataset.sha256[:16]}.csv"
    if not path.exists():
        write_csv(path, dataset)
    return StagedData(path=path, name=name, sha256=dataset.sha256, rows=len(dataset), skipped=dataset.skipped)


# ---------------------------------------------------------------------------- rows


def create_job(*, session: Session, task: str, source: str, created_by: str, user_id: int | None = None,
               promote: bool = False, force: bool = False, staged: StagedData | None = None) -> TrainingJob:
    """Queue a job; an upload job needs its data staged first, an export job reads its data when it runs."""
    if task not in TASKS:
        raise UserError(f"unknown task {task!r}: choose one of {', '.join(TASKS)}")
    if source not in SOURCES:
        raise UserError(f"unknown data source {source!r}: choose one of {', '.join(SOURCES)}")
    if (source == "upload") != (staged is not None):
        raise UserError("an upload job needs a file; an export job takes none")
    job = TrainingJob(task=task, source=source, status="queued", promote=promote, force=force,
                      created_by=created_by[:200],
                      user_id=user_id, done=0, total=0, attempts=0)
    if staged is not None:
        job.data_path, job.data_name = str(staged.path), staged.name
        job.data_sha256, job.rows = staged.sha256, staged.rows
    session.add(job)
    session.flush()
    log.info("training job %d queued: %s on %s data by %s", job.id, task, source, job.created_by)
    return job


def get_job(job_id: int, *, session: Session) -> TrainingJob:
    job = session.get(TrainingJob, job_id)
    if job is None:
        raise NotFoundError(f"no training job #{job_id}")
    return job


def list_jobs(*, session: Session, status: str | None = None, task: str | None = None, limit: int = 50,
              before_id: int | None = None) -> list[TrainingJob]:
    """Jobs newest first, optionally only one status or task; `before_id` continues a page."""
    if status is not None and status not in STATUSES:
        raise UserError(f"unknown status {status!r}: choose one of {', '.join(STATUSES)}")
    if task is not None and task not in TASKS:
        raise UserError(f"unknown task {task!r}: choose one of {', '.join(TASKS)}")
    stmt = select(TrainingJob).order_by(TrainingJob.id.desc()).limit(limit)
    if status is not None:
        stmt = stmt.where(TrainingJob.status == status)
    if task is not None:
        stmt = stmt.where(TrainingJob.task == task)
    if before_id is not None:
        stmt = stmt.where(TrainingJob.id < before_id)
    return list(session.scalars(stmt))


def claim_next(*, session: Session, worker: str) -> TrainingJob | None:
    """Take the oldest queued job for this worker (row-locked on PostgreSQL, write-locked on SQLite)."""
    job = session.scalars(select(TrainingJob).where(TrainingJob.status == "queued").order_by(TrainingJob.id)
                          .limit(1).with_for_update(skip_locked=True)).first()
    if job is None:
        return None
    now = utcnow()
    job.status, job.worker, job.attempts = "running", worker, job.attempts + 1
    job.started_at, job.heartbeat_at = now, now
    job.phase, job.done, job.total, job.error = None, 0, 0, None
    session.flush()
    return job


def _owned(job_id: int, worker: str) -> Any:
    return (TrainingJob.id == job_id) & (TrainingJob.status == "running") & (TrainingJob.worker == worker)


def record_progress(job_id: int, worker: str, phase: str, done: int, total: int, *, session: Session) -> bool:
    """Store the trainer's (phase, done, total); False when the job is no longer this worker's."""
    result = session.execute(update(TrainingJob).where(_owned(job_id, worker))
                             .values(phase=phase[:32], done=done, total=total, heartbeat_at=utcnow()))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def heartbeat(job_id: int, worker: str, *, session: Session) -> bool:
    """Prove the worker is alive; a running job without heartbeats is requeued by the next runner."""
    result = session.execute(update(TrainingJob).where(_owned(job_id, worker)).values(heartbeat_at=utcnow()))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def finish_job(job_id: int, worker: str, *, session: Session, result: dict[str, Any]) -> bool:
    """Mark the job succeeded with the model it produced; False (nothing written) if it is not ours any more."""
    done = session.execute(update(TrainingJob).where(_owned(job_id, worker)).values(
        status="succeeded", model_version=result.get("version"), metrics=result.get("metrics"),
        result={k: v for k, v in result.items() if k not in ("metrics", "skipped")}
        | {"skipped": len(result.get("skipped", []))},
        finished_at=utcnow(), error=None))
    return bool(done.rowcount)  # type: ignore[attr-defined]


def fail_job(job_id: int, worker: str, error: str, *, session: Session) -> bool:
    """Mark the job failed with a message saying what went wrong; the model in service is untouched."""
    done = session.execute(update(TrainingJob).where(_owned(job_id, worker)).values(
        status="failed", error=error[:4000], finished_at=utcnow()))
    return bool(done.rowcount)  # type: ignore[attr-defined]


def _process_gone(worker: str) -> bool:
    """Whether `worker` names a process on this host that no longer exists."""
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists but belongs to someone else
        return False
    return False


def recover(*, session: Session, stale_before: datetime,
            gone: Callable[[str], bool] = _process_gone) -> list[int]:
    """Requeue running jobs whose worker died (no heartbeat since `stale_before`, or its process is gone).

    A job that has already been tried MAX_ATTEMPTS times is failed instead, so one that kills its
    server cannot do so forever. Returns the ids put back in the queue.
    """
    requeued = []
    jobs = session.scalars(select(TrainingJob).where(TrainingJob.status == "running")
                           .with_for_update(skip_locked=True))
    for job in jobs:
        stale = job.heartbeat_at is None or job.heartbeat_at < stale_before
        if not stale and not (job.worker and gone(job.worker)):
            continue
        if job.attempts >= MAX_ATTEMPTS:
            job.status, job.finished_at = "failed", utcnow()
            job.error = f"the server stopped while training, {job.attempts} times; not retried again"
            log.warning("training job %d failed after %d interrupted attempts", job.id, job.attempts)
        else:
            log.warning("training job %d was left running by %s; requeued", job.id, job.worker)
            job.status, job.worker, job.phase, job.done, job.total = "queued", None, None, 0, 0
            requeued.append(job.id)
    session.flush()
    return requeued
