"""mail.parse on the bundled sample emails and on hostile input: decoding, body choice, quotes, dedup keys."""

from __future__ import annotations

import base64
import encodings.aliases
import hashlib
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mail.parse import ParsedEmail, _decode_bytes, clean_text, email_dedup_key, parse_email, strip_quotes

EMAILS = Path(__file__).resolve().parents[2] / "triage" / "samples" / "emails"
SAMPLES = sorted(EMAILS.glob("*.eml"))
# No example database: the tests must not write into the working tree.
FUZZ = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
TAG = re.compile(r"</?(?:html|head|body|div|p|br|span|ul|ol|li|table|thead|tr|td|th|a|b|i|blockquote)\b[^>]*>", re.I)


def sample(prefix: str) -> bytes:
    (path,) = EMAILS.glob(f"{prefix}-*.eml")
    return path.read_bytes()


def parse_sample(prefix: str) -> ParsedEmail:
    return parse_email(sample(prefix))


def test_all_samples_are_present() -> None:
    assert len(SAMPLES) == 47


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name[:2])
def test_every_sample_parses_cleanly(path: Path) -> None:
    parsed = parse_email(path.read_bytes())
    assert re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]+", parsed.from_address)
    assert parsed.text.strip()
    assert parsed.subject and "=?" not in parsed.subject and "\n" not in parsed.subject
    assert "=?" not in parsed.from_name
    assert parsed.date is not None and parsed.date.year == 2026
    assert "\ufffd" not in parsed.text + parsed.subject + parsed.from_name
    assert not TAG.search(parsed.text)
    # The samples are well formed: no charset had to be guessed and no header was unreadable.
    assert parsed.notes == []


def test_sample_dedup_keys_are_distinct() -> None:
    keys = [email_dedup_key(p.read_bytes()) for p in SAMPLES]
    assert len(set(keys)) == len(keys)


LEGACY_CHARSETS = [
    # prefix, subject, display name, characters that only survive a correct decode
    ("03", "Prośba o fakturę VAT do zamówienia LH-104377", "Tomasz Nowak",
     ["Dzień dobry", "zeszłym", "dołączony", "księgowość", "Z poważaniem", "odpowiedź"]),
    ("05", "Cirrus空気清浄機の交換フィルターについて", "田中 愛子",
     ["サポート担当者様", "交換フィルター", "注文番号 LH-103958", "田中 愛子"]),
    ("06", "Re: Cirrus空気清浄機の交換フィルターについて", "田中 愛子",
     ["純正の交換フィルター", "「E3」", "よろしくお願いいたします。"]),
    ("07", "DRINGEND: Ember Heizlüfter riecht verbrannt", "Hans Müller",
     ["Heizlüfter", "bräunliche Verfärbung", "Rückrufaktion", "Mit freundlichen Grüßen"]),
    ("08", "Re: DRINGEND: Ember Heizlüfter riecht verbrannt", "Hans Müller",
     ["Rückmeldung", "Ein Ersatzgerät wäre uns lieber"]),
    ("09", "Échange du moulin à café Brio (commande LH-104618)", "Jean Dupont",
     ["J'ai reçu mon moulin à café", "« fin »", "d'elle-même"]),
    ("10", "Re: Échange du moulin à café Brio (commande LH-104618)", "Jean Dupont",
     ["89,90 €", "j’ai finalement opté", "Ma sœur", "“Remboursement effectué”", "perdre patience…"]),
    ("42", "Rechnung für Bestellung LH-105020", "Hans Müller", ["Übersetzungsbüro Müller", "Lindenstraße 8"]),
]


@pytest.mark.parametrize(("prefix", "subject", "name", "expected"), LEGACY_CHARSETS,
                         ids=[c[0] for c in LEGACY_CHARSETS])
def test_non_ascii_samples_decode(prefix: str, subject: str, name: str, expected: list[str]) -> None:
    parsed = parse_sample(prefix)
    assert parsed.subject == subject
    assert parsed.from_name == name
    for fragment in expected:
        assert fragment in parsed.text


def test_folded_subject_is_unfolded() -> None:
    parsed = parse_sample("36")
    assert parsed.subject == (
        "Return request for Ember space heater (order LH-104812) - wrong plug type for my country, box still"
        " sealed, would prefer an exchange for the EU version if you have one"
    )


