"""Fuzzed MIME corpus: hostile and broken mail through the one intake door and the worker (issue 14).

`corpus(n, seed)` derives n messages, deterministically, from the bundled samples and from messages built
with `email.message.EmailMessage`: truncated, bytes flipped, headers dropped, doubled or 100 kB long, dates
in year 9999 or 0001, wrong and unknown charsets, broken base64 and quoted-printable, boundaries that never
close, 60 and more nested multiparts, NUL bytes, CR-only and LF-only line ends, 8-bit headers, odd
attachment names, internationalised addresses, bounces, empty and header-only messages, binary garbage.
Every file goes through `accept_email` (from a file, or by SMTP with an envelope) into a fresh SQLite
runtime; a worker then drains the inbox. Nothing may escape the worker and no row may stay pending.
"""

from __future__ import annotations

import base64
import random
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

from benchmarks.common import Row, temp_runtime
from triage.runtime import Triage

NAME = "reliability"
SAMPLES = Path(__file__).resolve().parents[1] / "triage" / "samples" / "emails"
HANG_SECONDS = 60.0  # a single row processed slower than this counts as a hang
MAX_CRASHES = 50  # exceptions escaping the worker before the run gives up on draining

Mutator = Callable[[random.Random, bytes], bytes]


# -- byte-level helpers: headers are edited as bytes, so broken input stays broken --

