"""The inbound SMTP server: real smtplib round trips against our aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

import smtplib
import socket
import ssl
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

import mail.smtp_server as smtp_server
import triage.flows.intake as intake
from mail.parse import email_dedup_key
from mail.smtp_server import parse_hostport, start_smtp_server, trace_header
from triage.config import SmtpServerConfig, SmtpUser, TriageConfig
from triage.errors import UserError
from triage.inbox.tables import InboxItem
from triage.runtime import Triage

SENDER = "maria.jensen@example.com"
SUPPORT, BILLING = "support@larkspur.example", "billing@larkspur.example"


@pytest.fixture
def models_path(tmp_path: Path) -> Path:
    """Intake never classifies: skip training the session's baseline models for this file."""
    return tmp_path / "models"


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with the openssl command line."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True,
    )
    return cert, key


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(rt: Triage, **smtp: object) -> TriageConfig:
    settings = {"host": "127.0.0.1", "hostname": "mx.larkspur.example", **smtp}
    return rt.config.model_copy(update={"smtp_server": SmtpServerConfig.model_validate(settings)})


Server = Callable[..., int]


@pytest.fixture
def server(rt: Triage) -> Iterator[Server]:
    """Start our server with some smtp_server settings; returns its port; stopped after the test."""
    controllers: list[Controller] = []

    def start(**smtp: object) -> int:
        port = _free_port()
        controllers.append(start_smtp_server(rt.db, _config(rt, **smtp), port=port))
        return port

    yield start
    for controller in controllers:
        controller.stop()


def _rows(rt: Triage) -> list[InboxItem]:
    with rt.db.session() as session:
        return list(session.scalars(select(InboxItem).order_by(InboxItem.id)))


def _deliver(port: int, raw: bytes, rcpts: list[str], *, sender: str = SENDER) -> tuple[int, bytes]:
    """One transaction by hand, so the test sees the final DATA reply."""
    with smtplib.SMTP("127.0.0.1", port, local_hostname="client.example.com", timeout=10) as client:
        client.ehlo()
        code, reply = client.mail(sender)
        assert code == 250, reply
        for rcpt in rcpts:
            code, reply = client.rcpt(rcpt)
            assert code == 250, reply
        return client.data(raw)


def _strip_stamp(payload: bytes) -> tuple[bytes, bytes]:
    """(Received header, the rest): our trace header is the first field, three folded lines."""
    assert payload.startswith(b"Received: from ")
    *stamp, rest = payload.split(b"\r\n", 3)
    return b"\r\n".join(stamp) + b"\r\n", rest


def test_accepts_stores_exact_bytes_and_envelope(rt: Triage, server: Server, make_email) -> None:  # type: ignore[no-untyped-def]
    port = server()
    raw = make_email()
    code, reply = _deliver(port, raw, [SUPPORT])
    [row] = _rows(rt)
    assert code == 250 and reply == f"2.0.0 Ok: queued as {row.id}".encode()
    stamp, rest = _strip_stamp(row.payload)
    assert rest == raw
    assert stamp.startswith(b"Received: from client.example.com ([127.0.0.1])\r\n\tby mx.larkspur.example (Triage)")
    assert b" with ESMTP id " in stamp
    assert (row.kind, row.source, row.source_ref, row.status) == ("email", "smtp", "smtp:127.0.0.1", "pending")
    assert row.dedup_key == "mid:m1@mail.example.com" == email_dedup_key(row.payload)
    env = row.envelope
    assert env is not None
    assert (env["mail_from"], env["rcpt_tos"], env["peer"], env["helo"]) == (
        SENDER, [SUPPORT], "127.0.0.1", "client.example.com")
    assert env["tls"] is False and env["auth"] is None
    assert abs((datetime.fromisoformat(env["received_at"]) - datetime.now(UTC)).total_seconds()) < 60


def test_same_message_twice_is_one_row(rt: Triage, server: Server, make_email) -> None:  # type: ignore[no-untyped-def]
    port = server()
    first = _deliver(port, make_email(), [SUPPORT])
    second = _deliver(port, make_email(), [SUPPORT])
    assert first == second and first[0] == 250
    assert len(_rows(rt)) == 1


