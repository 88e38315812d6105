"""One intake door (issue 13): files, the API, our SMTP server and IMAP store a message the same way.

The same raw email through every channel is one inbox row and one ticket; the SMTP envelope sender
answers for a missing From; empty, garbage and oversized input is refused with the reason, nothing stored.
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from mail.imap import ImapIngestor
from mail.smtp_server import smtp_reply, start_smtp_server
from tests.api.conftest import bearer, free_port, make_key
from tests.conftest import FIXTURES, build_email
from triage.config import ImapConfig, MailboxConfig, SmtpServerConfig
from triage.conversations.tables import CustomerIdentity, Message, Ticket
from triage.errors import InvalidInput, TooLarge
from triage.flows.intake import Envelope, accept_email
from triage.inbox.tables import InboxItem
from triage.ingest.files import ingest_paths
from triage.runtime import Triage

SUPPORT = "support@larkspur.example"
SENDER = "maria.jensen@example.com"
UIDVALIDITY = 1700000000

Smtp = Callable[..., int]


@pytest.fixture
def smtp(rt: Triage) -> Iterator[Smtp]:
    """Start our SMTP server on 127.0.0.1 (optionally with a size limit); returns its port."""
    controllers: list[Controller] = []

    def start(**settings: object) -> int:
        config = rt.config.model_copy(update={"smtp_server": SmtpServerConfig.model_validate(
            {"host": "127.0.0.1", "hostname": "mx.larkspur.example", **settings})})
        port = free_port()
        controllers.append(start_smtp_server(rt.db, config, port=port))
        return port

    yield start
    for controller in controllers:
        controller.stop()


def _send(port: int, raw: bytes, *, mail_from: str = SENDER) -> tuple[int, bytes]:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo()
        assert client.mail(mail_from)[0] == 250
        assert client.rcpt(SUPPORT)[0] == 250
        return client.data(raw)


def _post(rt: Triage, raw: bytes) -> tuple[int, dict]:
    client = TestClient(create_app(rt))
    headers = bearer(make_key(rt, "integration")) | {"Content-Type": "message/rfc822"}
    response = client.post("/api/v1/emails", content=raw, headers=headers)
    return response.status_code, response.json()


def _imap(rt: Triage) -> ImapIngestor:
    """The IMAP poller's storing step, without a server: what a fetched message goes through."""
    box = MailboxConfig(address=SUPPORT, imap=ImapConfig(host="imap.invalid", user="support", password="x"))
    ingestor = ImapIngestor(rt.db, box)
    ingestor._checkpoint(UIDVALIDITY)
    return ingestor


def _rows(rt: Triage) -> list[InboxItem]:
    with rt.db.session() as session:
        return list(session.scalars(select(InboxItem).order_by(InboxItem.id)))


@pytest.mark.parametrize("message_id", ["<door-1@mail.example.com>", None])
def test_the_same_email_through_every_door_is_one_row_and_one_ticket(
        rt: Triage, smtp: Smtp, tmp_path: Path, message_id: str | None) -> None:
    raw = build_email(message_id=message_id, subject="Parcel LH-104233 is late")
    eml = tmp_path / "door.eml"
    eml.write_bytes(raw)
    with rt.db.session() as session:
        report = ingest_paths([eml], session=session, commit=session.commit)
    assert report.accepted == 1 and not report.rejected
    [row] = _rows(rt)

    status, body = _post(rt, raw)
    assert status == 200 and body == {"intake_id": row.id, "duplicate": True, "status": "pending"}
    code, reply = _send(smtp(), raw)  # the server prepends its Received line: the key stays the same
    assert code == 250 and reply == f"2.0.0 Ok: queued as {row.id}".encode()
    assert _imap(rt)._store(7, UIDVALIDITY, raw) is False  # already in the inbox

    assert [(r.id, r.source, r.dedup_key) for r in _rows(rt)] == [(row.id, "file", row.dedup_key)]
    assert row.dedup_key.startswith("mid:" if message_id else "sha256:")
    [outcome] = rt.worker("t").drain()
    assert outcome.status == "done"
    with rt.db.session() as session:
        assert len(session.scalars(select(Ticket)).all()) == 1
        assert len(session.scalars(select(Message)).all()) == 1


def test_mail_without_from_is_filed_under_the_smtp_envelope_sender(rt: Triage, smtp: Smtp) -> None:
    raw = (FIXTURES / "mail" / "senders" / "no-from.eml").read_bytes()
    # Over the API nobody could be answered: refused with the reason, nothing stored.
    status, body = _post(rt, raw)
    assert status == 422 and "no From header" in body["detail"] and _rows(rt) == []

    assert _send(smtp(), raw, mail_from="Jana.Novak@customer.example")[0] == 250
    [row] = _rows(rt)
    assert row.envelope is not None and row.envelope["mail_from"] == "Jana.Novak@customer.example"
    [outcome] = rt.worker("t").drain()
    assert outcome.status == "done" and outcome.ticket_id is not None
    with rt.db.session() as session:
        message = session.get(Message, outcome.message_id)
        assert message is not None and message.author == "jana.novak@customer.example"
        assert session.scalars(select(CustomerIdentity.value)).all() == ["jana.novak@customer.example"]


@pytest.mark.parametrize(("raw", "says"), [
    (b"", "empty"),
    (b" \r\n\r\n", "empty"),
    (b"just some text, no headers\r\n", "header field"),
    (b"\x00\x01\x02 binary", "header field"),
])
def test_empty_or_garbage_is_refused_with_a_reason_and_nothing_stored(
        rt: Triage, smtp: Smtp, tmp_path: Path, raw: bytes, says: str) -> None:
    for source in ("file", "imap", "smtp", "api"):
        with pytest.raises(InvalidInput, match=says):
            accept_email(rt.db, raw, source=source, ref="test")
    port = smtp()
    if raw.strip():  # smtplib will not send an empty DATA
        code, reply = _send(port, raw)
        assert code == 550 and reply.startswith(b"5.6.0 Message rejected (") and says.encode() in reply
    status, body = _post(rt, raw)
    assert status == 422 and says in body["detail"]
    eml = tmp_path / "bad.eml"
    eml.write_bytes(raw)
    with rt.db.session() as session:
        report = ingest_paths([eml], session=session, commit=session.commit)
    assert report.accepted == 0 and says in str(report.rejected[0])
    assert _imap(rt)._store(8, UIDVALIDITY, raw) is None  # passed over, left in the folder
    assert _rows(rt) == []


def test_over_the_size_limit_is_refused_with_552_and_nothing_stored(rt: Triage, smtp: Smtp) -> None:
    big = build_email(body="lorem ipsum dolor\n" * 200)
    with pytest.raises(TooLarge, match=f"above the {len(big) - 1}-byte limit") as refused:
        accept_email(rt.db, big, source="smtp", envelope=Envelope(mail_from=SENDER), max_bytes=len(big) - 1)
    assert refused.value.http_status == 413
    assert smtp_reply(refused.value, trace="t").startswith("552 5.3.4 Message too big (the message is ")
    port = smtp(max_message_bytes=len(big) - 1)
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:  # no SIZE= announced: cut during DATA
        client.ehlo()
        client.mail(SENDER)
        client.rcpt(SUPPORT)
        assert client.data(big) == (552, b"5.3.4 Message too big")
    assert _rows(rt) == []
    exact = accept_email(rt.db, big, source="smtp", envelope=Envelope(mail_from=SENDER), max_bytes=len(big))
    assert exact.created
