"""Named dependencies for routes: the runtime, a request-scoped database session and the caller."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Request
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from triage.agents.tables import Agent
from triage.runtime import Triage
from triage.users.service import Role, authenticate
from triage.users.tables import User

MAX_ID = 2**31 - 1  # ids are 32-bit columns on PostgreSQL: larger numbers name nothing and are refused as input
RowId = Annotated[int, Path(ge=1, le=MAX_ID, description="a row id")]


def client_ip(request: Request) -> str:
    """The caller's address as uvicorn resolved it (behind a trusted proxy, its X-Forwarded-For), for rate limits
    and logs."""
    return request.client.host if request.client else "unknown"


def get_runtime(request: Request) -> Triage:
    return request.app.state.triage


RuntimeDep = Annotated[Triage, Depends(get_runtime)]


def get_session(rt: RuntimeDep) -> Iterator[Session]:
    """One session per request; committed when the route returns without error."""
    with rt.db.session() as session:
        with session.begin():
            yield session


# scope="function": the commit happens before the response is sent, so a client never hears "done"
# about work a failed commit threw away (FastAPI's default ends yield dependencies after sending).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


@dataclass(frozen=True)
class Principal:
    """Who is calling, detached from the database session so routes can keep it."""

    user_id: int
    name: str
    role: Role
    agent_id: int | None = None
    agent_email: str | None = None
    queues: frozenset[str] | None = None  # None: every queue

    @property
    def actor(self) -> str:
        """Who did it, as the audit log and feedback record it: the agent's email, else the key's name."""
        return self.agent_email or self.name

    def sees_queue(self, queue: str | None) -> bool:
        return self.queues is None or (queue is not None and queue in self.queues)

    def sees_ticket(self, queue: str | None, assignee_id: int | None) -> bool:
        """Agents work their own queues and whatever was assigned to them; other roles see all."""
        return self.sees_queue(queue) or (self.agent_id is not None and assignee_id == self.agent_id)


_bearer = HTTPBearer(auto_error=False, description="An API key from `triage users add`.")


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


def current_user(rt: RuntimeDep,
                 credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Principal:
    """The key holder; its own short transaction so a failing route cannot undo `last_used_at`."""
    if credentials is None:
        raise _unauthorized("send an API key as 'Authorization: Bearer KEY'")
    with rt.db.session() as session, session.begin():
        user = authenticate(credentials.credentials, session=session)
        if user is None:
            raise _unauthorized("the API key is unknown or revoked")
        return principal_of(user, session=session)


def principal_of(user: User, *, session: Session) -> Principal:
    """The caller as routes see it; the desk's session sign-in uses it too, so both doors see the same tickets."""
    agent = session.get(Agent, user.agent_id) if user.agent_id is not None else None
    queues = frozenset(agent.teams) if agent is not None else (frozenset() if user.role == Role.agent else None)
    return Principal(user_id=user.id, name=user.name, role=Role(user.role), agent_id=user.agent_id,
                     agent_email=agent.email if agent is not None else None, queues=queues)


CurrentUser = Annotated[Principal, Depends(current_user)]


def allow(*roles: Role) -> Any:
    """A dependency admitting these roles (and admin); it returns the caller.

    The roles are kept on the checker so tests and docs can read every route's policy.
    """
    allowed = frozenset(roles) | {Role.admin}

    def check(user: CurrentUser) -> Principal:
        if user.role not in allowed:
            raise HTTPException(403, f"the {user.role.value} role may not use this route")
        return user

    check.roles = allowed  # type: ignore[attr-defined]
    check.__doc__ = "Roles: " + ", ".join(sorted(r.value for r in allowed))
    return Depends(check)


def route_roles(route: APIRoute) -> frozenset[Role] | None:
    """The roles a route admits, read from its `allow(...)` dependency; None when it has no role check."""
    found = [roles for d in route.dependant.dependencies if (roles := getattr(d.call, "roles", None)) is not None]
    return found[0] if found else None
