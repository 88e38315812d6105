"""The inbound SMTP server: accept mail for our addresses, store the raw bytes, answer after the commit.

"Accept fast, process after" (STYLE.md): the handler checks recipients and size, stores the message in
the inbox in one committed transaction and only then answers 250; parsing and ML run in the worker.
Reply codes follow RFC 5321 with RFC 3463 enhanced status codes.

Security choices:
- Never an open relay: RCPT is accepted only for `TriageConfig.accepts(address)`.
- STARTTLS is offered when `tls_cert` and `tls_key` are set (`require_tls` refuses mail before it).
- AUTH (LOGIN, PLAIN) is only ever offered over TLS, so passwords never cross the network in clear.
  `auth_required` without TLS is refused at start-up, also on loopback: a local MTA relaying to us over
  127.0.0.1 needs no AUTH, and the config has no switch to ask for plaintext passwords explicitly.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import logging
import re
import socket
import ssl
import uuid
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, AnyStr

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from triage.config import SmtpServerConfig, TriageConfig, read_secret
from triage.db import Database
from triage.errors import TooLarge, TriageError, UserError
from triage.flows.intake import Envelope as IntakeEnvelope
from triage.flows.intake import accept_email

log = logging.getLogger(__name__)

# RFC 5321 §4.5.3.1.8: a server must accept at least 100 recipients per transaction.
MAX_RECIPIENTS = 100

TOO_BIG = TooLarge.smtp_reply
STORAGE_FAILURE = "451 4.3.0 Temporary storage failure, try again later"
LOCAL_ERROR = "451 4.3.0 Local error, try again later"

# aiosmtpd answers these itself, before our hooks run, without RFC 3463 enhanced codes.
_REPLIES = {
    "552 Error: message size exceeds fixed maximum message size": TOO_BIG,  # MAIL FROM ... SIZE=n
    "552 Error: Too much mail data": TOO_BIG,  # DATA cut at data_size_limit
    "530 Must issue a STARTTLS command first": "530 5.7.0 Must issue a STARTTLS command first",
}

_HELO_UNSAFE = re.compile(r"[^A-Za-z0-9.\-:\[\]_]")


class IntakeHandler:
    """aiosmtpd handler hooks: accept our recipients, store the raw message durably, then answer."""

    def __init__(self, db: Database, config: TriageConfig, *, hostname: str | None = None) -> None:
        self.db = db
        self.config = config
        self.max_message_bytes = config.smtp_server.max_message_bytes
        self.hostname = hostname or config.smtp_server.hostname or socket.getfqdn()

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if not self.config.accepts(address):
            log.info("smtp: refused a recipient at %s from %s", _domain(address), _peer_ip(session))
            return f"550 5.1.1 <{address}>: recipient not accepted here"
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 Ok"

    async def handle_DATA(
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or b""
        trace = uuid.uuid4().hex[:12]
        now = datetime.now(UTC)
        peer = _peer_ip(session)
        meta = IntakeEnvelope(
            mail_from=envelope.mail_from or "", rcpt_tos=tuple(envelope.rcpt_tos), peer=peer,
            helo=session.host_name or "",
            extra={"tls": session.ssl is not None, "auth": session.auth_data if session.authenticated else None,
                   "received_at": now.isoformat()},
        )
        stamp = trace_header(helo=session.host_name or "", peer=peer, hostname=self.hostname,
                             protocol=_protocol(session, envelope), trace=trace, when=now)
        try:
            accepted = await asyncio.to_thread(
                accept_email, self.db, raw, source="smtp", ref=f"smtp:{peer}", envelope=meta,
                max_bytes=self.max_message_bytes, trace_header=stamp)
        except Exception as exc:
            return smtp_reply(exc, trace=trace, peer=peer)
        if accepted.created:
            log.info("smtp: queued inbox %d from %s (%d bytes, %d recipients, trace %s)",
                     accepted.inbox_id, peer, len(raw), len(envelope.rcpt_tos), trace)
        else:
            log.info("smtp: inbox %d already holds this message from %s (trace %s)", accepted.inbox_id, peer, trace)
        return f"250 2.0.0 Ok: queued as {accepted.inbox_id}"

    async def handle_exception(self, error: Exception) -> str:
        """Ours, not the sender's: log with a trace id and ask the sender to retry (never leak details)."""
        return smtp_reply(error, trace=uuid.uuid4().hex[:12], fallback=LOCAL_ERROR)


