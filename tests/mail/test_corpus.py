"""mail.parse on the hand-written corpus (tests/fixtures/mail) and on the public fixtures in ../shared/data.

Every corpus fixture has its expectations here (and a line in tests/fixtures/mail/README.md); the real-world
fixtures must parse without raising and give text, or be listed with the reason they have none. Mutated copies
of the corpus (bytes flipped, inserted, deleted, cut off) must never make parse_email or email_dedup_key raise.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mail.parse import ParsedEmail, email_dedup_key, parse_email

ROOT = Path(__file__).resolve().parents[2]
CORPUS_DIR = ROOT / "tests" / "fixtures" / "mail"
CORPUS = sorted(CORPUS_DIR.glob("*.eml"))
SHARED = ROOT.parent / "shared" / "data" / "email_fixtures"


@dataclass(frozen=True)
class Expect:
    present: tuple[str, ...] = ()  # substrings of `text`
    absent: tuple[str, ...] = ()  # must not be in `text` (but are in `full_text` unless noted)
    auto_kind: str | None = None
    attachments: tuple[str, ...] = ()  # content types, in order
    empty: str = ""  # why `text` is empty, when it is
    absent_everywhere: tuple[str, ...] = ()  # in neither text nor full_text


SUPPORT_LINE = "Larkspur Support <support@larkspur.example>"
EXPECT: dict[str, Expect] = {
    "01-quote-en-gmail-wrapped.eml": Expect(("the remote control is missing",), ("wrote:", "has shipped and")),
    "02-quote-de-am-schrieb.eml": Expect(("Der Heizlüfter ist heute angekommen",), ("schrieb", "Vielen Dank")),
    "03-quote-fr-le-a-ecrit-wrapped.eml": Expect(("Le moulin ne s’allume toujours pas", "Je souhaite un échange."),
                                                 ("écrit", "Avez-vous essayé")),
    "04-quote-es-el-escribio.eml": Expect(("¿Cuándo recibiré el reembolso?",), ("escribió", "plazo de 30 días")),
    "05-quote-nl-op-schreef.eml": Expect(("Kunt u de vervoerder bellen?",), ("schreef", "onderweg")),
    "06-quote-it-il-ha-scritto.eml": Expect(("il purificatore fa ancora rumore",), ("ha scritto", "Provi a")),
    "07-quote-pt-em-escreveu.eml": Expect(("O código de rastreio não funciona",), ("escreveu", "LK123456789PT")),
    "08-quote-sv-den-skrev.eml": Expect(("Fakturan har fel momsnummer",), ("skrev", "Här är er faktura")),
    "09-quote-da-skrev-without-opener.eml": Expect(("bytte kanden til den grå model",), ("skrev", "Hvilken farve")),
    "10-quote-pl-w-dniu-pisze.eml": Expect(("numer mieszkania to 14/5",), ("pisze:", "Przesyłamy fakturę")),
    "11-quote-ja-gmail.eml": Expect(("まだエラーE3が表示されます",), ("2026年11月9日", "フィルターを交換してください")),
    "12-quote-outlook-original-message.eml": Expect(("Please escalate this.", "Liam"),
                                                    ("Original Message", "We have issued your refund")),
    "13-quote-outlook-german-block.eml": Expect(("Sendungsnummer lautet 00340434161234567890",),
                                                ("Von:", "Gesendet:", "Bitte senden Sie", "____")),
    "14-quote-outlook-french-block.eml": Expect(("j’attends le nouveau moulin",), ("De :", "Envoyé :", "moulin neuf")),
    "15-quote-bottom-posted.eml": Expect(("I will refuse the parcel",), ("wrote:", "already shipped")),
    "16-quote-inline-answers.eml": Expect(("The sand colour, please.", "No, to Flat 3, 12 Orchard Mews"),
                                          ("Which colour", "same address", "wrote:")),
    "17-quote-look-alikes-kept.eml": Expect(("On Monday I tried to reset", "On the login page it says:",
                                             "From: my laptop and my phone", "On 3 attempts I waited", "Emily")),
    "18-quote-yahoo-dashes.eml": Expect(("switch me to the yearly plan",), ("--- On", "switch plans at any time")),
    "19-html-gmail-quote.eml": Expect(("The replacement is cracked too.",), ("wrote:", "A replacement is on its way")),
    "20-html-outlook-divrplyfwdmsg.eml": Expect(("Please use our new company name",),
                                                ("From:", "Which name should we put")),
    "21-html-outlook-border-top-german.eml": Expect(("Die Rechnung fehlt noch immer.",), ("Von:", "Anbei Ihre")),
    "22-html-apple-blockquote-cite.eml": Expect(("My flight leaves tomorrow.",), ("wrote:", "We have unlocked")),
    "23-html-thunderbird-moz-cite-bottom.eml": Expect(("Yes, please delete it",), ("wrote:", "Do you want us")),
    "24-html-gmail-forward-kept.eml": Expect(("This was charged twice", "Forwarded message",
                                              "Total charged: £89.99")),
    "25-sig-rfc-delimiter.eml": Expect(("My card was declined twice",), ("Grant & Co. Interiors", "+44 20")),
    "26-sig-sent-from-samsung.eml": Expect(("in transit' for nine days",), ("Sent from my Samsung",)),
    "27-sig-envoye-de-mon-iphone.eml": Expect(("reçu mon remboursement",), ("Envoyé de mon iPhone",)),
    "28-sig-get-outlook-ios.eml": Expect(("Cancel my Plus membership today.",), ("Get Outlook",)),
    "29-sig-blackberry.eml": Expect(("Refund my heater order LH-104812.",), ("BlackBerry",)),
    # `text` keeps a sign-off and the name below it (tests/mail/test_parse.py pins that); the details go.
    "30-sig-signoff-contact-block.eml": Expect(("deliver 20 Cirrus purifiers", "Thanks,\nMaria Jensen"),
                                               ("Head of Operations", "+44 161", "www.brightwater")),
    "31-sig-mfg-german.eml": Expect(("erneut zu.", "Mit freundlichen Grüßen\nHans Müller"),
                                    ("Geschäftsführer", "GmbH", "+49 30")),
    "32-sig-signoff-in-the-middle.eml": Expect(("Thanks,\nHannah", "the lid does not close properly",
                                                "Please let me know which option works for you.")),
    "33-sig-von-meinem-iphone.eml": Expect(("am Freitag ab.",), ("Von meinem iPhone", "schrieb", "abholen?")),
    "34-fwd-message-rfc822.eml": Expect(("charged twice for this order", "---------- Forwarded message ----------",
                                         "From: Larkspur Home <orders@larkspur.example>",
                                         "Subject: Your receipt for LH-105512", "Your receipt is attached."),
                                        attachments=("application/pdf",), absent_everywhere=("%PDF",)),
    "35-fwd-inline-gmail.eml": Expect(("Charged twice for this one.", "Forwarded message",
                                       "Total charged: £89.99")),
    "36-fwd-apple-begin-forwarded.eml": Expect(("the courier says you gave them the wrong address",
                                                "Begin forwarded message:", "address not found"),
                                               ("Sent from my iPhone",)),
    "37-fwd-outlook-fw-subject.eml": Expect(("FYI", "From: Swift Couriers", "nobody was at the loading bay")),
    "38-fwd-long-note-cuts-forward.eml": Expect(("Please call me on the office number",),
                                                ("Forwarded message", "We tried to deliver your parcel.")),
    "39-mime-nested-inline-image.eml": Expect(("The side brush broke after a week",),
                                              attachments=("image/png", "application/pdf"),
                                              absent_everywhere=("<img", "<div>")),
    "40-mime-missing-final-boundary.eml": Expect(("stopped charging after three months",)),
    "41-mime-wrong-boundary.eml": Expect(("Order LH-105601 never arrived.",),
                                         absent_everywhere=("--actual", "Content-Type")),
    "42-charset-mislabelled.eml": Expect(("montant 89,90 € – réglé le 3 novembre",)),
    "43-header-8bit-raw.eml": Expect(("Wann wird mein Heizlüfter geliefert?",)),
    "44-qp-soft-breaks.eml": Expect(("log in again every single morning, which is a bit annoying",
                                     "The price was €249")),
    "45-base64-body.eml": Expect(("waterproof enough for the shower",)),
    "46-bounce-dsn.eml": Expect(("Your message could not be delivered",),
                                ("Status: 5.1.1", "We have received your message."), auto_kind="bounce"),
    "47-arf-complaint.eml": Expect(("email abuse report",), ("Feedback-Type", "Your ticket has been updated."),
                                   auto_kind="complaint"),
    "48-ooo-auto-reply.eml": Expect(("out of the office until 16 November",), auto_kind="auto_reply"),
    "49-mailing-list.eml": Expect(("compare air purifiers",), ("mailing list", "listinfo"), auto_kind="bulk"),
    "50-calendar-invite.eml": Expect(("Tuesday at 10:00",), attachments=("text/calendar",),
                                     absent_everywhere=("BEGIN:VCALENDAR",)),
    "51-winmail-dat.eml": Expect(("details attached",), attachments=("application/ms-tnef",)),
    "52-attachment-only.eml": Expect(attachments=("application/pdf",),
                                     empty="only a PDF attachment, no text part"),
}


def _check(parsed: ParsedEmail) -> None:
    assert isinstance(parsed, ParsedEmail)
    for value in (parsed.subject, parsed.from_name, parsed.from_address, parsed.full_text, parsed.text):
        assert isinstance(value, str)
        value.encode("utf-8")  # storable: no lone surrogates from undecodable bytes


def _key_ok(raw: bytes) -> None:
    key = email_dedup_key(raw)
    assert key.startswith(("mid:", "sha256:")) and len(key) <= 600


def test_every_corpus_fixture_has_expectations_and_a_readme_line() -> None:
    assert len(CORPUS) >= 40
    assert {p.name for p in CORPUS} == set(EXPECT)
    readme = (CORPUS_DIR / "README.md").read_text(encoding="utf-8")
    assert all(f"`{p.name}`" in readme for p in CORPUS)


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name[:2])
def test_corpus_fixture(path: Path) -> None:
    expect = EXPECT[path.name]
    raw = path.read_bytes()
    parsed = parse_email(raw)
    _check(parsed)
    _key_ok(raw)
    assert parsed.from_address
    assert (parsed.message_id or "").startswith(f"corpus-{path.name[:2]}@")
    if expect.empty:
        assert parsed.text == ""
    else:
        assert parsed.text.strip()
    for fragment in expect.present:
        assert fragment in parsed.text
    for fragment in expect.absent:
        assert fragment not in parsed.text
        assert fragment in parsed.full_text
    for fragment in expect.absent_everywhere:
        assert fragment not in parsed.text and fragment not in parsed.full_text
    assert parsed.auto_kind == expect.auto_kind
    assert tuple(a.content_type for a in parsed.attachments) == expect.attachments


def test_forwarded_message_attachment_is_listed_with_its_name() -> None:
    parsed = parse_email((CORPUS_DIR / "34-fwd-message-rfc822.eml").read_bytes())
    (att,) = parsed.attachments
    assert att.filename == "receipt-LH-105512.pdf" and att.data.startswith(b"%PDF")


def test_inline_image_is_marked_inline() -> None:
    parsed = parse_email((CORPUS_DIR / "39-mime-nested-inline-image.eml").read_bytes())
    assert [(a.filename, a.inline) for a in parsed.attachments] == [("brush.png", True), ("warranty.pdf", False)]


def test_recovered_boundary_is_noted() -> None:
    parsed = parse_email((CORPUS_DIR / "41-mime-wrong-boundary.eml").read_bytes())
    assert any("boundary" in note for note in parsed.notes)


def test_mislabelled_charset_is_noted() -> None:
    parsed = parse_email((CORPUS_DIR / "42-charset-mislabelled.eml").read_bytes())
    assert "text/plain body: decoded as cp1252" in parsed.notes


# -- real-world fixtures -----------------------------------------------------------------------------------------

# Fixtures that have no text to give, and why.
REAL_WORLD_EMPTY = {
    "flanker/outlook-express.eml": "the whole message is one application/octet-stream attachment",
    "flanker/signed.eml": "the signed content is labelled application/plain, so it is kept as an attachment",
    "flanker/false-multipart.eml": "declared multipart/alternative with no body at all",
    "talon/signature/emails/stripped/camel_case_sender": "an empty file (talon: no sender known for this body)",
    "talon/signature/emails/stripped/camel_case_signature": "an empty file (talon: this body has no signature)",
}


def _as_message(path: Path) -> bytes:
    """Body-only fixtures (.txt, .html, talon signature files) wrapped in a minimal message."""
    data = path.read_bytes()
    if path.suffix == ".eml":
        return data
    subtype = "html" if path.suffix == ".html" else "plain"
    return (f"From: a@example.com\nSubject: fixture\nContent-Type: text/{subtype}; charset=utf-8\n"
            "Content-Transfer-Encoding: base64\n\n").encode() + base64.encodebytes(data)


REAL_WORLD = sorted(p for p in SHARED.rglob("*") if p.is_file() and p.name != "SOURCE.md") if SHARED.is_dir() else []
REAL_WORLD_PARAMS = [pytest.param(p, id=str(p.relative_to(SHARED))) for p in REAL_WORLD] or [
    pytest.param(None, marks=pytest.mark.skip(reason=f"{SHARED} not found: the shared fixtures are not installed"))]


@pytest.mark.parametrize("path", REAL_WORLD_PARAMS)
def test_real_world_fixture_parses_and_gives_text(path: Path) -> None:
    raw = _as_message(path)
    parsed = parse_email(raw)
    _check(parsed)
    _key_ok(raw)
    name = str(path.relative_to(SHARED))
    if name in REAL_WORLD_EMPTY:
        assert parsed.text == ""
    else:
        assert parsed.text.strip(), "empty text: add the fixture to REAL_WORLD_EMPTY with the reason"


def test_real_world_forwarded_message_gets_a_separator() -> None:
    path = SHARED / "flanker" / "enclosed.eml"
    if not path.exists():
        pytest.skip(f"{SHARED} not found: the shared fixtures are not installed")
    parsed = parse_email(path.read_bytes())
    assert "---------- Forwarded message ----------\nFrom: Kirk Douglas <dan@example.com>" in parsed.full_text
    assert "you're kicking ass" in parsed.text


# -- mutated corpus ----------------------------------------------------------------------------------------------

CORPUS_BYTES = [p.read_bytes() for p in CORPUS]
PIECES = [b"\n", b"\r\n\r\n", b"\n--", b"--", b"boundary=", b"Content-Type: multipart/mixed; boundary=x\n",
          b"Content-Transfer-Encoding: base64\n", b"=?utf-8?b?", b"?=", b"=\n", b"=FF", b">", b"\x00", b"\xff",
          b"\xc3", b"<blockquote type=\"cite\">", b"<div class=\"gmail_quote\">", b"</div>", b"<hr>",
          b"On Mon, 9 Nov 2026 at 10:00, A <a@example.com> wrote:\n", b"-- \n", b"Sent from my iPhone\n",
          b"---------- Forwarded message ---------\n", b"From: x\nSent: y\nTo: z\n", b"charset=\"", b"message/rfc822"]


@st.composite
def mutated_fixture(draw: st.DrawFn) -> bytes:
    raw = bytearray(draw(st.sampled_from(CORPUS_BYTES)))
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        if not raw:
            break
        pos = draw(st.integers(min_value=0, max_value=len(raw) - 1))
        op = draw(st.sampled_from(["flip", "insert", "piece", "delete", "truncate"]))
        if op == "flip":
            raw[pos] ^= 1 << draw(st.integers(min_value=0, max_value=7))
        elif op == "insert":
            raw[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif op == "piece":
            raw[pos:pos] = draw(st.sampled_from(PIECES))
        elif op == "delete":
            del raw[pos : pos + draw(st.integers(min_value=1, max_value=64))]
        else:
            del raw[pos:]
    return bytes(raw)


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_fixture())
def test_mutated_corpus_never_raises(raw: bytes) -> None:
    _check(parse_email(raw))
    _key_ok(raw)
