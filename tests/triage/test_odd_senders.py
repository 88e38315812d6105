"""Bounces and odd senders become messages, bouncing addresses or orphans, never failed rows (issue 14).

Each case is a real .eml under tests/fixtures/mail/senders; each runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from mail.bounces import read_delivery_report
from tests.conftest import cli_in_process
from triage.config import SmtpRelayConfig
from triage.conversations.bounces import bounce_reason
from triage.conversations.tables import CustomerIdentity, Message, Ticket
from triage.errors import Conflict
from triage.events.tables import Event
from triage.flows.tickets import reply
from triage.inbox.service import enqueue
from triage.inbox.tables import InboxItem
from triage.outbox.service import deliver_due
from triage.outbox.tables import OutboxItem
from triage.runtime import Triage

SENDERS = Path(__file__).resolve().parents[1] / "fixtures" / "mail" / "senders"
SUPPORT = "support@larkspur.example"


def _smtp(rt: Triage, raw: bytes, key: str, mail_from: str | None) -> int:
    """A row as our SMTP server stores it: the raw bytes and the envelope ("" is the null sender `<>`)."""
    with rt.db.transaction() as session:
        item, _ = enqueue(session=session, kind="email", source="smtp", payload=raw, dedup_key=key)
        if mail_from is not None:
            item.envelope = {"mail_from": mail_from, "rcpt_tos": [SUPPORT], "peer": "127.0.0.1", "helo": "mx"}
        return item.id


def _fixture(name: str) -> bytes:
    return (SENDERS / name).read_bytes()


def test_dsn_fixture_names_the_returned_message_and_the_failed_recipient() -> None:
    report = read_delivery_report(_fixture("dsn-without-from.eml"))
    assert report.original_message_ids == ["ack-53@larkspur.example", "order-53@customer.example"]
    assert report.failed_recipients == ["jana.novak@customer.example"] and report.status == "5.1.1"


def test_bounce_without_from_lands_on_the_ticket_and_stops_mail_until_cleared(
        rt: Triage, monkeypatch: pytest.MonkeyPatch, make_email) -> None:  # type: ignore[no-untyped-def]
    first = make_email(sender="Jana Novak <jana.novak@customer.example>", subject="Parcel never arrived",
                       message_id="<order-53@customer.example>", body="My parcel LH-553301 never arrived.")
    _smtp(rt, first, "mid:order-53@customer.example", "jana.novak@customer.example")
    [opened] = rt.worker("t").drain()
    assert opened.status == "done" and opened.ticket_id is not None

    _smtp(rt, _fixture("dsn-without-from.eml"), "mid:dsn-53@mx.customer.example", "")
    [bounce] = rt.worker("t").drain()
    assert bounce.status == "done" and bounce.ticket_id == opened.ticket_id
    with rt.db.session() as session:
        message = session.get(Message, bounce.message_id)
        assert message is not None and message.author_kind == "system" and message.auto_kind == "bounce"
        assert bounce_reason("jana.novak@customer.example", session=session) == (
            "5.1.1 smtp; 550 5.1.1 <jana.novak@customer.example>: user unknown")

    again = make_email(sender="jana.novak@customer.example", subject="Another question",
                       message_id="<order-54@customer.example>", body="Do you also ship to Prague?")
    _smtp(rt, again, "mid:order-54@customer.example", "jana.novak@customer.example")
    [second] = rt.worker("t").drain()
    assert second.status == "done" and second.ticket_id != opened.ticket_id
    with rt.db.session() as session:
        acks = session.scalars(select(OutboxItem.ticket_id).where(OutboxItem.kind == "auto_reply")).all()
        assert acks == [opened.ticket_id]  # no acknowledgement to a bouncing address
        reasons = session.scalars(select(Event.data).where(Event.kind == "auto_reply.suppressed",
                                                           Event.ticket_id == second.ticket_id)).all()
        assert any("bouncing" in r["reason"] for r in reasons)
    with rt.db.session() as session, pytest.raises(Conflict, match="bounces"):
        reply(second.ticket_id, "We ship to Prague.", config=rt.config, session=session, actor="t")

    cleared = cli_in_process(rt, monkeypatch, "customers", "clear-bounce", "Jana.Novak@customer.example")
    assert cleared.exit_code == 0, cleared.output
    again = cli_in_process(rt, monkeypatch, "customers", "clear-bounce", "jana.novak@customer.example")
    assert "is not marked bouncing" in str(again.exception)  # a UserError: one line, exit 2 from `triage`
    with rt.db.transaction() as session:
        assert bounce_reason("jana.novak@customer.example", session=session) is None
        queued = reply(second.ticket_id, "We ship to Prague.", config=rt.config, session=session, actor="t")
        assert queued is not None


def test_null_sender_bounce_for_nothing_of_ours_is_an_orphan(rt: Triage) -> None:
    _smtp(rt, _fixture("dsn-without-from.eml"), "mid:dsn-53@mx.customer.example", "")
    [outcome] = rt.worker("t").drain()
    assert outcome.status == "orphan"
    with rt.db.session() as session:
        assert session.scalars(select(Ticket)).all() == []


def test_mail_without_from_uses_the_envelope_sender(rt: Triage) -> None:
    _smtp(rt, _fixture("no-from.eml"), "mid:order-53@customer.example", "Jana.Novak@customer.example")
    [outcome] = rt.worker("t").drain()
    assert outcome.status == "done"
    with rt.db.session() as session:
        message = session.get(Message, outcome.message_id)
        assert message is not None and message.author == "jana.novak@customer.example"
        assert "no usable From: the envelope sender is used" in (message.parse_notes or [])
        assert session.scalars(select(CustomerIdentity.value)).all() == ["jana.novak@customer.example"]
        assert session.scalars(select(OutboxItem.recipient)).all() == ["jana.novak@customer.example"]


def test_mail_without_any_sender_is_kept_as_an_orphan_and_listed(rt: Triage, monkeypatch: pytest.MonkeyPatch) -> None:
    from triage.ingest.files import ingest_paths

    with rt.db.session() as session:
        ingest_paths([SENDERS / "no-sender-at-all.eml"], session=session, commit=session.commit)
    [outcome] = rt.worker("t").drain()
    assert outcome.status == "orphan" and "no sender" in (outcome.error or "")
    with rt.db.session() as session:
        row = session.scalars(select(InboxItem)).one()
        assert row.status == "orphan" and row.payload == _fixture("no-sender-at-all.eml")
        assert session.scalars(select(Ticket)).all() == []
    listed = cli_in_process(rt, monkeypatch, "inbox", "list", "--status", "orphan")
    assert listed.exit_code == 0 and "1 orphan" in listed.output and "no sender" in listed.output


def test_date_in_year_9999_is_clamped_with_a_note(rt: Triage) -> None:
    _smtp(rt, _fixture("date-year-9999.eml"), "mid:date-57@example.net", "priya.raman@example.net")
    [outcome] = rt.worker("t").drain()
    assert outcome.status == "done"
    with rt.db.session() as session:
        message = session.get(Message, outcome.message_id)
        row = session.scalars(select(InboxItem)).one()
        assert message is not None and message.sent_at == row.received_at
        assert any("out of range" in note and "clamped" in note for note in message.parse_notes or [])


class Sink:
    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content,
                              list(envelope.mail_options)))
        return "250 OK"


@pytest.fixture
def utf8_relay() -> Iterator[tuple[Sink, SmtpRelayConfig]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    handler = Sink()
    controller = Controller(handler, hostname="127.0.0.1", port=port, enable_SMTPUTF8=True)
    controller.start()
    yield handler, SmtpRelayConfig(host="127.0.0.1", port=port, timeout=5, max_attempts=2)
    controller.stop()


def test_internationalised_sender_is_acknowledged_over_smtputf8(
        rt: Triage, utf8_relay: tuple[Sink, SmtpRelayConfig]) -> None:
    sink, relay = utf8_relay
    _smtp(rt, _fixture("idn-display-name.eml"), "mid:idn-56@x.example", "jürgen@x.example")
    [outcome] = rt.worker("t").drain()
    assert outcome.status == "done", outcome.error
    result = deliver_due(rt.db, relay)
    assert result.sent == 1 and result.failed == 0
    [(mail_from, rcpts, raw, options)] = sink.received
    assert mail_from == SUPPORT
    assert rcpts == ["jürgen@x.example"] and "SMTPUTF8" in options
    assert "To: Jürgen Müller <jürgen@x.example>" in raw.decode("utf-8")
