"""The `triage` command: commands validate input, call services and shape the answer."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from triage.config import Settings
from triage.customers_cli import customers_app
from triage.errors import UserError
from triage.imap_cli import imap_app
from triage.jobs_cli import jobs_app
from triage.knowledge_cli import kb_app, suggest_cmd
from triage.models_cli import data_app, evaluate_cmd, models_app, train_cmd
from triage.qa_cli import qa_app
from triage.reports_cli import report_cmd
from triage.routing_cli import agents_app, simulate_cmd, tickets_assign, tickets_solve
from triage.sla_cli import sla_app, ticket_status_cmd
from triage.users_cli import users_app

app = typer.Typer(help="Triage: understand, route and answer customer email and chat.", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False)
tickets_app = typer.Typer(help="Look at tickets.", no_args_is_help=True)
inbox_app = typer.Typer(help="The durable intake table: what was accepted and what failed.", no_args_is_help=True)
app.add_typer(tickets_app, name="tickets")
app.add_typer(inbox_app, name="inbox")
app.add_typer(imap_app, name="imap")
app.command("train")(train_cmd)
app.command("evaluate")(evaluate_cmd)
app.add_typer(models_app, name="models")
models_app.add_typer(jobs_app, name="jobs")
app.add_typer(data_app, name="data")
app.add_typer(agents_app, name="agents")
app.command("simulate")(simulate_cmd)
tickets_app.command("assign")(tickets_assign)
tickets_app.command("solve")(tickets_solve)
app.add_typer(kb_app, name="kb")
app.command("suggest")(suggest_cmd)
app.add_typer(sla_app, name="sla")
tickets_app.command("status")(ticket_status_cmd)
app.add_typer(users_app, name="users")
app.command("report")(report_cmd)
app.add_typer(qa_app, name="qa")
app.add_typer(customers_app, name="customers")

out = Console()
err = Console(stderr=True, soft_wrap=True)  # one line per message, greppable
if not out.is_terminal:  # piped output: don't squeeze tables into 80 columns
    out.width = 180
log = logging.getLogger("triage")


class _State:
    home: Path | None = None
    config: Path | None = None


state = _State()


@app.callback()
def _global(
    home: Annotated[Path | None, typer.Option(help="Data folder (default: $TRIAGE_HOME or ./var).")] = None,
    config: Annotated[Path | None, typer.Option(help="triage.toml to use (default: TRIAGE_HOME/triage.toml).")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress to stderr.")] = False,
) -> None:
    state.home, state.config = home, config
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def settings() -> Settings:
    overrides: dict[str, Any] = {}
    if state.home is not None:
        overrides["home"] = state.home
    if state.config is not None:
        overrides["config_file"] = state.config
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise UserError("; ".join(e["msg"] for e in exc.errors())) from exc


def runtime():  # type: ignore[no-untyped-def]
    from triage.runtime import Triage

    return Triage(settings())


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err, transient=False, disable=not err.is_terminal and not _force_progress())


def _force_progress() -> bool:
    import os

    return os.environ.get("TRIAGE_PROGRESS") == "1"


def ensure_models(rt: Any) -> None:
    """Train the baseline models from the bundled samples when any is missing, with progress bars."""
    from training.train import train_baselines

    if rt.registry.has_all():
        return
    err.print("[bold]Training baseline models from the bundled samples...[/bold]")
    with _progress() as progress:
        tasks: dict[str, Any] = {}

        def for_kind(kind: str) -> Callable[[str, int, int], None]:
            def update(phase: str, done: int, total: int) -> None:
                key = f"{kind}:{phase}"
                if key not in tasks:
                    tasks[key] = progress.add_task(f"{kind}: {phase}", total=total)
                progress.update(tasks[key], completed=done, total=total)
            return update

        infos = train_baselines(rt.registry, progress=for_kind)
    for info in infos:
        err.print(f"  {info.kind}: {info.version} (validation accuracy {info.metrics['accuracy']:.1%},"
                  f" macro-F1 {info.metrics['macro_f1']:.3f}, {info.metrics['n_train']} training examples)")


def _init(rt: Any, *, train: bool = True) -> None:
    written = rt.write_default_config()
    if written:
        err.print(f"Wrote the default configuration to {written} (edit it to describe your team).")
    rt.db.ensure_schema()
    synced = rt.sync_agents()
    if any(synced.values()):
        err.print(f"Agents: {synced['added']} added, {synced['updated']} updated, {synced['deactivated']} deactivated.")
    if train:
        ensure_models(rt)


@app.command()
def init(
    no_train: Annotated[bool, typer.Option("--no-train", help="Skip training the baseline models.")] = False,
) -> None:
    """Create TRIAGE_HOME: default triage.toml, database schema, agents, baseline models."""
    rt = runtime()
    _init(rt, train=not no_train)
    out.print(f"Triage is ready in {rt.settings.home.resolve()} (database: {rt.db.engine.url.render_as_string()}).")


def _process_inbox(rt: Any, total: int | None = None) -> list[Any]:
    from triage.inbox.service import counts

    with rt.db.session() as session:
        pending = counts(session=session)["pending"]
    if not pending:
        return []
    worker = rt.worker()
    with _progress() as progress:
        task = progress.add_task("processing", total=total or pending)
        return worker.drain(on_outcome=lambda _o: progress.advance(task))


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(
        help=".eml files, mbox files, Maildir folders, chat .jsonl/.csv, or folders of them.")],
    strict: Annotated[bool, typer.Option(help="Exit non-zero when any record is rejected.")] = False,
    process: Annotated[bool, typer.Option(help="Process the inbox after storing (--no-process only stores).")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Store every message found in the inbox, then classify and route it; bad records are listed as file:line."""
    from triage.ingest.files import count_records, ingest_paths

    rt = runtime()
    _init(rt, train=process)
    total = count_records(paths)
    with rt.db.session() as session, _progress() as progress:
        task = progress.add_task("reading", total=total)
        report = ingest_paths(paths, session=session, on_record=lambda _p: progress.advance(task),
                              commit=session.commit)
    outcomes = _process_inbox(rt) if process else []
    failed = [o for o in outcomes if o.status == "failed"]
    for rejection in report.rejected:
        err.print(f"[yellow]{rejection}[/yellow]", highlight=False)
    for outcome in failed:
        err.print(f"[red]inbox #{outcome.inbox_id} failed: {outcome.error}[/red] (kept; `triage inbox retry`)",
                  highlight=False)
    summary = {"files": report.files, "accepted": report.accepted, "duplicates": report.duplicates,
               "rejected": len(report.rejected), "processed": len(outcomes) - len(failed), "failed": len(failed),
               "rejections": [str(r) for r in report.rejected]}
    if as_json:
        out.print_json(json.dumps(summary))
    else:
        out.print(f"{report.files} file(s): {report.accepted} accepted, {report.duplicates} already known, "
                  f"{len(report.rejected)} rejected; {summary['processed']} processed, {len(failed)} failed.")
    if strict and report.rejected:
        raise typer.Exit(1)


