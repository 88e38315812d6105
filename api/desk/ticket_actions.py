"""Search, and what an agent does on a ticket page besides replying: relabel, notes, status (issue 16, item 2).

Every action goes through the flow the API uses (flows.tickets.relabel and change_status, the conversations
service's add_note), with the API's visibility: a ticket outside an agent's queues, not assigned to them,
answers 404 here too. The ticket page's extra panels (the customer's other tickets, the classifier's
alternatives) are read here and handed to routes._ticket_page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import ColumnElement, false, func, or_, select
from sqlalchemy.orm import Session, selectinload

from api.deps import MAX_ID, Principal, RowId, RuntimeDep, SessionDep
from api.desk.auth import REPLY_ROLES, CheckedDesk, Desk, DeskDenied, DeskUser
from api.desk.queues import QueueRow, _row, visible_teams
from api.tickets import _served_intents
from models.vocabulary import OUT_OF_SCOPE
from triage.conversations.service import MAX_NOTE, NOTE, add_note
from triage.conversations.tables import OPEN_STATUSES, Customer, CustomerIdentity, Message, Ticket
from triage.errors import UserError
from triage.flows.tickets import change_status, relabel
from triage.runtime import Triage

router = APIRouter(include_in_schema=False)

PAGE = 50
HISTORY_ROWS = 20  # a customer with more tickets than this has a history for the API, not a side panel
DESK_STATUSES = ("open", "pending", "solved", "closed")
# What a redirect after an action says on the ticket page: fixed texts, so a link cannot put words there.
DONE = {"note": "Note added.", "relabelled": "Intent relabelled.", "status": "Status changed."}
_TICKET_ID = re.compile(r"#\s*(\d{1,10})")


# ------------------------------------------------------------------------------------------------ search


def _visible(user: Principal) -> ColumnElement[bool] | None:
    """The API's rule as SQL: an agent's queues and what is assigned to them; None (no limit) for other roles."""
    if user.queues is None:
        return None
    scope = Ticket.queue.in_(sorted(user.queues)) if user.queues else false()
    return or_(scope, Ticket.assignee_id == user.agent_id) if user.agent_id is not None else scope


def _escaped(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search_tickets(text: str, user: Principal, *, session: Session, before: int | None = None,
                   limit: int = PAGE) -> tuple[list[QueueRow], int | None]:
    """Tickets this person may see matching `text`, newest first, and the cursor for the next page.

    `#123` is a ticket id and nothing else. Any other text is looked for, case-insensitively (ILIKE on
    PostgreSQL, LIKE on lower case in SQLite), in the subject, any message (notes included: only staff
    search), the customer's name and their email addresses and chat ids; digits alone also match that id.
    Order numbers are found where customers write them, in the subject or a message.
    """
    text = text.strip()
    exact = _TICKET_ID.fullmatch(text)
    if exact is not None:
        wanted = int(exact.group(1))
        match: ColumnElement[bool] = Ticket.id == wanted if wanted <= MAX_ID else false()
    else:
        pattern = _escaped(text)
        in_messages = select(Message.id).where(Message.ticket_id == Ticket.id,
                                               Message.text.ilike(pattern, escape="\\")).exists()
        by_name = select(Customer.id).where(Customer.name.ilike(pattern, escape="\\"))
        by_identity = select(CustomerIdentity.customer_id).where(CustomerIdentity.value.ilike(pattern, escape="\\"))
        conditions = [Ticket.subject.ilike(pattern, escape="\\"), in_messages,
                      Ticket.customer_id.in_(by_name), Ticket.customer_id.in_(by_identity)]
        if text.isdigit() and int(text) <= MAX_ID:
            conditions.append(Ticket.id == int(text))
        match = or_(*conditions)
    query = (select(Ticket).where(match)
             .options(selectinload(Ticket.customer).selectinload(Customer.identities), selectinload(Ticket.assignee))
             .order_by(Ticket.id.desc()).limit(limit + 1))
    if (scope := _visible(user)) is not None:
        query = query.where(scope)
    if before is not None:
        query = query.where(Ticket.id < before)
    found = list(session.scalars(query))
    rows = [_row(t) for t in found[:limit]]
    return rows, (rows[-1].id if len(found) > limit else None)


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, desk: DeskUser, session: SessionDep, rt: RuntimeDep,
                q: Annotated[str, Query(max_length=200)] = "",
                before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None) -> HTMLResponse:
    """Search the tickets this person may see: by #id, order number, customer, subject or message text."""
    from api.desk.routes import page

    q = q.strip()
    rows: list[QueueRow] = []
    older = None
    if q:
        rows, cursor = search_tickets(q, desk.principal, session=session, before=before)
        older = f"/search?{urlencode({'q': q, 'before': cursor})}" if cursor is not None else None
    return page(request, "search.html", {
        "desk": desk, "teams": visible_teams(desk.principal, [t.name for t in rt.config.teams]),
        "q": q, "rows": rows, "older": older, "first_page": before is None})


# ------------------------------------------------------------------------------------------------ ticket panels


@dataclass(frozen=True)
class HistoryRow:
    """One of the customer's other tickets. `id` and `subject` are None for one this person may not open."""

    id: int | None
    subject: str | None
    channel: str
    status: str
    queue: str | None
    created_at: datetime

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


