"""Quote, signature and forward handling of mail.parse on the public fixtures in ../shared/data/email_fixtures.

For each fixture set, the share of cases handled correctly, next to a trivial baseline measured in the same
run. "Correct" is defined per set (see SETS below); the expected replies are this project's reading of the
fixtures (the libraries' own expectations live in their test code, which was not copied), except where a
fixture file states them (talon's *_reply_text and signature/*_signature files).
"""

from __future__ import annotations

import base64
import email
import email.policy
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import Row
from mail.parse import html_to_text, parse_email
from mail.quotes import clean_text, strip_quotes

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "email_fixtures"
NAME = "quotes"


def _norm(text: str) -> str:
    return " ".join(text.split())


def _first_gt_cut(text: str) -> str:
    """The trivial baseline: cut at the first line starting with '>'."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.lstrip().startswith(">"):
            return "\n".join(lines[:i])
    return text


def _first_delimiter_cut(text: str) -> str:
    """The trivial signature baseline: cut at the first '-- ' line."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.rstrip() == "--":
            return "\n".join(lines[:i])
    return text


def as_message(body: bytes, subtype: str = "plain", sender: str = "Customer <customer@example.com>") -> bytes:
    """A minimal message around a body-only fixture, so it goes through parse_email like real mail."""
    return (f"From: {sender}\r\nTo: support@larkspur.example\r\nSubject: Re: test\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: text/{subtype}; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n").encode() + (
        base64.encodebytes(body))


def _decode(data: bytes) -> str:
    for charset in ("utf-8", "cp1252"):
        try:
            return data.decode(charset)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


@dataclass
class Case:
    name: str
    ours: Callable[[], str]  # what Triage makes of the fixture
    baseline: Callable[[], str]  # what the trivial baseline makes of it
    keep: tuple[str, ...] = ()  # must appear (whitespace-normalised)
    drop: tuple[str, ...] = ()  # must not appear
    exact: str | None = None  # or: must equal this (whitespace-normalised)

    def judge(self, text: str) -> bool:
        got = _norm(text)
        if self.exact is not None:
            return got == _norm(self.exact)
        return all(_norm(k) in got for k in self.keep) and not any(_norm(d) in got for d in self.drop)


# email_reply_parser: plain bodies; keep = what the writer wrote this time, drop = quoted text and signatures.
ERP = {
    "correct_sig": (["this is an email with a correct -- signature."], ["rick"]),
    "email_1_1": (["What is the best way to clear a Riak bucket", "I am currently using the Java HTTP API."],
                  ["riak-users mailing list"]),
    "email_1_2": (["Hi,", "You can list the keys for the bucket", "would do it.", "delete them all individually"],
                  ["What is the best way to clear", "listinfo/riak-users"]),
    "email_1_3": (["Oh thanks.", "Having the function would be great."],
                  ["Russell Brown wrote", "You can list the keys", "riak-users mailing list"]),
    "email_1_4": (["Awesome! I haven't had another problem with it."], ["defunkt", "Loader seems to be working"]),
    "email_1_5": (["One: Here's what I've got.", "- This is the fourth bullet point", "for a while."], []),
    "email_1_6": (["I get proper rendering as well."], ["Corey Donohoe", "Was this caching related"]),
    "email_1_7": ([":+1:"], ["Chris Wanstrath", "Steps 0-2 are in prod"]),
    "email_1_8": (["I will reply under this one", "and under this."],
                  ["here's some stuff I can write", "Hey there, this is my signature", "Example Dev"]),
    "email_2_1": (["Outlook with a reply"], ["Google Apps Sync Team", "Dear Google Apps Sync user"]),
    "email_2_2": (["Outlook with a reply directly above line"], ["CRM Comments", "I am replying to a comment", "___"]),
    "email_2_3": (["Outlook with a reply above headers using unusual format"], ["Kim via Site", "Respond to Kim"]),
    "email_BlackBerry": (["Here is another email"], ["Sent from my BlackBerry"]),
    "email_bullets": (["test 2 this should list second", "and retain this formatting", "- how about bullets",
                       "- and another"], ["goalengine", "Give us an example", "Joe Smith"]),
    "email_gmail": (["This is a test for inbox replying to a github message."],
                    ["Steven Scott", "That way people can tell", "You are receiving this"]),
    "email_headers_no_delimiter": (["And another reply!"], ["Dan Watson", "A reply", "This is a message."]),
    "email_iPhone": (["Here is another email"], ["Sent from my iPhone"]),
    "email_multi_word_sent_from_my_mobile_device": (["Here is another email"], ["Sent from my Verizon"]),
    "email_one_is_not_on": (["Thank, this is really helpful.", "One outstanding question I had:",
                             "Locally (on development), when I run..."], ["Dave Tapley", "The good news is"]),
    "email_partial_quote_header": (["On your remote host you can run:", "telnet 127.0.0.1 52698",
                                    "the tunnel is not working."], ["George Plymale", "I am having an odd issue"]),
    "email_sent_from_my_not_signature": (["Here is another email",
                                          "Sent from my desk, is much easier then my mobile phone."], []),
    "email_sig_delimiter_in_middle_of_line": (["And here is a fix -- this is not a signature.", "kthxbai"], []),
    "greedy_on": (["On your remote host you can run:", "the tunnel is not working."],
                  ["George Plymale", "Reply to this email directly"]),
    "pathological": (["I think you're onto something.", "get back to a computer."],
                     ["John Sullivan", "shortening the reference sequence"]),
}

