"""Messages per second accepted by our SMTP intake with 8 concurrent senders, against a bare aiosmtpd sink."""

from __future__ import annotations

import smtplib
import threading
from email.message import EmailMessage
from email.policy import SMTP

from aiosmtpd.controller import Controller

from benchmarks.common import Row, drop_database, free_port, postgres_url, temp_runtime, timed

SENDERS = 8


def _messages(n: int) -> list[bytes]:
    out = []
    for i in range(n):
        msg = EmailMessage(policy=SMTP)
        msg["From"] = f"Customer {i} <customer{i % 300}@example.com>"
        msg["To"] = "support@larkspur.example"
        msg["Subject"] = f"Order LH-{100000 + i} has not arrived"
        msg["Message-ID"] = f"<bench-{i}@example.com>"
        msg["Date"] = "Mon, 16 Nov 2026 09:00:00 +0000"
        msg.set_content("Hello,\n\nmy order has not arrived yet and the tracking page has not changed "
                        "for five days. Could you check what happened?\n\nThanks\n" * 3)
        out.append(msg.as_bytes())
    return out


def _blast(port: int, messages: list[bytes]) -> None:
    """8 clients, each on its own connection, sending its share as fast as the server accepts."""
    errors: list[BaseException] = []

    def client(share: list[bytes]) -> None:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
                for raw in share:
                    smtp.sendmail("customer@example.com", ["support@larkspur.example"], raw)
        except BaseException as exc:  # report after join
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(messages[i::SENDERS],)) for i in range(SENDERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


class _Sink:
    async def handle_DATA(self, server, session, envelope) -> str:  # type: ignore[no-untyped-def]
        return "250 OK"


def run(n: int = 2000) -> list[Row]:
    from mail.smtp_server import start_smtp_server

    messages = _messages(n)
    port = free_port()
    sink = Controller(_Sink(), hostname="127.0.0.1", port=port)
    sink.start()
    try:
        base = n / timed(lambda: _blast(port, messages))
    finally:
        sink.stop()
    rows = [Row("smtp intake", f"bare aiosmtpd sink, {SENDERS} senders", base, "msg/s", note="baseline")]
    for label, url in (("SQLite", None), ("PostgreSQL", postgres_url())):
        if label == "PostgreSQL" and url is None:
            rows.append(Row("smtp intake", "Triage -> PostgreSQL", 0.0, "msg/s", note="PostgreSQL unreachable"))
            continue
        rt = temp_runtime(url)
        port = free_port()
        controller = start_smtp_server(rt.db, rt.config, host="127.0.0.1", port=port)
        try:
            rate = n / timed(lambda port=port: _blast(port, messages))
        finally:
            controller.stop()
        from sqlalchemy import func, select

        from triage.inbox.tables import InboxItem

        with rt.db.session() as session:
            stored = session.scalar(select(func.count()).select_from(InboxItem))
        rows.append(Row("smtp intake", f"Triage -> {label} (committed before 250), {SENDERS} senders", rate,
                        "msg/s", base, note=f"{stored}/{n} stored"))
        rt.db.dispose()
        if url is not None:
            drop_database(url)
    return rows
