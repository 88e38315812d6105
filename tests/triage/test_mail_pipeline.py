"""Email-specific pipeline behaviour: auto-replies without loops, automatic mail, subject threading."""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP

from sqlalchemy import func, select

from mail.outgoing import LOOP_HEADER
from triage.conversations.tables import Classification, Message, Ticket
from triage.events.tables import Event
from triage.inbox.service import enqueue
from triage.inbox.tables import InboxItem
from triage.outbox.tables import OutboxItem
from triage.runtime import Triage


def _deliver(rt: Triage, raw: bytes, *, source: str = "smtp") -> None:
    from mail.parse import email_dedup_key

    with rt.db.transaction() as session:
        enqueue(session=session, kind="email", source=source, payload=raw, dedup_key=email_dedup_key(raw))
    outcomes = rt.worker("t").drain()
    assert all(o.status == "done" for o in outcomes), outcomes


def _outbox(rt: Triage) -> list[OutboxItem]:
    with rt.db.session() as session:
        return list(session.scalars(select(OutboxItem).order_by(OutboxItem.id)))


def _suppressed(rt: Triage) -> list[str]:
    with rt.db.session() as session:
        return [e.data["reason"] for e in session.scalars(select(Event).where(Event.kind == "auto_reply.suppressed"))]


def test_new_ticket_gets_one_acknowledgement(rt: Triage, make_email) -> None:
    _deliver(rt, make_email(message_id="<first@example.com>", subject="Lamp broken"))
    [ack] = _outbox(rt)
    with rt.db.session() as session:
        ticket = session.scalars(select(Ticket)).one()
    assert ack.kind == "auto_reply" and ack.recipient == "maria.jensen@example.com"
    assert ack.sender == "support@larkspur.example" and f"[#{ticket.id}]" in ack.subject
    raw = ack.raw.decode()
    assert "Auto-Submitted: auto-replied" in raw and f"{LOOP_HEADER}: " in raw
    assert "In-Reply-To: <first@example.com>" in raw and "Maria Jensen" in raw
    with rt.db.session() as session:
        bot = session.scalars(select(Message).where(Message.author_kind == "bot")).one()
        assert bot.ticket_id == ticket.id and bot.message_id == ack.message_id and bot.direction == "out"
    # a reply to the acknowledgement itself threads by its Message-ID, even with the token removed
    _deliver(rt, make_email(message_id="<reply-to-ack@example.com>", subject="Re: thanks",
                            in_reply_to=f"<{ack.message_id}>", body="Thanks, one more detail: it is the Aurora."))
    with rt.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 1
    # the customer's follow-up on the same ticket is not acknowledged again (1 per ticket)
    _deliver(rt, make_email(message_id="<second@example.com>", subject="Re: Lamp broken",
                            in_reply_to="<first@example.com>", body="Any news?"))
    assert len(_outbox(rt)) == 1
    assert any("per ticket" in r for r in _suppressed(rt))


def test_per_sender_limit(rt: Triage, make_email) -> None:
    rt.config.auto_reply.per_sender = 2
    for i in range(4):
        _deliver(rt, make_email(message_id=f"<s{i}@example.com>", subject=f"Question {i}", body=f"Topic {i}"))
    assert len(_outbox(rt)) == 2
    assert sum("within 1d" in r for r in _suppressed(rt)) == 2


def test_archive_imports_never_write_to_customers(rt: Triage, make_email) -> None:
    _deliver(rt, make_email(), source="file")
    assert _outbox(rt) == []


def _auto(headers: dict[str, str], sender: str = "Maria Jensen <maria.jensen@example.com>",
          subject: str = "Hello", body: str = "I am away until Monday.") -> bytes:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    msg["To"] = "support@larkspur.example"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<auto-{abs(hash((sender, subject, tuple(headers.items()))))}@example.com>"
    for name, value in headers.items():
        msg[name] = value
    msg.set_content(body)
    return msg.as_bytes()


def test_no_reply_to_automatic_or_list_mail(rt: Triage) -> None:
    cases = {
        "auto_reply": _auto({"Auto-Submitted": "auto-replied"}, subject="Automatic reply: Hello"),
        "bulk": _auto({"Precedence": "bulk"}, subject="Newsletter"),
        "list": _auto({"List-Id": "<news.example.org>"}, subject="Digest"),
        "x-autoreply": _auto({"X-Autoreply": "yes"}, subject="Away"),
        "noreply": _auto({}, sender="noreply@shop.example", subject="Your receipt"),
    }
    for raw in cases.values():
        _deliver(rt, raw)
    assert _outbox(rt) == []
    with rt.db.session() as session:
        kinds = {m.subject: m.auto_kind for m in session.scalars(select(Message).where(Message.direction == "in"))}
        assert session.scalar(select(func.count()).select_from(Classification)) == 0
    assert kinds == {"Automatic reply: Hello": "auto_reply", "Newsletter": "bulk", "Digest": "bulk",
                     "Away": "auto_reply", "Your receipt": "automated"}


def test_person_asking_for_no_auto_response_is_not_answered(rt: Triage) -> None:
    _deliver(rt, _auto({"X-Auto-Response-Suppress": "OOF, AutoReply"}, subject="Order question",
                       body="Where is my order LH-100100?"))
    assert _outbox(rt) == []
    [reason] = _suppressed(rt)
    assert "X-Auto-Response-Suppress" in reason


