"""The desk's pages: sign-in, my queue, team queues, and a ticket with its suggestions and the reply form.

Pages call the same services and flows as the API (visibility through `Principal`, replies through
`flows.tickets.reply`, drafts through `knowledge.service.suggest`), so a browser can do nothing a key with the
same role could not.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import MAX_ID, RowId, RuntimeDep, SessionDep, client_ip
from api.desk.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    CheckedDesk,
    Desk,
    DeskDenied,
    DeskUser,
    GoTo,
    login_token_matches,
    new_login_token,
    safe_next,
    set_cookie,
)
from api.desk.queues import AT_RISK, my_queue, team_loads, team_queue, visible_teams
from api.desk.supervisor_charts import ChartsDep
from api.desk.ticket_actions import ticket_panels
from api.knowledge import KnowledgeDep, SuggestSlot
from triage.conversations.schemas import customer_label, urgency_reasons
from triage.conversations.service import get_ticket
from triage.conversations.tables import Ticket
from triage.db import utcnow
from triage.errors import TooManyAttempts, TriageError, UserError
from triage.flows.tickets import MAX_REPLY, change_status, reassign, reply
from triage.knowledge.drafts import draft_language
from triage.knowledge.schemas import FeedbackIn
from triage.knowledge.service import record_feedback, suggest, word_edit_distance
from triage.knowledge.tables import Suggestion
from triage.routing.service import agent_rows, waiting_count
from triage.sla.service import sla_state
from triage.users.auth import SESSION_LIFETIME, sign_in, sign_out
from triage.users.service import Role

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))

# A reply that changed at least this share of the draft's words was written anew: the draft was rejected,
# not edited (word edit distance over the longer text, as knowledge.service measures edits).
REWRITTEN = 0.8


def _minutes(delta_seconds: float) -> str:
    minutes = int(abs(delta_seconds) // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {rest:02d} min"
    return f"{hours // 24} d {hours % 24} h"


def until(moment: datetime | None) -> str:
    """'in 25 min' or '5 min overdue': what an SLA clock says to an agent."""
    if moment is None:
        return "-"
    left = (moment - utcnow()).total_seconds()
    return f"in {_minutes(left)}" if left >= 0 else f"{_minutes(left)} overdue"


def since(moment: datetime | None) -> str:
    return "-" if moment is None else _minutes((utcnow() - moment).total_seconds())


def stamp(moment: datetime | None) -> str:
    return "-" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


templates.env.filters.update(until=until, since=since, stamp=stamp,
                             iso=lambda m: m.isoformat() if m is not None else "")


def page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    # Pages show customers' mail: never keep them in a shared cache or let another site frame them.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = ("default-src 'self'; frame-ancestors 'none'; "
                                                   "form-action 'self'; base-uri 'none'")
    return response


def _nav(desk: Desk, rt: RuntimeDep) -> dict[str, Any]:
    return {"desk": desk, "teams": visible_teams(desk.principal, [t.name for t in rt.config.teams])}


# ------------------------------------------------------------------------------------------------ sign-in


def _login_form(request: Request, *, next_path: str, error: str | None = None, name: str = "",
                status_code: int = 200, retry_after: int | None = None) -> HTMLResponse:
    token = new_login_token()
    response = page(request, "login.html", {"csrf": token, "next": next_path, "error": error, "name": name},
                    status_code)
    set_cookie(response, request, LOGIN_CSRF_COOKIE, token, path="/login", max_age=3600)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: Annotated[str | None, Query(max_length=500)] = None) -> HTMLResponse:
    return _login_form(request, next_path=safe_next(next))


@router.post("/login", response_model=None)
def login(request: Request, session: SessionDep,
          name: Annotated[str, Form(max_length=200)], password: Annotated[str, Form(max_length=1024)],
          csrf: Annotated[str | None, Form(max_length=200)] = None,
          next: Annotated[str | None, Form(max_length=500)] = None) -> Response:
    next_path = safe_next(next)
    if not login_token_matches(request, csrf):
        return _login_form(request, next_path=next_path, name=name, status_code=403,
                           error="The form's security token is missing or stale; please sign in again.")
    try:
        started = sign_in(name, password, ip=client_ip(request), session=session)
    except TooManyAttempts as exc:
        return _login_form(request, next_path=next_path, name=name, status_code=429, retry_after=exc.retry_after,
                           error=f"Too many failed sign-ins. Try again in {_minutes(exc.retry_after + 59)}.")
    if started is None:
        # The failed attempt is committed with this answer: it counts towards the rate limit.
        return _login_form(request, next_path=next_path, name=name, status_code=401,
                           error="That name and password do not match.")
    response = RedirectResponse(next_path, status_code=303)
    set_cookie(response, request, SESSION_COOKIE, started.token, max_age=int(SESSION_LIFETIME.total_seconds()))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, desk: CheckedDesk, session: SessionDep) -> RedirectResponse:
    token = request.cookies.get(SESSION_COOKIE, "")
    sign_out(token, session=session)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


# ------------------------------------------------------------------------------------------------ queues


@router.get("/", response_class=HTMLResponse)
def my_queue_page(request: Request, desk: DeskUser, session: SessionDep, rt: RuntimeDep) -> HTMLResponse:
    if desk.principal.role == Role.qa:
        raise GoTo("/qa")  # QA staff are assigned samples, not tickets: their day starts there
    rows = my_queue(desk.principal, session=session)
    return page(request, "queue.html", {**_nav(desk, rt), "title": "My queue", "rows": rows, "mine": True})


@router.get("/queues/{team}", response_class=HTMLResponse)
def team_queue_page(team: str, request: Request, desk: DeskUser, session: SessionDep,
                    rt: RuntimeDep) -> HTMLResponse:
    nav = _nav(desk, rt)
    if team not in nav["teams"]:
        raise DeskDenied(404, f"no queue named {team!r} that you can open")
    rows = team_queue(team, session=session)
    return page(request, "queue.html", {**nav, "title": f"Queue: {team}", "rows": rows, "mine": False})


# ------------------------------------------------------------------------------------------------ ticket


def _suggestion_view(row: Suggestion) -> dict[str, Any]:
    return {"id": row.id, "draft": row.draft, "snippets": row.snippets or [], "notes": [], "language": row.language}


def _ticket_page(request: Request, desk: Desk, ticket_id: int, *, session: Session, rt: RuntimeDep,
                 suggestion: dict[str, Any] | None, notice: str | None = None) -> HTMLResponse:
    ticket = get_ticket(ticket_id, session=session)
    # As in the API: outside an agent's queues (and not assigned to them) the ticket does not exist for them.
    if ticket is None or not desk.principal.sees_ticket(ticket.queue, ticket.assignee_id):
        raise DeskDenied(404, f"no ticket #{ticket_id}")
    latest = next((m for m in reversed(ticket.messages) if m.direction == "in" and not m.auto_kind), None)
    classifications = latest.classifications if latest is not None else []
    return page(request, "ticket.html", {
        **_nav(desk, rt), "ticket": ticket, "customer": customer_label(ticket.customer),
        "classifications": classifications,
        **ticket_panels(request, ticket, desk, session=session, rt=rt, classifications=classifications),
        "urgency_reasons": urgency_reasons(ticket), "sla": sla_state(ticket, rt.config, session=session),
        "suggestion": suggestion, "notice": notice, "max_reply": MAX_REPLY,
    })


# A suggestion shown on the ticket page is shown again, unchanged, while nothing on the ticket changed and it is this
# recent: reloading the page neither stores a new row each time nor swaps the draft an agent is reading.
SUGGESTION_REUSE = timedelta(minutes=30)


def _still_current(ticket: Ticket, *, session: Session) -> Suggestion | None:
    """The ticket's latest suggestion, when no message, relabel or language change came after it."""
    latest = session.scalars(select(Suggestion).where(Suggestion.ticket_id == ticket.id)
                             .order_by(Suggestion.id.desc()).limit(1)).first()
    if latest is None or latest.created_at < utcnow() - SUGGESTION_REUSE:
        return None
    last_message = max((m.created_at for m in ticket.messages if m.created_at is not None), default=None)
    if last_message is not None and last_message >= latest.created_at:
        return None
    if latest.intent != ticket.intent or latest.language != draft_language(ticket.reply_language):
        return None
    return latest


