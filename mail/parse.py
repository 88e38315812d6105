"""Parsing raw RFC 5322 messages into what the pipeline needs, never raising on any input.

Small pure functions: read headers, choose and decode the body, convert HTML, strip quoted history
and signatures. Whatever had to be guessed (a charset, a broken header) is noted in `notes`.
"""

from __future__ import annotations

import email
import email.parser
import email.policy
import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage, Message
from email.utils import getaddresses, parsedate_to_datetime

from mail.automatic import INTERESTING_HEADERS, detect_automatic

_MSGID = re.compile(r"<([^<>\s]+)>")
FALLBACK_CHARSETS = ("utf-8", "cp1252", "latin-1")
MAX_MSGID = 500
MAX_REFERENCES = 50


@dataclass
class Attachment:
    filename: str
    content_type: str
    size: int
    sha256: str
    inline: bool
    data: bytes = field(default=b"", repr=False)  # decoded content, for storage up to a configured limit

    def as_dict(self) -> dict[str, object]:
        return {"filename": self.filename, "content_type": self.content_type, "size": self.size,
                "sha256": self.sha256, "inline": self.inline}


@dataclass
class ParsedEmail:
    message_id: str | None
    in_reply_to: str | None
    references: list[str]
    subject: str
    from_name: str
    from_address: str
    to: list[str]
    cc: list[str]
    date: datetime | None
    full_text: str
    text: str
    attachments: list[Attachment] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    auto_submitted: bool = False
    # Lower-case name -> first value, for the headers loop rules and automatic-mail detection read.
    headers: dict[str, str] = field(default_factory=dict)
    auto_kind: str | None = None  # bounce | complaint | auto_reply | automated | bulk, when no person wrote it


def _safe_header(msg: Message, name: str, notes: list[str]) -> str:
    """A header as text; RFC 2047 decoded, 8-bit bytes recovered, never an exception."""
    # Work from the raw value: msg.get() and msg.get_all() both run the policy's parser, which raises
    # on some malformed values (e.g. "Message-ID: <>") and turns non-UTF-8 8-bit bytes into U+FFFD.
    raw = next((str(v) for k, v in msg.raw_items() if k.lower() == name.lower()), None)
    if raw is None:
        return ""
    if any("\udc80" <= ch <= "\udcff" for ch in raw):
        # 8-bit bytes in a header: the parser kept them as surrogates; try UTF-8, then Latin-1.
        data = raw.encode("utf-8", "surrogateescape")
        raw = _decode_bytes(data, None, notes, where=f"header {name}")
    try:
        text = str(msg.policy.header_fetch_parse(name, raw))
    except Exception as exc:  # malformed headers make the policy's parser raise
        notes.append(f"header {name} unreadable ({type(exc).__name__})")
        text = raw
    return " ".join(text.split())


def _decode_bytes(data: bytes, declared: str | None, notes: list[str], *, where: str) -> str:
    """Decode with the declared charset, then a fallback chain; record any fallback."""
    tried: list[str] = []
    if declared:
        try:
            return data.decode(declared)
        except (LookupError, ValueError) as exc:  # also UnicodeError ("undefined") and a NUL in the name
            tried.append(declared)
            kind = ("unknown charset" if isinstance(exc, LookupError) else
                    "bytes invalid for charset" if isinstance(exc, UnicodeDecodeError) else "unusable charset")
            notes.append(f"{where}: {kind} {declared!r}")
    for charset in FALLBACK_CHARSETS:
        if charset in tried:
            continue
        try:
            text = data.decode(charset)
        except UnicodeDecodeError:
            continue
        if declared or charset != "utf-8":
            notes.append(f"{where}: decoded as {charset}")
        return text
    return data.decode("utf-8", "replace")  # unreachable: latin-1 decodes every byte


def msgids(value: str) -> list[str]:
    """Message-IDs found in a header value, without angle brackets."""
    found = _MSGID.findall(value or "")
    bare = (value or "").strip().strip("<>").strip()
    if not found and bare and not any(ch.isspace() or ch in "<>" for ch in bare):
        found = [bare]  # some mailers drop the brackets; "<>" is no id ("mid:" would merge unrelated mail)
    # Longer ids than any real mailer makes are cut so they fit the columns (and still compare equal).
    return [m[:MAX_MSGID] for m in found if "\x00" not in m]


