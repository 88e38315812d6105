"""Composing the mail we send, with the headers that keep threads together and loops away."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid

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
    """A text/plain message with Message-ID, threading headers and, for auto-replies, RFC 3834 markers."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = formataddr((sender_name, sender)) if sender_name else sender
    msg["To"] = formataddr((to_name, to)) if to_name else to
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


def message_id_of(msg: EmailMessage) -> str:
    return str(msg["Message-ID"]).strip().strip("<>")
