"""`triage ingest` and `triage inbox ...`: store messages durably, list intake rows, replay failed ones."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from triage.cli import _common
from triage.cli._common import err, out, prepare, print_json, process_inbox, progress_bar

inbox_app = typer.Typer(help="The durable intake table: what was accepted and what failed.", no_args_is_help=True)


def ingest(
    paths: Annotated[list[Path], typer.Argument(
        help=".eml files, mbox files, Maildir folders, chat .jsonl/.csv, or folders of them.")],
    strict: Annotated[bool, typer.Option(help="Exit non-zero when any record is rejected.")] = False,
    process: Annotated[bool, typer.Option(help="Process the inbox after storing (--no-process only stores).")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Store every message found in the inbox, then classify and route it; bad records are listed as file:line."""
    from triage.ingest.files import count_records, ingest_paths

    rt = _common.runtime()
    prepare(rt, train=process)
    total = count_records(paths)
    with rt.db.session() as session, progress_bar() as bar:
        task = bar.add_task("reading", total=total)
        report = ingest_paths(paths, session=session, on_record=lambda _p: bar.advance(task),
                              commit=session.commit)
    outcomes = process_inbox(rt) if process else []
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
        print_json(summary)
    else:
        out.print(f"{report.files} file(s): {report.accepted} accepted, {report.duplicates} already known, "
                  f"{len(report.rejected)} rejected; {summary['processed']} processed, {len(failed)} failed.")
    if strict and report.rejected:
        raise typer.Exit(1)


@inbox_app.command("list")
def inbox_list(
    status: Annotated[str | None, typer.Option(help="pending, done, failed, quarantined or orphan.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List intake rows (newest first) with their status and error."""
    from triage.inbox.service import counts, list_items

    rt = _common.runtime()
    with rt.db.session() as session:
        rows: list[dict[str, Any]]
        rows = [{"id": i.id, "kind": i.kind, "source": i.source, "source_ref": i.source_ref, "status": i.status,
                 "attempts": i.attempts, "error": i.error, "received_at": i.received_at.isoformat()}
                for i in list_items(session=session, status=status, limit=limit)]
        totals = counts(session=session)
    if as_json:
        print_json({"counts": totals, "items": rows})
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

    rt = _common.runtime()
    with rt.db.transaction() as session:
        n = retry_failed(session=session, ids=ids or None, quarantined=quarantined)
    outcomes = process_inbox(rt) if process and n else []
    failed = [o for o in outcomes if o.status == "failed"]
    for o in failed:
        err.print(f"[red]inbox #{o.inbox_id} failed again: {o.error}[/red]", highlight=False)
    out.print(f"{n} row(s) requeued; {len(outcomes) - len(failed)} processed, {len(failed)} failed.")
    if failed:
        raise typer.Exit(1)
