"""Named dependencies for routes: the runtime and a request-scoped database session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from triage.runtime import Triage


def get_runtime(request: Request) -> Triage:
    return request.app.state.triage


RuntimeDep = Annotated[Triage, Depends(get_runtime)]


def get_session(rt: RuntimeDep) -> Iterator[Session]:
    """One session per request; committed when the route returns without error."""
    with rt.db.session() as session:
        with session.begin():
            yield session


SessionDep = Annotated[Session, Depends(get_session)]
