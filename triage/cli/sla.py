"""`triage sla ...`: run the SLA scheduler once, recompute due times."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from triage.cli import _common
from triage.cli._common import out, print_json
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
    from triage.flows.sla import check_due

    moment = _parse_now(now)
    rt = _common.runtime()
    fired = check_due(rt.db, rt.config, now=moment)
    rows = [{"ticket": f.ticket_id, "metric": f.metric, "kind": f.kind, "due_at": f.due_at.isoformat()} for f in fired]
    if as_json:
        print_json(rows)
        return
    for r in rows:
        out.print(f"#{r['ticket']} {r['metric']} {r['kind']} (due {r['due_at']})", highlight=False)
    out.print(f"{len(rows)} SLA event(s) fired.")


@sla_app.command("recompute")
def recompute() -> None:
    """Recompute the due times of every open ticket (after editing policies or calendars in triage.toml)."""
    from triage.sla.service import refresh_open_tickets

    rt = _common.runtime()
    with rt.db.transaction() as session:
        n = refresh_open_tickets(rt.config, session=session)
    out.print(f"{n} open ticket(s) recomputed.")

