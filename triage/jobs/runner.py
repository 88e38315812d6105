"""Running training jobs: one at a time, in a background thread of `triage serve` (or in the foreground).

Training runs in this process, with the encoder the server already holds. Progress goes to the job
row as the trainer reports it; a heartbeat thread proves the job is alive, so a job whose server died
is requeued by the next runner (see `service.recover`). A promoted model is swapped into the running
server at once.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from training.train import ProgressFn
from triage.db import utcnow
from triage.errors import UserError
from triage.jobs import service
from triage.runtime import Triage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Claimed:
    id: int
    task: str
    source: str
    data_path: str | None
    data_name: str | None
    promote: bool
    force: bool


class JobRunner:
    """Runs queued jobs one at a time and keeps the served models in line with the registry."""

    def __init__(self, rt: Triage, *, poll: float = 2.0, heartbeat: float = 10.0, stale_after: float = 60.0,
                 progress_interval: float = 0.5, worker: str | None = None) -> None:
        self.rt = rt
        self.poll = poll
        self.heartbeat = heartbeat
        self.stale_after = stale_after
        self.progress_interval = progress_interval
        self.worker = worker or service.worker_name()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------- background thread

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="triage-training-jobs", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Look for work now rather than at the next poll (a job was just queued)."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop taking jobs. A job still training keeps its row `running`; if the process then exits, the
        next runner requeues it."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.rt.refresh_models()  # promoted or rolled back by another process
                while not self._stop.is_set() and self.run_one() is not None:
                    pass
            except Exception:  # keep serving; the job that failed has recorded its own error
                log.exception("training job runner error")
            self._wake.wait(self.poll)
            self._wake.clear()

    # ----------------------------------------------------------------- one job

    def run_pending(self) -> list[int]:
        """Run queued jobs in the foreground until none is left (the CLI); returns the ids run."""
        ran = []
        while (job_id := self.run_one()) is not None:
            ran.append(job_id)
        return ran

    def run_one(self) -> int | None:
        """Requeue jobs of dead workers, then claim and run the oldest queued job; its id, or None if idle."""
        with self.rt.db.transaction() as session:
            service.recover(session=session, stale_before=utcnow() - timedelta(seconds=self.stale_after))
            job = service.claim_next(session=session, worker=self.worker)
            if job is None:
                return None
            claimed = _Claimed(job.id, job.task, job.source, job.data_path, job.data_name, job.promote, job.force)
        log.info("training job %d started: %s on %s data", claimed.id, claimed.task, claimed.source)
        self._execute(claimed)
        return claimed.id

    def _execute(self, job: _Claimed) -> None:
        beating = threading.Event()
        beat = threading.Thread(target=self._beat, args=(job.id, beating), name=f"triage-job-{job.id}-heartbeat",
                                daemon=True)
        beat.start()
        try:
            result = self._train(job)
        except UserError as exc:
            self._fail(job.id, str(exc))
            return
        except Exception as exc:  # ours, not the user's: the trace goes to the log, the gist to the job
            log.exception("training job %d failed", job.id)
            self._fail(job.id, f"training failed unexpectedly ({type(exc).__name__}: {exc}); see the server log")
            return
        finally:
            beating.set()
            beat.join()
        if result["promoted"]:
            # Before the job reads as succeeded: whoever polls it then gets answers from the new model.
            try:
                self.rt.refresh_models()
            except Exception:  # the registry already checked it loads; keep the old models serving
                log.exception("could not load the models promoted by training job %d", job.id)
        with self.rt.db.transaction() as session:
            recorded = service.finish_job(job.id, self.worker, session=session, result=result)
        if not recorded:
            log.warning("training job %d finished as %s but was taken over meanwhile", job.id, result["version"])
        log.info("training job %d succeeded: %s (%s)", job.id, result["version"],
                 "promoted" if result["promoted"] else "not promoted")

    def _train(self, job: _Claimed) -> dict[str, Any]:
        from training.datasets import BASELINE_FILES, sample_path
        from training.train import run_training

        feedback = None
        if job.source == "upload":
            path = Path(job.data_path or "")
            if not job.data_path or not path.exists():
                raise UserError(f"the uploaded data {job.data_name or ''} is gone from {path}; upload it again")
            name = f"upload {job.data_name} (training job #{job.id})"
        else:
            from triage.feedback.service import training_examples

            path = sample_path(BASELINE_FILES[job.task])
            with self.rt.db.session() as session:
                feedback = training_examples(session=session, task=job.task)
            name = None
        from training.promotion import routed_intents

        routed = routed_intents(self.rt.config) if job.task == "intent" else None
        return run_training(job.task, path, registry=self.rt.registry, feedback=feedback,
                            promote=None if job.promote else False, promote_ties=job.promote,
                            progress=self._progress(job.id), data_name=name, routed=routed, force=job.force)

    def _progress(self, job_id: int) -> ProgressFn:
        last: dict[str, Any] = {"phase": None, "at": 0.0}

        def update(phase: str, done: int, total: int) -> None:
            now = time.monotonic()
            # Every phase change and every phase end is written; in between at most one write per interval.
            if phase == last["phase"] and done < total and now - last["at"] < self.progress_interval:
                return
            last.update(phase=phase, at=now)
            with self.rt.db.transaction() as session:
                service.record_progress(job_id, self.worker, phase, done, total, session=session)

        return update

    def _beat(self, job_id: int, stop: threading.Event) -> None:
        while not stop.wait(self.heartbeat):
            try:
                with self.rt.db.transaction() as session:
                    service.heartbeat(job_id, self.worker, session=session)
            except Exception:  # a missed beat only risks a requeue; keep training
                log.exception("training job %d: heartbeat failed", job_id)

    def _fail(self, job_id: int, error: str) -> None:
        log.warning("training job %d failed: %s", job_id, error)
        with self.rt.db.transaction() as session:
            service.fail_job(job_id, self.worker, error, session=session)