def html_to_text(html: str) -> str:
    """Readable text from HTML that keeps lists, links and line breaks."""
    from inscriptis import get_text
    from inscriptis.model.config import ParserConfig

    text = get_text(html, ParserConfig(display_links=True))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in text.splitlines())).strip()


def _part_text(part: Message, notes: list[str]) -> str:
    payload = part.get_payload(decode=True)
    if payload is None:
        payload = b""
    if not isinstance(payload, bytes):
        payload = str(payload).encode("utf-8", "surrogateescape")
    return _decode_bytes(payload, part.get_content_charset(), notes, where=f"{part.get_content_type()} body")


def _is_attachment(part: Message) -> bool:
    disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
    return disposition == "attachment" or (bool(part.get_filename()) and disposition != "inline")


def choose_body(msg: Message, notes: list[str]) -> tuple[str, list[Attachment]]:
    """Text of the message: text/plain when present, else HTML converted; plus attachment metadata."""
    plain: list[str] = []
    html: list[str] = []
    attachments: list[Attachment] = []
    for part in msg.walk() if msg.is_multipart() else [msg]:
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        if _is_attachment(part) or (part.get_content_maintype() not in ("text",) and part is not msg):
            data = part.get_payload(decode=True) or b""
            if not isinstance(data, bytes):
                data = b""
            disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
            attachments.append(Attachment(
                filename=part.get_filename() or "", content_type=ctype, size=len(data),
                sha256=hashlib.sha256(data).hexdigest(), inline=disposition == "inline" or bool(part.get("Content-ID")),
                data=data,
            ))
            continue
        if ctype == "text/plain":
            plain.append(_part_text(part, notes))
        elif ctype == "text/html":
            html.append(_part_text(part, notes))
    if plain:
        return "\n\n".join(p.strip() for p in plain if p.strip()), attachments
    if html:
        return "\n\n".join(html_to_text(h) for h in html), attachments
    if not msg.is_multipart() and msg.get_content_maintype() == "multipart":
        # Boundary missing or never found (RFC 2046 5.1.1): the parser left the body as one string.
        # Keep it as text rather than lose what the customer wrote.
        notes.append("multipart body not split into parts; kept as text")
        return _part_text(msg, notes).strip(), attachments
    return "", attachments


# Baseline quote/signature markers; the mail issue extends these and measures them on fixtures.
_QUOTE_HEADERS = [
    re.compile(r"^\s*On .{0,200}wrote:\s*$", re.IGNORECASE),
    re.compile(r"^\s*Am .{0,200}schrieb .{0,200}:\s*$", re.IGNORECASE),
    re.compile(r"^\s*Le .{0,200}a écrit\s*:\s*$", re.IGNORECASE),
    re.compile(r"^\s*-{2,}\s*Original Message\s*-{2,}\s*$", re.IGNORECASE),
    re.compile(r"^\s*-{2,}\s*Ursprüngliche Nachricht\s*-{2,}\s*$", re.IGNORECASE),
    re.compile(r"^\s*From:\s.+$", re.IGNORECASE),  # Outlook header block, checked with Sent: below
]
_SIGNATURE_LINES = [
    re.compile(r"^-- ?$"),
    re.compile(r"^\s*Sent from my \w+", re.IGNORECASE),
    re.compile(r"^\s*Get Outlook for \w+", re.IGNORECASE),
    re.compile(r"^\s*Von meinem \w+ gesendet", re.IGNORECASE),
]


def strip_quotes(text: str) -> str:
    """Drop quoted history: '>' lines and everything from an 'On ... wrote:'-style header on."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        for pattern in _QUOTE_HEADERS[:-1]:
            if pattern.match(line):
                return "\n".join(lines[:i]).rstrip()
        if _QUOTE_HEADERS[-1].match(line) and any(
            re.match(r"^\s*(Sent|Date|Gesendet):\s", nxt, re.IGNORECASE) for nxt in lines[i + 1 : i + 4]
        ):
            return "\n".join(lines[:i]).rstrip()
    kept = [line for line in lines if not line.lstrip().startswith(">")]
    return "\n".join(kept).rstrip()


def strip_signature(text: str) -> str:
    """Drop a signature block introduced by '-- ' or a 'Sent from my ...' line."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if any(p.match(line) for p in _SIGNATURE_LINES):
            return "\n".join(lines[:i]).rstrip()
    return text.rstrip()


