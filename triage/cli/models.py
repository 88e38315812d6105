"""Commands for data scientists (issue 4): train, evaluate, list/show/promote/roll back models, export data,
and the training jobs queued over the API.

Commands validate input, call `training`, `triage.feedback` and `triage.jobs`, and shape the answer; with
`--json` the last line of stdout is one JSON object (scripts rely on it).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from triage.cli import _common
from triage.cli._common import emit_json_line, err, out, phase_progress, print_json
from triage.config import Settings
from triage.errors import UserError

models_app = typer.Typer(help="Trained models: list, inspect, promote, roll back.", no_args_is_help=True)
data_app = typer.Typer(help="Labelled data for notebooks.", no_args_is_help=True)
jobs_app = typer.Typer(help="Training jobs started over the API: list, show, run queued ones here.",
                       no_args_is_help=True)
models_app.add_typer(jobs_app, name="jobs")


class Kind(StrEnum):
    intent = "intent"
    sentiment = "sentiment"
    urgency = "urgency"


TextColumnOpt = Annotated[str, typer.Option("--text-column", help="CSV column holding the text.")]
LabelColumnOpt = Annotated[str, typer.Option("--label-column", help="CSV column holding the label.")]
OosOpt = Annotated[str, typer.Option("--oos-label", help="Label of out-of-scope examples (served as 'other').")]
JsonOpt = Annotated[bool, typer.Option("--json", help="End the output with one line of JSON.")]
ForceOpt = Annotated[bool, typer.Option(
    "--force", help="Allow promoting a model whose labels lack intents routed in triage.toml or differ from "
                    "the model in service.")]
VersionArg = Annotated[str, typer.Argument(help="A version from `triage models list`.")]


def _registry(settings: Settings):
    from training.registry import Registry

    return Registry(settings.models_dir)


def _corrections(settings: Settings, kind: str) -> list[tuple[str, str]]:
    from triage.db import Database
    from triage.feedback.service import training_examples

    db = Database(settings)
    try:
        with db.session() as session:
            return training_examples(session=session, task=kind)
    finally:
        db.dispose()


def _warn_skipped(skipped: list[str], limit: int = 20) -> None:
    for line in skipped[:limit]:
        err.print(f"[yellow]skipped {line}[/yellow]", highlight=False)
    if len(skipped) > limit:
        err.print(f"[yellow]... and {len(skipped) - limit} more skipped rows[/yellow]")


def _fmt(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else ("-" if value is None else str(value))


def train_cmd(
    kind: Annotated[Kind, typer.Argument(help="Which model to train.")],
    data: Annotated[Path, typer.Option("--data", help="Labelled CSV (UTF-8, with a header row) or JSON Lines "
                                                      "(.jsonl, one object per line).")],
    text_column: TextColumnOpt = "text",
    label_column: LabelColumnOpt = "label",
    oos_label: OosOpt = "oos",
    include_feedback: Annotated[bool, typer.Option(
        "--include-feedback", help="Add agents' corrections (they win over rows with the same text).")] = False,
    promote: Annotated[bool | None, typer.Option(
        "--promote/--no-promote",
        help="Promote, or not, whatever the comparison (default: when it beats the current model); a model "
             "whose labels differ from the routing or the current model's also needs --force.")] = None,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Train a model with a held-out validation split, store it as a new version, promote it when it is better.

    The current model is compared on validation rows it was not trained on. A model whose labels lack an
    intent routed in triage.toml, or differ from the current model's, is only promoted with --force.
    """
    from training.promotion import PromotionRefused
    from training.train import run_training

    settings = _common.settings()
    corrections = _corrections(settings, kind.value) if include_feedback else None
    routed = _routed(settings) if kind == Kind.intent else None
    with phase_progress(kind.value) as progress:
        result = run_training(kind.value, data, registry=_registry(settings), text_column=text_column,
                              label_column=label_column, oos_label=oos_label, feedback=corrections,
                              promote=promote, progress=progress, routed=routed, force=force)
    _warn_skipped(result["skipped"])
    # Asked to promote and refused: the model is stored, but a script must not take it for served.
    refused = PromotionRefused(f"{result['version']} was stored but not promoted: {result['reason']}") \
        if promote and not result["promoted"] else None
    if as_json:
        emit_json_line(result)
        if refused:
            raise refused
        return
    m = result["metrics"]
    out.print(f"{kind.value} model {result['version']}: {m['n_train']} training and {m['n_validation']} validation "
              f"examples; accuracy {m['accuracy']:.4f}, macro-F1 {m['macro_f1']:.4f}, ECE {m['ece']:.4f}"
              + (f", in-scope accuracy {_fmt(m['in_scope_accuracy'])}, out-of-scope recall {m['oos_recall']:.4f}"
                 if "oos_recall" in m else ""), highlight=False)
    out.print(f"{'promoted' if result['promoted'] else 'not promoted'}: {result['reason']}. "
              f"Now serving {result['current']}.", highlight=False)
    if result["feedback"]["corrections"]:
        fb = result["feedback"]
        out.print(f"feedback: {fb['corrections']} correction(s), {fb['added']} new text(s), "
                  f"{fb['replaced']} row(s) relabelled", highlight=False)
    out.print(f"reports: {result['path']}", highlight=False)
    if refused:
        raise refused