def _split(raw: bytes) -> tuple[list[bytes], bytes, bytes, bool]:
    """(header fields with their folded lines, line end, body, whether a blank line separated them)."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        head, found, body = raw.partition(sep)
        if found:
            break
    else:
        head, body = raw, b""
    eol = b"\r\n" if b"\r\n" in head else b"\n"
    fields: list[bytes] = []
    for line in head.split(eol):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += eol + line
        else:
            fields.append(line)
    return fields, eol, body, bool(found)


def _join(fields: list[bytes], eol: bytes, body: bytes, separated: bool = True) -> bytes:
    return eol.join(fields) + (eol + eol + body if separated else b"")


def _name(header_field: bytes) -> bytes:
    return header_field.split(b":", 1)[0].strip().lower()


def _without(raw: bytes, *names: str) -> bytes:
    fields, eol, body, sep = _split(raw)
    drop = {n.lower().encode() for n in names}
    return _join([f for f in fields if _name(f) not in drop], eol, body, sep)


def _with(raw: bytes, name: str, value: bytes) -> bytes:
    """`raw` with every `name` field replaced by one `name: value` at the top."""
    fields, eol, body, sep = _split(_without(raw, name))
    return _join([name.encode() + b": " + value, *fields], eol, body, sep)


def _head(rng: random.Random, extra: str = "", sender: str = "Maria Jensen <maria.jensen@example.com>") -> bytes:
    n = rng.randrange(10**6)
    return (f"From: {sender}\r\nTo: support@larkspur.example\r\nSubject: Order LH-{n} question\r\n"
            f"Date: Mon, 16 Nov 2026 09:00:00 +0000\r\nMessage-ID: <gen-{n}@fuzz.example>\r\n"
            f"MIME-Version: 1.0\r\n{extra}").encode()


_WORDS = ("order", "refund", "parcel", "invoice", "broken", "lamp", "heater", "charged", "twice", "please",
          "Bestellung", "commande", "zamówienie", "注文", "pedido", "help")


def _words(rng: random.Random, k: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(k))


# -- mutators of a well-formed message --

def _truncate(rng: random.Random, raw: bytes) -> bytes:
    return raw[:rng.randrange(1, max(2, len(raw)))]


def _flip_bytes(rng: random.Random, raw: bytes) -> bytes:
    data = bytearray(raw)
    for _ in range(rng.randint(1, 40)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


def _drop_headers(rng: random.Random, raw: bytes) -> bytes:
    fields, eol, body, sep = _split(raw)
    for _ in range(min(len(fields) - 1, rng.randint(1, 4))):
        fields.pop(rng.randrange(len(fields)))
    return _join(fields, eol, body, sep)


def _duplicate_headers(rng: random.Random, raw: bytes) -> bytes:
    fields, eol, body, sep = _split(raw)
    extra = [rng.choice(fields) for _ in range(rng.randint(1, 4))]
    extra += rng.sample([b"From: Someone Else <other@example.net>", b"Message-ID: <second@fuzz.example>",
                         b"Content-Type: text/html; charset=utf-8", b"Date: Tue, 17 Nov 2026 10:00:00 +0000",
                         b"Content-Transfer-Encoding: base64", b"Subject: a second subject"], k=2)
    for header_field in extra:
        fields.insert(rng.randrange(len(fields) + 1), header_field)
    return _join(fields, eol, body, sep)


def _overlong_header(rng: random.Random, raw: bytes) -> bytes:
    name = rng.choice(["Subject", "Subject", "From", "To", "References", "Message-ID", "In-Reply-To", "X-Long",
                       "Content-Type"])
    size = 1_000_000 if rng.random() < 0.1 else 100_000
    if name == "Content-Type":  # parameters the parser reads one by one
        return _with(raw, name, b"text/plain; charset=utf-8; " + b"p=v; " * (size // 5))
    style = rng.randrange(4)
    if style == 0:
        value = _words(rng, size // 6).encode()[:size]
    elif style == 1:  # one token, nothing to fold at
        value = b"x" * size
    elif style == 2:  # RFC 2047 encoded words
        word = b"=?utf-8?b?" + base64.b64encode("Bestellung für Jürgen ".encode()) + b"?= "
        value = word * (size // len(word))
    else:  # a hundred kB of message ids
        value = b" ".join(b"<id%d@fuzz.example>" % k for k in range(size // 20))
    return _with(raw, name, value)


def _no_from(rng: random.Random, raw: bytes) -> bytes:
    return _without(raw, "From", *(["Sender", "Reply-To"] if rng.random() < 0.5 else []))


def _no_date(rng: random.Random, raw: bytes) -> bytes:
    return _without(raw, "Date")


def _no_message_id(rng: random.Random, raw: bytes) -> bytes:
    return _without(raw, "Message-ID", *(["In-Reply-To", "References"] if rng.random() < 0.5 else []))


_DATES = (b"Fri, 31 Dec 9999 23:59:59 -1200", b"31 Dec 9999 23:30:00 -0100", b"Mon, 01 Jan 0001 00:00:00 +1400",
          b"01 Jan 0001 00:00:00 +0000", b"Thu, 01 Jan 1970 00:00:00 +0000", b"Sat, 29 Feb 2025 25:61:61 +9999",
          b"Mon, 16 Nov 2026 09:00:00 +2400", b"yesterday at noon", b"", b"Mon, 16 Nov 99999 09:00:00 +0000")


def _odd_date(rng: random.Random, raw: bytes) -> bytes:
    return _with(raw, "Date", rng.choice(_DATES))


def _nul_bytes(rng: random.Random, raw: bytes) -> bytes:
    fields, eol, body, _ = _split(raw)
    k = rng.randrange(len(fields))
    cut = rng.randrange(len(fields[k]) + 1)
    fields[k] = fields[k][:cut] + b"\x00" + fields[k][cut:]
    fields.insert(0, b"Subject: nul \x00 in the subject")
    at = rng.randrange(len(body) + 1)
    return _join(fields, eol, body[:at] + b"\x00\x00" + body[at:], True)


def _cr_only(rng: random.Random, raw: bytes) -> bytes:
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r")


def _lf_only(rng: random.Random, raw: bytes) -> bytes:
    return raw.replace(b"\r\n", b"\n")


def _eight_bit_header(rng: random.Random, raw: bytes) -> bytes:
    value = rng.choice(["Bestellung für Jürgen – 注文 ✓".encode(), "Rückerstattung für Müller".encode("latin-1"),
                        b"\xff\xfe\x80 broken \xc3", "Jürgen Müller <jurgen@example.com>".encode("latin-1")])
    name = "From" if value.endswith(b">") else rng.choice(["Subject", "X-Note", "To"])
    return _with(raw, name, value)


def _combined(rng: random.Random, raw: bytes) -> bytes:
    for mutate in rng.sample(_BASE_MUTATORS, k=rng.randint(2, 3)):
        raw = mutate(rng, raw) or b"x"
    return raw


_BASE_MUTATORS: list[Mutator] = [_truncate, _flip_bytes, _drop_headers, _duplicate_headers, _overlong_header,
                                 _no_from, _no_date, _no_message_id, _odd_date, _nul_bytes, _cr_only, _lf_only,
                                 _eight_bit_header]


# -- messages built to be broken in one particular way (the base only lends its body) --

def _body_of(raw: bytes) -> bytes:
    return _split(raw)[2][:2000] or b"Hello, where is my order?"


def _charsets(rng: random.Random, raw: bytes) -> bytes:
    text = "Grüße aus Köln, où est ma commande? Zażółć gęślą jaźń."
    declared, data = rng.choice([
        ("utf-8", text.encode("latin-1", "replace")), ("x-unknown", text.encode("utf-8")),
        ("us-ascii", text.encode("utf-8")), ("utf-7", b"+AGEAYgBj-+ZZZ-"), ("utf-16", b"\xff\xfeA\x00B"),
        ("iso-2022-jp", b"\x1b$B\xff\xff\x1b(B"), ("cp1252", b"\x81\x8d\x8f\x90\x9d"), ("", text.encode("utf-8")),
        ("utf-8\x00", text.encode("utf-8")), ("idna", b"\xff"), ("unicode-escape", b"\\u12"), ("rot13", b"abc"),
        ("hex", b"zz"), ("base64", b"!!"),
    ])
    subject = rng.choice([b"=?x-unknown?q?Bestellung_f=FCr?=", b"=?utf-8?b?////?=", b"=?utf-8?q?=ZZ?=",
                          b"=?iso-8859-1?q?R=FCckerstattung?=", b"=?utf-7?b?K0FHRS0=?=", b"=??q?empty?="])
    head = _head(rng, f'Content-Type: text/plain; charset="{declared}"\r\nContent-Transfer-Encoding: 8bit\r\n')
    return _with(head + b"\r\n" + data + b"\r\n" + _body_of(raw), "Subject", subject)


def _broken_base64(rng: random.Random, raw: bytes) -> bytes:
    good = base64.b64encode(_body_of(raw))
    data = rng.choice([good[:-3], good + b"===", good.replace(b"A", b"!"), b"%%%% not base64 ####",
                       good[: len(good) // 2] + b"\r\n-- cut --", b"=" * 40, b"QUJD\x00REVG"])
    ctype = rng.choice(["text/plain; charset=utf-8", "text/html; charset=utf-8", "application/pdf"])
    disposition = "Content-Disposition: attachment\r\n" if ctype == "application/pdf" else ""
    boundary = "b64"
    return _head(rng, f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n') + (
        f"\r\n--{boundary}\r\nContent-Type: text/plain\r\n\r\nsee below\r\n--{boundary}\r\n"
        f"Content-Type: {ctype}\r\nContent-Transfer-Encoding: base64\r\n{disposition}\r\n").encode() + data + (
        f"\r\n--{boundary}--\r\n").encode()


def _broken_qp(rng: random.Random, raw: bytes) -> bytes:
    data = rng.choice([b"caf=E9 =ZZ and =\r\n", b"soft break at the end =", b"=FF=FE=00=C3", b"=\r\n=\r\n=",
                       b"line=0Dwith=0Aencoded=0D=0Abreaks", b"=3D=3D=3" + b"=" * 2000])
    charset = rng.choice(["utf-8", "iso-8859-1", "x-unknown"])
    return _head(rng, f"Content-Type: text/plain; charset={charset}\r\nContent-Transfer-Encoding: quoted-printable\r\n"
                 ) + b"\r\n" + data + b"\r\n"


def _unclosed_boundary(rng: random.Random, raw: bytes) -> bytes:
    body = _body_of(raw)
    style = rng.randrange(5)
    if style == 0:  # opened, never closed
        return _head(rng, 'Content-Type: multipart/mixed; boundary="open"\r\n') + (
            b"\r\n--open\r\nContent-Type: text/plain\r\n\r\n" + body
            + b"\r\n--open\r\nContent-Type: text/html\r\n\r\n<p>")
    if style == 1:  # the body uses another boundary than the declared one
        return _head(rng, 'Content-Type: multipart/alternative; boundary="declared"\r\n') + (
            b"\r\n--actual\r\nContent-Type: text/plain\r\n\r\n" + body + b"\r\n--actual--\r\n")
    if style == 2:  # no boundary parameter at all
        return _head(rng, "Content-Type: multipart/mixed\r\n") + b"\r\n" + body
    if style == 3:  # an empty boundary
        return _head(rng, 'Content-Type: multipart/mixed; boundary=""\r\n') + b"\r\n--\r\n\r\n" + body + b"\r\n----\r\n"
    return _head(rng, 'Content-Type: multipart/mixed; boundary="x"\r\n') + (  # a closed one inside an open one
        b"\r\n--x\r\nContent-Type: multipart/alternative; boundary=\"y\"\r\n\r\n--y\r\nContent-Type: text/plain\r\n\r\n"
        + body + b"\r\n--y--\r\n")


def _nested(rng: random.Random, raw: bytes) -> bytes:
    depth = rng.choice([60, 60, 61, 62, 150, 1000])
    head = _head(rng, 'Content-Type: multipart/mixed; boundary="n0"\r\n') + b"\r\n"
    opening = b"".join(b'--n%d\r\nContent-Type: multipart/mixed; boundary="n%d"\r\n\r\n' % (k, k + 1)
                       for k in range(depth))
    leaf = b"--n%d\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" % depth + _body_of(raw) + b"\r\n"
    closing = b"".join(b"--n%d--\r\n" % k for k in range(depth, -1, -1)) if rng.random() < 0.7 else b""
    return head + opening + leaf + closing


def _attachments(rng: random.Random, raw: bytes) -> bytes:
    name = rng.choice(['', 'filename=""', "filename=" + "a" * 300 + ".pdf", 'filename="' + "ü" * 300 + '.txt"',
                       "filename*=x-unknown''%FF%FE.bin", "filename*=utf-8''%E2%28%A1.txt",
                       'filename="../../etc/passwd"', 'filename="nul\x00name.txt"', "filename*0=part; filename*2=gap",
                       'name="only-a-name.doc"'])
    disposition = rng.choice(["attachment", "inline", "attachment; size=-1", "garbage;;;"])
    payload = base64.b64encode(bytes(rng.randrange(256) for _ in range(rng.randint(0, 3000))))
    return _head(rng, 'Content-Type: multipart/mixed; boundary="att"\r\n') + (
        b"\r\n--att\r\nContent-Type: text/plain\r\n\r\n" + _body_of(raw) + b"\r\n--att\r\n"
        + f"Content-Type: application/octet-stream; {name}\r\nContent-Disposition: {disposition}; {name}\r\n"
          "Content-Transfer-Encoding: base64\r\n\r\n".encode("utf-8", "surrogateescape") + payload + b"\r\n--att--\r\n")


def _idn_addresses(rng: random.Random, raw: bytes) -> bytes:
    sender = rng.choice(["Jürgen Müller <jürgen@bücher.example>", "=?utf-8?q?J=C3=BCrgen?= <jürgen@bücher.example>",
                         "用户 <用户@例子.广告>", "<@bücher.example>", "jürgen@bücher.example (Jürgen)",
                         "Jürgen <jurgen@xn--bcher-kva.example>"])
    fields, eol, body, sep = _split(_with(raw, "From", sender.encode()))
    fields.append("Cc: Zoë <zoë@exämple.example>, group: a@b.example, ;".encode())
    return _join(fields, eol, body, sep)


def _bounce(rng: random.Random, raw: bytes) -> bytes:
    original_id = next((f.split(b":", 1)[1].strip() for f in _split(raw)[0] if _name(f) == b"message-id"),
                       b"<missing@fuzz.example>")
    status = rng.choice([b"Status: 5.1.1\r\nAction: failed\r\nFinal-Recipient: rfc822; Gone@Example.com\r\n",
                         b"Status: 4.4.7\r\nAction: delayed\r\n", b"garbage without fields \xff\r\n", b""])
    returned = rng.choice([
        b"Content-Type: message/rfc822\r\n\r\nMessage-ID: " + original_id + b"\r\nSubject: x\r\n\r\nhi",
        b"Content-Type: text/rfc822-headers\r\n\r\nMessage-ID: " + original_id + b"\r\n",
        b"Content-Type: message/rfc822\r\n\r\n", b"Content-Type: message/rfc822\r\n\r\n\xff\xfe\x00"])
    closing = b"\r\n--r--\r\n" if rng.random() < 0.7 else b""
    return (b"From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>\r\nTo: support@larkspur.example\r\n"
            b"Subject: Undelivered Mail Returned to Sender\r\nDate: Mon, 16 Nov 2026 09:05:00 +0000\r\n"
            b"Message-ID: <bounce-%d@mx.example.net>\r\nMIME-Version: 1.0\r\nAuto-Submitted: auto-replied\r\n"
            b'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\r\n\r\n'
            b"--r\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
            b"--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n"
            % rng.randrange(10**6)) + status + b"\r\n--r\r\n" + returned + closing


def _empty_body(rng: random.Random, raw: bytes) -> bytes:
    fields, eol, _, _ = _split(raw)
    return _join(fields, eol, rng.choice([b"", b"\r\n", b" \t ", eol * 50]), True)


def _header_only(rng: random.Random, raw: bytes) -> bytes:
    fields, eol, _, _ = _split(raw)
    return _join(fields, eol, b"", False)


def _garbage(rng: random.Random, raw: bytes) -> bytes:
    data = bytes(rng.randrange(256) for _ in range(rng.randint(0, 4096)))
    prefix = rng.choice([b"", b"From: garbage@example.com\r\n", b"X: y\r\n\r\n", b"From: a@b.example\r\n\r\n"])
    return prefix + data


def _built(rng: random.Random, raw: bytes) -> bytes:
    """A well-formed message made by the standard library, then broken by one of the mutators."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = "Hans Becker <hans.becker@example.de>"
    msg["To"] = "support@larkspur.example"
    msg["Subject"] = f"Heizung riecht verbrannt {rng.randrange(1000)}"
    msg["Date"] = "Mon, 16 Nov 2026 09:00:00 +0100"
    msg["Message-ID"] = f"<built-{rng.randrange(10**6)}@fuzz.example>"
    msg.set_content("Guten Tag,\n\nmeine Heizung riecht verbrannt. Bitte schnell helfen.\n\nHans\n")
    if rng.random() < 0.5:
        msg.add_alternative("<p>Guten Tag, <b>meine Heizung</b> riecht verbrannt.</p>", subtype="html")
    if rng.random() < 0.5:
        msg.add_attachment(bytes(range(256)) * 4, maintype="application", subtype="octet-stream",
                           filename="log.bin")
    for k, part in enumerate(msg.walk()):  # the generator's boundaries are random: the corpus would vary
        if part.is_multipart():
            part.set_boundary(f"built-{k}-{rng.randrange(10**6)}")
    return rng.choice(_BASE_MUTATORS)(rng, msg.as_bytes())