def test_headers_of_a_reply() -> None:
    parsed = parse_sample("08")
    assert parsed.message_id == "20261111080500.849ce125015a@mail.example.com"
    assert parsed.in_reply_to and parsed.in_reply_to.endswith(".support@larkspur.example")
    assert parsed.references[0] == "20261109195200.452c6bbccb21@mail.example.com"
    assert len(parsed.references) == 2
    assert parsed.to == ["support@larkspur.example"]
    assert parse_sample("33").cc == ["billing@larkspur.example"]
    assert parse_sample("11").from_name == "Liam O'Brien"


# -- HTML ------------------------------------------------------------------------------------------

def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()]


def test_html_only_mail_becomes_readable_text() -> None:
    text = parse_sample("18").text
    assert not TAG.search(text)
    lines = _lines(text)
    assert "* I found out my partner has already bought the same grinder as a surprise, and" in lines
    assert "* the pitchers were only meant to go with it as a set." in lines
    assert "https://larkspur.example/account/orders/LH-104655" in text
    assert "£134.97" in text and "hasn't gone out yet" in text  # entities decoded
    assert "Thanks," in lines and "Sam Whitaker" in lines  # <br> is a line break
    assert re.search(r"Brio coffee grinder \(matte black\)\s+1\s+£74\.99", text)  # table row kept on one line


def test_html_ordered_list_and_entities() -> None:
    text = parse_sample("20").text
    lines = _lines(text)
    assert "1. Do you deliver all the way up to Tromsø, or only to southern Norway?" in lines
    assert any(line.startswith("5. If I need to return something") for line in lines)
    assert "Tusen takk," in lines and "Ingrid Solberg" in lines
    text = parse_sample("24").text
    assert "Herzliche Grüße," in _lines(text)
    assert "https://larkspur.example/products/fjord-pitcher#reviews" in text
    assert "https://larkspur.example/plus" in parse_sample("19").text
    assert "€6.99 / month" in parse_sample("19").text


@pytest.mark.parametrize("prefix", ["13", "15", "16", "22", "23", "34", "41", "44"])
def test_multipart_alternative_uses_the_plain_part_once(prefix: str) -> None:
    parsed = parse_sample(prefix)
    first_line = parsed.text.splitlines()[0]
    assert parsed.full_text.count(first_line) == 1
    assert not TAG.search(parsed.full_text)


# -- attachments ------------------------------------------------------------------------------------

def _attachment_bytes(raw: bytes, filename: str) -> bytes:
    """The base64 body of the part named `filename`, read straight from the file (not via mail.parse)."""
    text = raw.decode("ascii").replace("\r\n", "\n")
    after = text.split(f'filename="{filename}"', 1)[1]
    body = after.split("\n\n", 1)[1].split("\n--", 1)[0]
    return base64.b64decode("".join(body.split()))


ATTACHMENTS = [
    ("25", "Screenshot_2026-11-10-20-58.png", "image/png", b"\x89PNG\r\n\x1a\n"),
    ("26", "receipt-LH-102987.pdf", "application/pdf", b"%PDF-"),
    ("27", "brightwater-november-orders.csv", "text/csv", b"order_number,order_date"),
    ("28", "larkspur-diagnostics.txt", "text/plain", b"Larkspur app diagnostics export"),
    ("44", "gale-side-brush.png", "image/png", b"\x89PNG\r\n\x1a\n"),
]


@pytest.mark.parametrize(("prefix", "filename", "ctype", "magic"), ATTACHMENTS, ids=[a[0] for a in ATTACHMENTS])
def test_attachment_metadata(prefix: str, filename: str, ctype: str, magic: bytes) -> None:
    raw = sample(prefix)
    data = _attachment_bytes(raw, filename)
    assert data.startswith(magic)
    (att,) = parse_email(raw).attachments
    assert (att.filename, att.content_type, att.size, att.inline) == (filename, ctype, len(data), False)
    assert att.sha256 == hashlib.sha256(data).hexdigest()
    assert att.as_dict()["sha256"] == att.sha256


@pytest.mark.parametrize(("prefix", "filename", "ctype", "magic"), ATTACHMENTS, ids=[a[0] for a in ATTACHMENTS])
def test_attachment_content_does_not_leak_into_text(prefix: str, filename: str, ctype: str, magic: bytes) -> None:
    raw = sample(prefix)
    parsed = parse_email(raw)
    encoded = base64.b64encode(_attachment_bytes(raw, filename)).decode()[:24]
    for body in (parsed.text, parsed.full_text):
        assert encoded not in body
        assert magic.decode("latin-1") not in body


