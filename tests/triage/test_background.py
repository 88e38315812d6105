"""`triage serve`'s background services together: SMTP in, worker, acknowledgement out through the relay."""

from __future__ import annotations

import smtplib
import socket
import time
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller

from triage.background import Background, BackgroundOptions
from triage.runtime import Triage


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Relay:
    def __init__(self) -> None:
        self.got: list[bytes] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # type: ignore[no-untyped-def]
        self.got.append(envelope.original_content)
        return "250 OK"


@pytest.fixture
def relay(rt: Triage) -> Iterator[_Relay]:
    handler, port = _Relay(), _port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    rt.config.smtp_relay.host, rt.config.smtp_relay.port = "127.0.0.1", port
    yield handler
    controller.stop()


def test_mail_in_ticket_and_acknowledgement_out(rt: Triage, relay: _Relay, make_email) -> None:
    smtp_port = _port()
    services = Background(rt, BackgroundOptions(imap=False, smtp=("127.0.0.1", smtp_port), worker_poll=0.2,
                                                outbox_poll=0.2))
    services.start()
    try:
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=30) as client:
            client.sendmail("maria.jensen@example.com", ["support@larkspur.example"],
                            make_email(message_id="<bg1@example.com>", subject="Heater smells of burning"))
        deadline = time.monotonic() + 60
        while not relay.got and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        services.stop()
    assert relay.got, "the acknowledgement never reached the relay"
    ack = relay.got[0].decode()
    assert "In-Reply-To: <bg1@example.com>" in ack and "Auto-Submitted: auto-replied" in ack
    assert all(not t.is_alive() for t in services.threads)