@router.get("/tickets/{ticket_id}", response_class=HTMLResponse)
def ticket_page(ticket_id: RowId, request: Request, desk: DeskUser, session: SessionDep, rt: RuntimeDep,
                index: KnowledgeDep, _slot: SuggestSlot,
                sent: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                feedback: Annotated[Literal["used", "edited", "rejected"] | None, Query()] = None) -> HTMLResponse:
    ticket = get_ticket(ticket_id, session=session)
    if ticket is None or not desk.principal.sees_ticket(ticket.queue, ticket.assignee_id):
        raise DeskDenied(404, f"no ticket #{ticket_id}")
    suggestion: dict[str, Any] | None = None
    shown = _still_current(ticket, session=session) if desk.can_reply and ticket.status != "closed" else None
    if shown is not None:
        suggestion = {"id": shown.id, "draft": shown.draft, "language": shown.language, "snippets": shown.snippets,
                      "notes": shown.notes or []}
    elif desk.can_reply and ticket.status != "closed":
        try:
            made = suggest(ticket_id, session=session, index=index, config=rt.config)
            suggestion = {"id": made.suggestion_id, "draft": made.draft, "language": made.language,
                          "snippets": [s.model_dump() for s in made.snippets], "notes": made.notes}
        except TriageError as exc:  # no encoder or index yet: the agent can still answer by hand
            suggestion = {"id": None, "draft": "", "snippets": [], "language": None,
                          "notes": [f"No suggestions: {exc}"]}
    notice = None
    if sent is not None:
        notice = "Reply sent." + (f" The draft was recorded as {feedback}." if feedback else "")
    return _ticket_page(request, desk, ticket_id, session=session, rt=rt, suggestion=suggestion, notice=notice)


