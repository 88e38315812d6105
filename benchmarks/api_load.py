"""API load benchmark: a real `triage serve` process on loopback, 32 concurrent clients per route.

Routes: `POST /api/v1/classify` and `POST /api/v1/tickets/{id}/suggestions` (the two an agent's screen
calls per message), next to `GET /health`, which does no work and so shows the framework's own ceiling
on this machine in the same run. The load generator (httpx, asyncio) shares the 2 cores with the
server, so every figure, the ceiling included, is a lower bound of what a separate client would see.
`TRIAGE_BENCH_SECONDS` shortens the runs (default 30 s per route).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np

from benchmarks.common import Row, free_port, run_triage, start_triage, stop_triage, wait_ready

NAME = "api"
CLIENTS = 32
SAMPLES = Path(__file__).resolve().parents[1] / "triage" / "samples"
TEXTS = [
    "Where is my order LH-104233? It was due on Monday and tracking has not moved.",
    "I was charged twice for my subscription this month, please refund one payment.",
    "The smart lamp will not pair with the app after the last update.",
    "I need to change the delivery address on my order before it ships.",
    "This is the third time I write and nobody answers. Cancel everything now!",
    "Can I get an invoice with my company's VAT number on it?",
    "My account was locked after too many login attempts, how do I get back in?",
    "Thank you, the replacement arrived and works perfectly.",
]


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        return float(np.percentile(np.asarray(self.latencies), q)) * 1000 if self.latencies else float("nan")


def _start_server(home: Path, port: int) -> subprocess.Popen[bytes]:
    return start_triage(home, "serve", "--port", str(port), "--no-smtp", "--no-imap", "--no-outbox")


async def _load(base: str, headers: dict[str, str], request: Callable[[httpx.AsyncClient, int], object],
                seconds: float) -> Result:
    result = Result()
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as client:
        for i in range(CLIENTS):  # warm-up: connections open, models and caches hot
            await request(client, i)  # type: ignore[misc]
        stop = time.perf_counter() + seconds

        async def one_client(n: int) -> None:
            i = n
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                try:
                    response = await request(client, i)  # type: ignore[misc]
                    ok = response.status_code < 400  # type: ignore[attr-defined]
                except httpx.HTTPError:
                    ok = False
                if ok:
                    result.latencies.append(time.perf_counter() - t0)
                else:
                    result.errors += 1
                i += CLIENTS

        start = time.perf_counter()
        await asyncio.gather(*(one_client(n) for n in range(CLIENTS)))
        result.seconds = time.perf_counter() - start
    return result


def run() -> list[Row]:
    seconds = float(os.environ.get("TRIAGE_BENCH_SECONDS", "30"))
    home = Path(tempfile.mkdtemp(prefix="triage-bench-api-"))
    try:
        run_triage(home, "init")
        run_triage(home, "kb", "import", str(SAMPLES / "kb"))
        run_triage(home, "ingest", str(SAMPLES / "emails"))
        key = run_triage(home, "users", "add", "bench", "--role", "admin").strip()
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = _start_server(home, port)
        try:
            wait_ready(base, proc)
            headers = {"Authorization": f"Bearer {key}"}
            ticket_ids = [t["id"] for t in httpx.get(f"{base}/api/v1/tickets", params={"limit": 50},
                                                     headers=headers, timeout=30).json()["items"]]
            if not ticket_ids:
                raise RuntimeError("no tickets to ask suggestions for")

            def health(c: httpx.AsyncClient, i: int) -> object:
                return c.get("/health")

            def classify(c: httpx.AsyncClient, i: int) -> object:
                return c.post("/api/v1/classify", json={"text": TEXTS[i % len(TEXTS)]})

            def suggestions(c: httpx.AsyncClient, i: int) -> object:
                return c.post(f"/api/v1/tickets/{ticket_ids[i % len(ticket_ids)]}/suggestions", json={"k": 3})

            results = {name: asyncio.run(_load(base, headers, fn, seconds))
                       for name, fn in (("GET /health", health), ("POST /api/v1/classify", classify),
                                        ("POST /api/v1/tickets/{id}/suggestions", suggestions))}
        finally:
            stop_triage(proc)
    finally:
        shutil.rmtree(home, ignore_errors=True)

    ceiling = results["GET /health"].throughput
    rows = []
    for route, res in results.items():
        note = f"{CLIENTS} clients, {res.seconds:.0f} s, {len(res.latencies)} ok, {res.errors} errors"
        rows.append(Row(NAME, f"{route} throughput", res.throughput, "req/s",
                        baseline=ceiling if route != "GET /health" else None,
                        note=note + ("; framework ceiling" if route == "GET /health" else "; ratio to /health")))
        rows.append(Row(NAME, f"{route} p50", res.pct(50), "ms"))
        rows.append(Row(NAME, f"{route} p99", res.pct(99), "ms"))
        rows.append(Row(NAME, f"{route} errors", float(res.errors), "count"))
    return rows
