"""Parsing raw RFC 5322 messages into what the pipeline needs, never raising on any input.

Small pure functions: read headers, choose and decode the body (forwarded message/rfc822 parts under a
separator), convert HTML, strip quoted history and signatures (mail.quotes; for HTML-only mail the quote
containers are removed before conversion). Whatever had to be guessed (a charset, a broken header, a
boundary) is noted in `notes`.
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
from typing import cast

from mail.automatic import INTERESTING_HEADERS, detect_automatic
from mail.quotes import (
    FORWARD_SEPARATOR,
    clean_text,
    is_forward_subject,
    strip_html_quotes,
    strip_quotes,
    strip_signature,
)

__all__ = [
    "Attachment", "ParsedEmail", "choose_body", "clean_text", "email_dedup_key", "html_to_text", "msgids",
    "parse_email", "read_headers", "sender_address", "starts_with_header", "strip_quotes", "strip_signature",
]

_MSGID = re.compile(r"<([^<>\s]+)>")
_HEADER_FIELD = re.compile(rb"[!-9;-~]+:")  # RFC 5322 §2.2: a field name of printable characters, then a colon
FALLBACK_CHARSETS = ("utf-8", "cp1252", "latin-1")
MAX_MSGID = 500
MAX_REFERENCES = 50
# The email package parses a header value in time quadratic in its length: a 1 MB Subject kept the worker
# busy for minutes, and the SMTP limit (25 MB) allows hours (issue 14). No real header comes near this.
MAX_HEADER_CHARS = 16_000
# Content-Type and Content-Disposition are parsed parameter by parameter, again each time a part's type is
# asked (a dozen times a message): a lower cap. An RFC 2231 filename of 300 characters still fits.
MAX_MIME_HEADER_CHARS = 4_000


class _BoundedPolicy(email.policy.EmailPolicy):
    """`email.policy.default`, except that a header value over its cap (`_cut_header`) is cut before parsing."""

    def header_fetch_parse(self, name: str, value: str) -> str:
        return super().header_fetch_parse(name, _cut_header(name, value))


def _cut_header(name: str, value: str) -> str:
    limit = MAX_MIME_HEADER_CHARS if name.lower() in ("content-type", "content-disposition") else MAX_HEADER_CHARS
    if len(value) <= limit:
        return value
    # References keeps its end: the newest ids, the parent last (RFC 5322 §3.6.4).
    return value[-limit:] if name.lower() == "references" else value[:limit]


POLICY = cast("email.policy.EmailPolicy[EmailMessage]", _BoundedPolicy())  # typeshed's EmailPolicy is generic


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
    cut = _cut_header(name, raw)
    if len(cut) < len(raw):
        notes.append(f"header {name} longer than {len(cut)} characters; cut")
        raw = cut
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


def _attachment(part: Message) -> Attachment:
    data = part.get_payload(decode=True) or b""
    if not isinstance(data, bytes):
        data = b""
    disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
    return Attachment(
        filename=part.get_filename() or "", content_type=part.get_content_type(), size=len(data),
        sha256=hashlib.sha256(data).hexdigest(), inline=disposition == "inline" or bool(part.get("Content-ID")),
        data=data,
    )


@dataclass
class _Text:
    """One rendered part: everything (`full`), the source for `text` (`reply`), and what kind it came from."""

    full: str = ""
    reply: str = ""
    kind: str = ""  # plain | html | "" (nothing readable)


_DELIMITER = re.compile(rb"^--([0-9A-Za-z'()+_,./:=?-]{1,70})[ \t]*\r?$", re.MULTILINE)  # RFC 2046 5.1.1 bchars
MAX_MIME_DEPTH = 60  # deeper parts are read flat, without recursion (the parser accepts about 900 levels)
FORWARDED_HEADERS = ("From", "Date", "Subject", "To", "Cc")
_REPORT_PARTS = ("message/delivery-status", "message/disposition-notification", "message/feedback-report",
                 "text/rfc822-headers", "message/rfc822-headers")


def _join(texts: list[_Text]) -> _Text:
    kinds = [t.kind for t in texts if t.kind]
    return _Text(
        full="\n\n".join(t.full.strip() for t in texts if t.full.strip()),
        reply="\n\n".join(t.reply.strip() for t in texts if t.reply.strip()),
        kind="plain" if "plain" in kinds else (kinds[0] if kinds else ""),
    )


def _forwarded(part: Message, notes: list[str], attachments: list[Attachment], depth: int,
               in_report: bool) -> _Text:
    """A message/rfc822 part: the enclosed message under a 'Forwarded message' separator (RFC 2046 5.2.1)."""
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload and isinstance(payload[0], Message) else None
    if inner is None:
        data = part.get_payload(decode=True)
        inner = load_message(data if isinstance(data, bytes) else str(payload or "").encode("utf-8", "replace"))
    inner_notes: list[str] = []
    head = [f"{name}: {value}" for name in FORWARDED_HEADERS if (value := _safe_header(inner, name, inner_notes))]
    body = _render(inner, inner_notes, attachments, depth + 1, in_report=in_report)
    notes.extend(f"forwarded message: {note}" for note in inner_notes)
    full = "\n".join([FORWARD_SEPARATOR, *head]) + "\n\n" + body.full.strip()
    # A bounce's or complaint's enclosed message is the one we sent, not the customer's words.
    return _Text(full=full.strip(), reply="" if in_report else full.strip(), kind=body.kind or "plain")


def _flat(part: Message, notes: list[str], attachments: list[Attachment]) -> _Text:
    """Text parts of a subtree nested too deep to recurse into, read without recursion."""
    texts: list[_Text] = []
    stack = [part]
    while stack:
        node = stack.pop()
        if node.is_multipart():
            payload = node.get_payload()
            stack.extend(reversed([p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else []))
        elif _is_attachment(node) or node.get_content_type() not in ("text/plain", "text/html"):
            attachments.append(_attachment(node))
        else:
            text = _part_text(node, notes)
            if node.get_content_type() == "text/html":
                text = html_to_text(text)
            texts.append(_Text(text, text, "plain"))
    return _join(texts)


def _resplit(part: Message) -> Message | None:
    """The part re-read with the boundary its body actually uses, when the declared one never appears."""
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return None
    found = _DELIMITER.search(data)
    if found is None:
        return None
    boundary = found.group(1).decode("ascii")
    head = f'Content-Type: {part.get_content_type()}; boundary="{boundary}"\n\n'.encode()
    recovered = load_message(head + data)
    if not recovered.is_multipart() or not recovered.get_payload():
        return None
    return recovered


def _render(part: Message, notes: list[str], attachments: list[Attachment], depth: int = 0, *,
            in_report: bool = False, forwarded: bool = False) -> _Text:
    """Text of one MIME part and its children; attachments are appended as they are met."""
    ctype = part.get_content_type()
    if depth > MAX_MIME_DEPTH:
        if depth == MAX_MIME_DEPTH + 1:
            notes.append("MIME nested too deep; inner parts read flat")
        return _flat(part, notes, attachments)
    if ctype == "message/rfc822":
        return _forwarded(part, notes, attachments, depth, in_report)
    if part.is_multipart():
        payload = part.get_payload()
        children = [p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else []
        if ctype in _REPORT_PARTS:  # RFC 3464 status fields, kept for the record only
            fields = "\n\n".join("\n".join(f"{k}: {v}" for k, v in c.raw_items()) for c in children)
            # 8-bit bytes in these fields come back as surrogates, which no database column accepts.
            return _Text(full=fields.encode("utf-8", "surrogateescape").decode("utf-8", "replace").strip())
        report = in_report or ctype == "multipart/report"
        texts = [_render(c, notes, attachments, depth + 1, in_report=report, forwarded=forwarded) for c in children]
        if ctype == "multipart/alternative":
            # RFC 2046 5.1.4: the alternatives say the same thing; text/plain is what the sender typed.
            for kind in ("plain", "html", ""):
                for alternative in texts:
                    if alternative.kind == kind and alternative.full.strip():
                        return alternative
            return _Text()
        return _join(texts)
    if part.get_content_maintype() == "multipart":
        # Boundary missing or never found (RFC 2046 5.1.1): the parser left the body as one string.
        recovered = _resplit(part)
        if recovered is not None:
            notes.append("multipart boundary not found; parts split at the delimiter the body uses")
            return _render(recovered, notes, attachments, depth + 1, in_report=in_report, forwarded=forwarded)
        # Keep it as text rather than lose what the customer wrote.
        notes.append("multipart body not split into parts; kept as text")
        text = _part_text(part, notes).strip()
        return _Text(text, text, "plain")
    if ctype in _REPORT_PARTS:
        return _Text(full=_part_text(part, notes).strip())
    if _is_attachment(part) or ctype not in ("text/plain", "text/html"):
        attachments.append(_attachment(part))
        return _Text()
    text = _part_text(part, notes)
    if ctype == "text/plain":
        return _Text(text, text, "plain")
    full = html_to_text(text)
    stripped = strip_html_quotes(text, forwarded=forwarded)
    return _Text(full, full if stripped is text else html_to_text(stripped), "html")


def _collect_body(msg: Message, notes: list[str]) -> tuple[_Text, list[Attachment]]:
    attachments: list[Attachment] = []
    forwarded = is_forward_subject(_safe_header(msg, "Subject", []))
    body = _render(msg, notes, attachments, forwarded=forwarded)
    return _Text(body.full.strip(), body.reply.strip(), body.kind), attachments


def choose_body(msg: Message, notes: list[str]) -> tuple[str, list[Attachment]]:
    """Text of the message: text/plain when present, else HTML converted; plus attachment metadata."""
    body, attachments = _collect_body(msg, notes)
    return body.full, attachments


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
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # e.g. 31 Dec 9999 23:30 -0100: past the last instant Python can hold (issue 14)
        clamped = datetime.max if parsed.year > 1 else datetime.min
        notes.append(f"Date header out of range ({value[:60]}); clamped")
        return clamped.replace(tzinfo=UTC)


def _addresses(msg: Message, name: str, notes: list[str]) -> list[tuple[str, str]]:
    value = _safe_header(msg, name, notes)
    return [(n, a.strip().lower()) for n, a in getaddresses([value]) if a and "@" in a]


def _customer_text(full: str, reply: str, sender: str, subject: str, notes: list[str]) -> str:
    """`text`: the reply source (HTML already without quote containers) cleaned; the full text if that is empty."""
    forwarded = is_forward_subject(subject)
    try:
        # The sign-off line and name stay (drafts greet by the name the customer signs with); the contact
        # block under them goes. clean_text(..., signoff=True) removes the sign-off as well.
        text = clean_text(reply, sender=sender, forwarded=forwarded) if reply.strip() else ""
        return text or clean_text(full, sender=sender, forwarded=forwarded)
    except Exception as exc:  # cleaning is best effort; parsing must never raise
        notes.append(f"quote stripping failed ({type(exc).__name__}); text is the full body")
        return full.strip()


def load_message(raw: bytes) -> EmailMessage:
    try:
        return email.message_from_bytes(raw, policy=POLICY)
    except RecursionError:
        # MIME nested deeper than the parser's recursion allows: headers only, body left as one string.
        parser = email.parser.BytesParser(policy=POLICY)
        return parser.parsebytes(raw, headersonly=True)


def read_headers(raw: bytes) -> EmailMessage:
    """The header block alone, parsed (the body is not): read its fields with `sender_address` and the like."""
    parser = email.parser.BytesParser(policy=POLICY)
    return parser.parsebytes(raw, headersonly=True)


def starts_with_header(raw: bytes) -> bool:
    """Whether the bytes begin with a header field (`Name:`), as every RFC 5322 message does."""
    return bool(_HEADER_FIELD.match(raw))


def sender_address(msg: Message) -> str:
    """The first address of From, lower-cased; "" when From is missing or holds no address."""
    senders = _addresses(msg, "From", [])
    return senders[0][1] if senders else ""


def parse_email(raw: bytes) -> ParsedEmail:
    """Parse raw bytes into a ParsedEmail; never raises, notes what had to be guessed."""
    notes: list[str] = []
    msg = load_message(raw)
    for defect in getattr(msg, "defects", [])[:5]:
        notes.append(f"MIME defect: {type(defect).__name__}")
    senders = _addresses(msg, "From", notes)
    from_name, from_address = senders[0] if senders else ("", "")
    try:
        body, attachments = _collect_body(msg, notes)
        full, reply = body.full, body.reply
    except Exception as exc:  # a part so broken the library raises: keep what we can
        notes.append(f"body unreadable ({type(exc).__name__}); kept raw text")
        full, attachments = _decode_bytes(raw, None, notes, where="raw message"), []
        reply = full
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
    if "\x00" in full or "\x00" in reply or "\x00" in subject:
        notes.append("NUL characters removed")  # PostgreSQL text cannot hold them
        full, reply, subject, from_name = (v.replace("\x00", "") for v in (full, reply, subject, from_name))
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
        text=_customer_text(full, reply, from_name, subject, notes),
        attachments=attachments,
        notes=notes,
        auto_submitted=auto,
        headers=headers,
        auto_kind=auto_kind,
    )


def message_id_key(message_id: str) -> str:
    """The dedup key of a message known by its Message-ID: what an inbox row and a stored message carry."""
    return f"mid:{message_id}"[:600]


def email_dedup_key(raw: bytes, headers: Message | None = None) -> str:
    """'mid:<Message-ID>' when present, else a hash of sender, date, subject and body.

    Headers added in transit (Received, Delivered-To) differ between copies of one message, so
    hashing the whole file would let the same message in twice. `headers`: `read_headers(raw)`, when
    the caller has it already.
    """
    msg = headers if headers is not None else read_headers(raw)
    notes: list[str] = []
    mid = msgids(_safe_header(msg, "Message-ID", notes))
    if mid:
        return message_id_key(mid[0])
    head, sep, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
    digest = hashlib.sha256()
    for name in ("From", "Date", "Subject", "To"):
        digest.update(_safe_header(msg, name, notes).encode("utf-8", "replace") + b"\0")
    digest.update(body if sep else head)
    return f"sha256:{digest.hexdigest()}"