def draft_verdict(draft: str, sent: str) -> Literal["used", "edited", "rejected"]:
    """How the agent treated the draft, read from what they sent: no button to press."""
    if " ".join(draft.split()) == " ".join(sent.split()):
        return "used"
    distance = word_edit_distance(draft, sent)
    return "rejected" if distance / max(1, len(draft.split()), len(sent.split())) >= REWRITTEN else "edited"


@router.post("/tickets/{ticket_id}/reply")
def send_reply(ticket_id: RowId, desk: CheckedDesk, session: SessionDep, rt: RuntimeDep,
               text: Annotated[str, Form(max_length=MAX_REPLY + 1000)],
               suggestion_id: Annotated[int | None, Form(ge=1, le=MAX_ID)] = None,
               status: Annotated[Literal["", "open", "pending", "solved"], Form()] = "") -> RedirectResponse:
    """Send through the same flow as POST /api/v1/tickets/{id}/replies, then record the draft's verdict."""
    if not desk.can_reply:
        raise DeskDenied(403, f"the {desk.principal.role.value} role may not answer customers")
    ticket = get_ticket(ticket_id, session=session)
    if ticket is None or not desk.principal.sees_ticket(ticket.queue, ticket.assignee_id):
        raise DeskDenied(404, f"no ticket #{ticket_id}")
    text = text.replace("\r\n", "\n")  # browsers send a textarea's line breaks as CRLF (HTML form submission)
    draft = None
    if suggestion_id is not None:
        row = session.get(Suggestion, suggestion_id)
        if row is None or row.ticket_id != ticket_id:
            raise DeskDenied(404, f"no suggestion #{suggestion_id} on ticket #{ticket_id}")
        draft = row.draft
    principal = desk.principal
    try:
        sent = reply(ticket_id, text, config=rt.config, session=session, actor=principal.actor,
                     agent_id=principal.agent_id)
        if status:
            change_status(ticket_id, status, config=rt.config, session=session, actor=principal.actor)
        verdict = None
        if draft is not None and suggestion_id is not None and draft.strip():
            verdict = draft_verdict(draft, text)
            record_feedback(ticket_id, suggestion_id,
                            FeedbackIn(action=verdict, final_text=None if verdict == "used" else text),
                            session=session, actor=principal.actor)
    except UserError as exc:  # raised, so the request's transaction rolls back whatever was written
        raise DeskDenied(exc.http_status, str(exc)) from exc
    query = f"?sent={sent.message.id}" + (f"&feedback={verdict}" if verdict else "")
    return RedirectResponse(f"/tickets/{ticket_id}{query}", status_code=303)


# ------------------------------------------------------------------------------------------------ supervisor

SUPERVISOR_ROLES = frozenset({Role.supervisor, Role.admin})  # as the API's POST /tickets/{id}/assignee


def _supervisor(desk: Desk) -> None:
    if desk.principal.role not in SUPERVISOR_ROLES:
        raise DeskDenied(403, "the supervisor view is for supervisors")


@router.get("/supervisor", response_class=HTMLResponse)
def supervisor_page(request: Request, desk: DeskUser, session: SessionDep, rt: RuntimeDep, reports: ChartsDep,
                    moved: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None) -> HTMLResponse:
    """Live queues: per team what waits and which clocks are near or past their end; agents' load; the reports."""
    _supervisor(desk)
    teams = [t.name for t in rt.config.teams]
    agents = [a for a in agent_rows(session=session) if a["active"]]
    open_rows = [row for team in teams for row in team_queue(team, session=session)]
    return page(request, "supervisor.html", {
        **_nav(desk, rt), "loads": team_loads(teams, session=session, now=utcnow()), "agents": agents,
        "tickets": open_rows, "waiting": waiting_count(session=session), "at_risk_minutes": AT_RISK // 60,
        "notice": f"Ticket #{moved} reassigned." if moved else None, "reports": reports})


@router.post("/supervisor/reassign")
def supervisor_reassign(desk: CheckedDesk, session: SessionDep,
                        ticket_id: Annotated[int, Form(ge=1, le=MAX_ID)],
                        agent: Annotated[str, Form(min_length=3, max_length=320)],
                        reason: Annotated[str, Form(min_length=1, max_length=500)],
                        force: Annotated[bool, Form()] = False) -> RedirectResponse:
    """Move a ticket to an agent, as POST /api/v1/tickets/{id}/assignee does (refused above capacity unless forced)."""
    _supervisor(desk)
    if session.get(Ticket, ticket_id) is None:
        raise DeskDenied(404, f"no ticket #{ticket_id}")
    try:
        reassign(ticket_id, agent, session=session, reason=reason, actor=desk.principal.name, force=force)
    except UserError as exc:
        raise DeskDenied(exc.http_status, str(exc)) from exc
    return RedirectResponse(f"/supervisor?moved={ticket_id}", status_code=303)
