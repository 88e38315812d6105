"""The FastAPI application: health, tickets (read-only for now); later issues add routes."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.deps import SessionDep
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


class _WorkerThread(threading.Thread):
    def __init__(self, rt: Triage, poll: float = 1.0) -> None:
        super().__init__(name="triage-worker", daemon=True)
        self.rt, self.poll, self.stopping = rt, poll, threading.Event()

    def run(self) -> None:
        worker = self.rt.worker()
        while not self.stopping.is_set():
            try:
                worker.drain(limit=100)
            except Exception:  # keep serving; the row that failed is marked failed by the worker
                log.exception("worker loop error")
            self.stopping.wait(self.poll)


def create_app(rt: Triage, *, run_worker: bool = False) -> FastAPI:
    """Build the app around one runtime; heavy models load once at start-up, not per request."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt.db.ensure_schema()
        worker = None
        if run_worker:
            _ = rt.suite  # load the models before accepting work
            worker = _WorkerThread(rt)
            worker.start()
        yield
        if worker is not None:
            worker.stopping.set()
            worker.join(timeout=10)

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

    return app