def test_text_attachment_is_not_taken_as_the_body() -> None:
    parsed = parse_sample("28")
    assert parsed.text.startswith("Hi,\n\nMy Aurora smart lamp")
    assert "auth_timeout" not in parsed.full_text
    assert "LH-105163" not in parse_sample("27").full_text  # a CSV row


# -- quotes and signatures ------------------------------------------------------------------------------

REPLIES = [
    # prefix, what the customer wrote this time (kept), what only the history has (stripped from text)
    ("02", "So now I've paid €49.99", ["On Mon, 2 Nov 2026 at 09:14, Maria Jensen", "> I ordered an Aurora"]),
    ("04", "One correction: the flat number is 14/5", ["On Wed, 4 Nov 2026 at 11:05", "> Dzień dobry"]),
    ("08", "Reicht ein stabiler Umzugskarton?",
     ["Am Di., 10. Nov. 2026 um 14:03 Uhr schrieb Larkspur Support", "Sehr geehrter Herr Müller",
      ">> Guten Abend"]),
    ("10", "Le montant attendu est de 89,90 €", ["a écrit :", "> Bonjour"]),
    ("12", "there's now a THIRD charge", ["-----Original Message-----", "Sent: Thursday, November 12, 2026",
                                          "Could you refund the duplicate"]),
    ("14", "My bank's fraud reference is FR-2611-0387",
     ["On Mon, 16 Nov 2026 at 09:47, Larkspur Support", "Kenji Watanabe", ">> About twenty minutes ago"]),
    ("22", "the front panel is CRACKED", ["On Sat, 14 Nov 2026 at 11:02", "> I have had ENOUGH."]),
    ("34", "Registered address: 9 Ropewalk Yard", ["-----Original Message-----", "From: Larkspur Support",
                                                   "Sent: Monday, November 23, 2026 4:10 PM",
                                                   "I'd be happy to update the company details"]),
    ("39", "the sand colour would be perfect", ["Larkspur Support <support@larkspur.example> wrote:",
                                                "> Thanks for getting in touch"]),
]


@pytest.mark.parametrize(("prefix", "kept", "history"), REPLIES, ids=[r[0] for r in REPLIES])
def test_quoted_history_is_stripped_from_text_but_kept_in_full_text(prefix: str, kept: str,
                                                                    history: list[str]) -> None:
    parsed = parse_sample(prefix)
    assert kept in parsed.text
    for fragment in history:
        assert fragment not in parsed.text
        assert fragment in parsed.full_text
    assert not any(line.startswith(">") for line in parsed.text.splitlines())


def test_plain_words_that_look_like_quote_markers_are_kept() -> None:
    text = parse_sample("12").text  # "On Monday I tried your chat" is not an "On ... wrote:" header
    assert "On Monday I tried your chat" in text
    assert text.endswith("Liam O'Brien\nACC-55231")


SIGNATURES = [
    ("01", "Thanks,\nMaria", "Sent from my iPhone"),
    ("11", "Thanks,\nLiam O'Brien", "Get Outlook for Android"),
    ("17", "Thank you so much,\nGrace", "Sent from my iPhone"),
    ("30", "Thank you,\nPriya", "-- \nPriya Sharma\npriya.sharma@example.com"),
    ("31", "Regards,\nFelix Schneider", "-- \nFelix Schneider\nLeipzig, Germany"),  # CRLF file
    ("37", "Victor Almeida\nOrder LH-104812", "Sent from my iPhone"),
    ("40", "Cheers,\nSam", "-- \nSam Whitaker"),
]


@pytest.mark.parametrize(("prefix", "ending", "signature"), SIGNATURES, ids=[s[0] for s in SIGNATURES])
def test_signature_is_stripped_from_text_but_kept_in_full_text(prefix: str, ending: str, signature: str) -> None:
    parsed = parse_sample(prefix)
    assert parsed.text.endswith(ending)
    assert signature.splitlines()[0].strip() not in parsed.text.splitlines()
    assert signature in parsed.full_text.replace("\r\n", "\n")


def test_outlook_header_block_without_original_message_line() -> None:
    body = ("Please cancel it.\n\nAnna\n\n"
            "From: Larkspur Support <support@larkspur.example>\nSent: Monday, November 23, 2026 4:10 PM\n"
            "To: Anna <anna@example.com>\nSubject: Your order\n\nWe have received your order.\n")
    assert strip_quotes(body) == "Please cancel it.\n\nAnna"
    # A "From:" line in the customer's own words, without a Sent:/Date: line after it, is not a quote.
    own = "From: my office in Leeds\nI still have no parcel.\n"
    assert strip_quotes(own) == own.rstrip()


