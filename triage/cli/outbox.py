"""`triage outbox ...`: outgoing mail queued, sent or failed; deliver what is due, queue failed mail again."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from triage.cli import _common
from triage.cli._common import out, print_json

outbox_app = typer.Typer(help="Outgoing mail: what is queued, sent or failed.", no_args_is_help=True)


@outbox_app.command("list")
def outbox_list(
    status: Annotated[str | None, typer.Option(help="queued, sent or failed.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List outgoing messages (newest first) with their delivery state."""
    from triage.outbox.service import list_outbox

    rt = _common.runtime()
    with rt.db.session() as session:
        rows: list[dict[str, Any]]
        rows = [{"id": o.id, "kind": o.kind, "ticket": o.ticket_id, "recipient": o.recipient, "subject": o.subject,
                 "status": o.status, "attempts": o.attempts, "error": o.last_error,
                 "next_attempt_at": o.next_attempt_at.isoformat()} for o in list_outbox(session=session,
                                                                                      status=status, limit=limit)]
    if as_json:
        print_json(rows)
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

    rt = _common.runtime()
    result = deliver_due(rt.db, rt.config.smtp_relay, limit=100000)
    out.print(f"{result.sent} sent, {result.deferred} deferred, {result.failed} failed.")
    if result.failed:
        raise typer.Exit(1)


@outbox_app.command("retry")
def outbox_retry() -> None:
    """Queue every failed outgoing message again."""
    from triage.outbox.service import retry_failed

    rt = _common.runtime()
    with rt.db.transaction() as session:
        n = retry_failed(session=session)
    out.print(f"{n} message(s) queued again.")