def smtp_reply(exc: BaseException, *, trace: str, peer: str = "", fallback: str = STORAGE_FAILURE) -> str:
    """The one place an error becomes an SMTP reply: the typed error's own, else `fallback`; ours carry the trace.

    The sender's fault (a UserError: too big, not a message) is answered 5xx with the reason, so the
    sending MTA bounces it at once; anything else is 4xx, so it retries (RFC 5321 §4.2.1).
    """
    if isinstance(exc, UserError):
        log.info("smtp: refused a message from %s: %s (trace %s)", peer or "a client", exc, trace)
        return f"{exc.smtp_reply} ({_one_line(str(exc))})"
    log.error("smtp: error in a session with %s (trace %s)", peer or "a client", trace, exc_info=exc)
    reply = exc.smtp_reply if isinstance(exc, TriageError) else fallback
    return f"{reply} (trace {trace})"


def trace_header(*, helo: str, peer: str, hostname: str, protocol: str, trace: str, when: datetime) -> bytes:
    """The RFC 5321 §4.4 `Received:` line we prepend (no `for` clause: it would reveal Bcc recipients)."""
    helo = _HELO_UNSAFE.sub("?", helo)[:255] or "unknown"
    literal = _address_literal(peer)
    return (f"Received: from {helo} ({literal})\r\n"
            f"\tby {hostname} (Triage) with {protocol} id {trace};\r\n"
            f"\t{format_datetime(when)}\r\n").encode("ascii", "replace")


class _IntakeSMTP(SMTP):
    """aiosmtpd's server with RFC 3463 enhanced codes on the replies it sends on its own."""

    async def push(self, status: AnyStr) -> None:
        if isinstance(status, str):
            await super().push(_REPLIES.get(status, status))
        else:
            await super().push(status)


class _IntakeController(Controller):
    def factory(self) -> SMTP:
        return _IntakeSMTP(self.handler, **self.SMTP_kwargs)


class _Authenticator:
    """AUTH LOGIN/PLAIN against `smtp_server.users`; compares digests of every user, in constant time."""

    def __init__(self, users: list[tuple[str, str]]) -> None:
        self._users = [(_digest(user.encode("utf-8")), _digest(password.encode("utf-8")))
                       for user, password in users]

    def __call__(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                 auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = _digest(auth_data.login), _digest(auth_data.password)
        ok = False
        for user_digest, password_digest in self._users:  # no early exit: timing says nothing
            ok |= hmac.compare_digest(login, user_digest) & hmac.compare_digest(password, password_digest)
        if ok:
            return AuthResult(success=True, auth_data=auth_data.login.decode("utf-8", "replace"))
        log.warning("smtp: failed AUTH %s from %s", mechanism, _peer_ip(session))
        return AuthResult(success=False, handled=False)


def start_smtp_server(db: Database, config: TriageConfig, *, host: str | None = None,
                      port: int | None = None) -> Controller:
    """Start the intake server in its own thread; the caller calls `.stop()`. Bad setup raises UserError."""
    smtp = config.smtp_server
    host = host if host is not None else smtp.host
    port = port if port is not None else smtp.port
    hostname = smtp.hostname or socket.getfqdn()  # once here: aiosmtpd would look it up per connection
    tls_context = _tls_context(smtp)
    if smtp.require_tls and tls_context is None:
        raise UserError("smtp_server.require_tls needs tls_cert and tls_key")
    if smtp.auth_required and tls_context is None:
        raise UserError("smtp_server.auth_required needs tls_cert and tls_key: "
                        "AUTH is only offered over TLS so passwords never cross the network in clear")
    users = _users(smtp)
    if users and tls_context is None:
        log.warning("smtp: smtp_server.users are configured but TLS is not; AUTH will not be offered")
    _quiet_aiosmtpd_log()
    handler = IntakeHandler(db, config, hostname=hostname)
    controller = _IntakeController(
        handler, hostname=host, port=port, server_hostname=hostname,
        data_size_limit=smtp.max_message_bytes, decode_data=False, enable_SMTPUTF8=True,
        tls_context=tls_context, require_starttls=smtp.require_tls,
        auth_required=smtp.auth_required, auth_require_tls=True, authenticator=_Authenticator(users),
    )
    try:
        controller.start()
    except BaseException as exc:
        if controller.loop.is_running():
            controller.stop(no_assert=True)
        elif not controller.loop.is_closed():  # the thread gave up before running the loop
            controller.loop.close()
        if isinstance(exc, OSError) and not isinstance(exc, TimeoutError):  # e.g. address in use
            raise UserError(f"smtp server: cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
        raise
    log.info("smtp: listening on %s:%d as %s (STARTTLS %s, AUTH %s)", host, port, hostname,
             "required" if smtp.require_tls else ("offered" if tls_context else "off"),
             "required" if smtp.auth_required else ("offered" if tls_context and users else "off"))
    return controller


def parse_hostport(text: str) -> tuple[str, int]:
    """'HOST:PORT' or '[IPv6]:PORT' (the CLI's `--smtp`) as (host, port); ValueError says what to fix."""
    value = text.strip()
    example = "e.g. 127.0.0.1:2525 or [::1]:2525"
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            raise ValueError(f"{text!r}: missing ']' after the IPv6 address ({example})")
        host, rest = value[1:end], value[end + 1:]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"{text!r}: {host!r} in brackets is not an IPv6 address ({example})") from None
        if not rest.startswith(":"):
            raise ValueError(f"{text!r}: the port is missing after ']' ({example})")
        port_text = rest[1:]
    else:
        host, sep, port_text = value.rpartition(":")
        if not sep:
            raise ValueError(f"{text!r}: expected HOST:PORT ({example})")
        if ":" in host:
            raise ValueError(f"{text!r}: put an IPv6 address in brackets ({example})")
        if not host or any(c.isspace() for c in host):
            raise ValueError(f"{text!r}: the host is missing or has spaces (use 0.0.0.0:PORT for all addresses)")
    if not (port_text.isascii() and port_text.isdigit()) or not 1 <= int(port_text) <= 65535:
        raise ValueError(f"{text!r}: the port must be a number from 1 to 65535 ({example})")
    return host, int(port_text)


def _tls_context(smtp: SmtpServerConfig) -> ssl.SSLContext | None:
    if smtp.tls_cert is None or smtp.tls_key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)  # verify_mode CERT_NONE: clients have no certs
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(smtp.tls_cert, smtp.tls_key)
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or str(exc)
        raise UserError(f"smtp_server: cannot load tls_cert {smtp.tls_cert} / tls_key {smtp.tls_key}: "
                        f"{reason}") from exc
    return context


