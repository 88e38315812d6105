"""The durable outbox: mail is stored first, then handed to the relay with retries and backoff.

Delivery is at-least-once: a row is locked, sent and marked in one transaction, so a crash between
the relay's acceptance and the commit sends it again (with the same Message-ID, which receivers
deduplicate). A message is never lost: after the last attempt it stays, marked failed, for
`triage outbox retry`.
"""

from __future__ import annotations

import json
import logging
import random
import smtplib
import ssl
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from mail.outgoing import ascii_domain, message_id_of, needs_smtputf8
from triage.config import SmtpRelayConfig, read_secret
from triage.db import Database, on_postgres, utcnow
from triage.events.service import record
from triage.outbox.tables import FAILED, QUEUED, SENT, OutboxItem

log = logging.getLogger(__name__)

WEBHOOK = "webhook"  # outbox kind: `recipient` is the URL, `raw` the JSON body


def queue_mail(msg: EmailMessage, *, session: Session, kind: str, ticket_id: int | None,
               recipient: str, sender: str) -> OutboxItem:
    """Store an outgoing message for delivery (flushed; sent once the caller's transaction commits)."""
    item = OutboxItem(kind=kind, ticket_id=ticket_id, sender=sender, recipient=recipient.lower(),
                      subject=str(msg["Subject"] or ""), message_id=message_id_of(msg), raw=msg.as_bytes())
    session.add(item)
    session.flush()
    record("outbox.queued", session=session, ticket_id=ticket_id, outbox_id=item.id, mail_kind=kind)
    return item


def queue_webhook(url: str, payload: dict[str, object], *, session: Session, ticket_id: int | None,
                  kind: str) -> OutboxItem:
    """Store a JSON POST for delivery with the same retries as mail (the delivery id lets receivers deduplicate)."""
    delivery = f"webhook-{uuid.uuid4().hex}"
    body = json.dumps({**payload, "delivery_id": delivery}, sort_keys=True).encode()
    item = OutboxItem(kind=WEBHOOK, ticket_id=ticket_id, sender="", recipient=url, subject=kind,
                      message_id=delivery, raw=body)
    session.add(item)
    session.flush()
    record("outbox.queued", session=session, ticket_id=ticket_id, outbox_id=item.id, mail_kind=WEBHOOK)
    return item


def post_json(url: str, body: bytes, *, delivery_id: str, timeout: float) -> None:
    """POST one webhook; RelayError says whether retrying can help (5xx, 408, 429, network) or not."""
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": "triage-webhook", "X-Triage-Delivery": delivery_id})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        exc.close()
        raise RelayError(f"webhook answered {exc.code} {exc.reason}",
                         permanent=400 <= exc.code < 500 and exc.code not in (408, 425, 429)) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise RelayError(f"webhook unreachable: {exc}", permanent=False) from exc


def sent_count(*, session: Session, kind: str, since: datetime, recipient: str | None = None,
               ticket_id: int | None = None) -> int:
    """How many messages of a kind went (or are going) to a recipient or ticket since a time."""
    query = select(func.count()).select_from(OutboxItem).where(OutboxItem.kind == kind,
                                                                 OutboxItem.created_at >= since)
    if recipient is not None:
        query = query.where(OutboxItem.recipient == recipient.lower())
    if ticket_id is not None:
        query = query.where(OutboxItem.ticket_id == ticket_id)
    return int(session.scalar(query) or 0)


def backoff(attempts: int, *, base: float = 30.0, cap: float = 3600.0) -> timedelta:
    """Exponential backoff with jitter: 30 s, 1 min, 2 min, ... up to an hour."""
    delay = min(cap, base * 2 ** max(0, attempts - 1))
    return timedelta(seconds=delay * random.uniform(0.8, 1.2))


@dataclass
class DeliveryResult:
    sent: int = 0
    deferred: int = 0
    failed: int = 0


class RelayError(Exception):
    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


