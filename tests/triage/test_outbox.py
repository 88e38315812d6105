"""The durable outbox delivering through a real SMTP relay (an aiosmtpd sink on loopback)."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from mail.outgoing import LOOP_HEADER, compose
from triage.config import SmtpRelayConfig
from triage.db import utcnow
from triage.outbox.service import deliver_due, queue_mail, retry_failed, sent_count
from triage.outbox.tables import OutboxItem
from triage.runtime import Triage


class Sink:
    """Relay stand-in: records what it is given, or answers with a chosen error."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []
        self.answer: str | None = None

    async def handle_DATA(self, server, session, envelope) -> str:  # type: ignore[no-untyped-def]
        if self.answer:
            return self.answer
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def sink() -> Iterator[tuple[Sink, SmtpRelayConfig]]:
    handler = Sink()
    port = _port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, SmtpRelayConfig(host="127.0.0.1", port=port, timeout=5, max_attempts=3)
    controller.stop()


def _queue(rt: Triage, to: str = "maria@example.com") -> int:
    msg = compose(sender="support@larkspur.example", to=to, subject="Re: Where is my order [#1]",
                  body="We are on it.", instance_id="triage-test", in_reply_to="abc@example.com",
                  references=["root@example.com"], auto_reply=True)
    with rt.db.transaction() as session:
        return queue_mail(msg, session=session, kind="auto_reply", ticket_id=None, recipient=to,
                          sender="support@larkspur.example").id


def test_compose_sets_threading_and_rfc3834_headers() -> None:
    msg = compose(sender="support@larkspur.example", to="maria@example.com", subject="Re: Hello  [#7]",
                  body="Hi", instance_id="i-1", in_reply_to="m1@example.com", references=["m0@example.com"],
                  auto_reply=True)
    assert msg["In-Reply-To"] == "<m1@example.com>"
    assert msg["References"] == "<m0@example.com> <m1@example.com>"
    assert msg["Auto-Submitted"] == "auto-replied" and msg["X-Auto-Response-Suppress"] == "All"
    assert msg[LOOP_HEADER] == "i-1" and msg["Message-ID"].endswith("@larkspur.example>")
    assert msg["Subject"] == "Re: Hello [#7]"


def test_delivers_queued_mail(rt: Triage, sink) -> None:  # type: ignore[no-untyped-def]
    handler, relay = sink
    oid = _queue(rt)
    result = deliver_due(rt.db, relay)
    assert (result.sent, result.deferred, result.failed) == (1, 0, 0)
    [(mail_from, rcpts, raw)] = handler.received
    assert mail_from == "support@larkspur.example" and rcpts == ["maria@example.com"]
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Auto-Submitted"] == "auto-replied"
    with rt.db.session() as session:
        item = session.get(OutboxItem, oid)
        assert item is not None and item.status == "sent" and item.attempts == 1 and item.sent_at
    assert deliver_due(rt.db, relay).sent == 0  # nothing sent twice


def test_temporary_failure_is_retried_with_backoff(rt: Triage, sink) -> None:  # type: ignore[no-untyped-def]
    handler, relay = sink
    handler.answer = "451 4.3.0 try later"
    oid = _queue(rt)
    assert deliver_due(rt.db, relay).deferred == 1
    with rt.db.session() as session:
        item = session.get(OutboxItem, oid)
        assert item is not None and item.status == "queued" and "451" in (item.last_error or "")
        assert item.next_attempt_at > utcnow() + timedelta(seconds=20)
    assert deliver_due(rt.db, relay).deferred == 0  # not due yet
    handler.answer = None
    assert deliver_due(rt.db, relay, now=utcnow() + timedelta(hours=2)).sent == 1
    assert len(handler.received) == 1


def test_relay_down_then_giving_up_keeps_the_message(rt: Triage) -> None:
    relay = SmtpRelayConfig(host="127.0.0.1", port=_port(), timeout=2, max_attempts=2)  # nothing listens
    oid = _queue(rt)
    later = utcnow()
    for _ in range(2):
        later += timedelta(hours=3)
        deliver_due(rt.db, relay, now=later)
    with rt.db.session() as session:
        item = session.get(OutboxItem, oid)
        assert item is not None and item.status == "failed" and item.attempts == 2 and item.raw
        assert "unreachable" in (item.last_error or "")
    with rt.db.transaction() as session:
        assert retry_failed(session=session) == 1
    with rt.db.session() as session:
        assert session.scalars(select(OutboxItem.status)).one() == "queued"


def test_permanent_rejection_fails_at_once(rt: Triage, sink) -> None:  # type: ignore[no-untyped-def]
    handler, relay = sink
    handler.answer = "554 5.7.1 rejected"
    oid = _queue(rt)
    assert deliver_due(rt.db, relay).failed == 1
    with rt.db.session() as session:
        item = session.get(OutboxItem, oid)
        assert item is not None and item.status == "failed" and item.attempts == 1


def test_sent_count_windows(rt: Triage) -> None:
    _queue(rt, "a@example.com")
    _queue(rt, "a@example.com")
    _queue(rt, "b@example.com")
    with rt.db.session() as session:
        since = utcnow() - timedelta(days=1)
        assert sent_count(session=session, kind="auto_reply", since=since, recipient="A@example.com") == 2
        assert sent_count(session=session, kind="auto_reply", since=utcnow() + timedelta(seconds=5),
                          recipient="a@example.com") == 0