def test_mail_between_our_mailboxes_is_kept_but_not_a_ticket(rt: Triage) -> None:
    _deliver(rt, _auto({}, sender="support@larkspur.example", subject="Internal note"))
    with rt.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 0
        item = session.scalars(select(InboxItem)).one()
        assert item.status == "done" and item.payload


def _bounce_of(original_id: str) -> bytes:
    """An RFC 3464 delivery-status report, as a mail server writes it."""
    return (
        "Return-Path: <>\r\n"
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n"
        "To: support@larkspur.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <bounce-1@mx.example.net>\r\n"
        f"References: <{original_id}>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="BND"\r\n'
        "\r\n"
        "--BND\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--BND\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.net\r\n\r\n"
        "Final-Recipient: rfc822; gone@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "--BND--\r\n"
    ).encode()


def test_bounce_is_recorded_on_the_ticket_not_classified(rt: Triage, make_email) -> None:
    _deliver(rt, make_email(message_id="<orig@example.com>", subject="Refund please"))
    [ack] = _outbox(rt)
    _deliver(rt, _bounce_of(ack.message_id))  # our acknowledgement bounced
    with rt.db.session() as session:
        bounce = session.scalars(select(Message).where(Message.auto_kind == "bounce")).one()
        assert bounce.auto_kind == "bounce" and bounce.author_kind == "system" and bounce.direction == "in"
        ticket = session.scalars(select(Ticket)).one()
        assert bounce.ticket_id == ticket.id  # threaded by References to the original thread
        classified = set(session.scalars(select(Classification.message_id)))
        assert bounce.id not in classified
    assert len(_outbox(rt)) == 1  # nobody answers a bounce


def test_our_own_mail_looping_back_is_dropped(rt: Triage, make_email) -> None:
    _deliver(rt, make_email(message_id="<x1@example.com>"))
    [ack] = _outbox(rt)
    _deliver(rt, ack.raw)  # e.g. a forwarding rule sends our acknowledgement back to us
    with rt.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Message).where(Message.direction == "in")) == 1
        rows = list(session.scalars(select(InboxItem).order_by(InboxItem.id)))
        assert [r.status for r in rows] == ["done", "done"] and rows[1].message_id is None
        dropped = session.scalars(select(Event).where(Event.kind == "inbox.dropped")).one()
        assert "loop header" in dropped.data["reason"]
    assert len(_outbox(rt)) == 1


def test_reply_without_headers_threads_by_subject_and_customer(rt: Triage, make_email) -> None:
    _deliver(rt, make_email(message_id="<a1@example.com>", subject="Lamp flickers"))
    _deliver(rt, make_email(message_id="<a2@example.com>", subject="RE: AW: Lamp flickers", body="Still flickering"))
    _deliver(rt, make_email(message_id="<a3@example.com>", subject="Re: Lamp flickers", body="Me too",
                            sender="Other Person <other@example.org>"))
    _deliver(rt, make_email(message_id="<a4@example.com>", subject="Lamp flickers", body="A new lamp, new problem"))
    with rt.db.session() as session:
        per_ticket = dict(session.execute(select(Message.ticket_id, func.count()).where(Message.direction == "in")
                                          .group_by(Message.ticket_id)).all())
        events = [e.data.get("how") for e in session.scalars(select(Event).where(Event.kind == "ticket.threaded"))]
    assert sorted(per_ticket.values()) == [1, 1, 2]
    assert "subject-and-customer" in events


def test_cc_to_two_mailboxes_is_one_ticket(rt: Triage, make_email) -> None:
    raw = make_email(message_id="<cc@example.com>", cc="billing@larkspur.example")
    _deliver(rt, raw)
    _deliver(rt, b"Delivered-To: billing@larkspur.example\r\n" + raw)  # the second mailbox's copy
    with rt.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 1
        assert session.scalar(select(func.count()).select_from(Message).where(Message.direction == "in")) == 1
    assert len(_outbox(rt)) == 1


def test_attachment_contents_stored_once_up_to_the_limit(rt: Triage) -> None:
    from triage.conversations.tables import AttachmentBlob

    rt.config.mail.attachment_content_limit = 1000
    small, big = b"order,qty\nLH-100100,2\n", bytes(range(256)) * 20

    def mail(mid: str) -> bytes:
        msg = EmailMessage(policy=SMTP)
        msg["From"] = "maria.jensen@example.com"
        msg["To"] = "support@larkspur.example"
        msg["Subject"] = "Invoice lines"
        msg["Message-ID"] = mid
        msg.set_content("See attached.")
        msg.add_attachment(small, maintype="text", subtype="csv", filename="lines.csv")
        msg.add_attachment(big, maintype="application", subtype="octet-stream", filename="dump.bin")
        return msg.as_bytes()

    _deliver(rt, mail("<att1@example.com>"))
    _deliver(rt, mail("<att2@example.com>"))  # same files again
    with rt.db.session() as session:
        blobs = list(session.scalars(select(AttachmentBlob)))
        assert [(b.size, b.data) for b in blobs] == [(len(small), small)]
        msg = session.scalars(select(Message).where(Message.message_id == "att1@example.com")).one()
        meta = {a["filename"]: a for a in msg.attachments}
        assert meta["lines.csv"]["stored"] is True and meta["dump.bin"]["stored"] is False
        assert meta["dump.bin"]["size"] == len(big) and len(meta["dump.bin"]["sha256"]) == 64
        assert "order,qty" not in msg.text