# talon HTML replies: every one answers "Hi. I am fine." to a quoted "Hello! How are you? ... Sasha."
HTML_QUOTED = ("Hello! How are you?", "Sasha")


def _parsed_text(raw: bytes) -> Callable[[], str]:
    return lambda: parse_email(raw).text


def _parsed_full_cut(raw: bytes) -> Callable[[], str]:
    return lambda: _first_gt_cut(parse_email(raw).full_text)


def _html_full_cut(html: str) -> Callable[[], str]:
    return lambda: _first_gt_cut(html_to_text(html))


def email_reply_parser_cases(root: Path) -> list[Case]:
    cases = []
    for name, (keep, drop) in ERP.items():
        path = root / "email_reply_parser" / f"{name}.txt"
        if not path.exists():
            continue
        raw = as_message(path.read_bytes())
        body = _decode(path.read_bytes())
        cases.append(Case(name, _parsed_text(raw), lambda body=body: _first_gt_cut(body), tuple(keep), tuple(drop)))
    return cases


def talon_standard_cases(root: Path) -> list[Case]:
    # Each of these replies is "Hello" above a quoted "Hi" (talon's iphone_reply_text and sparrow_reply_text
    # say so, plus a signature, which `text` drops by design).
    folder = root / "talon" / "standard_replies"
    return [Case(p.stem, _parsed_text(p.read_bytes()), _parsed_full_cut(p.read_bytes()), exact="Hello")
            for p in sorted(folder.glob("*.eml"))]


def talon_reply_text_cases(root: Path) -> list[Case]:
    """Quote stripping alone against the two expected replies talon ships (signature included)."""
    folder = root / "talon" / "standard_replies"
    cases = []
    for expected in sorted(folder.glob("*_reply_text")):
        eml = folder / f"{expected.name.removesuffix('_reply_text')}.eml"
        if eml.exists():
            raw = eml.read_bytes()
            cases.append(Case(eml.stem, lambda raw=raw: strip_quotes(parse_email(raw).full_text),
                              _parsed_full_cut(raw), exact=_decode(expected.read_bytes())))
    return cases


def talon_html_cases(root: Path) -> list[Case]:
    folder = root / "talon"
    cases = []
    for path in sorted((folder / "html_replies").glob("*.html")):
        html = _decode(path.read_bytes())
        raw = as_message(html.encode("utf-8"), "html")
        cases.append(Case(f"html_replies/{path.stem}", _parsed_text(raw), _html_full_cut(html),
                          keep=("Hi. I am fine.",), drop=HTML_QUOTED))
    extra = {"OLK_SRC_BODY_SECTION.html": "Reply", "reply-separated-by-hr.html": "Hi there Bob"}
    for name, expected in extra.items():
        path = folder / name
        if path.exists():
            html = _decode(path.read_bytes())
            raw = as_message(html.encode("utf-8"), "html")
            cases.append(Case(path.stem, _parsed_text(raw), _html_full_cut(html), exact=expected))
    share = folder / "reply-quotations-share-block.eml"
    if share.exists():
        raw = share.read_bytes()
        cases.append(Case(share.stem, _parsed_text(raw), _parsed_full_cut(raw),
                          keep=("Hi Katharine.", "start working on a menu and proposal"),
                          drop=("New Booking Inquiry", "wrote:")))
    return cases


def _unmark(text: str) -> str:
    """talon marks signature lines with '#sig#' in some files; the marks are annotation, not mail."""
    return "\n".join(line.removeprefix("#sig#") for line in text.splitlines())


_CONTACT_LINE = re.compile(r"@|www\.|https?://|(?:\d\D{0,2}){7}")


