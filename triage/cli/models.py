"""Commands for data scientists (issue 4): train, evaluate, list/show/promote/roll back models, export data.

Wired into `triage` by triage/cli.py. Commands validate input, call `training` and `triage.feedback`,
and shape the answer; with `--json` the last line of stdout is one JSON object (scripts rely on it).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from triage.config import Settings
from triage.errors import UserError

out = Console()
err = Console(stderr=True, soft_wrap=True)
if not out.is_terminal:
    out.width = 180

models_app = typer.Typer(help="Trained models: list, inspect, promote, roll back.", no_args_is_help=True)
data_app = typer.Typer(help="Labelled data for notebooks.", no_args_is_help=True)


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


def _settings(ctx: typer.Context) -> Settings:
    # The global --home/--config options live on the root command; read them from its context
    # rather than from triage.cli's module state (under `python -m triage.cli` that module is __main__).
    params = ctx.find_root().params
    overrides: dict[str, Any] = {}
    if params.get("home") is not None:
        overrides["home"] = params["home"]
    if params.get("config") is not None:
        overrides["config_file"] = params["config"]
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise UserError("; ".join(e["msg"] for e in exc.errors())) from exc


def _registry(settings: Settings):  # type: ignore[no-untyped-def]
    from training.registry import Registry

    return Registry(settings.models_dir)


@contextmanager
def _progress(label: str) -> Iterator[Callable[[str, int, int], None]]:
    """A progress callback (phase, done, total) drawing one rich bar per phase on stderr."""
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=err, disable=not err.is_terminal and os.environ.get("TRIAGE_PROGRESS") != "1")
    tasks: dict[str, Any] = {}

    def update(phase: str, done: int, total: int) -> None:
        if phase not in tasks:
            tasks[phase] = progress.add_task(f"{label}: {phase}", total=total)
        progress.update(tasks[phase], completed=done, total=total)

    with progress:
        yield update


def _emit_json(data: Any) -> None:
    # One line, so `tail -n 1` gives the whole object whatever else was printed.
    sys.stdout.write(json.dumps(data, default=str) + "\n")
    sys.stdout.flush()


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
    ctx: typer.Context,
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

    settings = _settings(ctx)
    corrections = _corrections(settings, kind.value) if include_feedback else None
    routed = _routed(settings) if kind == Kind.intent else None
    with _progress(kind.value) as progress:
        result = run_training(kind.value, data, registry=_registry(settings), text_column=text_column,
                              label_column=label_column, oos_label=oos_label, feedback=corrections,
                              promote=promote, progress=progress, routed=routed, force=force)
    _warn_skipped(result["skipped"])
    # Asked to promote and refused: the model is stored, but a script must not take it for served.
    refused = PromotionRefused(f"{result['version']} was stored but not promoted: {result['reason']}") \
        if promote and not result["promoted"] else None
    if as_json:
        _emit_json(result)
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
    ctx: typer.Context,
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

    settings = _settings(ctx)
    with _progress(kind.value) as progress:
        result = run_evaluation(kind.value, data, registry=_registry(settings), version=model,
                                text_column=text_column, label_column=label_column, oos_label=oos_label,
                                progress=progress, figures=png)
    _warn_skipped(result["skipped"])
    if result["unknown_labels"]:
        err.print(f"[yellow]warning: labels the model does not know (always wrong): "
                  f"{', '.join(result['unknown_labels'])}[/yellow]", highlight=False)
    if as_json:
        _emit_json(result)
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
    ctx: typer.Context,
    kind: Annotated[Kind | None, typer.Option("--kind", help="Only this kind.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List stored model versions, oldest first; the one in service is marked."""
    from training.registry import KINDS

    registry = _registry(_settings(ctx))
    rows = []
    for k in [kind.value] if kind else list(KINDS):
        current = registry.current(k)
        for info in registry.versions(k):
            rows.append({"kind": k, "version": info.version, "current": info.version == current,
                         "created_at": info.created_at, "accuracy": info.metrics.get("accuracy"),
                         "macro_f1": info.metrics.get("macro_f1"), "ece": info.metrics.get("ece"),
                         "n_train": info.metrics.get("n_train"), "data_sha256": info.data_sha256,
                         "code_version": info.code_version})
    if as_json:
        _emit_json(rows)
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
    from models.suite import OUT_OF_SCOPE
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
def models_show(ctx: typer.Context, version: VersionArg, as_json: JsonOpt = False) -> None:
    """One version: metrics, labels, data hash, code version, report files; warns about unrouted intents."""
    settings = _settings(ctx)
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
        _emit_json(detail)
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
def models_promote(ctx: typer.Context, version: VersionArg, force: ForceOpt = False, as_json: JsonOpt = False) -> None:
    """Serve this version (its artifact must load); running workers pick it up when restarted.

    A version whose labels lack intents routed in triage.toml or differ from the current model's needs --force.
    """
    from training.promotion import check_promotion

    settings = _settings(ctx)
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
def models_rollback(ctx: typer.Context, kind: Annotated[Kind, typer.Argument(help="Which model to roll back.")],
                    as_json: JsonOpt = False) -> None:
    """Serve the previously promoted version of this kind again."""
    registry = _registry(_settings(ctx))
    previous = registry.current(kind.value)
    version = registry.rollback(kind.value)
    _report_switch(kind.value, version, previous, as_json)


def _report_switch(kind: str, version: str, previous: str | None, as_json: bool) -> None:
    if as_json:
        _emit_json({"kind": kind, "current": version, "previous": previous})
        return
    out.print(f"{kind}: now serving {version} (was {previous or 'none'}). Restart running `triage serve` and "
              "`triage worker` processes to load it.", highlight=False)


@data_app.command("export")
def data_export(
    ctx: typer.Context,
    kind: Annotated[Kind, typer.Option("--kind", help="Which task's labelled set.")],
    out_path: Annotated[Path, typer.Option("--out", help="CSV file to write (text,label,origin).")],
    include_feedback: Annotated[bool, typer.Option(
        "--include-feedback", help="Add agents' corrections (they win over samples with the same text).")] = False,
    oos_label: OosOpt = "oos",
    as_json: JsonOpt = False,
) -> None:
    """Write the labelled set (bundled samples, plus agents' corrections when asked) as CSV for notebooks."""
    from training.datasets import BASELINE_FILES, load_csv, sample_path, write_csv
    from training.feedback import FEEDBACK, merge_feedback

    settings = _settings(ctx)
    dataset = load_csv(sample_path(BASELINE_FILES[kind.value]))
    origins = ["data"] * len(dataset)
    if include_feedback:
        merged = merge_feedback(dataset, _corrections(settings, kind.value), kind=kind.value, oos_label=oos_label)
        dataset, origins = merged.dataset, merged.origins
    try:
        write_csv(out_path, dataset, origins=origins)
    except OSError as exc:
        raise UserError(f"{out_path}: cannot write ({exc.strerror or exc})") from exc
    summary = {"kind": kind.value, "out": str(out_path), "rows": len(dataset),
               "feedback": origins.count(FEEDBACK), "data_sha256": dataset.sha256}
    if as_json:
        _emit_json(summary)
        return
    out.print(f"wrote {summary['rows']} {kind.value} examples ({summary['feedback']} from agents' corrections) "
              f"to {out_path}", highlight=False)
