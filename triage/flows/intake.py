"""The one door for intake: every channel stores its raw email or chat record through here.

Files (`triage ingest`), IMAP, our SMTP server and the API call `accept_email` / `accept_chat`, so a
message gets the same checks, the same deduplication key and therefore the same inbox row (one row, one
crash-loop counter) whichever way it arrives. Nothing is parsed beyond the header block: the worker does
the rest ("accept fast, process after", STYLE.md). Refusals are typed errors (`triage.errors`) that each
door translates once: problem+json, an SMTP reply, a `file: reason` line.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from sqlalchemy.orm import Session

from mail.parse import email_dedup_key, read_headers, sender_address, starts_with_header
from triage.db import Database
from triage.errors import InvalidInput, TooLarge
from triage.inbox.service import enqueue
from triage.ingest.chat import ChatRecord

log = logging.getLogger(__name__)

FILE, IMAP, SMTP, API = "file", "imap", "smtp", "api"
# Where the sender is still connected and hears a refusal: mail nobody could be answered for is refused
# there. Mail read from archives and mailboxes is kept instead, for a person to look at (orphans, issue 14).
ANSWERABLE_SOURCES = frozenset({SMTP, API})


@dataclass(frozen=True)
class Envelope:
    """How a message reached us, stored with its inbox row; the worker reads `mail_from` when From is missing."""

    mail_from: str | None = None  # SMTP MAIL FROM; "" or "<>" is the null reverse-path; None: no SMTP envelope
    rcpt_tos: Sequence[str] = ()
    peer: str = ""
    helo: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)  # TLS and AUTH, the API user, the IMAP folder and UID

    def as_json(self) -> dict[str, Any]:
        """The form stored in the inbox row's `envelope` column."""
        # NUL is legal nowhere in an address or a host name, and PostgreSQL's JSONB refuses it: a sender
        # who sent one would get 451 forever (issue 14).
        data: dict[str, Any] = {}
        if self.mail_from is not None:  # an SMTP envelope
            sender = _no_nul(self.mail_from)
            data = {"mail_from": "" if sender == "<>" else sender,  # RFC 5321 §4.5.5: the null sender is ""
                    "rcpt_tos": [_no_nul(rcpt) for rcpt in self.rcpt_tos], "peer": _no_nul(self.peer),
                    "helo": _no_nul(self.helo)}
        elif self.peer:
            data["peer"] = _no_nul(self.peer)
        return data | dict(self.extra)

    @property
    def has_sender(self) -> bool:
        """Whether MAIL FROM was given at all: the null sender `<>` counts (a notification, RFC 5321 §4.5.5)."""
        return self.mail_from is not None


@dataclass(frozen=True)
class Accepted:
    """What the door did with a message: the inbox row holding it and whether this call stored it."""

    inbox_id: int
    created: bool
    status: str  # the row's status: pending for a new row; a duplicate's may be done, failed, ...
    dedup_key: str

    @property
    def duplicate(self) -> bool:
        return not self.created


def email_key(raw: bytes, headers: Message | None = None) -> str:
    """The deduplication key of an email, one rule on every path.

    'mid:<Message-ID>' when the message has a usable one, else a hash of sender, date, subject and body
    (`email_dedup_key`: the keys already stored stay valid, and copies that differ only in headers added in
    transit stay one message); the SHA-256 of the raw bytes only if the headers defeat the parser.
    """
    try:
        return email_dedup_key(raw, headers)
    except Exception:  # never refuse a message because its headers defeat the parser
        log.warning("intake: could not read the Message-ID; deduplicating by the raw bytes", exc_info=True)
        return "sha256:" + hashlib.sha256(raw).hexdigest()


def accept_email(
    session_or_db: Session | Database, raw: bytes, *, source: str, ref: str | None = None,
    envelope: Envelope | None = None, max_bytes: int | None = None, trace_header: bytes = b"",
) -> Accepted:
    """Check one raw RFC 5322 message and store it in the inbox once; refusals raise InvalidInput or TooLarge.

    Given a Database, the row is committed before this returns (answer the sender after that); given a
    Session, it is flushed and the caller commits. `trace_header` is the RFC 5321 §4.4 `Received:` line
    an MTA prepends: it is stored with the message but never changes its key.
    """
    headers = _check_email(raw, source=source, envelope=envelope, max_bytes=max_bytes)
    key = email_key(raw, headers)
    payload = trace_header + raw if trace_header and _stamp_keeps_key(raw) else raw
    return _store(session_or_db, kind="email", source=source, payload=payload, key=key, ref=ref, envelope=envelope)


def accept_chat(
    session_or_db: Session | Database, record: ChatRecord, *, source: str, ref: str | None = None,
    envelope: Envelope | None = None,
) -> Accepted:
    """Store one chat message (a webhook call or a transcript line) in the inbox once; the twin of accept_email.

    The record is already valid (`ChatRecord` checks every field); the same conversation, time, role and
    text is the same message however often and however it is offered.
    """
    payload = record.model_dump_json().encode("utf-8")
    return _store(session_or_db, kind="chat", source=source, payload=payload, key=record.dedup_key(), ref=ref,
                  envelope=envelope)


def _check_email(raw: bytes, *, source: str, envelope: Envelope | None, max_bytes: int | None) -> Message | None:
    """The header block of a message worth storing, or a typed error saying what to fix."""
    if max_bytes is not None and len(raw) > max_bytes:
        raise TooLarge(f"the message is {len(raw)} bytes, above the {max_bytes}-byte limit")
    if not raw.strip():
        raise InvalidInput("the message is empty: send the raw RFC 5322 message")
    if not starts_with_header(raw.lstrip(b"\r\n")):
        raise InvalidInput("the message does not start with a header field (e.g. 'From: ...'): "
                           "send the raw RFC 5322 message")
    try:
        headers: Message | None = read_headers(raw)
    except Exception:  # the key falls back to the raw bytes; the worker notes what it could not read
        log.warning("intake: the header block of a message from %s could not be parsed", source, exc_info=True)
        headers = None
    if source in ANSWERABLE_SOURCES and not (envelope is not None and envelope.has_sender) and not (
            headers is not None and sender_address(headers)):
        raise InvalidInput("the message has no From header with an address, so there is nobody to answer")
    return headers


def _stamp_keeps_key(raw: bytes) -> bool:
    """A prepended header keeps the key when raw starts with a header field and has a body.

    Headers and body are then parsed the same after the stamp. Without a header/body separator the
    content hash covers the header block, so the stamp would change the key: such mail is stored as is.
    """
    return starts_with_header(raw) and (b"\n\n" in raw or b"\n\r\n" in raw)


def _store(target: Session | Database, *, kind: str, source: str, payload: bytes, key: str, ref: str | None,
           envelope: Envelope | None) -> Accepted:
    if isinstance(target, Database):
        with target.transaction() as session:
            return _store(session, kind=kind, source=source, payload=payload, key=key, ref=ref, envelope=envelope)
    item, created = enqueue(session=target, kind=kind, source=source, payload=payload, dedup_key=key,
                            source_ref=ref or "", envelope=envelope.as_json() if envelope is not None else None)
    return Accepted(inbox_id=item.id, created=created, status=item.status, dedup_key=item.dedup_key)


def _no_nul(value: str) -> str:
    return value.replace("\x00", "")
