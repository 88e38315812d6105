"""Database outage: a real `triage serve` on PostgreSQL reached through a TCP proxy this benchmark controls.

Phases: before (10 s), outage (the proxy drops every open connection and refuses new ones, 20 s), after
(until the API, /ready and SMTP answer again, at most 60 s). Throughout, three HTTP clients poll
GET /api/v1/tickets, /health and /ready, and an SMTP client sends a small message every 0.5 s. What a
client may see during the outage (issue 14): 503 problem+json with Retry-After from the API, 451 from SMTP
(the sender retries). A 500, a wait over 10 s or a dropped connection is a violation; a 250 is fine only if
the message is stored. After recovery every message answered 250 must be stored and processed by the
worker, which must have survived the outage; the 451 messages are sent again, as an MTA would.
`TRIAGE_OUTAGE_SECONDS` scales the before and outage phases (default 1.0); `TRIAGE_BENCH_KEEP=1` keeps the
server's log.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any, TypeVar

import httpx

from benchmarks.common import Row, drop_database, free_port, postgres_url, stop_triage, wait_ready

NAME = "reliability"
BEFORE, OUTAGE, AFTER_MAX = 10.0, 20.0, 60.0
SETTLE = 5.0  # seconds of traffic kept after recovery, so the after phase shows a steady state
HTTP_TIMEOUT = 10.0  # a longer wait than this during the outage counts as a violation
PROBE_PAUSE = 0.2
SMTP_EVERY = 0.5
PROCESS_WAIT = 180.0  # for the worker to process everything stored, after the load stops
ROUTES = ("/api/v1/tickets", "/health", "/ready")
PG_TARGET = ("127.0.0.1", 5432)
_T = TypeVar("_T")


class Proxy:
    """A TCP relay on loopback to PostgreSQL that can drop every open connection and refuse new ones."""

    def __init__(self, target: tuple[str, int], port: int) -> None:
        self.target = target
        self.port = port
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="outage-proxy", daemon=True)
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self.relayed = 0

    def _call(self, coro: Coroutine[Any, Any, _T]) -> _T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)

    def start(self) -> None:
        self._thread.start()
        self._call(self._listen())

    def cut(self) -> int:
        """Close the listening socket (new connections are refused) and abort every relayed connection."""
        return self._call(self._cut())

    def restore(self) -> None:
        self._call(self._listen())

    def stop(self) -> None:
        self._call(self._cut())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port, reuse_address=True)

    async def _cut(self) -> int:
        if self._server is not None:
            self._server.close()
            self._server = None
        dropped = len(self._open)
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()
        return dropped // 2

    async def _relay(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        if self._server is None:
            client_w.transport.abort()
            return
        try:
            server_r, server_w = await asyncio.open_connection(*self.target)
        except OSError:
            client_w.transport.abort()
            return
        self.relayed += 1
        pair = {client_w, server_w}
        self._open |= pair

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            except OSError:
                pass

        try:
            await asyncio.wait([asyncio.ensure_future(pipe(client_r, server_w)),
                                asyncio.ensure_future(pipe(server_r, client_w))],
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            for writer in pair:
                writer.transport.abort()
            self._open -= pair


@dataclass
class Probe:
    phase: str
    route: str
    outcome: str  # the status code, or "timeout" / "reset" / a connection error's class
    seconds: float
    problem_json: bool = False
    retry_after: bool = False

    @property
    def ok(self) -> bool:
        return self.outcome.isdigit() and 200 <= int(self.outcome) < 300

    @property
    def violation(self) -> str | None:
        """Why this answer is not what a client may see while the database is down; None when it is."""
        if self.ok:
            return None
        if self.outcome == "503":
            if not self.problem_json:
                return "503 without problem+json"
            return None if self.retry_after else "503 without Retry-After"
        return self.outcome if not self.outcome.isdigit() else f"{self.outcome} answer"


@dataclass
class Mail:
    phase: str
    message_id: str
    code: int | str  # the SMTP reply code to DATA, or the error's class


@dataclass
class Observed:
    probes: list[Probe] = field(default_factory=list)
    mails: list[Mail] = field(default_factory=list)
    phase: str = "before"
    stop: bool = False
    restored_at: float | None = None
    recovered_at: float | None = None  # the first 200 on /api/v1/tickets after the restore
    dropped: int = 0
    resent: list[Mail] = field(default_factory=list)


def _triage_cmd() -> list[str]:
    exe = Path(sys.executable).parent / "triage"
    return [str(exe)] if exe.exists() else [shutil.which("triage") or "triage"]


def _env(home: Path, database_url: str, models_path: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    env |= {"TRIAGE_HOME": str(home), "TRIAGE_DATABASE_URL": database_url}
    if models_path is not None:
        env["TRIAGE_MODELS_PATH"] = str(models_path)
    return env


def _triage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([*_triage_cmd(), *args], capture_output=True, text=True, env=env, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"triage {' '.join(args)} failed: {done.stderr[-2000:]}")
    return done.stdout


def _message(n: int, run_id: str) -> tuple[str, bytes]:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = f"Outage Customer <outage{n % 5}@example.com>"
    msg["To"] = "support@larkspur.example"
    msg["Subject"] = f"Order LH-{200000 + n} has not arrived"
    mid = f"outage-{run_id}-{n}@example.com"
    msg["Message-ID"] = f"<{mid}>"
    msg["Date"] = "Mon, 16 Nov 2026 09:00:00 +0000"
    msg.set_content("Hello,\n\nmy order has not arrived and the tracking page has not moved for a week.\n")
    return mid, msg.as_bytes()


def _send(port: int, raw: bytes) -> int | str:
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            smtp.sendmail("customer@example.com", ["support@larkspur.example"], raw)
        return 250
    except smtplib.SMTPResponseException as exc:
        return exc.smtp_code
    except smtplib.SMTPRecipientsRefused as exc:
        return next(iter(exc.recipients.values()))[0]
    except (OSError, smtplib.SMTPException) as exc:
        return type(exc).__name__


async def _probe(client: httpx.AsyncClient, route: str, headers: dict[str, str], seen: Observed) -> None:
    while not seen.stop:
        phase, start = seen.phase, time.monotonic()
        try:
            response = await client.get(route, headers=headers)
            probe = Probe(phase, route, str(response.status_code), time.monotonic() - start,
                          response.headers.get("content-type", "").startswith("application/problem+json"),
                          "retry-after" in response.headers)
        except httpx.TimeoutException:
            probe = Probe(phase, route, "timeout", time.monotonic() - start)
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
            probe = Probe(phase, route, "reset", time.monotonic() - start)
        except httpx.HTTPError as exc:
            probe = Probe(phase, route, type(exc).__name__, time.monotonic() - start)
        seen.probes.append(probe)
        if (route == ROUTES[0] and probe.outcome == "200" and seen.restored_at is not None
                and seen.recovered_at is None and start >= seen.restored_at):
            seen.recovered_at = time.monotonic()
        await asyncio.sleep(PROBE_PAUSE)


async def _mailer(port: int, run_id: str, seen: Observed, outbox: dict[str, bytes]) -> None:
    n = 0
    while not seen.stop:
        phase, start = seen.phase, time.monotonic()
        mid, raw = _message(n, run_id)
        outbox[mid] = raw
        seen.mails.append(Mail(phase, mid, await asyncio.to_thread(_send, port, raw)))
        n += 1
        await asyncio.sleep(max(0.0, SMTP_EVERY - (time.monotonic() - start)))


def _recovered(seen: Observed) -> bool:
    after = [p for p in seen.probes if p.phase == "after"]
    return (seen.recovered_at is not None and any(p.route == "/ready" and p.outcome == "200" for p in after)
            and any(m.phase == "after" and m.code == 250 for m in seen.mails))


async def _scenario(base: str, smtp_port: int, key: str, proxy: Proxy, run_id: str, scale: float,
                    outbox: dict[str, bytes]) -> Observed:
    seen = Observed()
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base, timeout=HTTP_TIMEOUT) as client:
        tasks = [asyncio.ensure_future(_probe(client, route, headers if route == ROUTES[0] else {}, seen))
                 for route in ROUTES]
        tasks.append(asyncio.ensure_future(_mailer(smtp_port, run_id, seen, outbox)))
        await asyncio.sleep(BEFORE * scale)
        seen.dropped = await asyncio.to_thread(proxy.cut)
        seen.phase = "outage"
        await asyncio.sleep(OUTAGE * scale)
        await asyncio.to_thread(proxy.restore)
        seen.restored_at = time.monotonic()
        seen.phase = "after"
        while not _recovered(seen) and time.monotonic() - seen.restored_at < AFTER_MAX:
            await asyncio.sleep(0.1)
        await asyncio.sleep(SETTLE)
        seen.stop = True
        await asyncio.gather(*tasks)
    # An MTA retries a message answered 451 (RFC 5321 §4.2.5): the retry must be stored once.
    for mail in seen.mails:
        if mail.code != 250:
            seen.resent.append(Mail("retry", mail.message_id, await asyncio.to_thread(
                _send, smtp_port, outbox[mail.message_id])))
    return seen


def _inbox_states(url: str, mids: list[str]) -> dict[str, tuple[str, int | None]]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT dedup_key, status, message_id FROM inbox WHERE dedup_key = ANY(:keys)"),
                                {"keys": [f"mid:{m}" for m in mids]}).all()
    finally:
        engine.dispose()
    return {str(r[0])[4:]: (str(r[1]), r[2]) for r in rows}


def _wait_processed(url: str, mids: list[str], proc: subprocess.Popen[bytes]) -> dict[str, tuple[str, int | None]]:
    deadline = time.monotonic() + PROCESS_WAIT
    states = _inbox_states(url, mids)
    while time.monotonic() < deadline and proc.poll() is None:
        if not any(status == "pending" for status, _ in states.values()):
            break
        time.sleep(1)
        states = _inbox_states(url, mids)
    return states


def _codes(values: list[str]) -> str:
    counts = Counter(values)
    return ", ".join(f"{k}:{v}" for k, v in sorted(counts.items())) or "none"


def _log_lines(log_path: Path, *needles: str) -> list[str]:
    try:
        lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    return [line for line in lines if any(n in line for n in needles)]


def run(models_path: Path | None = None) -> list[Row]:
    """The outage scenario once; `models_path` reuses trained models instead of `triage init` training them."""
    scale = float(os.environ.get("TRIAGE_OUTAGE_SECONDS", "1.0"))
    url = postgres_url()
    if url is None:
        return [Row(NAME, "db outage: skipped", 0.0, "-", note="PostgreSQL unreachable at 127.0.0.1:5432")]
    home = Path(tempfile.mkdtemp(prefix="triage-bench-outage-"))
    proxy = Proxy(PG_TARGET, free_port())
    proxied = url.replace(f":{PG_TARGET[1]}/", f":{proxy.port}/", 1)
    env = _env(home, proxied, models_path)
    proc: subprocess.Popen[bytes] | None = None
    log_path = home / "serve.log"
    try:
        proxy.start()
        _triage(env, "init")
        key = _triage(env, "users", "add", "bench", "--role", "admin").strip()
        port, smtp_port = free_port(), free_port()
        base = f"http://127.0.0.1:{port}"
        with log_path.open("wb") as log:
            proc = subprocess.Popen([*_triage_cmd(), "serve", "--port", str(port), "--smtp",
                                     f"127.0.0.1:{smtp_port}", "--no-imap", "--no-outbox"],
                                    env=env, stdout=log, stderr=subprocess.STDOUT)
        wait_ready(base, proc)
        outbox: dict[str, bytes] = {}
        seen = asyncio.run(_scenario(base, smtp_port, key, proxy, run_id=os.urandom(4).hex(), scale=scale,
                                     outbox=outbox))
        accepted = sorted({m.message_id for m in [*seen.mails, *seen.resent] if m.code == 250})
        states = _wait_processed(url, accepted, proc)
        alive = proc.poll() is None
    finally:
        if proc is not None:
            stop_triage(proc)
        proxy.stop()
        drop_database(url)
    rows = _rows(seen, states, accepted, alive, scale, log_path)
    if os.environ.get("TRIAGE_BENCH_KEEP"):
        rows[-1].note += f"; server log kept in {log_path}"
    else:
        shutil.rmtree(home, ignore_errors=True)
    return rows


def _rows(seen: Observed, states: dict[str, tuple[str, int | None]], accepted: list[str], alive: bool,
          scale: float, log_path: Path) -> list[Row]:
    rows: list[Row] = []
    for phase in ("before", "outage", "after"):
        probes = [p for p in seen.probes if p.phase == phase]
        for route in ROUTES:
            mine = [p for p in probes if p.route == route]
            slowest = max((p.seconds for p in mine), default=0.0)
            rows.append(Row(NAME, f"db outage: GET {route}, {phase}", float(len(mine)), "requests",
                            note=f"{_codes([p.outcome for p in mine])}; slowest {slowest:.2f} s"))
        mails = [m for m in seen.mails if m.phase == phase]
        rows.append(Row(NAME, f"db outage: SMTP, {phase}", float(len(mails)), "messages",
                        note=_codes([str(m.code) for m in mails])))
    outage = [p for p in seen.probes if p.phase == "outage"]
    violations = [(p.route, p.violation) for p in outage if p.violation is not None]
    refused = [p for p in outage if not p.ok]
    rows.append(Row(NAME, "db outage: violations during the outage", float(len(violations)), "answers",
                    note=(_codes([f"{r} {v}" for r, v in violations]) if violations else
                          f"all {len(refused)} non-2xx answers were 503 problem+json with Retry-After")))
    smtp_bad = [m for m in seen.mails if m.phase == "outage" and m.code not in (250, 451)]
    rows.append(Row(NAME, "db outage: SMTP replies other than 250/451 during the outage", float(len(smtp_bad)),
                    "messages", note=_codes([str(m.code) for m in smtp_bad]) if smtp_bad else ""))
    recovery = (seen.recovered_at - seen.restored_at
                if seen.recovered_at is not None and seen.restored_at is not None else float("nan"))
    rows.append(Row(NAME, "db outage: recovery time", recovery, "s",
                    note=(f"proxy restored -> first 200 on /api/v1/tickets; {seen.dropped} connections dropped, "
                          f"outage {OUTAGE * scale:.0f} s" if seen.recovered_at is not None
                          else f"no 200 within {AFTER_MAX:.0f} s")))
    lost = [m for m in accepted if m not in states]
    done = [m for m in accepted if states.get(m, ("", None))[0] == "done" and states[m][1] is not None]
    other = _codes([states[m][0] for m in accepted if m in states and m not in done])
    answered_250 = {m.message_id for m in seen.mails if m.code == 250}
    retried = _codes([str(m.code) for m in seen.resent])
    rows.append(Row(NAME, "db outage: lost messages (answered 250, not stored)", float(len(lost)), "messages",
                    note=f"{len(accepted) - len(lost)}/{len(accepted)} stored ({len(answered_250)} answered 250 "
                         f"at first; the {len(seen.resent)} others sent again after recovery: {retried or 'none'})"))
    worker_errors = len(_log_lines(log_path, "worker loop error"))
    rows.append(Row(NAME, "db outage: processed after recovery", float(len(done)), "messages",
                    baseline=float(len(accepted)),
                    note=(f"of {len(accepted)} stored; not done: {other if other != 'none' else '0'}; "
                          f"server {'alive' if alive else 'DEAD'}; {worker_errors} worker loop errors logged")))
    server_errors = _log_lines(log_path, "Internal Server Error", "failed (trace")
    if server_errors:
        rows.append(Row(NAME, "db outage: unexpected errors logged by the server", float(len(server_errors)),
                        "lines", note=server_errors[0][:200]))
    return rows