def test_german_quote_header_and_signature_through_parse(make_email) -> None:
    raw = make_email(body=(
        "Bitte stornieren Sie die Bestellung.\n\nVon meinem iPhone gesendet\n\n"
        "Am 12.11.2026 um 09:00 schrieb Larkspur Support <support@larkspur.example>:\n"
        "> Ihre Bestellung wurde versandt.\n"
    ))
    parsed = parse_email(raw)
    assert parsed.text == "Bitte stornieren Sie die Bestellung."
    assert "schrieb Larkspur Support" in parsed.full_text
    assert "Von meinem iPhone gesendet" in parsed.full_text


def test_a_message_that_is_only_a_quote_keeps_its_text() -> None:
    body = "On Mon, 2 Nov 2026 at 09:14, Maria <m@example.com> wrote:\n> Where is my lamp?\n"
    assert clean_text(body) == body.strip()


# -- dedup keys ---------------------------------------------------------------------------------------------

RECEIVED = (b"Received: from mx2.example.net (mx2.example.net [192.0.2.7])\n\tby mx.larkspur.example with ESMTPS;"
            b" Sat, 21 Nov 2026 09:02:07 +0100\nDelivered-To: support@larkspur.example\n")


def test_dedup_key_is_the_message_id() -> None:
    raw = sample("01")
    assert email_dedup_key(raw) == "mid:20261102091400.1e114df5dc75@mail.example.com"
    assert email_dedup_key(RECEIVED + raw) == email_dedup_key(raw)
    assert email_dedup_key(raw) == f"mid:{parse_email(raw).message_id}"


def test_dedup_key_without_message_id_hashes_the_content() -> None:
    raw = sample("35")
    key = email_dedup_key(raw)
    assert parse_email(raw).message_id is None
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", key)
    assert email_dedup_key(raw) == key
    # The same message with transit headers added, or received over SMTP with CRLF line endings.
    assert email_dedup_key(RECEIVED + raw) == key
    assert email_dedup_key(RECEIVED.replace(b"\n", b"\r\n") + raw.replace(b"\n", b"\r\n")) == key
    # A different message from the same sender with the same subject and date is not a duplicate.
    assert email_dedup_key(raw.replace(b"9 days", b"10 days")) != key
    assert email_dedup_key(raw.replace(b"noah.becker@", b"noah.b@")) != key


# -- hostile input ------------------------------------------------------------------------------------------

def _check(parsed: ParsedEmail) -> None:
    assert isinstance(parsed, ParsedEmail)
    for value in (parsed.subject, parsed.from_name, parsed.from_address, parsed.full_text, parsed.text):
        assert isinstance(value, str)
    assert all(isinstance(note, str) for note in parsed.notes)


def _key_ok(raw: bytes) -> None:
    key = email_dedup_key(raw)
    assert key.startswith(("mid:", "sha256:")) and len(key) <= 600


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes_never_raise(raw: bytes) -> None:
    _check(parse_email(raw))
    _key_ok(raw)


HEADER_NAMES = ["From", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References", "Content-Type",
                "Content-Disposition", "Content-Transfer-Encoding", "Auto-Submitted"]
HEADER_PIECES = [b"<", b">", b"@", b'"', b"(", b")", b",", b";", b":", b"=?", b"?=", b"=?utf-8?q?", b"=?x?b?", b"\\",
                 b" ", b"\t", b"\n ", b"\xff", b"\xc3", b"\x00", b"a", b"multipart/mixed", b"boundary=", b"charset=",
                 b"filename*=", b"''", b"%FF", b"text/html", b"base64", b"[", b"]", b".", b"--"]


@settings(FUZZ, max_examples=400)
@given(st.lists(st.tuples(st.sampled_from(HEADER_NAMES), st.lists(st.sampled_from(HEADER_PIECES), max_size=10)),
                max_size=6),
       st.binary(max_size=300))
def test_malformed_headers_never_raise(headers: list[tuple[str, list[bytes]]], body: bytes) -> None:
    raw = b"".join(name.encode() + b": " + b"".join(value) + b"\n" for name, value in headers) + b"\n" + body
    _check(parse_email(raw))
    _key_ok(raw)


CODEC_NAMES = sorted({*encodings.aliases.aliases, *encodings.aliases.aliases.values(), "punycode", "undefined"})


