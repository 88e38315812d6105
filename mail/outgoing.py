"""Composing the mail we send, with the headers that keep threads together and loops away."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8
from email.utils import format_datetime, make_msgid

# Our own loop header: mail carrying it with our instance id came from us and is never answered.
LOOP_HEADER = "X-Triage-Loop"


def compose(
    *,
    sender: str,
    sender_name: str | None = None,
    to: str,
    to_name: str | None = None,
    subject: str,
    body: str,
    instance_id: str,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    auto_reply: bool = False,
    date: datetime | None = None,
) -> EmailMessage:
    """A text/plain message with Message-ID, threading headers and, for auto-replies, RFC 3834 markers.

    Internationalised addresses (issue 14): a non-ASCII domain is written in IDNA (xn--); a non-ASCII
    local part needs SMTPUTF8 (RFC 6531), so the headers are then written in UTF-8 (see `needs_smtputf8`).
    """
    sender, to = ascii_domain(sender), ascii_domain(to)
    msg = EmailMessage(policy=SMTPUTF8 if needs_smtputf8(sender, to) else SMTP)
    msg["From"] = _address(sender_name, sender)
    msg["To"] = _address(to_name, to)
    msg["Subject"] = " ".join(subject.split())
    msg["Date"] = format_datetime(date) if date else format_datetime(datetime.now().astimezone())
    domain = sender.rsplit("@", 1)[-1] if "@" in sender else None
    msg["Message-ID"] = make_msgid(domain=domain)
    if in_reply_to:
        msg["In-Reply-To"] = f"<{in_reply_to}>"
    refs = [r for r in references if r] + ([in_reply_to] if in_reply_to and in_reply_to not in references else [])
    if refs:
        msg["References"] = " ".join(f"<{r}>" for r in refs[-20:])  # RFC 5322 allows trimming the middle
    if auto_reply:
        msg["Auto-Submitted"] = "auto-replied"  # RFC 3834
        msg["X-Auto-Response-Suppress"] = "All"  # asks Exchange not to answer our answer
        msg["Precedence"] = "auto_reply"
    msg[LOOP_HEADER] = instance_id
    msg.set_content(body)
    return msg


def ascii_domain(address: str) -> str:
    """The address with its domain in IDNA form (`jürgen@müller.example` -> `jürgen@xn--mller-kva.example`)."""
    local, at, domain = address.rpartition("@")
    if not at or domain.isascii():
        return address
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"  # RFC 3490 (the standard library's codec)
    except UnicodeError:
        return address  # the relay will refuse it and the outbox keeps the row with the reason


def needs_smtputf8(*addresses: str) -> bool:
    """True when an address cannot be written in ASCII even with an IDNA domain: its local part is not ASCII."""
    return any(not ascii_domain(a).isascii() for a in addresses)


def _address(name: str | None, address: str) -> Address | str:
    local, at, domain = address.rpartition("@")
    if not at:
        return address
    # Address objects encode a non-ASCII display name (RFC 2047) and, under a utf8 policy, write a UTF-8 local
    # part; formataddr raises on the latter.
    return Address(display_name=" ".join((name or "").split()), username=local, domain=domain)


def message_id_of(msg: EmailMessage) -> str:
    return str(msg["Message-ID"]).strip().strip("<>")
