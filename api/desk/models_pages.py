"""The desk's models pages for data scientists (issue 16 item 5): versions, reports, compare, promote, training.

The pages call the models API's own route functions (`api.models_api`) with the signed-in person as the
caller, so the desk lists, compares, promotes (with the same label-set safety checks and the same `force`)
and rolls back exactly as `/api/v1/models` does; training jobs are queued with the same services
(`jobs.stage_upload`, `jobs.create_job`). The roles are read from that API's dependencies, so both doors
admit the same people.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, get_args

from fastapi import APIRouter, File, Form, HTTPException, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from api import models_api
from api.deps import RowId, RuntimeDep, SessionDep
from api.desk.auth import CheckedDesk, Desk, DeskDenied, DeskUser
from api.desk.routes import page
from models.vocabulary import TASKS, Task
from training.promotion import PromotionRefused
from triage.errors import UserError
from triage.events.service import record
from triage.jobs import service as jobs
from triage.jobs.runner import JobRunner
from triage.jobs.schemas import JobOut, job_out
from triage.users.service import Role

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)


def _roles(dependency: Any) -> frozenset[Role]:
    """The roles an `allow(...)` alias of the models API admits (admin included)."""
    return frozenset(get_args(dependency)[1].dependency.roles)


READERS = _roles(models_api.ReaderDep)  # data scientists, supervisors, admins: list, show, compare, reports
TRAINERS = _roles(models_api.TrainerDep)  # data scientists, admins: promote, roll back, training jobs

# How to read a difference (b - a) in the comparison: up is good for these, down is good for those.
HIGHER_IS_BETTER = frozenset({"accuracy", "macro_f1", "in_scope_accuracy", "oos_recall"})
LOWER_IS_BETTER = frozenset({"ece", "in_scope_rejected"})
PHASES = ("embedding", "fitting", "reports")  # the trainer's progress phases, in order
VERSION = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$"  # as the registry names versions


def _reader(desk: Desk) -> None:
    if desk.principal.role not in READERS:
        raise DeskDenied(403, f"the models pages are not for the {desk.principal.role.value} role")


def _trainer(desk: Desk) -> None:
    if desk.principal.role not in TRAINERS:
        raise DeskDenied(403, f"the {desk.principal.role.value} role may read models but not change them")


def _nav(desk: Desk) -> dict[str, Any]:
    # Ticket queues appear in the nav only for roles that may open them (never for a data scientist).
    return {"desk": desk, "teams": [], "can_train": desk.principal.role in TRAINERS}


def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a models API route function; its refusals become desk error pages with the same status and reason."""
    try:
        return fn(*args, **kwargs)
    except HTTPException as exc:
        raise DeskDenied(exc.status_code, str(exc.detail)) from exc
    except UserError as exc:
        raise DeskDenied(exc.http_status, str(exc)) from exc


def verdict(metric: str, delta: float | None) -> str:
    """'better', 'worse', 'changed' or '' for a difference b - a, as the page highlights it."""
    if not delta:
        return ""
    if metric in HIGHER_IS_BETTER:
        return "better" if delta > 0 else "worse"
    if metric in LOWER_IS_BETTER:
        return "better" if delta < 0 else "worse"
    return "changed"


def figure(metric: str, value: float | None, *, signed: bool = False) -> str:
    """A metric as the comparison shows it: rates to four places, counts (n, n_train, ...) as whole numbers."""
    if value is None:
        return "-"
    sign = "+" if signed else ""
    if metric not in HIGHER_IS_BETTER | LOWER_IS_BETTER and float(value).is_integer():
        return f"{int(value):{sign}d}"
    return f"{value:{sign}.4f}"


def progress_of(job: JobOut) -> dict[str, Any]:
    """What the job page shows and polls: status, phase, a percentage over the three phases, the outcome."""
    phase, done, total = job.progress.phase, job.progress.done, job.progress.total
    if job.status == "succeeded":
        percent = 100
    elif phase in PHASES and total:
        percent = int(100 * (PHASES.index(phase) + min(done, total) / total) / len(PHASES))
    else:
        percent = 0
    return {"id": job.id, "status": job.status, "phase": phase, "done": done, "total": total, "percent": percent,
            "finished": job.status in ("succeeded", "failed"), "model_version": job.model_version,
            "promoted": job.promoted, "error": job.error,
            "reason": (job.result or {}).get("reason")}


# ------------------------------------------------------------------------------------------------ versions