def clean_text(text: str) -> str:
    """The part of a body that the customer wrote this time."""
    cleaned = strip_signature(strip_quotes(text)).strip()
    return cleaned or text.strip()


def _date(msg: Message, notes: list[str]) -> datetime | None:
    value = _safe_header(msg, "Date", notes)
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        notes.append("Date header unparseable")
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _addresses(msg: Message, name: str, notes: list[str]) -> list[tuple[str, str]]:
    value = _safe_header(msg, name, notes)
    return [(n, a.strip().lower()) for n, a in getaddresses([value]) if a and "@" in a]


def load_message(raw: bytes) -> EmailMessage:
    try:
        return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]
    except RecursionError:
        # MIME nested deeper than the parser's recursion allows: headers only, body left as one string.
        parser = email.parser.BytesParser(policy=email.policy.default)
        return parser.parsebytes(raw, headersonly=True)  # type: ignore[return-value]


def parse_email(raw: bytes) -> ParsedEmail:
    """Parse raw bytes into a ParsedEmail; never raises, notes what had to be guessed."""
    notes: list[str] = []
    msg = load_message(raw)
    for defect in getattr(msg, "defects", [])[:5]:
        notes.append(f"MIME defect: {type(defect).__name__}")
    senders = _addresses(msg, "From", notes)
    from_name, from_address = senders[0] if senders else ("", "")
    try:
        full, attachments = choose_body(msg, notes)
    except Exception as exc:  # a part so broken the library raises: keep what we can
        notes.append(f"body unreadable ({type(exc).__name__}); kept raw text")
        full, attachments = _decode_bytes(raw, None, notes, where="raw message"), []
    mid = msgids(_safe_header(msg, "Message-ID", notes))
    irt = msgids(_safe_header(msg, "In-Reply-To", notes))
    auto = (_safe_header(msg, "Auto-Submitted", notes).lower() not in ("", "no")) or bool(
        _safe_header(msg, "X-Autoreply", notes) or _safe_header(msg, "X-Autorespond", notes)
    )
    headers = {name: _safe_header(msg, name, notes) for name in INTERESTING_HEADERS if name in msg}
    subject = _safe_header(msg, "Subject", notes)
    try:
        auto_kind = detect_automatic(msg, headers, from_address, subject)
    except Exception as exc:  # detection is best effort; parsing must never raise
        notes.append(f"automatic-mail detection failed ({type(exc).__name__})")
        auto_kind = None
    if "\x00" in full or "\x00" in subject:
        notes.append("NUL characters removed")  # PostgreSQL text cannot hold them
        full, subject, from_name = (v.replace("\x00", "") for v in (full, subject, from_name))
    return ParsedEmail(
        message_id=mid[0] if mid else None,
        in_reply_to=irt[0] if irt else None,
        references=msgids(_safe_header(msg, "References", notes))[-MAX_REFERENCES:],
        subject=subject,
        from_name=from_name,
        from_address=from_address,
        to=[a for _, a in _addresses(msg, "To", notes)],
        cc=[a for _, a in _addresses(msg, "Cc", notes)],
        date=_date(msg, notes),
        full_text=full,
        text=clean_text(full),
        attachments=attachments,
        notes=notes,
        auto_submitted=auto,
        headers=headers,
        auto_kind=auto_kind,
    )


def email_dedup_key(raw: bytes) -> str:
    """'mid:<Message-ID>' when present, else a hash of sender, date, subject and body.

    Headers added in transit (Received, Delivered-To) differ between copies of one message, so
    hashing the whole file would let the same message in twice.
    """
    msg = load_message(raw)
    notes: list[str] = []
    mid = msgids(_safe_header(msg, "Message-ID", notes))
    if mid:
        return f"mid:{mid[0]}"[:600]
    head, sep, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
    digest = hashlib.sha256()
    for name in ("From", "Date", "Subject", "To"):
        digest.update(_safe_header(msg, name, notes).encode("utf-8", "replace") + b"\0")
    digest.update(body if sep else head)
    return f"sha256:{digest.hexdigest()}"