@FUZZ
@given(st.binary(max_size=200), st.one_of(st.none(), st.sampled_from(CODEC_NAMES), st.text(max_size=12)))
def test_decode_bytes_never_raises(data: bytes, declared: str | None) -> None:
    notes: list[str] = []
    assert isinstance(_decode_bytes(data, declared, notes, where="body"), str)


@pytest.mark.parametrize("declared", ["x-unknown-charset", "hex", "rot13", "utf-7", "punycode", "undefined",
                                      "utf-8\x00"])
def test_decode_bytes_falls_back_from_a_hostile_charset_name(declared: str) -> None:
    notes: list[str] = []
    assert _decode_bytes("Grüße".encode("latin-1"), declared, notes, where="body") == "Grüße"
    assert notes[0].startswith("body: ") and repr(declared) in notes[0]
    assert notes[-1] == "body: decoded as cp1252"


NASTY = {
    "empty": b"",
    "only headers": b"From: a@example.com\nSubject: hi\n",
    "only headers and separator": b"From: a@example.com\r\nSubject: hi\r\n\r\n",
    "NUL bytes": b"\x00\x00\x00",
    "no header separator": b"this is not a header\nbody\n",
    "empty Message-ID": b"From: a@example.com\nMessage-ID: <>\n\nbody\n",
    "broken address": b"From: <\nTo: .,x.<.,y(z\n\nbody\n",
    "charset with NUL": b"From: a@example.com\nContent-Type: text/plain; charset=\"utf-8\x00\"\n\nbody\n",
    "punycode charset": b"From: a@example.com\nContent-Type: text/plain; charset=punycode\n\nbody \xff\n",
    "bad base64": b"From: a@example.com\nContent-Transfer-Encoding: base64\n\n!!!!not base64===\n",
    "unknown transfer encoding": b"From: a@example.com\nContent-Transfer-Encoding: x-weird\n\nbody\n",
    "unterminated multipart": (b"From: a@example.com\nContent-Type: multipart/mixed; boundary=XYZ\n\n"
                               b"--XYZ\nContent-Type: text/plain\n\nbody\n"),
    "broken HTML": b"From: a@example.com\nContent-Type: text/html\n\n<html><body><<<>>><script>x</script><!-- x",
}


@pytest.mark.parametrize("raw", NASTY.values(), ids=NASTY.keys())
def test_nasty_messages_never_raise(raw: bytes) -> None:
    _check(parse_email(raw))
    _key_ok(raw)


def test_empty_and_header_only_messages() -> None:
    empty = parse_email(b"")
    assert (empty.text, empty.full_text, empty.from_address, empty.message_id) == ("", "", "", None)
    parsed = parse_email(NASTY["only headers"])
    assert (parsed.subject, parsed.from_address, parsed.text) == ("hi", "a@example.com", "")
    assert email_dedup_key(NASTY["only headers"]) != email_dedup_key(b"")


def test_malformed_message_id_is_noted_not_fatal() -> None:
    parsed = parse_email(NASTY["empty Message-ID"])
    assert parsed.message_id is None
    assert parsed.text == "body"
    assert any("Message-ID" in note for note in parsed.notes)
    assert email_dedup_key(NASTY["empty Message-ID"]).startswith("sha256:")


def test_unknown_charset_falls_back_with_a_note() -> None:
    raw = b"From: a@example.com\nContent-Type: text/plain; charset=x-unknown-charset\n\nHall\xf6 W\xfcrld\n"
    parsed = parse_email(raw)
    assert parsed.text == "Hallö Würld"
    assert "text/plain body: unknown charset 'x-unknown-charset'" in parsed.notes
    assert any("decoded as" in note for note in parsed.notes)


def test_mislabelled_utf8_is_decoded_with_a_fallback_and_a_note() -> None:
    raw = (b"From: a@example.com\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
           + "Grüße aus München, 20 €".encode("cp1252"))
    parsed = parse_email(raw)
    assert parsed.text == "Grüße aus München, 20 €"
    assert "text/plain body: bytes invalid for charset 'utf-8'" in parsed.notes
    assert "text/plain body: decoded as cp1252" in parsed.notes


def test_unusable_charset_name_falls_back_to_the_body_not_the_raw_message() -> None:
    parsed = parse_email(NASTY["charset with NUL"])
    assert parsed.full_text == "body"
    assert any("unusable charset" in note for note in parsed.notes)


@pytest.mark.parametrize("content_type", [b'multipart/mixed; boundary="XYZ"', b"multipart/mixed"],
                         ids=["wrong boundary", "missing boundary"])
