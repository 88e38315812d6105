"""Satisfaction surveys (issue 17): the public rating page customers open from their invitation, and the CSAT
report for the roles that read reports.

The rating page needs no sign-in: the signed link is the credential, and it counts once. Opening it (GET) never
changes anything, because mail scanners open links too; rating and opting out are form POSTs. The pages are no
API (left out of the OpenAPI document) and answer HTML, including for a link that is not valid.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Annotated

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse

from api.deps import RuntimeDep, SessionDep, allow
from api.reports import PRINTABLE
from triage.errors import UserError
from triage.reports.periods import make_period
from triage.surveys.schemas import CsatReport
from triage.surveys.service import CsatBy, csat_report, invitation_for, opt_out, respond
from triage.users.service import Role

router = APIRouter(prefix="/api/v1/surveys", tags=["surveys"],
                   responses={400: {"description": "a bad period (the detail says which)",
                                    "content": {"application/problem+json": {}}}})
pages = APIRouter(prefix="/survey", include_in_schema=False)
READERS = [allow(Role.supervisor, Role.qa, Role.data_scientist)]  # as /api/v1/reports

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;line-height:1.5}}
fieldset{{border:0;padding:0}}label{{margin-right:1rem}}textarea{{width:100%}}button{{margin-top:1rem}}</style>
</head><body><h1>{title}</h1>{content}</body></html>"""


def _page(title: str, content: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title=escape(title), content=content), status_code=status)


def _message(title: str, text: str, status: int) -> HTMLResponse:
    return _page(title, f"<p>{escape(text)}</p>", status)


@pages.get("/{token}", response_class=HTMLResponse)
def rating_page(token: str, rt: RuntimeDep, session: SessionDep) -> HTMLResponse:
    """The form: a rating from 1 to 5 and an optional comment."""
    try:
        invitation = invitation_for(token, session=session, secret=rt.settings.secret_key)
    except UserError as exc:
        return _message("Survey", str(exc), 404)
    if invitation.responded_at is not None:
        return _message("Thank you", "This survey was already answered, thank you.", 200)
    choices = "".join(f'<label><input type="radio" name="rating" value="{n}" required> {n}</label>'
                      for n in range(1, 6))
    form = (f"<p>How satisfied are you with our help on request #{invitation.ticket_id}? "
            "1 is very unsatisfied, 5 very satisfied.</p>"
            f'<form method="post" action="/survey/{escape(token)}"><fieldset>{choices}</fieldset>'
            '<p><label for="comment">Anything to add? (optional)</label><br>'
            '<textarea id="comment" name="comment" rows="4" maxlength="2000"></textarea></p>'
            '<button type="submit">Send</button></form>'
            f'<p><small><a href="/survey/{escape(token)}/opt-out">No more surveys, please</a></small></p>')
    return _page("How did we do?", form)


@pages.post("/{token}", response_class=HTMLResponse)
def submit_rating(token: str, rt: RuntimeDep, session: SessionDep, rating: Annotated[int, Form()],
                  comment: Annotated[str, Form(max_length=4000)] = "") -> HTMLResponse:
    """Record the rating once."""
    try:
        invitation_for(token, session=session, secret=rt.settings.secret_key)
    except UserError as exc:
        return _message("Survey", str(exc), 404)
    try:
        respond(token, rating, comment, session=session, secret=rt.settings.secret_key)
    except UserError as exc:
        return _message("Survey", str(exc), exc.http_status if exc.http_status != 422 else 400)
    return _message("Thank you", "Thank you for your feedback.", 200)


@pages.get("/{token}/opt-out", response_class=HTMLResponse)
def opt_out_page(token: str, rt: RuntimeDep, session: SessionDep) -> HTMLResponse:
    """Ask to confirm: a link opened by a mail scanner must not opt anyone out."""
    try:
        invitation_for(token, session=session, secret=rt.settings.secret_key)
    except UserError as exc:
        return _message("Survey", str(exc), 404)
    return _page("No more surveys", f'<form method="post" action="/survey/{escape(token)}/opt-out">'
                                    "<p>We will not ask you to rate our help again.</p>"
                                    '<button type="submit">Confirm</button></form>')


@pages.post("/{token}/opt-out", response_class=HTMLResponse)
def confirm_opt_out(token: str, rt: RuntimeDep, session: SessionDep) -> HTMLResponse:
    try:
        opt_out(token, session=session, secret=rt.settings.secret_key)
    except UserError as exc:
        return _message("Survey", str(exc), 404)
    return _message("Done", "You will receive no more surveys from us.", 200)


Since = Annotated[datetime | None, Query(description="invitations sent from (ISO 8601; default: 30 days before "
                                                      "`until`)")]
Until = Annotated[datetime | None, Query(description="until, exclusive (ISO 8601, UTC without an offset; "
                                                      "default: now)")]
By = Annotated[CsatBy, Query(description="group by agent, queue, intent, channel, day, week or month")]
Name = Annotated[str | None, Query(max_length=100, pattern=PRINTABLE)]


@router.get("/report", response_model=CsatReport, dependencies=READERS)
def report(session: SessionDep, by: By = "queue", since: Since = None, until: Until = None, queue: Name = None,
           channel: Annotated[str | None, Query(max_length=16, pattern=PRINTABLE)] = None,
           intent: Name = None) -> CsatReport:
    """CSAT (share of ratings 4-5), mean rating, responses and response rate per group, with the QA score per
    agent and the rating/QA correlation over tickets that have both."""
    period = make_period(since, until)  # BadRequest (400) names what to fix; naive times are UTC
    return csat_report(session=session, since=period.since, until=period.until, by=by, queue=queue, channel=channel,
                       intent=intent)