def _fmt_time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def ticket_table(rows: list[Any], title: str = "Tickets") -> Table:
    table = Table(title=title, show_lines=False)
    for column in ("ticket", "channel", "lang", "customer", "intent (conf.)", "sentiment", "urgency", "queue",
                   "assignee", "SLA due (UTC)"):
        table.add_column(column, overflow="fold")
    for t in rows:
        conf = f"{t.intent} ({t.intent_confidence:.2f})" if t.intent and t.intent_confidence is not None else "-"
        conf += " [yellow]review[/yellow]" if t.needs_review else ""
        table.add_row(f"#{t.id}", t.channel, t.language or "-", t.customer, conf, t.sentiment or "-", t.urgency or "-",
                      t.queue or "-", t.assignee or "[dim]waiting[/dim]", _fmt_time(t.first_response_due))
    return table


@tickets_app.command("list")
def tickets_list(
    status: Annotated[str | None, typer.Option(help="new, open, pending, solved or closed.")] = None,
    queue: Annotated[str | None, typer.Option(help="Only this queue (team).")] = None,
    needs_review: Annotated[bool, typer.Option(
        "--needs-review", help="Only tickets whose intent was unsure or out of scope and not yet relabelled.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 100,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List tickets, newest first."""
    from triage.conversations.schemas import ticket_summary
    from triage.conversations.service import TicketFilter, list_tickets

    rt = runtime()
    where = TicketFilter(needs_review=True) if needs_review else None
    with rt.db.session() as session:
        rows = [ticket_summary(t) for t in list_tickets(session=session, status=status, queue=queue, limit=limit,
                                                        where=where)]
    if as_json:
        out.print_json(json.dumps([r.model_dump(mode="json") for r in rows]))
    else:
        out.print(ticket_table(rows))


@tickets_app.command("show")
def tickets_show(ticket_id: int, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show one ticket with its messages, classifications and assignment history."""
    from triage.conversations.schemas import ticket_detail
    from triage.conversations.service import get_ticket

    rt = runtime()
    with rt.db.session() as session:
        ticket = get_ticket(ticket_id, session=session)
        if ticket is None:
            raise UserError(f"no ticket #{ticket_id}")
        detail = ticket_detail(ticket)
    if as_json:
        out.print_json(detail.model_dump_json())
        return
    out.print(f"[bold]#{detail.id}[/bold] {detail.subject}  [dim]({detail.channel}, {detail.status}, "
              f"priority {detail.priority})[/dim]")
    out.print(f"customer: {detail.customer}  emails: {', '.join(detail.customer_detail.emails) or '-'}  "
              f"chat ids: {', '.join(detail.customer_detail.chat_ids) or '-'}")
    out.print(f"intent: {detail.intent}  sentiment: {detail.sentiment}  urgency: {detail.urgency}  "
              f"language: {detail.language or '-'}  queue: {detail.queue}  assignee: {detail.assignee or 'waiting'}")
    out.print(f"first response due: {_fmt_time(detail.first_response_due)}  "
              f"resolution due: {_fmt_time(detail.resolution_due)}")
    if detail.urgency_reasons:
        out.print(f"urgency because: {'; '.join(detail.urgency_reasons)}", highlight=False, markup=False)
    for m in detail.messages:
        labels = ", ".join(f"{c.task}={c.label} ({c.confidence:.2f})" for c in m.classifications)
        out.print(f"\n[bold]{m.direction} {m.author_kind}[/bold] {m.author} {_fmt_time(m.sent_at)}"
                  + (f"  [dim]{labels}[/dim]" if labels else ""))
        out.print(m.text, highlight=False, markup=False)
    for a in detail.assignments:
        out.print(f"[dim]{_fmt_time(a.created_at)} {a.action} {a.agent or ''}: {a.reason}[/dim]")


@inbox_app.command("list")
def inbox_list(
    status: Annotated[str | None, typer.Option(help="pending, done, failed, quarantined or orphan.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List intake rows (newest first) with their status and error."""
    from triage.inbox.service import counts, list_items

    rt = runtime()
    with rt.db.session() as session:
        rows = [{"id": i.id, "kind": i.kind, "source": i.source, "source_ref": i.source_ref, "status": i.status,
                 "attempts": i.attempts, "error": i.error, "received_at": i.received_at.isoformat()}
                for i in list_items(session=session, status=status, limit=limit)]
        totals = counts(session=session)
    if as_json:
        out.print_json(json.dumps({"counts": totals, "items": rows}))
        return
    table = Table(title=f"Inbox: {totals['pending']} pending, {totals['done']} done, {totals['failed']} failed, "
                        f"{totals['quarantined']} quarantined, {totals['orphan']} orphan")
    for column in ("id", "kind", "source", "ref", "status", "tries", "error"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(str(r["id"]), r["kind"], r["source"], r["source_ref"], r["status"], str(r["attempts"]),
                      r["error"] or "")
    out.print(table)


@inbox_app.command("retry")
def inbox_retry(
    ids: Annotated[list[int] | None, typer.Argument(
        help="Rows to retry, failed or quarantined (default: every failed row).")] = None,
    quarantined: Annotated[bool, typer.Option(
        "--quarantined", help="Also release every quarantined row (one that crashed its worker).")] = False,
    process: Annotated[bool, typer.Option(help="Process them now.")] = True,
) -> None:
    """Replay failed (or quarantined) intake rows: they go back to pending and are processed again."""
    from triage.inbox.service import retry_failed

    rt = runtime()
    with rt.db.transaction() as session:
        n = retry_failed(session=session, ids=ids or None, quarantined=quarantined)
    outcomes = _process_inbox(rt) if process and n else []
    failed = [o for o in outcomes if o.status == "failed"]
    for o in failed:
        err.print(f"[red]inbox #{o.inbox_id} failed again: {o.error}[/red]", highlight=False)
    out.print(f"{n} row(s) requeued; {len(outcomes) - len(failed)} processed, {len(failed)} failed.")
    if failed:
        raise typer.Exit(1)


@app.command()
def worker(
    once: Annotated[bool, typer.Option(help="Drain the inbox once and exit.")] = False,
    poll: Annotated[float, typer.Option(help="Seconds between polls when idle.", min=0.05)] = 1.0,
) -> None:
    """Process the inbox continuously; several workers can share one PostgreSQL database."""
    rt = runtime()
    _init(rt)
    w = rt.worker()
    processed = 0
    try:
        while True:
            outcomes = w.drain()
            processed += len(outcomes)
            if once:
                break
            time.sleep(poll)
    except KeyboardInterrupt:
        pass
    out.print(f"{w.name}: processed {processed} row(s).")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="HTTP bind address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="HTTP port.")] = 8000,
    smtp: Annotated[str | None, typer.Option(
        help="SMTP intake HOST:PORT (default from triage.toml [smtp_server], 127.0.0.1:2525).")] = None,
    no_smtp: Annotated[bool, typer.Option("--no-smtp", help="Do not run the SMTP intake server.")] = False,
    run_worker: Annotated[bool, typer.Option("--worker/--no-worker", help="Also process the inbox.")] = True,
    imap: Annotated[bool, typer.Option("--imap/--no-imap", help="Poll the mailboxes that have [imap].")] = True,
    outbox: Annotated[bool, typer.Option("--outbox/--no-outbox", help="Deliver queued outgoing mail.")] = True,
) -> None:
    """Run the HTTP API with the inbox worker, outbox sender, IMAP pollers and SMTP intake until interrupted."""
    import uvicorn

    from api.app import create_app
    from mail.smtp_server import parse_hostport
    from triage.background import BackgroundOptions

    rt = runtime()
    _init(rt)
    smtp_addr = None
    if not no_smtp:
        try:
            smtp_addr = parse_hostport(smtp) if smtp else (rt.config.smtp_server.host, rt.config.smtp_server.port)
        except ValueError as exc:
            raise UserError(f"--smtp: {exc}") from exc
    options = BackgroundOptions(worker=run_worker, outbox=outbox, imap=imap, smtp=smtp_addr)
    uvicorn.run(create_app(rt, background=options), host=host, port=port, log_level="info")


outbox_app = typer.Typer(help="Outgoing mail: what is queued, sent or failed.", no_args_is_help=True)
app.add_typer(outbox_app, name="outbox")


@outbox_app.command("list")
def outbox_list(
    status: Annotated[str | None, typer.Option(help="queued, sent or failed.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List outgoing messages (newest first) with their delivery state."""
    from triage.outbox.service import list_outbox

    rt = runtime()
    with rt.db.session() as session:
        rows = [{"id": o.id, "kind": o.kind, "ticket": o.ticket_id, "recipient": o.recipient, "subject": o.subject,
                 "status": o.status, "attempts": o.attempts, "error": o.last_error,
                 "next_attempt_at": o.next_attempt_at.isoformat()} for o in list_outbox(session=session,
                                                                                      status=status, limit=limit)]
    if as_json:
        out.print_json(json.dumps(rows))
        return
    table = Table(title="Outbox")
    for column in ("id", "kind", "ticket", "recipient", "subject", "status", "tries", "error"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(str(r["id"]), r["kind"], f"#{r['ticket']}" if r["ticket"] else "-", r["recipient"],
                      r["subject"], r["status"], str(r["attempts"]), r["error"] or "")
    out.print(table)


@outbox_app.command("send")
def outbox_send() -> None:
    """Deliver every message that is due now through the configured relay."""
    from triage.outbox.service import deliver_due

    rt = runtime()
    result = deliver_due(rt.db, rt.config.smtp_relay, limit=100000)
    out.print(f"{result.sent} sent, {result.deferred} deferred, {result.failed} failed.")
    if result.failed:
        raise typer.Exit(1)


@outbox_app.command("retry")
def outbox_retry() -> None:
    """Queue every failed outgoing message again."""
    from triage.outbox.service import retry_failed

    rt = runtime()
    with rt.db.transaction() as session:
        n = retry_failed(session=session)
    out.print(f"{n} message(s) queued again.")


@contextmanager
def _timed() -> Iterator[Callable[[], float]]:
    start = time.perf_counter()
    yield lambda: time.perf_counter() - start


@app.command()
def demo(as_json: Annotated[bool, typer.Option("--json", help="Print the tickets as JSON.")] = False) -> None:
    """Train baseline models if missing, ingest the bundled sample emails and chats, print the tickets."""
    from triage.conversations.schemas import ticket_summary
    from triage.conversations.service import list_tickets
    from triage.ingest.files import ingest_paths
    from triage.knowledge_cli import import_samples

    with _timed() as elapsed:
        rt = runtime()
        _init(rt)
        samples = Path(str(resources.files("triage.samples")))
        paths = [samples / "emails", samples / "chats"]
        with rt.db.session() as session:
            report = ingest_paths(paths, session=session, commit=session.commit)
        outcomes = _process_inbox(rt)
        kb = import_samples(rt)
        with rt.db.session() as session:
            rows = [ticket_summary(t) for t in list_tickets(session=session, limit=10000)]
        rows.sort(key=lambda r: r.id)
    if as_json:
        out.print_json(json.dumps([r.model_dump(mode="json") for r in rows]))
        return
    out.print(ticket_table(rows, title=f"Triage demo: {len(rows)} tickets"))
    _demo_suggestion(rt, rows, kb)
    failed = sum(1 for o in outcomes if o.status == "failed")
    out.print(f"Ingested {report.accepted} new message(s) ({report.duplicates} already known, "
              f"{len(report.rejected)} rejected), processed {len(outcomes) - failed}, failed {failed}, "
              f"in {elapsed():.1f}s. Try `triage tickets show {rows[0].id if rows else 1}` or `triage serve`.")


def _demo_suggestion(rt: Any, rows: list[Any], kb: Any) -> None:
    """Show what an agent sees for one ticket: snippets from the sample knowledge base and a draft."""
    from triage.knowledge.index import knowledge_index
    from triage.knowledge.service import suggest
    from triage.knowledge_cli import print_suggestion

    pick = next((r for r in rows if r.intent == "order_status"), rows[0] if rows else None)
    if pick is None:
        return
    out.print(f"\nKnowledge base: {kb.added} article(s) added, {kb.unchanged} unchanged ({kb.chunks} chunks). "
              f"Suggestion for ticket #{pick.id} (`triage suggest {pick.id}`):")
    with rt.db.transaction() as session:
        result = suggest(pick.id, session=session, index=knowledge_index(rt.settings), config=rt.config)
    print_suggestion(result, out)


def main() -> None:
    """Console entry point: bad input gives one line on stderr and exit code 2, never a traceback."""
    try:
        code = app(standalone_mode=False)  # click returns the exit code instead of raising here
        if isinstance(code, int) and code:
            sys.exit(code)
    except UserError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("aborted")
        sys.exit(130)
    except Exception as exc:  # usage errors arrive here in standalone_mode=False
        import click

        # typer re-exports its own copies of click's exception classes: match either.
        if isinstance(exc, click.ClickException | getattr(typer, "TyperException", click.ClickException)) \
                and hasattr(exc, "show"):
            exc.show()
            sys.exit(getattr(exc, "exit_code", 2))
        raise


if __name__ == "__main__":
    main()