@router.get("/models", response_class=HTMLResponse)
def models_page(request: Request, desk: DeskUser, session: SessionDep, rt: RuntimeDep,
                promoted: Annotated[str | None, Query(pattern=VERSION)] = None,
                rolled_back: Annotated[Task | None, Query()] = None) -> HTMLResponse:
    """Per task the versions with their metrics, the one served and the one a rollback would serve; jobs."""
    _reader(desk)
    listed = _call(models_api.list_models, rt, desk.principal, None)
    previous = {t.task: rt.registry.rollback_target(t.task) for t in listed.tasks}
    recent = [job_out(j) for j in jobs.list_jobs(session=session, limit=20)] if desk.principal.role in TRAINERS \
        else []
    # Said only when true: a crafted link cannot make the page claim a version is served.
    served = {t.task: t.active for t in listed.tasks}
    notice = (f"{promoted} is served from now on." if promoted and promoted in served.values() else
              f"The {rolled_back} model was rolled back to {served[rolled_back]}." if rolled_back else None)
    return page(request, "models.html", {**_nav(desk), "tasks": listed.tasks, "previous": previous,
                                         "jobs": recent, "task_names": TASKS, "notice": notice})


# Declared before /models/{version} so that "compare" and "jobs" are never read as versions.
@router.get("/models/compare", response_class=HTMLResponse)
def compare_page(request: Request, desk: DeskUser, rt: RuntimeDep,
                 a: Annotated[str | None, Query(max_length=200)] = None,
                 b: Annotated[str | None, Query(max_length=200)] = None) -> HTMLResponse:
    """Two versions of one task side by side, as GET /api/v1/models/compare gives them, differences marked."""
    _reader(desk)
    listed = _call(models_api.list_models, rt, desk.principal, None)
    compared = _call(models_api.compare_models, rt, desk.principal, a, b) if a and b else None
    rows = [{"metric": m.metric, "a": figure(m.metric, m.a), "b": figure(m.metric, m.b),
             "delta": figure(m.metric, m.delta, signed=True), "verdict": verdict(m.metric, m.delta)}
            for m in compared.metrics] if compared else []
    return page(request, "models_compare.html", {**_nav(desk), "tasks": listed.tasks, "a": a or "", "b": b or "",
                                                 "compared": compared, "rows": rows})


# ------------------------------------------------------------------------------------------------ training jobs


@router.post("/models/jobs")
def start_job(request: Request, desk: CheckedDesk, session: SessionDep, rt: RuntimeDep,
              task: Annotated[Task, Form()],
              source: Annotated[str, Form(pattern="^(upload|export)$")] = "export",
              promote: Annotated[bool, Form()] = False,
              force: Annotated[bool, Form()] = False,
              file: Annotated[UploadFile | None, File()] = None,
              text_column: Annotated[str, Form(min_length=1, max_length=200)] = "text",
              label_column: Annotated[str, Form(min_length=1, max_length=200)] = "label") -> RedirectResponse:
    """Queue a training job as POST /api/v1/models/jobs does: an upload is read and checked before any job exists.

    The API's route opens its own transaction; here the request's session (already open for the sign-in
    check) writes the job, so SQLite is never asked for a second writer.
    """
    _trainer(desk)
    staged = None
    if source == "upload":
        if file is None or not file.filename:  # a browser sends an empty part when no file was chosen
            raise DeskDenied(400, "choose a file to upload, or train on the bundled samples")
        limit = rt.settings.api_max_body
        data = file.file.read(limit + 1)
        if len(data) > limit:
            raise DeskDenied(413, f"{file.filename}: larger than {limit} bytes (TRIAGE_API_MAX_BODY)")
        staged = _call(jobs.stage_upload, data, filename=file.filename, content_type=file.content_type, task=task,
                       home=rt.settings.home, text_column=text_column, label_column=label_column)
    job = _call(jobs.create_job, session=session, task=task, source=source, created_by=desk.principal.name,
                user_id=desk.principal.user_id, promote=promote, force=force, staged=staged)
    runner: JobRunner | None = getattr(request.app.state, "job_runner", None)
    if runner is not None:
        # The row commits as this request ends; if the runner looks first it finds it at its next poll.
        runner.wake()
    return RedirectResponse(f"/models/jobs/{job.id}", status_code=303)