MUTATORS: list[Mutator] = [*_BASE_MUTATORS, _combined, _charsets, _broken_base64, _broken_qp, _unclosed_boundary,
                           _nested, _attachments, _idn_addresses, _bounce, _empty_body, _header_only, _garbage,
                           _built]


def _bases() -> list[bytes]:
    return [path.read_bytes() for path in sorted(SAMPLES.glob("*.eml"))]


def mutator_of(i: int) -> str:
    """The name of the mutation that made corpus file i."""
    return MUTATORS[i % len(MUTATORS)].__name__.lstrip("_")


def corpus(n: int, seed: int) -> list[bytes]:
    """n fuzzed messages, the same for the same (n, seed); file i is made by `mutator_of(i)`."""
    bases = _bases()
    out = []
    for i in range(n):
        rng = random.Random(f"{seed}:{i}")
        # A fresh Message-ID per file, so that two mutations of one sample are two inbox rows.
        base = _with(rng.choice(bases), "Message-ID", b"<fuzz-%d-%d@fuzz.example>" % (seed, i))
        out.append(MUTATORS[i % len(MUTATORS)](rng, base))
    return out


@dataclass
class Tally:
    """What became of each file: refused at the door, stored, and each stored row's final status."""

    files: int = 0
    stored: int = 0
    duplicates: int = 0
    refused: Counter[str] = field(default_factory=Counter)  # error class -> files
    intake_crashes: list[str] = field(default_factory=list)  # an untyped exception out of accept_email
    statuses: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)  # failed rows: error class -> rows
    failed: list[tuple[str, str]] = field(default_factory=list)  # (source_ref, error) of each failed row
    crashes: list[str] = field(default_factory=list)  # exceptions escaping Worker.drain
    slowest: float = 0.0
    slowest_ref: str = ""
    hangs: int = 0