def customer_history(ticket: Ticket, user: Principal, *, session: Session,
                     limit: int = HISTORY_ROWS) -> tuple[list[HistoryRow], int]:
    """The customer's other tickets, email and chat, open ones first, then newest; and how many there are.

    A ticket this person may not open is listed without its id, subject or link, as "another team's
    ticket": the agent learns the customer is being helped elsewhere, but nothing the API would hide.
    """
    theirs = (Ticket.customer_id == ticket.customer_id, Ticket.id != ticket.id)
    total = session.scalar(select(func.count()).select_from(Ticket).where(*theirs)) or 0
    # Two bounded reads, not every ticket: an address that writes thousands of times must not slow the page.
    shown = list(session.scalars(select(Ticket).where(*theirs, Ticket.status.in_(OPEN_STATUSES))
                                 .order_by(Ticket.id.desc()).limit(limit)))
    if len(shown) < limit:
        shown += session.scalars(select(Ticket).where(*theirs, Ticket.status.not_in(OPEN_STATUSES))
                                 .order_by(Ticket.id.desc()).limit(limit - len(shown)))
    rows = []
    for t in shown:
        visible = user.sees_ticket(t.queue, t.assignee_id)
        rows.append(HistoryRow(id=t.id if visible else None, subject=(t.subject or "(no subject)") if visible else None,
                               channel=t.channel, status=t.status, queue=t.queue, created_at=t.created_at))
    return rows, total


def intent_choices(rt: Triage) -> list[str]:
    """What relabel accepts: the served model's intents, every team's and out of scope (flows.tickets.relabel)."""
    known = set(_served_intents(rt) or []) | {OUT_OF_SCOPE}
    known |= {intent for team in rt.config.teams for intent in team.intents}
    return sorted(known)


def alternatives(classifications: list[Any], limit: int = 3) -> dict[str, list[tuple[str, float]]]:
    """Per task, the labels the model ranked after its answer (stored in the classification's details.top)."""
    out: dict[str, list[tuple[str, float]]] = {}
    for c in classifications:
        top = (c.details or {}).get("top") or []
        out[c.task] = [(str(label), float(p)) for label, p in top if label != c.label][:limit]
    return out


def ticket_panels(request: Request, ticket: Ticket, desk: Desk, *, session: Session, rt: Triage,
                  classifications: list[Any]) -> dict[str, Any]:
    """What the ticket page shows beyond the conversation and suggestions; routes._ticket_page merges it in."""
    history, history_total = customer_history(ticket, desk.principal, session=session)
    can_act = desk.principal.role in REPLY_ROLES
    return {"history": history, "history_total": history_total, "note_kind": NOTE, "max_note": MAX_NOTE,
            "can_act": can_act, "intents": intent_choices(rt) if can_act else [],
            "statuses": DESK_STATUSES, "alternatives": alternatives(classifications),
            "done": DONE.get(request.query_params.get("done", ""))}


# ------------------------------------------------------------------------------------------------ actions


def _actionable(ticket_id: int, desk: Desk, *, session: Session) -> Ticket:
    if desk.principal.role not in REPLY_ROLES:  # as the API's WorkerDep: QA reads, it does not act
        raise DeskDenied(403, f"the {desk.principal.role.value} role may not change tickets")
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or not desk.principal.sees_ticket(ticket.queue, ticket.assignee_id):
        raise DeskDenied(404, f"no ticket #{ticket_id}")
    return ticket


def _back(ticket: Ticket, desk: Desk, done: str) -> RedirectResponse:
    # A relabelled, unassigned ticket can follow its intent into a queue this agent does not work.
    if not desk.principal.sees_ticket(ticket.queue, ticket.assignee_id):
        return RedirectResponse(f"/search?{urlencode({'q': f'#{ticket.id}'})}", status_code=303)
    return RedirectResponse(f"/tickets/{ticket.id}?done={done}", status_code=303)


@router.post("/tickets/{ticket_id}/notes")
def post_note(ticket_id: RowId, desk: CheckedDesk, session: SessionDep,
              note: Annotated[str, Form(max_length=MAX_NOTE + 1000)]) -> RedirectResponse:
    """An internal note: staff see it in the conversation; the customer never gets it, by mail or in chat."""
    ticket = _actionable(ticket_id, desk, session=session)
    try:
        add_note(ticket_id, note, author=desk.principal.actor, session=session)
    except UserError as exc:
        raise DeskDenied(exc.http_status, str(exc)) from exc
    return _back(ticket, desk, "note")


@router.post("/tickets/{ticket_id}/relabel")
def post_relabel(ticket_id: RowId, desk: CheckedDesk, session: SessionDep, rt: RuntimeDep,
                 intent: Annotated[str, Form(min_length=1, max_length=100)]) -> RedirectResponse:
    """Correct the intent as POST /api/v1/tickets/{id}/labels does: feedback for training, and an unassigned
    ticket follows the new intent to its queue."""
    ticket = _actionable(ticket_id, desk, session=session)
    try:
        relabel(ticket_id, "intent", intent.strip(), session=session, actor=desk.principal.actor,
                config=rt.config, intents=_served_intents(rt))
    except UserError as exc:
        raise DeskDenied(exc.http_status, str(exc)) from exc
    return _back(ticket, desk, "relabelled")  # the same row object: relabel moved its queue if it moved


@router.post("/tickets/{ticket_id}/status")
def post_status(ticket_id: RowId, desk: CheckedDesk, session: SessionDep, rt: RuntimeDep,
                status: Annotated[Literal["open", "pending", "solved", "closed"], Form()]) -> RedirectResponse:
    """Set the status through flows.tickets.change_status: pending pauses the SLA clocks, solved and closed
    stop them and free the agent's slot."""
    ticket = _actionable(ticket_id, desk, session=session)
    try:
        change_status(ticket_id, status, config=rt.config, session=session, actor=desk.principal.actor)
    except UserError as exc:
        raise DeskDenied(exc.http_status, str(exc)) from exc
    return _back(ticket, desk, "status")