def talon_signature_cases(root: Path, *, signoff: bool) -> list[Case]:
    """Signature removal on talon's body/sender/signature triples.

    Sign-off mode must give exactly the body minus talon's signature. The default mode (what `text` uses)
    keeps a sign-off and the name below it by design, so there it must keep the whole body and drop the
    signature's contact lines (addresses, URLs, phone numbers).
    """
    folder = root / "talon" / "signature" / "emails" / "stripped"
    triples = []
    for body_path in sorted(folder.glob("*_body")):
        stem = body_path.name.removesuffix("_body")
        body = _unmark(_decode(body_path.read_bytes())).rstrip()
        sig_path, sender_path = folder / f"{stem}_signature", folder / f"{stem}_sender"
        signature = _unmark(_decode(sig_path.read_bytes())).strip() if sig_path.exists() else ""
        sender = _decode(sender_path.read_bytes()).strip() if sender_path.exists() else ""
        triples.append((stem, body, sender, signature if signature and body.endswith(signature) else ""))
    unicode_msg = root / "talon" / "signature" / "emails" / "P" / "unicode_msg"
    if unicode_msg.exists():
        lines = _decode(unicode_msg.read_bytes()).splitlines()
        body = "\n".join(lines[1:]).strip()
        # In talon's "has a signature" folder; the signature is the closing "С уважением,\nСергей Обухов".
        triples.append(("P/unicode_msg", body, lines[0].removeprefix("From:").strip(),
                        body[body.rindex("С уважением"):] if "С уважением" in body else ""))
    cases = []
    for stem, body, sender, signature in triples:
        expected = body[: len(body) - len(signature)]

        def ours(b: str = body, s: str = sender) -> str:
            return clean_text(b, sender=s, signoff=signoff)

        def baseline(b: str = body) -> str:
            return _first_delimiter_cut(b)

        if signoff:
            cases.append(Case(stem, ours, baseline, exact=expected))
        else:
            contacts = tuple(line for line in signature.splitlines() if _CONTACT_LINE.search(line))
            cases.append(Case(stem, ours, baseline, keep=(expected,), drop=contacts))
    return cases


def _stdlib_text(raw: bytes) -> str:
    """The standard library's own body choice, as the baseline for robustness."""
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        part = msg.get_body(preferencelist=("plain", "html"))  # type: ignore[attr-defined]
        return part.get_content() if part is not None else ""
    except Exception:
        return ""


# flanker fixtures whose text is legitimately empty: only an attachment, a non-text body, no body at all.
FLANKER_EMPTY = {"outlook-express.eml", "signed.eml", "false-multipart.eml"}


def flanker_cases(root: Path) -> list[Case]:
    """Robustness: parses without raising and yields text (or the fixture has none to give)."""
    cases = []
    for path in sorted((root / "flanker").rglob("*.eml")):
        raw = path.read_bytes()
        empty_ok = path.name in FLANKER_EMPTY

        def ours(raw: bytes = raw, empty_ok: bool = empty_ok) -> str:
            try:
                text = parse_email(raw).text
            except Exception:
                return ""
            return "ok" if text.strip() or empty_ok else ""

        def base(raw: bytes = raw, empty_ok: bool = empty_ok) -> str:
            return "ok" if _stdlib_text(raw).strip() or empty_ok else ""

        cases.append(Case(str(path.relative_to(root / "flanker")), ours, base, exact="ok"))
    return cases


SETS: list[tuple[str, str, Callable[[Path], list[Case]]]] = [
    ("email_reply_parser", "text keeps the new reply and none of the quote/signature fragments; "
     "baseline: cut at the first '>' line", email_reply_parser_cases),
    ("talon standard_replies", "text == 'Hello'; baseline: first-'>' cut of full_text", talon_standard_cases),
    ("talon reply_text", "strip_quotes(full_text) == talon's expected reply (signature kept); "
     "baseline: first-'>' cut", talon_reply_text_cases),
    ("talon HTML replies", "text keeps the reply, drops the quoted message; "
     "baseline: first-'>' cut of the converted HTML", talon_html_cases),
    ("talon signatures (sign-off mode)", "clean_text(signoff=True) == body minus talon's signature; "
     "baseline: cut at the first '--' line", lambda root: talon_signature_cases(root, signoff=True)),
    ("talon signatures (text mode)", "default mode (as in `text`, keeps sign-off and name by design): whole "
     "body kept, the signature's contact lines dropped; baseline: cut at the first '--' line",
     lambda root: talon_signature_cases(root, signoff=False)),
    ("flanker robustness", "parse_email does not raise and gives text (or the fixture has none); "
     "baseline: stdlib get_body()", flanker_cases),
]


def run() -> list[Row]:
    """One row per fixture set: share handled correctly, with the trivial baseline from the same run."""
    if not DATA.is_dir():
        return [Row(NAME, "skipped", 0.0, "%", note=f"{DATA} not found; the shared fixtures are not installed")]
    rows = []
    for label, definition, build in SETS:
        cases = build(DATA)
        if not cases:
            rows.append(Row(NAME, label, 0.0, "%", note="no fixtures found"))
            continue
        ok = [c.name for c in cases if c.judge(c.ours())]
        base = [c.name for c in cases if c.judge(c.baseline())]
        failing = [c.name for c in cases if c.name not in ok]
        note = f"{len(ok)}/{len(cases)} (baseline {len(base)}/{len(cases)}); {definition}"
        if failing:
            note += f"; failing: {', '.join(failing)}"
        rows.append(Row(NAME, label, 100.0 * len(ok) / len(cases), "% correct",
                        baseline=100.0 * len(base) / len(cases), note=re.sub(r"\s+", " ", note)))
    return rows
