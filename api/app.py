"""The FastAPI application: health, tickets (read-only for now); later issues add routes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.deps import SessionDep
from api.knowledge import router as knowledge_router
from api.models_api import router as models_router
from api.qa import router as qa_router
from api.reports import router as reports_router
from triage.background import Background, BackgroundOptions
from triage.conversations.schemas import TicketDetail, TicketSummary, ticket_detail, ticket_summary
from triage.conversations.service import get_ticket, list_tickets
from triage.runtime import Triage

log = logging.getLogger(__name__)


class TicketPage(BaseModel):
    items: list[TicketSummary]
    next_cursor: str | None


def _problem(status: int, title: str, detail: str, **extra: object) -> JSONResponse:
    """RFC 9457 problem details."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def create_app(rt: Triage, *, run_worker: bool = False, background: BackgroundOptions | None = None) -> FastAPI:
    """Build the app around one runtime; heavy models load once at start-up, not per request.

    `background` starts the long-running services with the app (`run_worker` is the short form for
    just the inbox worker).
    """
    if background is None and run_worker:
        background = BackgroundOptions(worker=True, outbox=False, imap=False)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt.db.ensure_schema()
        services = Background(rt, background) if background is not None else None
        if services is not None:
            services.start()
        try:
            yield
        finally:
            if services is not None:
                services.stop()

    app = FastAPI(title="Triage", version="0.1.0", lifespan=lifespan,
                  description="Triage customer email and chat: tickets, classification, routing.")
    app.state.triage = rt

    @app.exception_handler(HTTPException)
    async def _http_error(_request: Request, exc: HTTPException) -> JSONResponse:
        return _problem(exc.status_code, str(exc.detail) if exc.status_code < 500 else "Server error", str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
        return _problem(422, "Invalid request", "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                                                             for e in errors), errors=errors)

    @app.get("/health", tags=["ops"])
    def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/api/v1/tickets", response_model=TicketPage, tags=["tickets"])
    def tickets(
        session: SessionDep,
        status: Annotated[str | None, Query(description="new, open, pending, solved or closed")] = None,
        queue: Annotated[str | None, Query(description="queue (team) name")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        cursor: Annotated[str | None, Query(description="next_cursor from the previous page")] = None,
    ) -> TicketPage:
        """Tickets newest first, filtered by status and queue, paged with an opaque cursor."""
        after = None
        if cursor is not None:
            if not cursor.isdigit():
                raise HTTPException(400, "cursor is not one this API issued")
            after = int(cursor)
        rows = list_tickets(session=session, status=status, queue=queue, limit=limit + 1, after_id=after)
        page = rows[:limit]
        return TicketPage(items=[ticket_summary(t) for t in page],
                          next_cursor=str(page[-1].id) if len(rows) > limit else None)

    @app.get("/api/v1/tickets/{ticket_id}", response_model=TicketDetail, tags=["tickets"])
    def ticket(ticket_id: int, session: SessionDep) -> TicketDetail:
        """One ticket with its messages, classifications and assignment history."""
        found = get_ticket(ticket_id, session=session)
        if found is None:
            raise HTTPException(404, f"no ticket #{ticket_id}")
        return ticket_detail(found)

    app.include_router(knowledge_router)
    app.include_router(models_router)
    app.include_router(reports_router)
    app.include_router(qa_router)
    return app
