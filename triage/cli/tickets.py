"""`triage tickets ...`: list and show tickets, assign, solve and change their status."""

from __future__ import annotations

from typing import Annotated

import typer

from triage.cli import _common
from triage.cli._common import fmt_time, out, prepare, print_json, ticket_table
from triage.errors import UserError

tickets_app = typer.Typer(help="Look at tickets.", no_args_is_help=True)


@tickets_app.command("assign")
def tickets_assign(
    ticket_id: Annotated[int, typer.Argument(help="The ticket number.")],
    email: Annotated[str, typer.Argument(help="The agent's email address.")],
    reason: Annotated[str, typer.Option(help="Why (kept in the assignment history).")],
    actor: Annotated[str, typer.Option(help="Who decided (kept in the history).")] = "supervisor",
    force: Annotated[bool, typer.Option(help="Assign even above capacity or to an agent not online.")] = False,
) -> None:
    """Assign or reassign a ticket by hand; the reason and actor go into its history."""
    from triage.routing.service import reassign

    rt = _common.runtime()
    prepare(rt, train=False)
    with rt.db.transaction() as session:
        result = reassign(ticket_id, email, session=session, reason=reason, actor=actor, force=force)
    out.print(f"#{ticket_id} assigned to {email.strip().lower()}; {result['assigned']} waiting ticket(s) took the "
              "freed slot.", highlight=False)


@tickets_app.command("solve")
def tickets_solve(ticket_id: Annotated[int, typer.Argument(help="The ticket number.")]) -> None:
    """Mark a ticket solved; its agent's freed slot goes to the most urgent waiting ticket at once."""
    from triage.conversations.tables import OPEN_STATUSES, Ticket
    from triage.flows.tickets import change_status

    rt = _common.runtime()
    prepare(rt, train=False)
    with rt.db.transaction() as session:
        ticket = session.get(Ticket, ticket_id)
        if ticket is not None and ticket.status not in OPEN_STATUSES:
            raise UserError(f"ticket #{ticket_id} is already {ticket.status}")
        change = change_status(ticket_id, "solved", config=rt.config, session=session, actor="cli")
    out.print(f"#{ticket_id} solved; {change.assigned} waiting ticket(s) assigned.")


@tickets_app.command("status")
def tickets_status(
    ticket_id: int,
    status: Annotated[str, typer.Argument(help="new, open, pending (pauses the SLA clocks), solved or closed.")],
) -> None:
    """Change a ticket's status; pending pauses its SLA clocks, solved or closed frees the agent's slot."""
    from triage.flows.tickets import change_status

    rt = _common.runtime()
    with rt.db.transaction() as session:
        change = change_status(ticket_id, status, config=rt.config, session=session, actor="cli")
        ticket = change.ticket
        due = ticket.first_response_due if ticket.first_responded_at is None else ticket.next_response_due
        if ticket.status in ("solved", "closed"):
            due = None
    freed = f"; {change.assigned} waiting ticket(s) assigned" if change.assigned else ""
    out.print(f"#{ticket_id} is {change.new}" + (f"; next SLA deadline {due:%Y-%m-%d %H:%M} UTC" if due else "")
              + freed + ".")


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

    rt = _common.runtime()
    where = TicketFilter(needs_review=True) if needs_review else None
    with rt.db.session() as session:
        rows = [ticket_summary(t) for t in list_tickets(session=session, status=status, queue=queue, limit=limit,
                                                        where=where)]
    if as_json:
        print_json([r.model_dump(mode="json") for r in rows])
    else:
        out.print(ticket_table(rows))


@tickets_app.command("show")
def tickets_show(ticket_id: int, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show one ticket with its messages, classifications and assignment history."""
    from triage.conversations.schemas import ticket_detail
    from triage.conversations.service import get_ticket

    rt = _common.runtime()
    with rt.db.session() as session:
        ticket = get_ticket(ticket_id, session=session)
        if ticket is None:
            raise UserError(f"no ticket #{ticket_id}")
        detail = ticket_detail(ticket)
    if as_json:
        print_json(detail.model_dump_json())
        return
    out.print(f"[bold]#{detail.id}[/bold] {detail.subject}  [dim]({detail.channel}, {detail.status}, "
              f"priority {detail.priority})[/dim]")
    out.print(f"customer: {detail.customer}  emails: {', '.join(detail.customer_detail.emails) or '-'}  "
              f"chat ids: {', '.join(detail.customer_detail.chat_ids) or '-'}")
    out.print(f"intent: {detail.intent}  sentiment: {detail.sentiment}  urgency: {detail.urgency}  "
              f"language: {detail.language or '-'}  queue: {detail.queue}  assignee: {detail.assignee or 'waiting'}")
    out.print(f"first response due: {fmt_time(detail.first_response_due)}  "
              f"resolution due: {fmt_time(detail.resolution_due)}")
    if detail.urgency_reasons:
        out.print(f"urgency because: {'; '.join(detail.urgency_reasons)}", highlight=False, markup=False)
    for m in detail.messages:
        labels = ", ".join(f"{c.task}={c.label} ({c.confidence:.2f})" for c in m.classifications)
        out.print(f"\n[bold]{m.direction} {m.author_kind}[/bold] {m.author} {fmt_time(m.sent_at)}"
                  + (f"  [dim]{labels}[/dim]" if labels else ""))
        out.print(m.text, highlight=False, markup=False)
    for a in detail.assignments:
        out.print(f"[dim]{fmt_time(a.created_at)} {a.action} {a.agent or ''}: {a.reason}[/dim]")