def relay_send(raw: bytes, *, sender: str, recipient: str, relay: SmtpRelayConfig) -> None:
    """Hand one message to the relay; RelayError says whether retrying can help (4xx) or not (5xx)."""
    try:
        if relay.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(relay.host, relay.port, timeout=relay.timeout,
                                                    context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(relay.host, relay.port, timeout=relay.timeout)
        with client:
            if relay.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            password = read_secret(relay.password, relay.password_file, what="smtp_relay")
            if relay.user and password is not None:
                client.login(relay.user, password)
            sender, recipient = ascii_domain(sender), ascii_domain(recipient)
            options: list[str] = []
            if needs_smtputf8(sender, recipient):  # RFC 6531: a UTF-8 local part travels only with SMTPUTF8
                client.ehlo_or_helo_if_needed()
                if not client.has_extn("smtputf8"):
                    raise RelayError("the relay does not offer SMTPUTF8, needed for this address", permanent=True)
                options = ["SMTPUTF8", "BODY=8BITMIME"]
            refused = client.sendmail(sender, [recipient], raw, mail_options=options)
            if refused:
                code, text = next(iter(refused.values()))
                raise RelayError(f"recipient refused: {code} {text!r}", permanent=500 <= code < 600)
    except RelayError:
        raise
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()))
        raise RelayError(f"recipient refused: {code} {text!r}", permanent=500 <= code < 600) from exc
    except smtplib.SMTPResponseException as exc:
        raise RelayError(f"relay answered {exc.smtp_code} {exc.smtp_error!r}",
                         permanent=500 <= exc.smtp_code < 600) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise RelayError(f"relay unreachable: {exc}", permanent=False) from exc


LEASE = timedelta(minutes=5)


@dataclass
class _Claim:
    id: int
    raw: bytes
    sender: str
    recipient: str
    attempts: int
    kind: str
    message_id: str


def _claim(db: Database, moment: datetime) -> _Claim | None:
    """Take the next due message by pushing its time out by a lease; a crashed sender's lease expires."""
    with db.transaction() as session:
        query = (select(OutboxItem).where(OutboxItem.status == QUEUED, OutboxItem.next_attempt_at <= moment)
                 .order_by(OutboxItem.next_attempt_at, OutboxItem.id).limit(1))
        if on_postgres(session):
            query = query.with_for_update(skip_locked=True)
        item = session.scalar(query)
        if item is None:
            return None
        item.attempts += 1
        item.next_attempt_at = moment + LEASE
        return _Claim(item.id, item.raw, item.sender, item.recipient, item.attempts, item.kind, item.message_id)


def deliver_due(db: Database, relay: SmtpRelayConfig, *, limit: int = 100,
                now: datetime | None = None, webhook_timeout: float = 10.0) -> DeliveryResult:
    """Send queued messages whose time has come; several processes may run this at once.

    No database lock is held while talking to the relay (SQLite has one writer: intake must not wait
    on a slow relay).
    """
    result = DeliveryResult()
    for _ in range(limit):
        moment = now or utcnow()
        claim = _claim(db, moment)
        if claim is None:
            break
        error: RelayError | None = None
        try:
            if claim.kind == WEBHOOK:
                post_json(claim.recipient, claim.raw, delivery_id=claim.message_id, timeout=webhook_timeout)
            else:
                relay_send(claim.raw, sender=claim.sender, recipient=claim.recipient, relay=relay)
        except RelayError as exc:
            error = exc
        with db.transaction() as session:
            item = session.get(OutboxItem, claim.id)
            assert item is not None
            if error is None:
                item.status, item.sent_at, item.last_error = SENT, utcnow(), None
                result.sent += 1
                record("outbox.sent", session=session, ticket_id=item.ticket_id, outbox_id=item.id)
                continue
            item.last_error = str(error)[:2000]
            log.warning("outbox #%s not delivered (attempt %s): %s", item.id, item.attempts, error)
            if error.permanent or item.attempts >= relay.max_attempts:
                item.status = FAILED
                result.failed += 1
                record("outbox.failed", session=session, ticket_id=item.ticket_id, outbox_id=item.id,
                       error=item.last_error)
            else:
                item.next_attempt_at = moment + backoff(item.attempts)
                result.deferred += 1
    return result


def retry_failed(*, session: Session) -> int:
    """Queue failed messages again, from now, with a fresh attempt count."""
    res = session.execute(update(OutboxItem).where(OutboxItem.status == FAILED)
                          .values(status=QUEUED, attempts=0, next_attempt_at=utcnow()))
    return int(res.rowcount or 0)  # type: ignore[attr-defined]


def list_outbox(*, session: Session, status: str | None = None, limit: int = 50) -> list[OutboxItem]:
    query = select(OutboxItem).order_by(OutboxItem.id.desc()).limit(limit)
    if status:
        query = query.where(OutboxItem.status == status)
    return list(session.scalars(query))


__all__ = ["FAILED", "QUEUED", "SENT", "WEBHOOK", "DeliveryResult", "deliver_due", "queue_mail", "queue_webhook",
           "retry_failed", "sent_count"]