@router.get("/models/jobs/{job_id}", response_class=HTMLResponse)
def job_page(job_id: RowId, request: Request, desk: DeskUser, session: SessionDep) -> HTMLResponse:
    """One job; models.js polls its progress until it is done or failed."""
    _trainer(desk)
    job = job_out(_call(jobs.get_job, job_id, session=session))
    return page(request, "models_job.html", {**_nav(desk), "job": job, "progress": progress_of(job)})


@router.get("/models/jobs/{job_id}/progress")
def job_progress(job_id: RowId, desk: DeskUser, session: SessionDep) -> dict[str, Any]:
    """The job page's small JSON: status, phase, percentage, and when finished the model or the error."""
    _trainer(desk)
    return progress_of(job_out(_call(jobs.get_job, job_id, session=session)))


# ------------------------------------------------------------------------------------------------ one version


def _version_view(desk: Desk, rt: RuntimeDep, version: str) -> dict[str, Any]:
    detail = _call(models_api.show_model, version, rt, desk.principal)
    scalars = {k: v for k, v in detail.metrics.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    return {**_nav(desk), "model": detail, "per_class": detail.metrics.get("per_class") or {}, "scalars": scalars,
            "images": [name for name in ("confusion.png", "reliability.png") if name in detail.reports],
            "served": rt.registry.current(detail.task), "rollback_to": rt.registry.rollback_target(detail.task)}


@router.get("/models/{version}", response_class=HTMLResponse)
def model_page(version: str, request: Request, desk: DeskUser, rt: RuntimeDep) -> HTMLResponse:
    """A version's metrics, its confusion matrix and reliability diagram, the per-class table, promote."""
    _reader(desk)
    return page(request, "models_version.html", _version_view(desk, rt, version))


@router.get("/models/{version}/reports/{name}")
def model_report(version: str, name: str, desk: DeskUser, rt: RuntimeDep) -> FileResponse:
    """A report file stored with the version, for <img> on the page: the API's route behind the session."""
    _reader(desk)
    return _call(models_api.model_report, version, name, rt, desk.principal)


@router.post("/models/{version}/promote", response_model=None)
def promote(version: str, request: Request, desk: CheckedDesk, session: SessionDep, rt: RuntimeDep,
            force: Annotated[bool, Form()] = False,
            reason: Annotated[str, Form(max_length=500)] = "") -> Response:
    """Serve this version, through POST /api/v1/models/{version}/promote and its checks; refusals show why."""
    _trainer(desk)
    reason = " ".join(reason.split())
    if force and not reason:
        return page(request, "models_version.html", {
            **_version_view(desk, rt, version), "can_force": True,
            "refusal": "Say why you force this promotion: the reason is kept in the audit log."}, 422)
    try:
        switched = models_api.promote_model(version, rt, desk.principal, force)
    except PromotionRefused as exc:
        # The label-set checks said no: the version page again with their reasons, and the force form,
        # which the API allows for exactly these.
        return page(request, "models_version.html", {**_version_view(desk, rt, version), "refusal": str(exc),
                                                     "can_force": True}, 409)
    except HTTPException as exc:
        raise DeskDenied(exc.status_code, str(exc.detail)) from exc
    except UserError as exc:  # not found, or an artifact that does not load (no force gets past that)
        if exc.http_status != 409:
            raise DeskDenied(exc.http_status, str(exc)) from exc
        return page(request, "models_version.html", {**_version_view(desk, rt, version), "refusal": str(exc),
                                                     "can_force": False}, 409)
    # The API keeps no reason for a forced promotion; the desk asks for one and keeps it in the audit log.
    record("model.promoted", session=session, actor=desk.principal.actor, task=switched.task,
           version=switched.active, previous=switched.previous, forced=force, reason=reason or None)
    if force:
        log.warning("%s model %s force-promoted on the desk by %s: %s", switched.task, version,
                    desk.principal.name, reason)
    return RedirectResponse(f"/models?promoted={switched.active}", status_code=303)


@router.post("/models/{task}/rollback")
def rollback(task: str, desk: CheckedDesk, session: SessionDep, rt: RuntimeDep) -> RedirectResponse:
    """Serve the previously promoted version of this task again, through POST /api/v1/models/{task}/rollback."""
    _trainer(desk)
    if task not in TASKS:
        raise DeskDenied(404, f"no model task {task!r}")
    switched = _call(models_api.rollback_model, task, rt, desk.principal)
    record("model.rolled_back", session=session, actor=desk.principal.actor, task=task, version=switched.active,
           previous=switched.previous)
    return RedirectResponse(f"/models?rolled_back={task}", status_code=303)