def _users(smtp: SmtpServerConfig) -> list[tuple[str, str]]:
    users = []
    for i, user in enumerate(smtp.users):
        what = f"smtp_server.users.{i} ({user.user})"
        password = read_secret(user.password, user.password_file, what=what)
        if not password:
            raise UserError(f"{what}: give password or password_file (an empty password is refused)")
        users.append((user.user, password))
    return users


class _DropLoginDataNotice(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "login_data is deprecated" not in record.getMessage()


def _quiet_aiosmtpd_log() -> None:
    """aiosmtpd logs every sender and recipient at INFO; STYLE.md keeps full addresses out of INFO."""
    aiosmtpd_log = logging.getLogger("mail.log")
    if aiosmtpd_log.level == logging.NOTSET:  # an operator's explicit setting wins
        aiosmtpd_log.setLevel(logging.WARNING)
    if not any(isinstance(f, _DropLoginDataNotice) for f in aiosmtpd_log.filters):
        aiosmtpd_log.addFilter(_DropLoginDataNotice())  # logged on every successful AUTH by aiosmtpd itself


def _protocol(session: Session, envelope: Envelope) -> str:
    """The `with` keyword of the Received line (RFC 3848, RFC 6531 §3.7.3)."""
    if not session.extended_smtp:
        return "SMTP"
    base = "UTF8SMTP" if envelope.smtp_utf8 else "ESMTP"
    return base + ("S" if session.ssl is not None else "") + ("A" if session.authenticated else "")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _peer_ip(session: Session) -> str:
    peer = session.peer
    if isinstance(peer, tuple | list) and peer:
        return str(peer[0])
    return str(peer or "unknown")


def _address_literal(ip: str) -> str:
    """RFC 5321 §4.1.3 address literal: [192.0.2.1] or [IPv6:2001:db8::1]."""
    try:
        parsed = ipaddress.ip_address(ip)
    except ValueError:
        return "unknown"
    return f"[IPv6:{parsed.compressed}]" if parsed.version == 6 else f"[{parsed.compressed}]"


def _domain(address: str) -> str:
    return address.rsplit("@", 1)[-1] if "@" in address else "(no domain)"


def _digest(value: bytes) -> bytes:
    return hashlib.sha256(value).digest()
