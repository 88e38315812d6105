"""`triage init`, `demo`, `serve` and `worker`: set up a home, show it working, run the services."""

from __future__ import annotations

import time
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer

from triage.cli import _common
from triage.cli._common import out, prepare, print_json, print_suggestion, process_inbox, ticket_table
from triage.errors import UserError


def init(
    no_train: Annotated[bool, typer.Option("--no-train", help="Skip training the baseline models.")] = False,
) -> None:
    """Create TRIAGE_HOME: default triage.toml, database schema, agents, baseline models."""
    rt = _common.runtime()
    prepare(rt, train=not no_train)
    out.print(f"Triage is ready in {rt.settings.home.resolve()} (database: {rt.db.engine.url.render_as_string()}).")


def worker(
    once: Annotated[bool, typer.Option(help="Drain the inbox once and exit.")] = False,
    poll: Annotated[float, typer.Option(help="Seconds between polls when idle.", min=0.05)] = 1.0,
) -> None:
    """Process the inbox continuously; several workers can share one PostgreSQL database."""
    rt = _common.runtime()
    prepare(rt)
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

    rt = _common.runtime()
    prepare(rt)
    smtp_addr = None
    if not no_smtp:
        try:
            smtp_addr = parse_hostport(smtp) if smtp else (rt.config.smtp_server.host, rt.config.smtp_server.port)
        except ValueError as exc:
            raise UserError(f"--smtp: {exc}") from exc
    options = BackgroundOptions(worker=run_worker, outbox=outbox, imap=imap, smtp=smtp_addr)
    uvicorn.run(create_app(rt, background=options), host=host, port=port, log_level="info")


def demo(as_json: Annotated[bool, typer.Option("--json", help="Print the tickets as JSON.")] = False) -> None:
    """Train baseline models if missing, ingest the bundled sample emails and chats, print the tickets."""
    from triage.conversations.schemas import ticket_summary
    from triage.conversations.service import list_tickets
    from triage.ingest.files import ingest_paths
    from triage.knowledge.index import knowledge_index
    from triage.knowledge.service import import_path

    start = time.perf_counter()
    rt = _common.runtime()
    prepare(rt)
    samples = Path(str(resources.files("triage.samples")))
    with rt.db.session() as session:
        report = ingest_paths([samples / "emails", samples / "chats"], session=session, commit=session.commit)
    outcomes = process_inbox(rt)
    with rt.db.transaction() as session:
        kb = import_path(samples / "kb", session=session, index=knowledge_index(rt.settings))
    with rt.db.session() as session:
        rows = [ticket_summary(t) for t in list_tickets(session=session, limit=10000)]
    rows.sort(key=lambda r: r.id)
    elapsed = time.perf_counter() - start
    if as_json:
        print_json([r.model_dump(mode="json") for r in rows])
        return
    out.print(ticket_table(rows, title=f"Triage demo: {len(rows)} tickets"))
    _demo_suggestion(rt, rows, kb)
    _demo_languages(rt, rows)
    _demo_waiting(rt)
    _demo_desk(rt)
    _demo_qa(rt)
    failed = sum(1 for o in outcomes if o.status == "failed")
    out.print(f"Ingested {report.accepted} new message(s) ({report.duplicates} already known, "
              f"{len(report.rejected)} rejected), processed {len(outcomes) - failed}, failed {failed}, "
              f"in {elapsed:.1f}s. Try `triage tickets show {rows[0].id if rows else 1}` or `triage serve`.")


def _demo_desk(rt: Any) -> None:
    """Sign-ins for the web desk (team leads as agents, a supervisor, QA, a data scientist), fresh each run."""
    from rich.table import Table

    from triage.users.auth import demo_logins

    if rt.settings.environment == "production":
        return
    with rt.db.transaction() as session:
        logins = demo_logins(rt.config, session=session, environment=rt.settings.environment)
    if not logins:
        return
    table = Table(title="Desk sign-ins for this demo (`triage serve`, then open http://127.0.0.1:8000/)")
    for column in ("name", "password", "role", "works as"):
        table.add_column(column)
    for login in logins:
        table.add_row(login.name, login.password, login.role, login.agent or "-")
    out.print(table)
    out.print("These passwords are new on every `triage demo` run; `triage users passwd NAME` sets your own.")