def feed(rt: Triage, files: list[bytes], *, seed: int = 0) -> Tally:
    """Every file through `accept_email` (every fourth by SMTP with an envelope), then drain with a worker."""
    from sqlalchemy import select

    from triage.errors import TriageError
    from triage.flows.intake import SMTP as SMTP_SOURCE
    from triage.flows.intake import Envelope, accept_email
    from triage.inbox.tables import InboxItem

    tally = Tally(files=len(files))
    for i, raw in enumerate(files):
        ref = f"fuzz:{seed}:{i}:{mutator_of(i)}"
        by_smtp = i % 4 == 3
        envelope = Envelope(mail_from="" if mutator_of(i) == "bounce" else "fuzz-sender@example.com",
                            rcpt_tos=("support@larkspur.example",), peer="127.0.0.1") if by_smtp else None
        try:
            accepted = accept_email(rt.db, raw, source=SMTP_SOURCE if by_smtp else "file", ref=ref,
                                    envelope=envelope)
        except TriageError as exc:  # refused with a reason: the door's job
            tally.refused[type(exc).__name__] += 1
            continue
        except Exception as exc:
            tally.intake_crashes.append(f"{ref}: {type(exc).__name__}: {exc}"[:300])
            continue
        tally.stored += accepted.created
        tally.duplicates += not accepted.created

    worker = rt.worker("fuzz")
    worker.pipeline.suite.embed(["warm up"])  # the encoder loads on first use: not a row's time
    last = time.perf_counter()

    def timed(outcome: object) -> None:
        nonlocal last
        now = time.perf_counter()
        if now - last > tally.slowest:
            tally.slowest, tally.slowest_ref = now - last, str(getattr(outcome, "inbox_id", ""))
        tally.hangs += now - last > HANG_SECONDS
        last = now

    while len(tally.crashes) < MAX_CRASHES:
        try:
            worker.drain(on_outcome=timed)
            break
        except Exception as exc:  # the row stays pending and is tried again, until it is quarantined
            tally.crashes.append(f"{type(exc).__name__}: {exc}"[:300])
            last = time.perf_counter()
    with rt.db.session() as session:
        for item in session.scalars(select(InboxItem)):
            tally.statuses[item.status] += 1
            if item.status == "failed":
                tally.errors[(item.error or "").split(":", 1)[0]] += 1
                tally.failed.append((item.source_ref, item.error or ""))
            if str(item.id) == tally.slowest_ref:
                tally.slowest_ref = item.source_ref
    return tally


