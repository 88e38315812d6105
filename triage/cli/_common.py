"""What every `triage` command shares: consoles, settings and runtime from --home/--config, progress bars,
JSON output, and the one translation of errors into a line on stderr and an exit code.

Command modules import from here (or from domain modules), never from each other.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import click
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from triage.config import Settings
from triage.errors import TriageError, Unavailable, UserError

if TYPE_CHECKING:
    from triage.runtime import Triage

out = Console()
err = Console(stderr=True, soft_wrap=True)  # one line per message, greppable
if not out.is_terminal:  # piped output: don't squeeze tables into 80 columns
    out.width = 180

Phase = Callable[[str, int, int], None]  # progress callback: (phase, done, total)


class _Options:
    """The root command's --home and --config, set by global_options before any command runs."""

    home: Path | None = None
    config: Path | None = None


options = _Options()


def global_options(
    home: Annotated[Path | None, typer.Option(help="Data folder (default: $TRIAGE_HOME or ./var).")] = None,
    config: Annotated[Path | None, typer.Option(help="triage.toml to use (default: TRIAGE_HOME/triage.toml).")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress to stderr.")] = False,
) -> None:
    """The root callback: remembers --home/--config for settings() and sets the log level."""
    options.home, options.config = home, config
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def settings() -> Settings:
    """Settings from the environment and triage.toml, with the root command's --home/--config on top."""
    overrides: dict[str, Any] = {}
    if options.home is not None:
        overrides["home"] = options.home
    if options.config is not None:
        overrides["config_file"] = options.config
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise UserError("; ".join(e["msg"] for e in exc.errors())) from exc


def runtime() -> Triage:
    """The runtime (database, models, configuration) for these settings.

    Commands call it as `_common.runtime()` so that tests can replace it with one on their own settings.
    """
    from triage.runtime import Triage

    return Triage(settings())


# -- setting up a home ------------------------------------------------------------------------------------

def prepare(rt: Any, *, train: bool = True) -> None:
    """Default triage.toml, schema, agents synced from it, and (with train) the baseline models."""
    written = rt.write_default_config()
    if written:
        err.print(f"Wrote the default configuration to {written} (edit it to describe your team).")
    rt.db.ensure_schema()
    synced = rt.sync_agents()
    if any(synced.values()):
        err.print(f"Agents: {synced['added']} added, {synced['updated']} updated, {synced['deactivated']} deactivated.")
    if train:
        ensure_models(rt)


def ensure_models(rt: Any) -> None:
    """Train the baseline models from the bundled samples when any is missing, with progress bars."""
    from training.train import train_baselines

    if rt.registry.has_all():
        return
    err.print("[bold]Training baseline models from the bundled samples...[/bold]")
    with progress_bar() as bar:
        infos = train_baselines(rt.registry, progress=lambda kind: phase_bars(bar, kind))
    for info in infos:
        err.print(f"  {info.kind}: {info.version} (validation accuracy {info.metrics['accuracy']:.1%},"
                  f" macro-F1 {info.metrics['macro_f1']:.3f}, {info.metrics['n_train']} training examples)")


def process_inbox(rt: Any, total: int | None = None) -> list[Any]:
    """Drain the pending intake rows with a progress bar; the outcomes, one per row."""
    from triage.inbox.service import counts

    with rt.db.session() as session:
        pending = counts(session=session)["pending"]
    if not pending:
        return []
    worker = rt.worker()
    with progress_bar() as bar:
        task = bar.add_task("processing", total=total or pending)
        return worker.drain(on_outcome=lambda _o: bar.advance(task))


# -- output -----------------------------------------------------------------------------------------------

def progress_bar() -> Progress:
    """Rich bars on stderr, drawn on a terminal (or with TRIAGE_PROGRESS=1), silent when piped."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err, disable=not err.is_terminal and os.environ.get("TRIAGE_PROGRESS") != "1")


def phase_bars(bar: Progress, label: str) -> Phase:
    """A progress callback drawing one bar per phase, described `label: phase`."""
    tasks: dict[str, Any] = {}

    def update(phase: str, done: int, total: int) -> None:
        if phase not in tasks:
            tasks[phase] = bar.add_task(f"{label}: {phase}", total=total)
        bar.update(tasks[phase], completed=done, total=total)

    return update


@contextmanager
def phase_progress(label: str) -> Iterator[Phase]:
    """A progress bar for one job: the callback (phase, done, total) draws one bar per phase."""
    with progress_bar() as bar:
        yield phase_bars(bar, label)


def print_json(data: Any) -> None:
    """Indented JSON on stdout; a str is taken as JSON already (e.g. a pydantic model_dump_json())."""
    out.print_json(data if isinstance(data, str) else json.dumps(data))


def emit_json_line(data: Any) -> None:
    """One line of JSON on stdout, so `tail -n 1` gives the whole object whatever else was printed."""
    sys.stdout.write(json.dumps(data, default=str) + "\n")
    sys.stdout.flush()


def fmt_time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def ticket_table(rows: list[Any], title: str = "Tickets") -> Table:
    """Ticket summaries as a table (`triage tickets list`, `triage demo`)."""
    table = Table(title=title, show_lines=False)
    for column in ("ticket", "channel", "lang", "customer", "intent (conf.)", "sentiment", "urgency", "queue",
                   "assignee", "SLA due (UTC)"):
        table.add_column(column, overflow="fold")
    for t in rows:
        conf = f"{t.intent} ({t.intent_confidence:.2f})" if t.intent and t.intent_confidence is not None else "-"
        conf += " [yellow]review[/yellow]" if t.needs_review else ""
        table.add_row(f"#{t.id}", t.channel, t.language or "-", t.customer, conf, t.sentiment or "-", t.urgency or "-",
                      t.queue or "-", t.assignee or "[dim]waiting[/dim]", fmt_time(t.first_response_due))
    return table


def print_suggestion(result: Any) -> None:
    """Snippets as a table, then the draft, then any notes (`triage suggest`, `triage demo`)."""
    table = Table(title=f"Suggestions for ticket #{result.ticket_id} (suggestion {result.suggestion_id}, "
                        f"intent {result.intent or '-'}, {result.language})")
    for column in ("id", "source", "score", "title", "why"):
        table.add_column(column, overflow="fold")
    for s in result.snippets:
        table.add_row(s.id, s.source, f"{s.score:.4f}", escape(s.title), escape("; ".join(s.why)))
    if result.snippets:
        out.print(table)
    out.print("[bold]Draft reply[/bold]")
    out.print(result.draft, highlight=False, markup=False)
    for note in result.notes:
        out.print(f"[yellow]note:[/yellow] {escape(note)}", highlight=False)


# -- errors -----------------------------------------------------------------------------------------------

def _fail(message: str, code: int) -> NoReturn:
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False)
    sys.exit(code)


def _database_unreachable(exc: BaseException) -> str | None:
    """The driver's first line when exc is a failure to connect to the database (no statement ran), else None."""
    from sqlalchemy.exc import OperationalError

    if not isinstance(exc, OperationalError) or exc.statement is not None:
        return None
    reason = str(exc.orig).strip().splitlines()
    return reason[0] if reason else type(exc.orig).__name__


def run(app: typer.Typer) -> None:
    """Run app as the console command: a TriageError (or an unreachable database) is one line on stderr and its
    exit code (errors.py: bad input 2, unavailable 3, not found 4, conflict 5, ours 1), never a traceback."""
    try:
        code = app(standalone_mode=False)  # click returns the exit code instead of raising here
        if isinstance(code, int) and code:
            sys.exit(code)
    except TriageError as exc:
        _fail(str(exc), exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("aborted")
        sys.exit(130)
    except Exception as exc:  # usage errors arrive here in standalone_mode=False
        reason = _database_unreachable(exc)
        if reason is not None:
            _fail(f"cannot reach the database: {reason}", Unavailable.exit_code)
        # typer re-exports its own copies of click's exception classes: match either.
        if isinstance(exc, click.ClickException | getattr(typer, "TyperException", click.ClickException)) \
                and hasattr(exc, "show"):
            exc.show()
            sys.exit(getattr(exc, "exit_code", 2))
        raise
