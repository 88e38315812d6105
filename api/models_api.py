"""Routes for data scientists: model versions (list, show, compare, promote, roll back) and training jobs.

Model versions live in the registry under TRIAGE_HOME/models; training jobs are rows in `training_jobs`
run one at a time by a background thread that starts and stops with the app.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, File, Form, HTTPException, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import Principal, RowId, RuntimeDep, SessionDep, allow
from models.vocabulary import TASKS, Task
from training.promotion import check_promotion, routed_intents
from training.registry import ModelInfo, Registry
from triage.errors import UserError
from triage.jobs import service as jobs
from triage.jobs.runner import JobRunner
from triage.jobs.schemas import JobOut, job_out
from triage.runtime import Triage
from triage.users.service import Role

log = logging.getLogger(__name__)

ReaderDep = Annotated[Principal, allow(Role.data_scientist, Role.supervisor)]
TrainerDep = Annotated[Principal, allow(Role.data_scientist)]


@asynccontextmanager
async def _job_runner(app: FastAPI) -> AsyncIterator[None]:
    """Start the training-job runner with the app; on start it requeues jobs a crashed server left running."""
    runner = JobRunner(app.state.triage)
    app.state.job_runner = runner
    runner.start()
    try:
        yield
    finally:
        await run_in_threadpool(runner.stop)


router = APIRouter(prefix="/api/v1/models", tags=["models"], lifespan=_job_runner)


# ---------------------------------------------------------------------------- schemas


class ModelSummary(BaseModel):
    task: Task
    version: str
    active: bool = Field(description="the version this server classifies with")
    created_at: str
    accuracy: float | None
    macro_f1: float | None
    ece: float | None = Field(description="expected calibration error of the confidences")
    n_train: int | None
    n_validation: int | None
    data_sha256: str
    data_source: str
    code_version: str


class TaskModels(BaseModel):
    task: Task
    active: str | None
    versions: list[ModelSummary] = Field(description="newest first")
    history: list[dict[str, Any]] = Field(description="promotions and rollbacks, oldest first")


class ModelList(BaseModel):
    tasks: list[TaskModels]


class ModelDetail(ModelSummary):
    labels: list[str]
    metrics: dict[str, Any] = Field(description="measured on the held-out validation split, as served")
    params: dict[str, Any]
    extra: dict[str, Any] = Field(description="promotion decision, comparison with the model then in service, "
                                              "agents' corrections used")
    reports: list[str] = Field(description="report files stored next to the model")


class MetricDelta(BaseModel):
    metric: str
    a: float | None
    b: float | None
    delta: float | None = Field(description="b - a")


class ModelComparison(BaseModel):
    task: Task
    a: ModelSummary
    b: ModelSummary
    metrics: list[MetricDelta]
    labels_only_in_a: list[str]
    labels_only_in_b: list[str]
    same_data: bool = Field(description="trained on identical data (same hash); otherwise the two validation "
                                        "splits differ and the figures are only indicative")


class Switch(BaseModel):
    task: Task
    active: str
    previous: str | None


class JobPage(BaseModel):
    items: list[JobOut]
    next_cursor: str | None


def _summary(info: ModelInfo, active: str | None) -> ModelSummary:
    m = info.metrics
    return ModelSummary(task=info.kind, version=info.version, active=info.version == active,  # type: ignore[arg-type]
                        created_at=info.created_at, accuracy=m.get("accuracy"), macro_f1=m.get("macro_f1"),
                        ece=m.get("ece"), n_train=m.get("n_train"), n_validation=m.get("n_validation", m.get("n")),
                        data_sha256=info.data_sha256, data_source=info.data_source, code_version=info.code_version)


def _find(registry: Registry, version: str) -> ModelInfo:
    return registry.info(registry.kind_of(version), version)  # NotFound (404) when there is none


def _routed(rt: Triage) -> set[str] | None:
    try:
        return routed_intents(rt.config)
    except UserError as exc:  # a broken triage.toml is reported where it is used; promotion still checks labels
        log.warning("cannot check model labels against routing: %s", exc)
        return None


def _use_new_models(rt: Triage) -> None:
    # Requests already classifying finish with the suite they hold; new ones get the new models.
    rt.refresh_models()


# ---------------------------------------------------------------------------- training jobs
# Declared before /{version} so that "jobs" and "compare" are never read as version names.


@router.post("/jobs", response_model=JobOut, status_code=202,
             responses={413: {"description": "the request is larger than TRIAGE_API_MAX_BODY (10 MiB by default)"},
                        415: {"description": "the upload is neither CSV nor JSONL"},
                        422: {"description": "the data cannot train a model (one label, too few rows)"}})
def create_job(
    request: Request,
    response: Response,
    rt: RuntimeDep,
    user: TrainerDep,
    task: Annotated[Task, Form(description="which model to train")],
    source: Annotated[Literal["upload", "export"] | None, Form(
        description="upload: the attached file; export: the bundled samples plus agents' corrections "
                    "(default: upload when a file is attached)")] = None,
    promote: Annotated[bool, Form(description="promote the new model if it is not worse than the one in "
                                              "service on validation rows neither was trained on")] = False,
    force: Annotated[bool, Form(description="with promote: allow a model whose labels lack intents routed in "
                                            "triage.toml or differ from the model in service")] = False,
    file: Annotated[UploadFile | None, File(description="CSV with a header row, or JSON Lines; fields text "
                                                        "and label (see text_column, label_column); UTF-8; at "
                                                        "most TRIAGE_API_MAX_BODY")] = None,
    text_column: Annotated[str, Form(min_length=1, max_length=200,
                                     description="the upload's column (or JSON field) holding the text")] = "text",
    label_column: Annotated[str, Form(min_length=1, max_length=200,
                                      description="the upload's column (or JSON field) holding the label")] = "label",
) -> JobOut:
    """Queue a training job and return at once (202); poll `GET /api/v1/models/jobs/{id}` for its progress.

    Uploaded data is read and checked before the job is queued: a file that is not CSV/JSONL, has a
    single label, too few rows or unknown urgency levels is refused here, and no job is created.
    A model whose label set would change routing is promoted only with `force=true`; the job's
    result says why it was not.
    """
    source = source or ("upload" if file is not None else "export")
    if source == "export" and file is not None:
        raise HTTPException(400, "source 'export' trains on the bundled samples and agents' corrections; "
                                 "leave out the file, or use source 'upload'")
    staged = None
    if source == "upload":
        if file is None:
            raise HTTPException(400, "source 'upload' needs a file (multipart field 'file')")
        # The app refuses larger requests as they stream in; reading at most that much keeps it so here too.
        limit = rt.settings.api_max_body
        data = file.file.read(limit + 1)
        if len(data) > limit:
            raise HTTPException(413, f"{file.filename or 'the upload'}: larger than {limit} bytes "
                                     "(TRIAGE_API_MAX_BODY)")
        # Refused here, before any job exists: 415 not CSV/JSONL, 400 unreadable, 422 cannot train a model.
        staged = jobs.stage_upload(data, filename=file.filename, content_type=file.content_type, task=task,
                                   home=rt.settings.home, text_column=text_column, label_column=label_column)
    with rt.db.transaction() as session:
        job = jobs.create_job(session=session, task=task, source=source, created_by=user.name, user_id=user.user_id,
                              promote=promote, force=force, staged=staged)
        out = job_out(job)
    runner: JobRunner | None = getattr(request.app.state, "job_runner", None)
    if runner is not None:
        runner.wake()
    response.headers["Location"] = f"{router.prefix}/jobs/{out.id}"
    return out


@router.get("/jobs", response_model=JobPage)
def list_jobs(
    session: SessionDep,
    _user: TrainerDep,
    status: Annotated[Literal["queued", "running", "succeeded", "failed"] | None, Query()] = None,
    task: Annotated[Task | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(description="next_cursor from the previous page")] = None,
) -> JobPage:
    """Training jobs newest first, filtered by status and task, paged with an opaque cursor."""
    before = None
    if cursor is not None:
        if not cursor.isdigit():
            raise HTTPException(400, "cursor is not one this API issued")
        before = int(cursor)
    rows = jobs.list_jobs(session=session, status=status, task=task, limit=limit + 1, before_id=before)
    page = rows[:limit]
    return JobPage(items=[job_out(j) for j in page], next_cursor=str(page[-1].id) if len(rows) > limit else None)


@router.get("/jobs/{job_id}", response_model=JobOut)
def get_job(job_id: RowId, session: SessionDep, _user: TrainerDep) -> JobOut:
    """One job: status, progress (phase, done/total), and when finished the model version, metrics or error."""
    return job_out(jobs.get_job(job_id, session=session))


# ---------------------------------------------------------------------------- model versions


@router.get("", response_model=ModelList)
def list_models(rt: RuntimeDep, _user: ReaderDep,
                task: Annotated[Task | None, Query(description="only this task")] = None) -> ModelList:
    """Model versions per task (intent, sentiment, urgency), newest first, with the one in service marked."""
    registry = rt.registry
    out = []
    for kind in [task] if task else list(TASKS):
        active = registry.current(kind)
        versions = [_summary(info, active) for info in reversed(registry.versions(kind))]
        out.append(TaskModels(task=kind, active=active, versions=versions, history=registry.history(kind)))
    return ModelList(tasks=out)


@router.get("/compare", response_model=ModelComparison)
def compare_models(rt: RuntimeDep, _user: ReaderDep,
                   a: Annotated[str, Query(max_length=200, description="a version")],
                   b: Annotated[str, Query(max_length=200, description="another version of the same task")]
                   ) -> ModelComparison:
    """Two versions of one task side by side: validation metrics, their difference (b - a), and label sets."""
    registry = rt.registry
    first, second = _find(registry, a), _find(registry, b)
    if first.kind != second.kind:
        raise HTTPException(400, f"{a} is a {first.kind} model and {b} a {second.kind} model; compare versions "
                                 "of the same task")
    active = registry.current(first.kind)
    names = [k for k, v in first.metrics.items() if isinstance(v, int | float) and not isinstance(v, bool)]
    names += [k for k, v in second.metrics.items() if k not in names and isinstance(v, int | float)
              and not isinstance(v, bool)]
    deltas = []
    for name in names:
        x, y = first.metrics.get(name), second.metrics.get(name)
        x = x if isinstance(x, int | float) else None
        y = y if isinstance(y, int | float) else None
        deltas.append(MetricDelta(metric=name, a=x, b=y, delta=None if x is None or y is None else round(y - x, 6)))
    return ModelComparison(task=first.kind, a=_summary(first, active), b=_summary(second, active),  # type: ignore[arg-type]
                           metrics=deltas, labels_only_in_a=sorted(set(first.labels) - set(second.labels)),
                           labels_only_in_b=sorted(set(second.labels) - set(first.labels)),
                           same_data=first.data_sha256 == second.data_sha256)


@router.post("/{task}/rollback", response_model=Switch)
def rollback_model(task: Task, rt: RuntimeDep, user: TrainerDep) -> Switch:
    """Serve the previously promoted version of this task again; this server switches at once."""
    previous = rt.registry.current(task)
    version = rt.registry.rollback(task)
    log.info("%s model rolled back from %s to %s by %s", task, previous, version, user.name)
    _use_new_models(rt)
    return Switch(task=task, active=version, previous=previous)


@router.get("/{version}", response_model=ModelDetail)
def show_model(version: str, rt: RuntimeDep, _user: ReaderDep) -> ModelDetail:
    """One version: validation metrics, labels, training-data hash and source, code version, report files."""
    registry = rt.registry
    info = _find(registry, version)
    summary = _summary(info, registry.current(info.kind))
    return ModelDetail(**summary.model_dump(), labels=info.labels, metrics=info.metrics, params=info.params,
                       extra=info.extra, reports=[p.name for p in registry.files(info.kind, version)])


# Report files are written by training/reports.py; anything else stored beside a model is not served.
_REPORT_MEDIA = {".png": "image/png", ".csv": "text/csv", ".md": "text/markdown"}


@router.get("/{version}/reports/{name}", response_class=FileResponse,
            responses={200: {"description": "the report file, as stored",
                             "content": {media: {} for media in _REPORT_MEDIA.values()}},
                       404: {"description": "no such version, or no report of that name stored with it"}})
def model_report(version: str, name: str, rt: RuntimeDep, _user: ReaderDep) -> FileResponse:
    """One report file listed in the version's `reports` (confusion matrix, reliability diagram, per-class table)."""
    info = _find(rt.registry, version)
    # Only a name the registry lists is served: a path, `..` or the artifact never matches one.
    path = rt.registry.report_file(info.kind, version, name)
    media = _REPORT_MEDIA.get(path.suffix.lower()) if path is not None else None
    if path is None or media is None:
        raise HTTPException(404, f"{version} has no report named {name!r}")
    return FileResponse(path, media_type=media, filename=path.name, content_disposition_type="inline")


@router.post("/{version}/promote", response_model=Switch,
             responses={409: {"description": "the artifact cannot load, or the version's labels lack intents "
                                             "routed in triage.toml or differ from the model in service and "
                                             "force is not set"}})
def promote_model(version: str, rt: RuntimeDep, user: TrainerDep,
                  force: Annotated[bool, Query(description="promote even when the labels differ from the "
                                                           "routing or from the model in service")] = False
                  ) -> Switch:
    """Serve this version from now on (its artifact must load); this server switches at once."""
    info = _find(rt.registry, version)
    previous = rt.registry.current(info.kind)
    overridden = check_promotion(rt.registry, info.kind, version, routed=_routed(rt) if info.kind == "intent"
                                 else None, force=force)
    rt.registry.promote(info.kind, version, action="force" if overridden else "promote")
    if overridden:
        log.warning("%s model %s promoted by %s although %s", info.kind, version, user.name, overridden)
    log.info("%s model %s promoted (was %s) by %s", info.kind, version, previous, user.name)
    _use_new_models(rt)
    return Switch(task=info.kind, active=version, previous=previous)  # type: ignore[arg-type]

