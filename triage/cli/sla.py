"""`triage sla ...` and `triage tickets status`: run the SLA scheduler once, recompute due times, change status."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer

from triage.errors import UserError

sla_app = typer.Typer(help="SLA timers: fire due warnings and breaches, recompute due times.", no_args_is_help=True)


def _parse_now(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise UserError(f"--now: {value!r} is not an ISO 8601 time (e.g. 2026-11-20T17:00:00+01:00)") from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@sla_app.command("check")
def check(
    now: Annotated[str | None, typer.Option(help="Pretend it is this time (ISO 8601; no offset means UTC).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print what fired as JSON.")] = False,
) -> None:
    """Fire every SLA warning and breach that is due, once, and run the configured escalations."""
    from triage.cli import out, runtime
    from triage.sla.scheduler import check_due

    moment = _parse_now(now)
    rt = runtime()
    fired = check_due(rt.db, rt.config, now=moment)
    rows = [{"ticket": f.ticket_id, "metric": f.metric, "kind": f.kind, "due_at": f.due_at.isoformat()} for f in fired]
    if as_json:
        out.print_json(json.dumps(rows))
        return
    for r in rows:
        out.print(f"#{r['ticket']} {r['metric']} {r['kind']} (due {r['due_at']})", highlight=False)
    out.print(f"{len(rows)} SLA event(s) fired.")


@sla_app.command("recompute")
def recompute() -> None:
    """Recompute the due times of every open ticket (after editing policies or calendars in triage.toml)."""
    from triage.cli import out, runtime
    from triage.sla.service import refresh_open_tickets

    rt = runtime()
    with rt.db.transaction() as session:
        n = refresh_open_tickets(rt.config, session=session)
    out.print(f"{n} open ticket(s) recomputed.")


def ticket_status_cmd(
    ticket_id: int,
    status: Annotated[str, typer.Argument(help="new, open, pending (pauses the SLA clocks), solved or closed.")],
) -> None:
    """Change a ticket's status; pending pauses its SLA clocks, solved or closed frees the agent's slot."""
    from triage.cli import out, runtime
    from triage.conversations.actions import change_status

    rt = runtime()
    with rt.db.transaction() as session:
        change = change_status(ticket_id, status, config=rt.config, session=session, actor="cli")
        ticket = change.ticket
        due = ticket.first_response_due if ticket.first_responded_at is None else ticket.next_response_due
        if ticket.status in ("solved", "closed"):
            due = None
    freed = f"; {change.assigned} waiting ticket(s) assigned" if change.assigned else ""
    out.print(f"#{ticket_id} is {change.new}" + (f"; next SLA deadline {due:%Y-%m-%d %H:%M} UTC" if due else "")
              + freed + ".")
