"""The long-running parts of `triage serve`: inbox worker, outbox sender, SLA scheduler, shift starts, retention,
emerging-issue alerts, satisfaction surveys, IMAP, SMTP.

Each loop runs in its own thread and survives its own errors (logged, then retried); stopping is
prompt because every wait watches one shared event.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from triage.config import parse_duration
from triage.runtime import Triage

log = logging.getLogger(__name__)


@dataclass
class BackgroundOptions:
    worker: bool = True
    outbox: bool = True
    imap: bool = True
    smtp: tuple[str, int] | None = None  # host, port
    worker_poll: float = 1.0
    outbox_poll: float = 2.0
    sla: bool = True  # the SLA scheduler (warnings, breaches, escalations)
    sla_poll: float | None = None  # default: [sla_timers] check_interval
    retention: bool = True  # purge raw bytes past [privacy] retention_days (when it is set)
    shifts: bool = True  # hand waiting tickets to agents whose working hours just began
    shifts_poll: float = 60.0
    planning: bool = True  # alerts every [planning] alert_interval, surveys every [surveys] send_interval


@dataclass
class Background:
    rt: Triage
    options: BackgroundOptions = field(default_factory=BackgroundOptions)
    stop_event: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    smtp_controller: Any = None

    def _loop(self, name: str, step: Callable[[], object], pause: float) -> None:
        def run() -> None:
            while not self.stop_event.is_set():
                try:
                    step()
                except Exception:  # keep serving; the failing unit of work records its own error
                    log.exception("%s loop error", name)
                self.stop_event.wait(pause)

        thread = threading.Thread(target=run, name=f"triage-{name}", daemon=True)
        thread.start()
        self.threads.append(thread)

    def start(self) -> None:
        rt = self.rt
        if self.options.worker:
            _ = rt.suite  # load the models before taking work
            worker = rt.worker()
            self._loop("worker", lambda: worker.drain(limit=200), self.options.worker_poll)
        if self.options.outbox:
            from triage.outbox.service import deliver_due

            self._loop("outbox", lambda: deliver_due(rt.db, rt.config.smtp_relay,
                                                     webhook_timeout=rt.config.sla_timers.webhook_timeout),
                       self.options.outbox_poll)
        if self.options.sla:
            self._loop("sla", _sla_step(rt), self.options.sla_poll or
                       parse_duration(rt.config.sla_timers.check_interval).total_seconds())
        if self.options.shifts:
            self._loop("shifts", _shift_step(rt), self.options.shifts_poll)
        if self.options.retention and rt.config.privacy.retention_days is not None:
            self._loop("retention", _retention_step(rt),
                       parse_duration(rt.config.privacy.purge_interval).total_seconds())
        if self.options.planning and rt.config.planning.alert_interval:
            self._loop("alerts", _alerts_step(rt), parse_duration(rt.config.planning.alert_interval).total_seconds())
        if self.options.planning and rt.config.surveys.enabled:
            self._loop("surveys", _surveys_step(rt), parse_duration(rt.config.surveys.send_interval).total_seconds())
        imap_boxes = [box for box in rt.config.mailboxes if box.imap is not None] if self.options.imap else []
        if imap_boxes:
            from mail.imap import ImapIngestor

            for box in imap_boxes:
                ingestor = ImapIngestor(rt.db, box)
                thread = threading.Thread(target=ingestor.run, args=(self.stop_event,),
                                          name=f"triage-imap-{box.address}", daemon=True)
                thread.start()
                self.threads.append(thread)
        if self.options.smtp is not None:
            from mail.smtp_server import start_smtp_server

            host, port = self.options.smtp
            self.smtp_controller = start_smtp_server(rt.db, rt.config, host=host, port=port)
            log.info("SMTP intake listening on %s:%s", host, port)

    def stop(self, timeout: float = 15.0) -> None:
        self.stop_event.set()
        if self.smtp_controller is not None:
            self.smtp_controller.stop()
        for thread in self.threads:
            thread.join(timeout=timeout)


def _sla_step(rt: Triage) -> Callable[[], object]:
    """One scheduler pass; the first also recomputes open tickets, since triage.toml may have changed."""
    from triage.flows.sla import check_due
    from triage.sla.service import refresh_open_tickets

    started = False

    def step() -> object:
        nonlocal started
        if not started:
            with rt.db.transaction() as session:
                refresh_open_tickets(rt.config, session=session)
            started = True
        return check_due(rt.db, rt.config)

    return step


def _shift_step(rt: Triage) -> Callable[[], object]:
    """Drain the queues of agents whose working hours began since the last look (the first look: anyone on shift).

    Nothing else happens when a shift begins: without this, what waited overnight would wait until a status or a
    ticket changed (issue 14).
    """
    from datetime import datetime

    from triage.db import utcnow
    from triage.routing.service import drain_new_shifts

    since: datetime | None = None

    def step() -> object:
        nonlocal since
        now = utcnow()
        with rt.db.transaction() as session:
            assigned = drain_new_shifts(session=session, since=since, now=now)
        since = now
        if assigned:
            log.info("shift start: %s waiting ticket(s) assigned", assigned)
        return assigned

    return step


def _alerts_step(rt: Triage) -> Callable[[], object]:
    """One emerging-issue pass (`triage alerts`): rises and new topics, each new episode notified once (issue 17)."""
    from triage.flows.alerts import run_alerts

    def embed(texts: Sequence[str]) -> np.ndarray:
        return rt.suite.embed(list(texts))  # the worker's loaded encoder groups unsure messages into new topics

    def step() -> object:
        encode: Callable[[Sequence[str]], np.ndarray] | None = embed
        try:
            _ = rt.suite
        except Exception:  # no models in this home: the counts are still tested
            log.warning("emerging issues: no encoder, new topics skipped", exc_info=True)
            encode = None
        with rt.db.transaction() as session:
            report = run_alerts(session=session, config=rt.config, encode=encode, send=True)
        fresh = [a for a in report.alerts if a.new]
        if fresh:
            log.warning("emerging issues: %s", ", ".join(f"{a.kind} {a.key}" for a in fresh))
        return report

    return step


def _surveys_step(rt: Triage) -> Callable[[], object]:
    """Invite the customers of newly solved tickets to rate them (`triage surveys send`, issue 17)."""
    from triage.flows.surveys import send_invitations

    def step() -> object:
        with rt.db.transaction() as session:
            outcomes = send_invitations(session=session, config=rt.config, secret=rt.settings.secret_key)
        if outcomes:
            log.info("surveys: %s", outcomes)
        return outcomes

    return step


def _retention_step(rt: Triage) -> Callable[[], object]:
    """One purge of raw bytes and attachment contents older than [privacy] retention_days (issue 14)."""
    from triage.customers.privacy import purge_expired

    def step() -> object:
        days = rt.config.privacy.retention_days
        if days is None:
            return None
        with rt.db.transaction() as session:
            counts = purge_expired(session=session, retention_days=days)
        if any(counts.values()):
            log.info("retention: purged %s", counts)
        return counts

    return step
