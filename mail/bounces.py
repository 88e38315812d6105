"""Reading delivery-status notifications (RFC 3464): which message bounced, and for which recipients."""

from __future__ import annotations

import email.parser
import email.policy
from dataclasses import dataclass, field
from email.message import Message

from mail.parse import load_message, msgids


@dataclass
class DeliveryReport:
    """What a bounce says: the Message-IDs it reports on and the recipients that failed for good."""

    # The returned message's Message-ID first, then the ones it answered (they lead to the same ticket).
    original_message_ids: list[str] = field(default_factory=list)
    failed_recipients: list[str] = field(default_factory=list)
    status: str = ""  # e.g. "5.1.1"
    diagnostic: str = ""


def _address(value: str) -> str:
    """'rfc822; Nobody@Example.org' -> 'nobody@example.org' (RFC 3464 §2.3.2 address-type prefix)."""
    _, _, address = value.partition(";") if ";" in value else ("", "", value)
    address = address.strip().strip("<>").strip().lower()
    return address if "@" in address else ""


def _original_ids(part: Message) -> list[str]:
    """The returned message's Message-ID, then what it answered (In-Reply-To, References newest first).

    From its copy (message/rfc822) or its headers (text/rfc822-headers), RFC 3462.
    """
    kind = part.get_content_type()
    headers: Message | None = None
    if kind == "message/rfc822":
        inner = part.get_payload()
        inner = inner[0] if isinstance(inner, list) and inner else inner
        headers = inner if isinstance(inner, Message) else None
    elif kind == "text/rfc822-headers":
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            return []
        headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(data)
    if headers is None:
        return []
    ids = msgids(str(headers.get("Message-ID", "") or "")) + msgids(str(headers.get("In-Reply-To", "") or ""))
    return ids + list(reversed(msgids(str(headers.get("References", "") or ""))))


def read_delivery_report(raw: bytes) -> DeliveryReport:
    """The report inside a bounce; empty lists when it has none (never raises on malformed parts)."""
    report = DeliveryReport()
    try:
        msg = load_message(raw)
        parts = list(msg.walk())
    except Exception:  # a bounce too broken to walk still bounced: the caller falls back to its headers
        return report
    for part in parts:
        try:
            if part.get_content_type() == "message/delivery-status":
                blocks = part.get_payload()
                for block in blocks if isinstance(blocks, list) else []:
                    if not isinstance(block, Message):
                        continue
                    action = str(block.get("Action", "") or "").strip().lower()
                    recipient = _address(str(block.get("Final-Recipient", "") or block.get("Original-Recipient", "")
                                             or ""))
                    if recipient and action == "failed" and recipient not in report.failed_recipients:
                        report.failed_recipients.append(recipient)
                        report.status = report.status or str(block.get("Status", "") or "").strip()
                        report.diagnostic = report.diagnostic or " ".join(
                            str(block.get("Diagnostic-Code", "") or "").split())[:500]
            else:
                for mid in _original_ids(part):
                    if mid not in report.original_message_ids:
                        report.original_message_ids.append(mid)
        except Exception:  # one unreadable part must not hide the others
            continue
    try:
        failed = str(msg.get("X-Failed-Recipients", "") or "")
    except Exception:  # a malformed header value: the report's own fields still count
        failed = ""
    for value in failed.split(","):
        address = _address(value)
        if address and address not in report.failed_recipients:
            report.failed_recipients.append(address)
    return report