def test_without_message_id_the_stamp_keeps_the_content_key(rt: Triage, server: Server, make_email) -> None:  # type: ignore[no-untyped-def]
    port = server()
    raw = make_email(message_id=None)
    assert _deliver(port, raw, [SUPPORT])[0] == 250
    assert _deliver(port, raw, [SUPPORT])[0] == 250
    [row] = _rows(rt)
    assert row.dedup_key.startswith("sha256:")
    assert row.dedup_key == email_dedup_key(raw) == email_dedup_key(row.payload)


def test_headers_only_message_is_stored_unstamped(rt: Triage, server: Server) -> None:
    # No header/body separator: the content hash covers the header block, so a stamp would change it.
    port = server()
    raw = b"From: a@example.com\r\nTo: support@larkspur.example\r\nSubject: hi\r\n"
    assert _deliver(port, raw, [SUPPORT])[0] == 250
    [row] = _rows(rt)
    assert row.payload == raw and row.dedup_key == email_dedup_key(raw)


def test_cc_to_two_mailboxes_is_one_row(rt: Triage, server: Server, make_email) -> None:  # type: ignore[no-untyped-def]
    port = server()
    raw = make_email(cc=BILLING)
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        assert client.sendmail(SENDER, [SUPPORT, BILLING], raw) == {}
    [row] = _rows(rt)
    assert row.envelope is not None and row.envelope["rcpt_tos"] == [SUPPORT, BILLING]


def test_unknown_recipient_is_refused_never_relayed(rt: Triage, server: Server, make_email) -> None:  # type: ignore[no-untyped-def]
    port = server()
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            client.sendmail(SENDER, ["someone@elsewhere.example"], make_email(to="someone@elsewhere.example"))
    code, reply = refused.value.recipients["someone@elsewhere.example"]
    assert code == 550 and reply == b"5.1.1 <someone@elsewhere.example>: recipient not accepted here"
    assert _rows(rt) == []


def test_mixed_recipients_deliver_for_ours_only(rt: Triage, server: Server, make_email) -> None:  # type: ignore[no-untyped-def]
    port = server()
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        refused = client.sendmail(SENDER, ["x@elsewhere.example", SUPPORT], make_email())
    assert list(refused) == ["x@elsewhere.example"] and refused["x@elsewhere.example"][0] == 550
    [row] = _rows(rt)
    assert row.envelope is not None and row.envelope["rcpt_tos"] == [SUPPORT]


def test_null_sender_and_smtputf8(rt: Triage, server: Server) -> None:
    port = server()
    raw = ("From: Zoë <zoë@exämple.com>\r\nTo: support@larkspur.example\r\nSubject: Grüße\r\n"
           "Message-ID: <u1@exämple.com>\r\n\r\nDie Lieferung fehlt noch.\r\n").encode()
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo()
        assert client.has_extn("smtputf8") and client.has_extn("8bitmime")
        assert client.mail("", ["SMTPUTF8", "BODY=8BITMIME"])[0] == 250
        assert client.rcpt(SUPPORT)[0] == 250
        assert client.data(raw)[0] == 250
    [row] = _rows(rt)
    stamp, rest = _strip_stamp(row.payload)
    assert rest == raw and b" with UTF8SMTP id " in stamp
    assert row.envelope is not None and row.envelope["mail_from"] == ""


def test_too_large_is_refused_and_not_stored(rt: Triage, server: Server, make_email) -> None:  # type: ignore[no-untyped-def]
    port = server(max_message_bytes=2000)
    big = make_email(body="x" * 60 + "\n" + ("lorem ipsum " * 20 + "\n") * 20)
    # smtplib announces SIZE=, so the server refuses at MAIL FROM...
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            client.sendmail(SENDER, [SUPPORT], big)
    assert (refused.value.smtp_code, refused.value.smtp_error) == (552, b"5.3.4 Message too big")
    # ...and a client that does not is cut off during DATA.
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo()
        client.mail(SENDER)
        client.rcpt(SUPPORT)
        assert client.data(big) == (552, b"5.3.4 Message too big")
        # The session carries on: a small message in the same connection is accepted.
        client.mail(SENDER)
        client.rcpt(SUPPORT)
        assert client.data(make_email(message_id="<small@example.com>"))[0] == 250
    assert [r.dedup_key for r in _rows(rt)] == ["mid:small@example.com"]


