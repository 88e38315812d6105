"""`triage models jobs ...`: training jobs queued over the API, listed, shown, or run without a server."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

jobs_app = typer.Typer(help="Training jobs started over the API: list, show, run queued ones here.",
                       no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _runtime() -> Any:
    from triage.cli import runtime

    rt = runtime()
    rt.db.ensure_schema()
    return rt


def _dump(job: Any) -> dict[str, Any]:
    return job.model_dump(mode="json")


@jobs_app.command("list")
def jobs_list(
    status: Annotated[str | None, typer.Option(help="queued, running, succeeded or failed.")] = None,
    task: Annotated[str | None, typer.Option(help="intent, sentiment or urgency.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many, newest first.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Training jobs newest first, with status, progress and the model each produced."""
    from triage.cli import out
    from triage.jobs.schemas import job_out
    from triage.jobs.service import list_jobs

    rt = _runtime()
    with rt.db.session() as session:
        rows = [job_out(j) for j in list_jobs(session=session, status=status, task=task, limit=limit)]
    if as_json:
        out.print_json(json.dumps([_dump(j) for j in rows]))
        return
    if not rows:
        out.print("No training jobs.")
        return
    table = Table(title="Training jobs")
    for column in ("id", "task", "data", "status", "progress", "model", "promoted", "by", "created (UTC)"):
        table.add_column(column, overflow="fold")
    for j in rows:
        progress = f"{j.progress.phase} {j.progress.done}/{j.progress.total}" if j.progress.phase else "-"
        table.add_row(str(j.id), j.task, j.data_name or j.source, j.status, progress, j.model_version or "-",
                      "-" if j.promoted is None else ("yes" if j.promoted else "no"), j.created_by,
                      j.created_at.strftime("%Y-%m-%d %H:%M"))
    out.print(table)


@jobs_app.command("show")
def jobs_show(job_id: Annotated[int, typer.Argument(help="The job id.")], as_json: JsonOpt = False) -> None:
    """One job: status, progress, metrics and the promotion decision, or the error."""
    from triage.cli import out
    from triage.jobs.schemas import job_out
    from triage.jobs.service import get_job

    rt = _runtime()
    with rt.db.session() as session:
        job = job_out(get_job(job_id, session=session))
    if as_json:
        out.print_json(json.dumps(_dump(job)))
        return
    out.print(f"job #{job.id}: {job.task} on {job.data_name or job.source} data, {job.status} "
              f"(by {job.created_by}, attempt {job.attempts})", highlight=False)
    if job.error:
        out.print(f"error: {job.error}", highlight=False)
    if job.model_version:
        m = job.metrics or {}
        out.print(f"model {job.model_version}: accuracy {m.get('accuracy')}, macro-F1 {m.get('macro_f1')}; "
                  f"{'promoted' if job.promoted else 'not promoted'}: {(job.result or {}).get('reason')}",
                  highlight=False)


@jobs_app.command("run")
def jobs_run(as_json: JsonOpt = False) -> None:
    """Run the queued jobs here, one after another, then exit (when no `triage serve` runs them)."""
    from triage.cli import out
    from triage.jobs.runner import JobRunner
    from triage.jobs.schemas import job_out
    from triage.jobs.service import get_job

    rt = _runtime()
    ran = JobRunner(rt).run_pending()
    with rt.db.session() as session:
        jobs = [job_out(get_job(job_id, session=session)) for job_id in ran]
    if as_json:
        out.print_json(json.dumps([_dump(j) for j in jobs]))
        return
    if not jobs:
        out.print("No queued training jobs.")
    for j in jobs:
        out.print(f"job #{j.id}: {j.status}" + (f", model {j.model_version}" if j.model_version else "")
                  + (f" ({'promoted' if j.promoted else 'not promoted'})" if j.status == "succeeded" else "")
                  + (f": {j.error}" if j.error else ""), highlight=False)