def run(n: int = 600, seed: int = 14, models_path: Path | None = None) -> list[Row]:
    """The corpus through a fresh SQLite runtime; `models_path` reuses trained models instead of training."""
    if models_path is None:
        from training.registry import Registry
        from training.train import train_baselines

        models_path = Path(tempfile.mkdtemp(prefix="triage-bench-models-"))
        train_baselines(Registry(models_path))
    files = corpus(n, seed)
    rt = temp_runtime(models_path=models_path)
    try:
        start = time.perf_counter()
        tally = feed(rt, files, seed=seed)
        seconds = time.perf_counter() - start
    finally:
        rt.db.dispose()
    refused = sum(tally.refused.values())
    crashed = len(tally.crashes) + len(tally.intake_crashes) + tally.hangs
    top = ", ".join(f"{k}:{v}" for k, v in tally.errors.most_common(3))
    case = "fuzzed MIME: "
    return [
        Row(NAME, case + "files", float(n), "files", note=f"{len(MUTATORS)} mutations, seed {seed}, {seconds:.0f} s"),
        Row(NAME, case + "refused at intake", float(refused), "files",
            note=", ".join(f"{k}:{v}" for k, v in tally.refused.most_common()) or ""),
        Row(NAME, case + "stored", float(tally.stored), "rows",
            note=f"{tally.duplicates} duplicates of an earlier file (same Message-ID, or same content without one)"),
        Row(NAME, case + "processed (done)", float(tally.statuses["done"]), "rows"),
        Row(NAME, case + "orphan", float(tally.statuses["orphan"]), "rows", note="no sender at all: kept for a person"),
        Row(NAME, case + "failed", float(tally.statuses["failed"]), "rows", note=top),
        Row(NAME, case + "quarantined", float(tally.statuses["quarantined"]), "rows"),
        Row(NAME, case + "still pending", float(tally.statuses["pending"]), "rows"),
        Row(NAME, case + "crashed", float(crashed), "count",
            note="; ".join([*tally.intake_crashes, *tally.crashes][:2]) or
            f"nothing escaped intake or the worker; no row over {HANG_SECONDS:.0f} s"),
        Row(NAME, case + "largest time per row", tally.slowest * 1000, "ms", note=tally.slowest_ref),
    ]
