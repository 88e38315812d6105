"""The desk's door: session cookie, CSRF checks and the signed-in person as a dependency.

The session token travels in an HttpOnly, SameSite=Lax cookie (Secure when the request came over HTTPS,
including through a proxy that uvicorn trusts for X-Forwarded-Proto). Every form POST carries a CSRF token:
the session's own once signed in, and before that (the login form) a random value that must match a cookie
set with the form, so a third-party page cannot sign a browser in to an attacker's account either.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Form, Request, Response

from api.deps import Principal, SessionDep, principal_of
from triage.users.auth import csrf_matches, session_user
from triage.users.service import Role
from triage.users.tables import WebSession

SESSION_COOKIE = "triage_session"
LOGIN_CSRF_COOKIE = "triage_login_csrf"
# People with desk pages. Those outside TICKET_ROLES (the tickets API's readers) open only their own pages:
# a data scientist has the models pages and lands there (issue 16 item 5), and never sees a ticket queue.
DESK_ROLES = frozenset({Role.agent, Role.supervisor, Role.qa, Role.data_scientist, Role.admin})
TICKET_ROLES = frozenset({Role.agent, Role.supervisor, Role.qa, Role.admin})
OWN_PAGES: dict[Role, tuple[str, ...]] = {Role.data_scientist: ("/models", "/logout")}  # the first is home
REPLY_ROLES = frozenset({Role.agent, Role.supervisor, Role.admin})  # as the API's POST /tickets/{id}/replies


class SignInRequired(Exception):
    """No valid session: the browser goes to the login page and comes back to `next` afterwards."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class GoTo(Exception):
    """A page that is someone else's landing: `/` for a data scientist is the models page (303)."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


class DeskDenied(Exception):
    """A page this person may not have (403), cannot see (404) or a form that failed its check."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Desk:
    """The signed-in person: who they are for the services, and their session for CSRF checks."""

    def __init__(self, principal: Principal, web: WebSession, display: str) -> None:
        self.principal = principal
        self.web = web
        self.display = display

    @property
    def csrf(self) -> str:
        return self.web.csrf_token

    @property
    def can_reply(self) -> bool:
        return self.principal.role in REPLY_ROLES

    @property
    def works_tickets(self) -> bool:
        """Whether queues and tickets are for this person (the nav shows them only then)."""
        return self.principal.role in TICKET_ROLES


def secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_cookie(response: Response, request: Request, name: str, value: str, *, max_age: int | None = None,
               path: str = "/") -> None:
    response.set_cookie(name, value, max_age=max_age, path=path, httponly=True, samesite="lax",
                        secure=secure(request))


def safe_next(value: str | None) -> str:
    """Only a path on this site: `//evil.example` or `https://...` would make the login an open redirect."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def current_desk(request: Request, session: SessionDep) -> Desk:
    """The person behind the session cookie, else a redirect to the login page."""
    token = request.cookies.get(SESSION_COOKIE)
    found = session_user(token, session=session) if token else None
    if found is None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(quote(path, safe="/?=&"))
    user, web = found
    principal = principal_of(user, session=session)
    if principal.role not in DESK_ROLES:
        raise DeskDenied(403, f"the desk has no pages for the {principal.role.value} role yet; use the API")
    own = OWN_PAGES.get(principal.role, ())
    path = request.url.path
    # Default deny: any page outside a non-ticket role's own (a queue, a ticket, a page added later) is refused.
    if principal.role not in TICKET_ROLES and not any(path == p or path.startswith(p + "/") for p in own):
        if path == "/" and own:
            raise GoTo(own[0])
        raise DeskDenied(403, f"the {principal.role.value} role does not work tickets"
                              + (f"; its pages start at {own[0]}" if own else ""))
    return Desk(principal, web, principal.agent_email or user.name)


DeskUser = Annotated[Desk, Depends(current_desk)]


def checked_desk(desk: DeskUser, csrf: Annotated[str | None, Form(max_length=200)] = None) -> Desk:
    """A signed-in person whose form carried their session's CSRF token."""
    if not csrf_matches(desk.web, csrf):
        raise DeskDenied(403, "the form's security token is missing or stale; reload the page and try again")
    return desk


CheckedDesk = Annotated[Desk, Depends(checked_desk)]


def new_login_token() -> str:
    return secrets.token_urlsafe(32)


def login_token_matches(request: Request, sent: str | None) -> bool:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    return bool(cookie and sent) and hmac.compare_digest(cookie.encode(), (sent or "").encode())
