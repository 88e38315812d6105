"""The web desk: server-rendered pages for people, served by `triage serve` at `/` (issue 16)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from api.desk.auth import DeskDenied, GoTo, SignInRequired
from api.desk.live import router as live_router
from api.desk.models_pages import router as models_router
from api.desk.qa_pages import router as qa_router
from api.desk.routes import page, router
from api.desk.supervisor_charts import router as supervisor_charts_router
from api.desk.ticket_actions import router as ticket_actions_router

STATIC = Path(__file__).resolve().parent / "static"


async def _sign_in_first(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    return RedirectResponse(f"/login?next={quote(exc.next_path, safe='/')}", status_code=303)


async def _go_to(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GoTo)
    return RedirectResponse(exc.path, status_code=303)


async def _denied(request: Request, exc: Exception) -> HTMLResponse:
    assert isinstance(exc, DeskDenied)
    return page(request, "error.html", {"status": exc.status, "message": exc.message}, exc.status)


def install(app: FastAPI) -> None:
    """Add the desk's pages, its CSS and JavaScript (shipped in the wheel) and its two page-level answers."""
    app.include_router(router)
    app.include_router(live_router)
    app.include_router(supervisor_charts_router)
    app.include_router(qa_router)
    app.include_router(ticket_actions_router)
    app.include_router(models_router)
    app.mount("/static/desk", StaticFiles(directory=STATIC), name="desk-static")
    app.add_exception_handler(SignInRequired, _sign_in_first)
    app.add_exception_handler(DeskDenied, _denied)
    app.add_exception_handler(GoTo, _go_to)