def test_multipart_without_a_usable_boundary_keeps_the_body(content_type: bytes) -> None:
    raw = (b"From: a@example.com\nSubject: broken\nContent-Type: " + content_type + b"\n\n"
           b"--ABC\nContent-Type: text/plain\n\nMy order LH-104233 never arrived.\n--ABC--\n")
    parsed = parse_email(raw)
    assert "My order LH-104233 never arrived." in parsed.text
    assert any("multipart" in note for note in parsed.notes)
    _key_ok(raw)


def test_deeply_nested_multipart_does_not_exhaust_the_stack() -> None:
    depth = 1500  # deeper than the standard library parser's recursion allows
    raw = (b"From: a@example.com\nContent-Type: multipart/mixed; boundary=B0\n\n"
           + b"".join(b"--B%d\nContent-Type: multipart/mixed; boundary=B%d\n\n" % (i, i + 1) for i in range(depth))
           + b"--B%d\nContent-Type: text/plain\n\nDeep down\n" % depth)
    parsed = parse_email(raw)
    assert parsed.from_address == "a@example.com"
    assert "Deep down" in parsed.full_text
    _key_ok(raw)


@pytest.mark.parametrize("charset", ["latin-1", "cp1252", "utf-8"])
def test_8bit_bytes_in_headers_are_recovered(charset: str) -> None:
    raw = ("From: Jürgen Groß <j@example.de>\nSubject: Grüße – Rückfrage\nContent-Type: text/plain\n\nbody\n"
           .replace("–", "-" if charset == "latin-1" else "–").encode(charset))
    parsed = parse_email(raw)
    assert parsed.from_name == "Jürgen Groß"
    assert parsed.from_address == "j@example.de"
    assert parsed.subject.startswith("Grüße ") and parsed.subject.endswith(" Rückfrage")
    assert "\ufffd" not in parsed.subject
    _key_ok(raw)


def test_rfc2047_encoded_words_decode(make_email) -> None:
    raw = make_email(sender="Jürgen Groß <j@example.de>", subject="Rückfrage zur Bestellung – 20 € zu viel")
    assert b"=?utf-8?" in raw  # the standard library really encoded them
    parsed = parse_email(raw)
    assert parsed.from_name == "Jürgen Groß"
    assert parsed.subject == "Rückfrage zur Bestellung – 20 € zu viel"

    raw = (b"From: =?iso-8859-1?q?Ren=E9e_L=F6we?= <renee@example.fr>\n"
           b"Subject: Re: =?utf-8?b?R3LDvMOfZQ==?= =?utf-8?q?_aus_K=C3=B6ln?= [LH-104233]\n\nbody\n")
    parsed = parse_email(raw)
    assert parsed.from_name == "Renée Löwe"
    # Whitespace between adjacent encoded words is not part of the text (RFC 2047 section 6.2).
    assert parsed.subject == "Re: Grüße aus Köln [LH-104233]"


def test_five_megabyte_body() -> None:
    paragraph = "My Aurora lamp flickers every evening and the app shows no error at all. " * 20 + "\n"
    body = paragraph * (5_000_000 // len(paragraph) + 1)
    raw = (b"From: a@example.com\nSubject: long\nContent-Type: text/plain; charset=utf-8\n\n" + body.encode()
           + b"\nOn Mon, 2 Nov 2026 at 09:14, Support <support@larkspur.example> wrote:\n> earlier reply\n")
    assert len(raw) > 5_000_000
    parsed = parse_email(raw)
    assert len(parsed.text) >= 5_000_000
    assert "earlier reply" in parsed.full_text and "earlier reply" not in parsed.text
    _key_ok(raw)


def test_nul_bytes_and_giant_ids_are_made_storable() -> None:
    from mail.parse import MAX_MSGID, email_dedup_key, parse_email

    giant = "x" * 5000 + "@example.com"
    refs = " ".join(f"<r{i}@example.com>" for i in range(200))
    raw = (f"From: a@example.com\r\nTo: support@larkspur.example\r\nSubject: hi\x00there\r\n"
           f"Message-ID: <{giant}>\r\nReferences: {refs}\r\n\r\nbody\x00with nul\r\n").encode()
    parsed = parse_email(raw)
    assert "\x00" not in parsed.text + parsed.full_text + parsed.subject
    assert "NUL characters removed" in parsed.notes
    assert parsed.message_id is not None and len(parsed.message_id) == MAX_MSGID
    assert len(parsed.references) == 50 and parsed.references[-1] == "r199@example.com"
    assert email_dedup_key(raw) == f"mid:{parsed.message_id}"
