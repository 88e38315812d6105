"""The one composer of outgoing mail: acknowledgements, agents' replies and SLA notifications.

Every message we send goes through `queue_outgoing`: it picks the From mailbox by one rule, writes the
threading headers, marks automatic mail so that nobody answers it automatically (RFC 3834) and our own
loop header, and stores the message in the outbox, which delivers it once the caller's transaction commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from email.utils import getaddresses
from typing import Literal

from sqlalchemy.orm import Session

from mail.outgoing import compose
from triage.config import TriageConfig
from triage.outbox.service import queue_mail
from triage.outbox.tables import OutboxItem

# The outbox kinds of mail: the acknowledgement of a customer's message, an agent's answer, an SLA notice.
MailKind = Literal["auto_reply", "agent_reply", "notification"]
AUTOMATIC: tuple[MailKind, ...] = ("auto_reply", "notification")


def sender_address(config: TriageConfig, *, kind: MailKind, team: str | None = None,
                   written_to: Iterable[str] = ()) -> str | None:
    """The mailbox a message goes out from; None when we have none.

    An agent's reply comes from the mailbox the customer wrote to (the first of ours among the To and Cc of
    their last message: the conversation stays with the address they know, issue 14), else the mailbox of the
    ticket's team, else the configured `[auto_reply] from_address`, else the first of ours. Automatic mail
    comes from the configured address first, then the one the customer wrote to, then the first of ours.
    """
    ours = config.our_addresses()
    written = [a for a in written_to if a in ours]
    if kind == "agent_reply":
        box = next((b.address for b in config.mailboxes if b.team and b.team == team), None) if team else None
        order = [*written[:1], box, config.auto_reply.from_address]
    else:
        order = [config.auto_reply.from_address, *written[:1]]
    return next((a for a in order if a), sorted(ours)[0] if ours else None)


def written_to(raw: bytes | None) -> list[str]:
    """The To and Cc addresses of a stored message, lower-cased, in order."""
    if not raw:
        return []
    headers = BytesHeaderParser(policy=default_policy).parsebytes(raw)
    fields = [str(v) for k, v in headers.raw_items() if k.lower() in ("to", "cc")]
    return [a.lower() for _, a in getaddresses(fields)]


def queue_outgoing(kind: MailKind, *, config: TriageConfig, session: Session, ticket_id: int | None, sender: str,
                   sender_name: str, to: str, subject: str, body: str, to_name: str | None = None,
                   in_reply_to: str | None = None, references: Sequence[str] = (),
                   date: datetime | None = None) -> OutboxItem:
    """Compose one message (threaded under `in_reply_to` and `references`) and queue it in the outbox (flushed)."""
    msg = compose(sender=sender, sender_name=sender_name, to=to, to_name=to_name, subject=subject, body=body,
                  instance_id=config.mail.instance_id, in_reply_to=in_reply_to, references=references,
                  auto_reply=kind == "auto_reply", date=date)
    if kind == "notification":
        msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: nobody should answer this automatically
    return queue_mail(msg, session=session, kind=kind, ticket_id=ticket_id, recipient=to, sender=sender)
