"""Operations: readiness, Prometheus metrics, and warming the models up before traffic arrives."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import RuntimeDep, allow
from api.problems import RETRY_AFTER, problem
from models.vocabulary import TASKS
from triage.monitoring import backlog, database_problems
from triage.runtime import Triage
from triage.users.service import Role

log = logging.getLogger(__name__)

router = APIRouter(tags=["ops"])

# Seconds; classification of a long email is the slowest thing a request does (about a second on 2 cores).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Warmup:
    """Loads the models in a thread at start-up, so the process answers /health at once and /ready when warm."""

    def __init__(self, rt: Triage) -> None:
        self.rt = rt
        self.error: str | None = None
        self.done = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="triage-warmup", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        try:
            self.rt.suite.classify_one("warm-up")  # loads the classifiers and the sentence encoder
        except Exception as exc:  # reported by /ready, e.g. "no intent model is trained yet: run triage init"
            self.error = str(exc)
            log.warning("models could not be loaded: %s", exc)
        finally:
            self.done.set()

    def problems(self) -> list[str]:
        if "suite" in self.rt.__dict__:  # also after a later load, e.g. models trained and promoted via the API
            return []
        if self.error is not None:
            return [f"models not loaded: {self.error}"]
        return ["models are still loading" if self._thread is not None else "models are not loaded"]


class ApiMetrics:
    """One Prometheus registry per app (tests build several apps in one process)."""

    def __init__(self, rt: Triage) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("triage_http_requests", "HTTP requests by route template and status",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("triage_http_request_duration_seconds",
                                 "Time from request to the end of the response, by route template and status",
                                 ["method", "route", "status"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.registry.register(StateCollector(rt))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        labels = (method, route, str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)


class StateCollector(Collector):
    """Read at scrape time from the database and the model registry, so every process reports the same."""

    def __init__(self, rt: Triage) -> None:
        self.rt = rt

    def describe(self) -> Iterator[Any]:
        return iter(self._families())

    def _families(self) -> tuple[Any, ...]:
        return (
            GaugeMetricFamily("triage_database_up", "1 when the last scrape could read the database"),
            GaugeMetricFamily("triage_inbox_items", "Intake rows not yet done: pending (queue depth), failed and "
                              "quarantined (crashed the worker)",
                              labels=["status"]),
            GaugeMetricFamily("triage_outbox_items", "Outgoing messages queued for delivery or failed",
                              labels=["status"]),
            GaugeMetricFamily("triage_tickets_open", "Open tickets (new, open, pending) by queue", labels=["queue"]),
            GaugeMetricFamily("triage_tickets_waiting", "Open tickets waiting for an agent with room"),
            CounterMetricFamily("triage_sla_breaches", "SLA breaches fired, by clock", labels=["metric"]),
            InfoMetricFamily("triage_model", "Model version per task; loaded=false until this process loads it",
                             labels=["task"]),
        )

    def collect(self) -> Iterator[Any]:
        up, inbox, outbox, open_tickets, waiting, breaches, models = self._families()
        try:
            with self.rt.db.session() as session:
                state = backlog(session=session)
        except Exception:  # a scrape must still answer: report the database as down
            log.warning("metrics: reading the database failed", exc_info=True)
            up.add_metric([], 0)
            yield up
        else:
            up.add_metric([], 1)
            for status, n in state.inbox.items():
                inbox.add_metric([status], n)
            for status, n in state.outbox.items():
                outbox.add_metric([status], n)
            for queue, n in sorted(state.open_tickets.items()):
                open_tickets.add_metric([queue or "none"], n)
            waiting.add_metric([], state.waiting_for_agent)
            for metric in ("first_response", "next_response", "resolution"):
                breaches.add_metric([metric], state.sla_breaches.get(metric, 0))
            yield from (up, inbox, outbox, open_tickets, waiting, breaches)
        loaded = self.rt.__dict__.get("suite")
        versions = loaded.versions() if loaded is not None else {}
        for kind in TASKS:
            version = versions.get(kind) or self.rt.registry.current(kind)
            if version:
                models.add_metric([kind], {"version": version, "loaded": str(kind in versions).lower()})
        yield models


class RequestMetricsMiddleware:
    """Counts and times every HTTP request by its route template (never the raw path: ids would explode)."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets when the app raises before answering

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.observe(scope["method"], route, status, time.perf_counter() - started)


class BodyLimitMiddleware:
    """Refuse request bodies above `max_body` bytes with 413 problem+json, counting what actually arrives.

    A declared Content-Length above the limit is refused before reading anything; a chunked or
    understated body is cut off as soon as the running count passes the limit (the route never sees it).
    """

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            await problem(scope, 413, "Content Too Large", self._detail())(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    # FastAPI's HTTPException: the route machinery passes it on to the problem+json handler.
                    raise HTTPException(413, self._detail())
            return message

        await self.app(scope, counted, send)

    def _detail(self) -> str:
        return f"the request body is larger than {self.max_body} bytes (TRIAGE_API_MAX_BODY)"


@router.get("/ready", responses={503: {"description": "Not ready: the problem lists why"}})
def ready(request: Request, rt: RuntimeDep) -> Any:
    """Readiness: 200 only when the database answers, its schema is at the newest migration and the models are loaded.

    Open to everyone, like `/health`, so that load balancers and orchestrators can probe it.
    """
    problems = database_problems(rt.db)
    problems += request.app.state.warmup.problems()
    if problems:
        # Not ready is transient (the database is back, the models load): say when to look again, as every 503 does.
        return problem(request.scope, 503, "Service Unavailable", "; ".join(problems), problems=problems,
                       headers={"Retry-After": RETRY_AFTER})
    return {"status": "ready"}


@router.get("/metrics", response_class=Response, dependencies=[allow(Role.supervisor, Role.integration)],
            responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format"}})
def metrics(request: Request) -> Response:
    """Prometheus metrics: requests and latencies by route, inbox and outbox backlogs, open tickets by queue,
    SLA breaches and the model versions in use."""
    registry: CollectorRegistry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
