"""The FastAPI application: every route needs an API key except health and readiness."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from api.agents import router as agents_router
from api.chat import router as chat_router
from api.classify import router as classify_router
from api.customers import router as customers_router
from api.desk import install as install_desk
from api.ingest import router as ingest_router
from api.knowledge import router as knowledge_router
from api.models_api import router as models_router
from api.ops import ApiMetrics, BodyLimitMiddleware, RequestMetricsMiddleware, Warmup
from api.ops import router as ops_router
from api.planning import router as planning_router
from api.problems import install as install_problem_handlers
from api.qa import router as qa_router
from api.reports import router as reports_router
from api.surveys import pages as survey_pages
from api.surveys import router as surveys_router
from api.tickets import router as tickets_router
from api.widget import install as install_widget
from triage.background import Background, BackgroundOptions
from triage.runtime import Triage

log = logging.getLogger(__name__)


def api_routes(router: Any) -> Iterator[APIRoute]:
    """Every API route, including those of included routers (FastAPI now nests them lazily).

    Routers carry their full prefix themselves (`APIRouter(prefix=...)`), so paths are final. The desk's
    pages are left out: they are no API (not in the OpenAPI document), answer HTML and check a signed-in
    session instead of `allow(...)` (tests/api/desk covers who may open them).
    """
    for route in router.routes:
        if isinstance(route, APIRoute):
            if route.include_in_schema:
                yield route
        elif hasattr(route, "original_router"):
            yield from api_routes(route.original_router)


_PROBLEM_SCHEMA = {
    "title": "Problem", "type": "object", "description": "RFC 9457 problem details",
    "required": ["type", "title", "status", "detail", "trace_id"],
    "properties": {"type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                   "detail": {"type": "string"},
                   "trace_id": {"type": "string", "description": "quote it when reporting a problem; errors "
                                                                 "that are ours are logged with it"},
                   "errors": {"type": "array", "items": {"type": "object"},
                              "description": "per-field messages for 422"}},
}


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Make the OpenAPI document say what the app sends on errors.

    FastAPI documents its 422 as `application/json` with its own shape, while we answer every error
    as `application/problem+json`; routes behind a key can also answer 401 and 403.
    """
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = _PROBLEM_SCHEMA
    ref = {"$ref": "#/components/schemas/Problem"}
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            if operation.get("security"):
                responses.setdefault("401", {"description": "no API key, or an unknown or revoked one"})
                responses.setdefault("403", {"description": "the caller's role may not use this route"})
            # Any other error (404, 413 body too large, 415, ...) has the same shape.
            responses.setdefault("default", {"description": "an error, as RFC 9457 problem details"})
            for code, response in responses.items():
                if code.startswith(("4", "5")) or code == "default":
                    response["content"] = {"application/problem+json": {"schema": ref}}
    schema["components"]["schemas"].pop("HTTPValidationError", None)
    schema["components"]["schemas"].pop("ValidationError", None)
    return schema


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
        app.state.warmup.start()  # /ready answers 200 once the models are loaded
        services = Background(rt, background) if background is not None else None
        if services is not None:
            services.start()
        try:
            yield
        finally:
            batcher = getattr(app.state, "classify_batcher", None)
            if batcher is not None:
                await batcher.aclose()
            if services is not None:
                services.stop()

    app = FastAPI(title="Triage", version="0.1.0", lifespan=lifespan,
                  description="Triage customer email and chat: tickets, classification, routing.")
    app.state.triage = rt

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_problems(FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.state.warmup = Warmup(rt)
    app.state.metrics = ApiMetrics(rt)
    app.add_middleware(BodyLimitMiddleware, max_body=rt.settings.api_max_body)
    app.add_middleware(RequestMetricsMiddleware, metrics=app.state.metrics)  # outermost: sees the 413s too

    install_problem_handlers(app)

    @app.get("/health", tags=["ops"])
    def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    app.include_router(ops_router)
    app.include_router(ingest_router)
    app.include_router(classify_router)
    app.include_router(tickets_router)
    app.include_router(chat_router)
    app.include_router(agents_router)
    app.include_router(customers_router)
    app.include_router(knowledge_router)
    app.include_router(models_router)
    app.include_router(reports_router)
    app.include_router(qa_router)
    app.include_router(planning_router)
    app.include_router(surveys_router)
    app.include_router(survey_pages)  # the public rating page: the signed link is the credential
    install_widget(app)  # the live chat widget's public routes: a per-conversation token is the credential
    install_desk(app)  # the web desk's pages at /, for people signed in with a password (issue 16)
    return app