def test_storage_failure_is_451_and_nothing_is_half_stored(
    rt: Triage, server: Server, make_email, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,  # type: ignore[no-untyped-def]
) -> None:
    port = server()
    real_enqueue = intake.enqueue

    def enqueue_then_fail(**kwargs):  # type: ignore[no-untyped-def]
        real_enqueue(**kwargs)  # the row is added and flushed...
        raise RuntimeError("disk on fire")  # ...then the transaction fails before the commit

    monkeypatch.setattr(intake, "enqueue", enqueue_then_fail)
    code, reply = _deliver(port, make_email(), [SUPPORT])
    assert code == 451 and reply.startswith(b"4.3.0 Temporary storage failure, try again later (trace ")
    trace = reply.decode().rsplit(" ", 1)[-1].rstrip(")")
    assert any(trace in r.getMessage() and r.exc_info for r in caplog.records)
    assert _rows(rt) == []

    monkeypatch.setattr(intake, "enqueue", real_enqueue)
    code, _ = _deliver(port, make_email(), [SUPPORT])
    assert code == 250 and len(_rows(rt)) == 1


def test_unexpected_error_is_451_without_details(rt: Triage, server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    port = server()

    def broken(self: TriageConfig, address: str) -> bool:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(TriageConfig, "accepts", broken)
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo()
        client.mail(SENDER)
        code, reply = client.rcpt(SUPPORT)
    assert code == 451 and reply.startswith(b"4.3.0 Local error, try again later") and b"secret" not in reply


def test_recipient_limit(rt: Triage, server: Server) -> None:
    port = server()
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo()
        client.mail(SENDER)
        codes = [client.rcpt(SUPPORT)[0] for _ in range(smtp_server.MAX_RECIPIENTS + 1)]
    assert codes == [250] * smtp_server.MAX_RECIPIENTS + [452]


def test_starttls_and_auth(rt: Triage, server: Server, make_email, tls_files) -> None:  # type: ignore[no-untyped-def]
    cert, key = tls_files
    secret = cert.parent / "agent.password"
    secret.write_text("s3cret-from-file\n", encoding="utf-8")
    port = server(tls_cert=cert, tls_key=key, require_tls=True, auth_required=True,
                  users=[SmtpUser(user="relay", password="pa55word"),
                         SmtpUser(user="agent", password_file=secret)])
    trust = ssl.create_default_context(cafile=str(cert))

    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo()
        assert not client.has_extn("auth")  # no AUTH in clear
        assert client.mail(SENDER) == (530, b"5.7.0 Must issue a STARTTLS command first")
        client.starttls(context=trust)
        client.ehlo()
        assert client.has_extn("auth")
        assert client.mail(SENDER) == (530, b"5.7.0 Authentication required")
        with pytest.raises(smtplib.SMTPAuthenticationError) as wrong:
            client.login("relay", "not-the-password")
        assert wrong.value.smtp_code == 535
        client.login("agent", "s3cret-from-file")
        assert client.sendmail(SENDER, [SUPPORT], make_email()) == {}

    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.starttls(context=trust)
        client.login("relay", "pa55word")
        assert client.sendmail(SENDER, [SUPPORT], make_email(message_id="<m2@mail.example.com>")) == {}

    first, second = _rows(rt)
    assert first.envelope is not None and (first.envelope["tls"], first.envelope["auth"]) == (True, "agent")
    assert b" with ESMTPSA id " in _strip_stamp(first.payload)[0]
    assert second.envelope is not None and second.envelope["auth"] == "relay"


def test_auth_mechanisms_plain_and_login(rt: Triage, server: Server, tls_files) -> None:  # type: ignore[no-untyped-def]
    cert, key = tls_files
    port = server(tls_cert=cert, tls_key=key, users=[SmtpUser(user="relay", password="pa55word")])
    trust = ssl.create_default_context(cafile=str(cert))
    for mechanism in ("PLAIN", "LOGIN"):
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.starttls(context=trust)
            client.ehlo()
            client.user, client.password = "relay", "pa55word"
            authobject = client.auth_plain if mechanism == "PLAIN" else client.auth_login
            assert client.auth(mechanism, authobject)[0] == 235
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.starttls(context=trust)
            client.ehlo()
            client.user, client.password = "relay", "wrong"
            authobject = client.auth_plain if mechanism == "PLAIN" else client.auth_login
            with pytest.raises(smtplib.SMTPAuthenticationError):
                client.auth(mechanism, authobject)


def test_bad_setup_is_refused_with_a_clear_message(rt: Triage, tls_files, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cert, key = tls_files
    cases = [
        ({"auth_required": True, "users": [{"user": "u", "password": "p"}]}, "auth_required needs tls_cert"),
        ({"require_tls": True}, "require_tls needs tls_cert and tls_key"),
        ({"tls_cert": cert, "tls_key": tmp_path / "missing.pem"}, "cannot load tls_cert"),
        ({"tls_cert": cert, "tls_key": key, "users": [{"user": "u"}]}, "give password or password_file"),
    ]
    for smtp, message in cases:
        with pytest.raises(UserError, match=message):
            start_smtp_server(rt.db, _config(rt, **smtp), port=_free_port())


def test_address_in_use_is_a_user_error(rt: Triage, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIOSMTPD_CONTROLLER_TIMEOUT", "1")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(UserError, match=f"cannot listen on 127.0.0.1:{port}"):
            start_smtp_server(rt.db, _config(rt), port=port)


def test_trace_header_shape() -> None:
    when = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
    line = trace_header(helo="evil (host)\r\nX: y", peer="::1", hostname="mx.example", protocol="ESMTPS",
                        trace="abc", when=when)
    assert line == (b"Received: from evil??host???X:?y ([IPv6:::1])\r\n"
                    b"\tby mx.example (Triage) with ESMTPS id abc;\r\n\tMon, 16 Nov 2026 09:00:00 +0000\r\n")


@pytest.mark.parametrize(("text", "expected"), [
    ("127.0.0.1:2525", ("127.0.0.1", 2525)),
    ("0.0.0.0:25", ("0.0.0.0", 25)),
    ("localhost:65535", ("localhost", 65535)),
    (" mx.example.com:587 ", ("mx.example.com", 587)),
    ("[::1]:2525", ("::1", 2525)),
    ("[::]:25", ("::", 25)),
    ("[2001:db8::1]:1", ("2001:db8::1", 1)),
])
def test_parse_hostport(text: str, expected: tuple[str, int]) -> None:
    assert parse_hostport(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("127.0.0.1", "expected HOST:PORT"),
    ("", "expected HOST:PORT"),
    (":2525", "host is missing"),
    ("my host:25", "host is missing or has spaces"),
    ("127.0.0.1:", "port must be a number"),
    ("127.0.0.1:smtp", "port must be a number"),
    ("127.0.0.1:0", "port must be a number from 1 to 65535"),
    ("127.0.0.1:65536", "port must be a number from 1 to 65535"),
    ("127.0.0.1:-1", "port must be a number"),
    ("127.0.0.1:²", "port must be a number"),
    ("::1:2525", "put an IPv6 address in brackets"),
    ("[::1:2525", "missing ']'"),
    ("[::1]", "port is missing"),
    ("[::1]2525", "port is missing"),
    ("[localhost]:25", "not an IPv6 address"),
])
def test_parse_hostport_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_hostport(text)


def test_nul_in_ehlo_and_mail_from_is_stripped_before_storing(rt: Triage, server: Server, make_email) -> None:  # type: ignore[no-untyped-def]
    # PostgreSQL's JSONB refuses NUL: the envelope used to fail to store and the sender got 451 forever (issue 14).
    port = server()
    with smtplib.SMTP("127.0.0.1", port, local_hostname="cli\x00ent.example.com", timeout=10) as client:
        client.ehlo()
        assert client.mail("maria\x00.jensen@example.com")[0] == 250
        assert client.rcpt(SUPPORT)[0] == 250
        code, reply = client.data(make_email())
    assert code == 250, reply
    [row] = _rows(rt)
    assert row.envelope is not None and row.envelope["mail_from"] == SENDER
    assert row.envelope["helo"] == "client.example.com"
