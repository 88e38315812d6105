"""The one place the API turns errors into RFC 9457 problem details (issue 13).

Services raise the typed errors of `triage.errors`; the handlers here read the status and title from the
class. Every problem carries a `trace_id`; errors that are ours are logged with it and the traceback, and
the body says nothing about internals.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope

from triage.errors import TriageError, Unavailable, UserError

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER = "30"  # seconds: long enough for a database restart or failover, short enough for a user to wait


def trace_id(scope: Scope) -> str:
    """The request's trace id, made on first use (the same format as the SMTP server's)."""
    state = scope.setdefault("state", {})
    if "trace_id" not in state:
        state["trace_id"] = uuid.uuid4().hex[:12]
    return str(state["trace_id"])


def problem(scope: Scope, status: int, title: str, detail: str, *, headers: Mapping[str, str] | None = None,
            **extra: object) -> JSONResponse:
    """RFC 9457 problem details with the request's trace id."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra,
            "trace_id": trace_id(scope)}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    # Starlette's own errors (unknown path, 405, 413 body too large) and the routes' HTTPExceptions.
    assert isinstance(exc, StarletteHTTPException)
    return problem(request.scope, exc.status_code, _title(exc.status_code), str(exc.detail), headers=exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
    detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
    return problem(request.scope, 422, "Invalid request", detail, errors=errors)


async def _triage_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TriageError)
    headers = {"Retry-After": RETRY_AFTER} if isinstance(exc, Unavailable) else None
    if isinstance(exc, UserError):  # the caller's to fix: the message says what
        return problem(request.scope, exc.http_status, exc.title, str(exc), headers=headers)
    trace = trace_id(request.scope)
    log.error("%s %s failed: %s (trace %s)", request.method, request.url.path, exc, trace, exc_info=exc)
    return problem(request.scope, exc.http_status, exc.title, f"{exc.title}; quote trace id {trace} when "
                   "reporting it", headers=headers)


async def _database_down(request: Request, exc: Exception) -> JSONResponse:
    # OperationalError also covers a locked SQLite file and a dropped PostgreSQL connection: all pass.
    trace = trace_id(request.scope)
    log.error("%s %s: database unavailable: %s (trace %s)", request.method, request.url.path,
              type(exc).__name__, trace, exc_info=exc)
    return problem(request.scope, 503, "Service unavailable", "the database is unavailable; retry later",
                   headers={"Retry-After": RETRY_AFTER})


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Starlette runs a handler for Exception in ServerErrorMiddleware, outside every other middleware; it
    # sends this response, then re-raises so the server logs the error too.
    trace = trace_id(request.scope)
    log.error("%s %s failed (trace %s)", request.method, request.url.path, trace, exc_info=exc)
    return problem(request.scope, 500, "Internal Server Error",
                   f"an unexpected error; quote trace id {trace} when reporting it")


def install(app: FastAPI) -> None:
    """Register the handlers: typed errors, HTTP and validation errors, a database outage, anything else."""
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(TriageError, _triage_error)
    for outage in (OperationalError, DisconnectionError, PoolTimeout):
        app.add_exception_handler(outage, _database_down)
    app.add_exception_handler(Exception, _unexpected)