def evaluate_cmd(
    kind: Annotated[Kind, typer.Argument(help="Which model to evaluate.")],
    data: Annotated[Path, typer.Option("--data", help="Labelled CSV (UTF-8, with a header row).")],
    model: Annotated[str | None, typer.Option(
        "--model", help="Version to evaluate (default: the current one).")] = None,
    text_column: TextColumnOpt = "text",
    label_column: LabelColumnOpt = "label",
    oos_label: OosOpt = "oos",
    png: Annotated[Path | None, typer.Option(
        "--png", help="Folder to write the confusion matrix and reliability diagram to (confusion.png, "
                      "reliability.png).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Measure the current (or given) model on labelled data, exactly as it serves predictions."""
    from training.evaluate import run_evaluation

    settings = _common.settings()
    with phase_progress(kind.value) as progress:
        result = run_evaluation(kind.value, data, registry=_registry(settings), version=model,
                                text_column=text_column, label_column=label_column, oos_label=oos_label,
                                progress=progress, figures=png)
    _warn_skipped(result["skipped"])
    if result["unknown_labels"]:
        err.print(f"[yellow]warning: labels the model does not know (always wrong): "
                  f"{', '.join(result['unknown_labels'])}[/yellow]", highlight=False)
    if as_json:
        emit_json_line(result)
        return
    table = Table(title=f"{result['version']} on {result['data']}: {result['n']} examples")
    for column in ("label", "precision", "recall", "F1", "support"):
        table.add_column(column, justify="left" if column == "label" else "right")
    for label, row in result["per_class"].items():
        table.add_row(label, _fmt(row["precision"]), _fmt(row["recall"]), _fmt(row["f1"]), str(row["support"]))
    out.print(table)
    line = f"accuracy {result['accuracy']:.4f}, macro-F1 {result['macro_f1']:.4f}, ECE {result['ece']:.4f}"
    if "oos_recall" in result:
        line += (f", in-scope accuracy {_fmt(result['in_scope_accuracy'])}, "
                 f"out-of-scope recall {result['oos_recall']:.4f} ({result['n_oos']} out-of-scope)")
    out.print(line, highlight=False)
    if result["figures"]:
        out.print("figures: " + ", ".join(result["figures"]), highlight=False)


@models_app.command("list")
def models_list(
    kind: Annotated[Kind | None, typer.Option("--kind", help="Only this kind.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List stored model versions, oldest first; the one in service is marked."""
    from models.vocabulary import TASKS

    registry = _registry(_common.settings())
    rows = []
    for k in [kind.value] if kind else list(TASKS):
        current = registry.current(k)
        for info in registry.versions(k):
            rows.append({"kind": k, "version": info.version, "current": info.version == current,
                         "created_at": info.created_at, "accuracy": info.metrics.get("accuracy"),
                         "macro_f1": info.metrics.get("macro_f1"), "ece": info.metrics.get("ece"),
                         "n_train": info.metrics.get("n_train"), "data_sha256": info.data_sha256,
                         "code_version": info.code_version})
    if as_json:
        emit_json_line(rows)
        return
    table = Table(title="Models")
    for column in ("kind", "version", "in service", "created (UTC)", "accuracy", "macro-F1", "ECE", "train n",
                   "data"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(r["kind"], r["version"], "yes" if r["current"] else "", r["created_at"][:19].replace("T", " "),
                      _fmt(r["accuracy"]), _fmt(r["macro_f1"]), _fmt(r["ece"]), _fmt(r["n_train"]),
                      r["data_sha256"][:12])
    out.print(table)


def _routed(settings: Settings) -> set[str] | None:
    """The intents triage.toml routes to a team, or None (with a warning) when it cannot be read."""
    from training.promotion import routed_intents
    from triage.config import load_config

    try:
        return routed_intents(load_config(settings=settings))
    except UserError as exc:
        err.print(f"[yellow]warning: cannot check the labels against routing: {exc}[/yellow]", highlight=False)
        return None


def _unrouted_intents(settings: Settings, labels: list[str], oos_label: str | None) -> tuple[list[str], str] | None:
    """Intents no team lists in triage.toml (they go to the default queue), or None without a readable config."""
    from models.vocabulary import OUT_OF_SCOPE
    from triage.config import load_config

    try:
        config = load_config(settings=settings)
    except UserError as exc:
        err.print(f"[yellow]warning: cannot check routing: {exc}[/yellow]", highlight=False)
        return None
    mapped = {intent for team in config.teams for intent in team.intents}
    unrouted = sorted(label for label in labels if label not in mapped and label not in (OUT_OF_SCOPE, oos_label))
    return unrouted, config.default_team


@models_app.command("show")
def models_show(version: VersionArg, as_json: JsonOpt = False) -> None:
    """One version: metrics, labels, data hash, code version, report files; warns about unrouted intents."""
    settings = _common.settings()
    registry = _registry(settings)
    kind = registry.kind_of(version)
    info = registry.info(kind, version)
    reports = [str(p) for p in registry.files(kind, version)]
    detail = info.as_dict() | {"current": registry.current(kind) == version,
                               "path": str(registry.path(kind, version)), "reports": reports}
    if kind == "intent":
        found = _unrouted_intents(settings, info.labels, info.params.get("oos_label"))
        if found is not None:
            detail["unrouted_intents"], detail["default_queue"] = found
            if found[0]:
                err.print(f"[yellow]warning: intents no team in triage.toml routes (they go to the default queue "
                          f"{found[1]!r}): {', '.join(found[0])}[/yellow]", highlight=False)
    if as_json:
        emit_json_line(detail)
        return
    m = info.metrics
    out.print(f"[bold]{info.version}[/bold] ({kind}{', in service' if detail['current'] else ''})", highlight=False)
    out.print(f"created {info.created_at}  code {info.code_version}", highlight=False)
    out.print(f"data {info.data_source}  sha256 {info.data_sha256}", highlight=False)
    out.print(f"validation: {m.get('n_validation', m.get('n'))} examples, accuracy {_fmt(m.get('accuracy'))}, "
              f"macro-F1 {_fmt(m.get('macro_f1'))}, ECE {_fmt(m.get('ece'))}"
              + (f", in-scope accuracy {_fmt(m.get('in_scope_accuracy'))}, out-of-scope recall "
                 f"{_fmt(m.get('oos_recall'))}" if "oos_recall" in m else ""), highlight=False)
    if info.extra.get("promotion"):
        out.print(f"promotion decision: {info.extra['promotion']}", highlight=False)
    out.print(f"labels ({len(info.labels)}): {', '.join(info.labels)}", highlight=False)
    out.print("reports:" + ("".join(f"\n  {p}" for p in reports) if reports else " none"), highlight=False)


@models_app.command("promote")
def models_promote(version: VersionArg, force: ForceOpt = False, as_json: JsonOpt = False) -> None:
    """Serve this version (its artifact must load); running workers pick it up when restarted.

    A version whose labels lack intents routed in triage.toml or differ from the current model's needs --force.
    """
    from training.promotion import check_promotion

    settings = _common.settings()
    registry = _registry(settings)
    kind = registry.kind_of(version)
    previous = registry.current(kind)
    overridden = check_promotion(registry, kind, version, routed=_routed(settings) if kind == "intent" else None,
                                 force=force)
    registry.promote(kind, version, action="force" if overridden else "promote")  # refuses an unloadable artifact
    if overridden:
        err.print(f"[yellow]warning: promoted although {overridden}[/yellow]", highlight=False)
    _report_switch(kind, version, previous, as_json)


@models_app.command("rollback")
def models_rollback(kind: Annotated[Kind, typer.Argument(help="Which model to roll back.")],
                    as_json: JsonOpt = False) -> None:
    """Serve the previously promoted version of this kind again."""
    registry = _registry(_common.settings())
    previous = registry.current(kind.value)
    version = registry.rollback(kind.value)
    _report_switch(kind.value, version, previous, as_json)


def _report_switch(kind: str, version: str, previous: str | None, as_json: bool) -> None:
    if as_json:
        emit_json_line({"kind": kind, "current": version, "previous": previous})
        return
    out.print(f"{kind}: now serving {version} (was {previous or 'none'}). Restart running `triage serve` and "
              "`triage worker` processes to load it.", highlight=False)


@data_app.command("export")
def data_export(
    kind: Annotated[Kind, typer.Option("--kind", help="Which task's labelled set.")],
    out_path: Annotated[Path, typer.Option("--out", help="CSV file to write (text,label,origin).")],
    include_feedback: Annotated[bool, typer.Option(
        "--include-feedback", help="Add agents' corrections (they win over samples with the same text).")] = False,
    oos_label: OosOpt = "oos",
    unmasked: Annotated[bool, typer.Option(
        "--unmasked", help="Keep emails, phone, card and IBAN numbers and street addresses in agents' corrections "
        "(masked as [EMAIL], [PHONE], ... by default).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Write the labelled set (bundled samples, plus agents' corrections when asked) as CSV for notebooks.

    Corrections are customers' words: their personal data is masked unless --unmasked. The bundled samples were
    written for the project and are exported as shipped.
    """
    from training.datasets import BASELINE_FILES, Dataset, load_csv, sample_path, write_csv
    from training.feedback import FEEDBACK, merge_feedback
    from triage.customers.masking import mask_personal_data

    settings = _common.settings()
    dataset = load_csv(sample_path(BASELINE_FILES[kind.value]))
    origins = ["data"] * len(dataset)
    if include_feedback:
        merged = merge_feedback(dataset, _corrections(settings, kind.value), kind=kind.value, oos_label=oos_label)
        dataset, origins = merged.dataset, merged.origins
    masked = 0
    if not unmasked:
        texts = [mask_personal_data(t) if o == FEEDBACK else t for t, o in zip(dataset.texts, origins, strict=True)]
        masked = sum(a != b for a, b in zip(texts, dataset.texts, strict=True))
        dataset = Dataset(texts, dataset.labels, dataset.source, dataset.skipped)
    try:
        write_csv(out_path, dataset, origins=origins)
    except OSError as exc:
        raise UserError(f"{out_path}: cannot write ({exc.strerror or exc})") from exc
    summary = {"kind": kind.value, "out": str(out_path), "rows": len(dataset),
               "feedback": origins.count(FEEDBACK), "masked": masked, "data_sha256": dataset.sha256}
    if as_json:
        emit_json_line(summary)
        return
    out.print(f"wrote {summary['rows']} {kind.value} examples ({summary['feedback']} from agents' corrections, "
              f"{masked} with personal data masked) to {out_path}", highlight=False)


# -- `triage models jobs ...`: training jobs queued over the API, listed, shown, or run without a server ----

def _jobs_runtime() -> Any:
    rt = _common.runtime()
    rt.db.ensure_schema()
    return rt


@jobs_app.command("list")
def jobs_list(
    status: Annotated[str | None, typer.Option(help="queued, running, succeeded or failed.")] = None,
    task: Annotated[str | None, typer.Option(help="intent, sentiment or urgency.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many, newest first.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Training jobs newest first, with status, progress and the model each produced."""
    from triage.jobs.schemas import job_out
    from triage.jobs.service import list_jobs

    rt = _jobs_runtime()
    with rt.db.session() as session:
        rows = [job_out(j) for j in list_jobs(session=session, status=status, task=task, limit=limit)]
    if as_json:
        print_json([j.model_dump(mode="json") for j in rows])
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
def jobs_show(job_id: Annotated[int, typer.Argument(help="The job id.")],
              as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """One job: status, progress, metrics and the promotion decision, or the error."""
    from triage.jobs.schemas import job_out
    from triage.jobs.service import get_job

    rt = _jobs_runtime()
    with rt.db.session() as session:
        job = job_out(get_job(job_id, session=session))
    if as_json:
        print_json(job.model_dump(mode="json"))
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
def jobs_run(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Run the queued jobs here, one after another, then exit (when no `triage serve` runs them)."""
    from triage.jobs.runner import JobRunner
    from triage.jobs.schemas import job_out
    from triage.jobs.service import get_job

    rt = _jobs_runtime()
    ran = JobRunner(rt).run_pending()
    with rt.db.session() as session:
        jobs = [job_out(get_job(job_id, session=session)) for job_id in ran]
    if as_json:
        print_json([j.model_dump(mode="json") for j in jobs])
        return
    if not jobs:
        out.print("No queued training jobs.")
    for j in jobs:
        out.print(f"job #{j.id}: {j.status}" + (f", model {j.model_version}" if j.model_version else "")
                  + (f" ({'promoted' if j.promoted else 'not promoted'})" if j.status == "succeeded" else "")
                  + (f": {j.error}" if j.error else ""), highlight=False)