def _demo_qa(rt: Any) -> None:
    """A QA sampling run over all of the demo's agent replies, so that the demo QA reviewer has samples to score on
    the desk (the sample conversations are dated, so "last week" would soon hold none). Made once per home."""
    from sqlalchemy import func, select

    from triage.conversations.tables import Message
    from triage.db import utcnow
    from triage.qa.periods import parse_period
    from triage.qa.service import create_run
    from triage.qa.tables import QaRun, QaSample

    if rt.settings.environment == "production":
        return
    with rt.db.session() as session:
        if session.scalar(select(func.count()).select_from(QaRun)):
            return
        first = session.scalar(select(func.min(Message.sent_at)).where(Message.direction == "out",
                                                                        Message.author_kind == "agent"))
    if first is None:
        return
    window = parse_period(f"{first:%Y-%m-%d}..{utcnow():%Y-%m-%d}", kind=rt.config.qa.period)
    with rt.db.transaction() as session:
        run = create_run(window, session=session, config=rt.config, created_by="demo")
        samples = session.scalar(select(func.count()).select_from(QaSample).where(QaSample.run_id == run.id))
        run_id = run.id
    out.print(f"QA: {samples} agent replies sampled for review (run #{run_id}); sign in as demo-qa and open /qa.")


def _demo_waiting(rt: Any) -> None:
    """Say why tickets are unassigned when it is because nobody is on shift (the sample agents keep office hours)."""
    from triage.db import utcnow
    from triage.routing.service import waiting_count
    from triage.routing.shifts import on_shift

    with rt.db.session() as session:
        waiting = waiting_count(session=session)
    now = utcnow()
    if waiting and not any(on_shift(a.timezone, a.working_hours, now) for a in rt.config.agents):
        out.print(f"\n{waiting} ticket(s) wait for an agent: nobody is on shift right now (working hours in "
                  "triage.toml). `triage serve` assigns them when a shift begins.")


def _demo_languages(rt: Any, rows: list[Any]) -> None:
    """Each sample customer's latest ticket with the language they wrote in and the one their draft is in."""
    from rich.markup import escape
    from rich.table import Table

    from models.language import detect_language
    from triage.knowledge.drafts import draft_language
    from triage.knowledge.index import knowledge_index
    from triage.knowledge.service import suggest

    latest: dict[str, Any] = {}
    for row in rows:
        latest[row.customer] = row  # rows are in id order: the last one wins
    if not latest:
        return
    index = knowledge_index(rt.settings)
    table = Table(title="Each customer answered in their language (the draft of their latest ticket)")
    for column in ("customer", "ticket", "wrote in", "draft in", "draft opens with"):
        table.add_column(column, overflow="fold")
    for customer, row in sorted(latest.items(), key=lambda item: item[1].id):
        with rt.db.transaction() as session:
            draft = suggest(row.id, session=session, index=index, config=rt.config).draft
        guess = detect_language(draft)
        wrote = row.language or "-"
        drafted = guess.code if guess else "-"
        if row.language and draft_language(row.language) != row.language:
            drafted += f" (no {row.language} templates)"
        opening = " ".join(draft.split("\n\n")[1:2])[:90]
        table.add_row(escape(customer), f"#{row.id}", wrote, drafted, escape(opening))
    out.print(table)


def _demo_suggestion(rt: Any, rows: list[Any], kb: Any) -> None:
    """Show what an agent sees for one ticket: snippets from the sample knowledge base and a draft."""
    from triage.knowledge.index import knowledge_index
    from triage.knowledge.service import suggest

    pick = next((r for r in rows if r.intent == "order_status"), rows[0] if rows else None)
    if pick is None:
        return
    out.print(f"\nKnowledge base: {kb.added} article(s) added, {kb.unchanged} unchanged ({kb.chunks} chunks). "
              f"Suggestion for ticket #{pick.id} (`triage suggest {pick.id}`):")
    with rt.db.transaction() as session:
        result = suggest(pick.id, session=session, index=knowledge_index(rt.settings), config=rt.config)
    print_suggestion(result)
