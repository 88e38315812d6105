"""Telling what the customer wrote this time from quoted history, forwarded mail and signatures (issue 3).

Plain text is read line by line: reply headers ("On ... wrote:" in the common clients' forms and languages),
"Original Message" separators, Outlook header blocks and `>` quotes mark history; `-- `, "Sent from my ..."
lines and short sign-off blocks at the end mark signatures. HTML mail has its clients' quote containers
removed before it is turned into text. Every function here is pure and never raises on any input.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# -- reply headers -------------------------------------------------------------------------------------------

# Verbs of the "<date>, <name> wrote:" line in the languages our customers write in (and a few more).
_VERBS = (r"wrote|writes|said|schrieb|a\s+(?:é|e)crit|escribi(?:ó|o)|schreef|ha\s+scritto|escreveu|skrev|"
          r"pisze|napisa(?:ł|l)(?:a)?|написал(?:а)?|kirjoitti|írta|napsal(?:a)?|yazdı|έγραψε|写道|寫道")
# Words a reply header starts with: en, de, fr, es, nl, it, pt, sv/no/da, pl, cs, el; Yahoo puts dashes first.
_OPENERS = r"On|Am|Le|El|Op|Il|Em|Den|På|W\s+dniu|Dne|Στις"
_OPENER_HEADER = re.compile(rf"^(?:[-*_]+\s*)?(?:{_OPENERS})\s.{{0,300}}?(?:{_VERBS})\b.{{0,200}}?[:：]$",
                            re.IGNORECASE)
_VERB_HEADER = re.compile(rf"(?:{_VERBS})\b[^:：]{{0,200}}[:：]$", re.IGNORECASE)
_DATE_OR_TIME = re.compile(r"\d{1,2}[:.]\d{2}\b|\b\d{4}\b|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d年")
_TIME = re.compile(r"\d{1,2}[:.]\d{2}\b")
_ADDRESS = re.compile(r"[^\s<>\"@]+@[^\s<>\"@]+")
# Japanese, Yandex and mail.ru clients write no verb: "2026年11月5日(木) 21:30 田中 愛子 <aiko@example.net>:".
_BARE_HEADER = re.compile(r"<[^<>\s]+@[^<>\s]+>\s*[:：]$")
MAX_HEADER_LINES = 3  # Gmail wraps a long "On ... wrote:" line; Apple Mail can split it over three
MAX_HEADER_CHARS = 400


def is_reply_header(line: str) -> bool:
    """True for a (joined) line that introduces quoted history: 'On <date>, <name> wrote:' and its kin."""
    s = " ".join(line.split())
    if not s or len(s) > MAX_HEADER_CHARS or not s.endswith((":", "：")):
        return False
    # A date, time or address keeps "On Monday your agent wrote:" (the customer's own words) in the text.
    if _OPENER_HEADER.match(s) and re.search(r"\d|@", s):
        return True
    if _VERB_HEADER.search(s) and _DATE_OR_TIME.search(s) and _ADDRESS.search(s):
        return True
    return bool(_BARE_HEADER.search(s) and _TIME.search(s))


# -- separators, Outlook header blocks, forwards ---------------------------------------------------------------

_DASHES = r"[-_=*~]{2,}"
_ORIGINAL = re.compile(
    rf"^\s*{_DASHES}\s*(?:original message|original message follows|reply message|ursprüngliche nachricht|"
    r"originalnachricht|message d['’]origine|message original|mensaje original|oorspronkelijk bericht|"
    r"origineel bericht|messaggio originale|mensagem original|ursprungligt meddelande|opprinnelig melding|"
    r"oprindelig meddelelse|wiadomość oryginalna|oryginalna wiadomość|исходное сообщение|původní zpráva|"
    rf"alkuperäinen viesti|eredeti üzenet|orijinal mesaj|元のメッセージ|原始邮件|原始郵件)\s*{_DASHES}\s*$",
    re.IGNORECASE)
_FORWARD_TITLES = (
    r"forwarded message|weitergeleitete nachricht|message transf[ée]r[ée]|mensaje reenviado|doorgestuurd bericht|"
    r"messaggio inoltrato|mensagem encaminhada|vidarebefordrat meddelande|videresendt melding|"
    r"videresendt meddelelse|wiadomość przekazana dalej|przekazana wiadomość|пересылаемое сообщение|"
    r"転送メッセージ|转发的邮件|已转发邮件")
_FORWARD_INTROS = (
    r"begin forwarded message|anfang der weitergeleiteten nachricht|début du message réexpédié|"
    r"début du message transféré|inicio del mensaje reenviado|comienzo del mensaje reenviado|"
    r"begin doorgestuurd bericht|inizio messaggio inoltrato|início da mensagem reencaminhada|vidarebefordrat brev")
_FORWARD = re.compile(
    rf"^\s*(?:{_DASHES}\s*(?:{_FORWARD_TITLES}|forwarded by .{{1,120}}?)\s*(?:{_DASHES})?\s*|"
    rf"(?:{_FORWARD_INTROS})\s*[:：])$",
    re.IGNORECASE)
_FORWARD_PREFIX = re.compile(rf"^\s*(?:{_DASHES}\s*(?:{_FORWARD_TITLES})|(?:{_FORWARD_INTROS})\s*[:：])", re.IGNORECASE)
# The end of the text in front of an Apple Mail forward's <blockquote type="cite">.
_FORWARD_BEFORE = re.compile(rf"(?:(?:{_FORWARD_INTROS})\s*[:：]|(?:{_FORWARD_TITLES})\s*(?:{_DASHES})?)\s*$",
                             re.IGNORECASE)
FORWARD_SEPARATOR = "---------- Forwarded message ----------"
_FORWARD_SUBJECT = re.compile(r"^\s*(?:\[[^\]]{0,40}\]\s*)?(?:fwd?|fw|wg|tr|rv|enc|doorst|vb|pd|пересл)\s*[:：]",
                              re.IGNORECASE)

# Header labels of the block Outlook (and others) put above a quoted or forwarded message, by language.
_LABELS = {
    "from": r"from|von|de|van|da|från|fra|od|от|差出人|发件人|寄件者|lähettäjä|feladó|kimden",
    "date": r"sent|date|gesendet|datum|envoyé|enviado|fecha|data|verzonden|inviato|skickat|sendt|wysłano|"
            r"wysłane|отправлено|дата|送信日時|日付|发送时间|發送時間|lähetetty|elküldve|tarih",
    "to": r"to|an|à|a|para|aan|till|til|do|кому|宛先|收件人|vastaanottaja|címzett|kime",
    "cc": r"cc|kopie|копия",
    "subject": r"subject|betreff|objet|asunto|onderwerp|oggetto|assunto|ämne|emne|temat|тема|件名|主题|主旨|aihe|"
               r"tárgy|konu",
}
_LABEL_LINE = re.compile(
    r"^[\s*]*(?:" + "|".join(f"(?P<{kind}>{words})" for kind, words in _LABELS.items()) + r")[\s*]*[:：]",
    re.IGNORECASE)
HEADER_BLOCK_WINDOW = 8


def _label(line: str) -> str | None:
    m = _LABEL_LINE.match(line)
    return m.lastgroup if m else None


def _header_block_at(lines: Sequence[str], i: int) -> int | None:
    """End of an Outlook-style 'From: / Sent: / To: / Subject:' block starting at line i, else None."""
    if _label(lines[i]) is None:
        return None
    kinds: set[str] = set()
    end = i
    for j in range(i, min(len(lines), i + HEADER_BLOCK_WINDOW)):
        kind = _label(lines[j])
        if kind:
            kinds.add(kind)
            end = j + 1
        elif not lines[j].strip() and kinds:
            break
    # "From:" alone is the customer's own words ("From: my office in Leeds"); with a date, or with two more
    # header labels, it is a header block.
    if "from" in kinds and ("date" in kinds or len(kinds) >= 3):
        return end
    return None


@dataclass(frozen=True)
class Marker:
    kind: str  # "reply" (On ... wrote:), "original" (Original Message / header block), "forward"
    start: int
    end: int  # first line after the marker


def find_marker(lines: Sequence[str], i: int) -> Marker | None:
    """The history marker starting at line i, if any."""
    line = lines[i]
    stripped = line.strip()
    if not stripped or stripped.startswith(">") or len(stripped) > MAX_HEADER_CHARS:
        return None
    if _FORWARD.match(stripped):
        return Marker("forward", i, i + 1)
    if _ORIGINAL.match(stripped):
        return Marker("original", i, i + 1)
    end = _header_block_at(lines, i)
    if end is not None:
        return Marker("original", i, end)
    end = _joined_header(lines, i)
    if end is None:
        return None
    if any(_joined_header(lines, later) is not None for later in range(i + 1, end)):
        return None  # the header starts on a later line: this one is the customer's text
    return Marker("reply", i, end)


def _joined_header(lines: Sequence[str], i: int) -> int | None:
    """End of a reply header of one to three lines starting at line i (Gmail and Apple Mail wrap them)."""
    joined = lines[i].strip()
    if not joined or joined.startswith(">"):
        return None
    if is_reply_header(joined):
        return i + 1
    if joined.endswith((".", "!", "?")):
        return None  # a sentence, not the first line of a wrapped header
    for k in range(1, MAX_HEADER_LINES):
        if i + k >= len(lines) or not lines[i + k].strip() or lines[i + k].lstrip().startswith(">"):
            return None
        joined = f"{joined} {lines[i + k].strip()}"
        if len(joined) > MAX_HEADER_CHARS:
            return None
        if is_reply_header(joined):
            return i + k + 1
    return None


def is_forward_subject(subject: str) -> bool:
    """True for 'Fwd:', 'FW:', 'WG:', 'TR:', 'RV:' ... subjects: the body is a forward, not a reply."""
    return bool(_FORWARD_SUBJECT.match(subject or ""))


# -- splitting a body ------------------------------------------------------------------------------------------

_SEPARATOR_LINE = re.compile(r"^\s*(?:[-_=*~]\s*){2,}$")
MAX_FORWARD_NOTE_LINES = 6  # a forward with a note this short is what the customer sends us
MAX_FORWARD_NOTE_CHARS = 500


def _quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _trim(lines: list[str]) -> list[str]:
    """Without blank lines at either end and without rules left dangling at the end."""
    while lines and (not lines[-1].strip() or _SEPARATOR_LINE.match(lines[-1])):
        lines.pop()
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    return lines[start:]


def _short_note(lines: Sequence[str]) -> bool:
    own = [line for line in lines if line.strip() and not _SEPARATOR_LINE.match(line)]
    return len(own) <= MAX_FORWARD_NOTE_LINES and sum(len(line) for line in own) <= MAX_FORWARD_NOTE_CHARS


def split_reply(text: str, *, forwarded: bool = False) -> tuple[str, str]:
    """(what the customer wrote, forwarded content they send along) with quoted history left out.

    A header that is followed by `>` lines only introduces that quote: text after it is an inline or
    bottom-posted answer and stays. A header followed by unquoted history cuts everything after it. An
    inline forward under a short note (or the whole body of a 'Fwd:' message) is kept as the second part.
    """
    lines = text.splitlines()
    out: list[str] = []
    dropped = False  # a quote was just left out: do not let the blank lines around it pile up
    i = 0
    while i < len(lines):
        line = lines[i]
        if _quoted(line):
            dropped = True
            i += 1
            continue
        marker = find_marker(lines, i)
        if marker is None:
            if line.strip() or not (dropped and out and not out[-1].strip()):
                out.append(line)
                dropped = dropped and not line.strip()
            i += 1
            continue
        if (marker.kind == "forward" or forwarded) and _short_note(out):
            return "\n".join(_trim(out)), "\n".join(lines[i:]).strip()
        j = marker.end
        while j < len(lines) and not lines[j].strip():
            j += 1
        if marker.kind == "reply" and j < len(lines) and _quoted(lines[j]):
            i = j  # the quote is dropped line by line; what follows it is the customer's again
            continue
        break
    return "\n".join(_trim(out)), ""


def strip_quotes(text: str, *, forwarded: bool = False) -> str:
    """Drop quoted history: '>' lines and everything from an 'On ... wrote:'-style header on."""
    own, forward = split_reply(text, forwarded=forwarded)
    return f"{own}\n\n{forward}".strip("\n") if forward else own


# -- signatures ------------------------------------------------------------------------------------------------

_MOBILE = re.compile(
    r"^\s*(?:sent (?:from|with|via|using) [^,;:!?]{1,50}|get outlook for \w+.{0,60}|"
    r"(?:von|gesendet von) mein(?:em)? .{1,40}(?: gesendet)?|envoyé (?:de|depuis) mon .{1,40}|"
    r"enviado (?:desde|de|do) (?:mi|meu|o meu) .{1,40}|verzonden (?:vanaf|met) mijn .{1,40}|"
    r"verstuurd (?:vanaf|met) mijn .{1,40}|inviato da(?:l mio)? .{1,40}|skickat från min .{1,40}|"
    r"sendt fra min .{1,40}|wysłane z (?:mojego )?.{1,40}|отправлено с .{1,40}|.{1,20}から送信|发自我的.{1,20})$",
    re.IGNORECASE)
MAX_MOBILE_WORDS = 9

_SIGNOFF_PHRASES = (
    r"(?:(?:best|kind|warm|warmest|kindest|many|with (?:kind |best )?)\s*)?regards", r"best(?: wishes)?",
    r"all the best", r"cheers", r"take care", r"sincerely(?: yours)?", r"yours(?: (?:sincerely|truly|faithfully))?",
    r"(?:many )?thanks(?: (?:so much|very much|a lot|again|in advance|for your help|and regards))?",
    r"thank you(?: (?:so much|very much|again|in advance|for your help))?", r"thx", r"br",
    r"mit freundlichen gr(?:ü|ue)(?:ß|ss)en", r"(?:freundliche|viele|beste|liebe|herzliche|schöne) gr(?:ü|ue)(?:ß|ss)e",
    r"gr(?:ü|ue)(?:ß|ss)e", r"gru(?:ß|ss)", r"lg", r"mfg", r"vg", r"danke(?: (?:schön|sehr))?", r"vielen dank",
    r"(?:bien )?cordialement", r"bien à vous", r"(?:sincères )?salutations(?: distinguées)?",
    r"merci(?: (?:beaucoup|d['’]avance|encore))?", r"amicalement", r"bonne journée",
    r"(?:un )?saludos?(?: cordiales)?", r"atentamente", r"(?:muchas )?gracias", r"un abrazo",
    r"(?:met )?vriendelijke groet(?:en)?", r"groet(?:en|jes)?", r"(?:alvast )?bedankt", r"mvg",
    r"(?:cordiali|distinti) saluti", r"saluti", r"un saluto", r"grazie(?: mille)?",
    r"atenciosamente", r"cumprimentos", r"obrigad[oa]", r"abraços?",
    r"med vänlig(?:a)? hälsning(?:ar)?", r"vänliga hälsningar", r"hälsningar", r"mvh",
    r"med venlig hilsen", r"venlig hilsen", r"vennlig hilsen", r"hilsen", r"(?:tusen )?takk", r"tack",
    r"pozdrawiam(?: serdecznie)?", r"z poważaniem", r"serdecznie pozdrawiam", r"dziękuję",
    r"с уважением", r"спасибо", r"よろしくお願い(?:いた|致)?します",
)
_SIGNOFF = re.compile(
    r"^\s*(?:" + "|".join(p.replace(" ", r"\s+") for p in _SIGNOFF_PHRASES) + r")\s*[,.!。]*"
    r"(?:\s*[-–—,]?\s*(?P<name>[^\W\d_][\w.'’ -]{0,40}?))?\s*[,.!]?\s*$",
    re.IGNORECASE)
MAX_SIGNATURE_LINES = 7  # a sign-off, a name and a few lines of details; more is the customer's text
MAX_SIGNATURE_LINE = 80
MAX_DELIMITED_SIGNATURE_LINES = 20  # after a bare "--" (HTML conversion drops the space of "-- ")

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"https?://|\bwww\.", re.IGNORECASE)
_PHONE = re.compile(r"[+(]?\d[\d\s().\-/]{5,}\d")
_CONTACT_LABEL = re.compile(r"^\s*(?:(?:tel|phone|mobile|mob|cell|fax|direct|[tmfp])\.?\s*[:.]?\s*[+(\d]|skype\s*[:.])",
                            re.IGNORECASE)
_TITLE = re.compile(
    r"\b(?:manager|director|head of|ceo|cto|cfo|coo|founder|co-founder|owner|engineer|officer|president|"
    r"consultant|specialist|coordinator|assistant|partner|geschäftsführer(?:in)?|leiter(?:in)?|inhaber(?:in)?|"
    r"gérant|directeur|directrice|responsable|gerente|ltd|llc|inc|gmbh|sarl|b\.v\.|sp\. z o\.o\.)\b",
    re.IGNORECASE)


def _is_contact(line: str) -> bool:
    if _EMAIL.search(line) or _URL.search(line) or "|" in line or _CONTACT_LABEL.match(line):
        return True
    return any(sum(ch.isdigit() for ch in m.group()) >= 7 for m in _PHONE.finditer(line))


def _is_detail(line: str) -> bool:
    """A line of a signature block below the name: contact details, a title, a company, a place."""
    s = line.strip()
    if _is_contact(s) or _TITLE.search(s):
        return True
    return len(s.split()) <= 4 and not re.search(r"\d|[.?!:]$", s)


def _sender_names(sender: str) -> set[str]:
    name = " ".join(sender.replace('"', "").split()).casefold()
    if not name or "@" in name:
        return set()
    return {name, name.split()[0]}


def _is_name(line: str, senders: set[str]) -> bool:
    s = " ".join(line.strip().lstrip("-~–— ").split())
    if not s or len(s) > 50:
        return False
    if s.casefold() in senders:
        return True
    if re.search(r"[?!:;@/|]|\d", s) or len(s.split()) > 5:
        return False
    last = s.split()[-1]
    if s.endswith(".") and len(last) > 5 and last.count(".") == 1:
        return False  # ends a sentence ("Ph.D." and "Jr." do not)
    return s[0].isalpha() and not s[0].islower()


def _nonblank(lines: Sequence[str]) -> list[int]:
    return [k for k, line in enumerate(lines) if line.strip()]


def _signature_cut(lines: list[str]) -> int | None:
    """Where a delimited signature starts: '-- ', a 'Sent from my ...' line, a separator above details."""
    filled = _nonblank(lines)
    for n, k in enumerate(filled):
        line = lines[k]
        remaining = len(filled) - n - 1
        if line.rstrip("\r") == "-- ":
            return k  # RFC 3676 section 4.3: the signature delimiter
        if line.strip() == "--" and remaining <= MAX_DELIMITED_SIGNATURE_LINES:
            return k
        if remaining > 12:
            continue  # the other signature markers only count near the end
        after = [lines[a] for a in filled[n + 1 :]]
        short = all(len(a) <= MAX_SIGNATURE_LINE for a in after)
        if _MOBILE.match(line) and len(line.split()) <= MAX_MOBILE_WORDS and remaining <= 4 and short:
            return k
        if (_SEPARATOR_LINE.match(line) and (k == 0 or not lines[k - 1].strip()) and after and short
                and (remaining <= 3 or any(_is_contact(a) for a in after))):
            return k  # a rule above contact details or a mailing list's footer
    return None


def _signoff_cut(lines: list[str], senders: set[str], signoff: bool) -> int | None:
    """Where to cut a closing block: from the sign-off (signoff=True) or below the name (details only)."""
    filled = _nonblank(lines)
    for n in range(len(filled) - 1, max(-1, len(filled) - 1 - MAX_SIGNATURE_LINES - 1), -1):
        k = filled[n]
        m = _SIGNOFF.match(lines[k])
        if not m:
            continue
        tail = filled[n + 1 :]
        if len(tail) > MAX_SIGNATURE_LINES or any(len(lines[t]) > MAX_SIGNATURE_LINE for t in tail):
            return None  # the sign-off sits in the middle of the customer's text
        named = bool(m.group("name")) and _is_name(m.group("name"), senders)
        if m.group("name") and not named:
            continue  # "Thanks for the quick reply" is a sentence, not a sign-off
        if not named and tail and not _is_name(lines[tail[0]], senders):
            return None
        details = tail if named else tail[1:]
        if not all(_is_detail(lines[d]) for d in details):
            return None
        if signoff:
            return k
        if details and any(_is_contact(lines[d]) or _TITLE.search(lines[d]) for d in details):
            return details[0]
        return None
    return None


def _name_block_cut(lines: list[str], senders: set[str], signoff: bool) -> int | None:
    """A last paragraph of a name and contact lines ('Gina X / gina@... / (555) ...'), without a sign-off."""
    filled = _nonblank(lines)
    if not filled:
        return None
    start = filled[-1]
    while start > 0 and lines[start - 1].strip():
        start -= 1
    block = [k for k in filled if k >= start]
    if start == 0 or len(block) > MAX_SIGNATURE_LINES or any(len(lines[k]) > MAX_SIGNATURE_LINE for k in block):
        return None
    first, details = block[0], block[1:]
    if not _is_name(lines[first], senders) or not all(_is_detail(lines[d]) for d in details):
        return None
    contacts = sum(_is_contact(lines[d]) for d in details)
    if not (lines[first].strip().casefold() in senders or contacts >= 2):
        return None
    if signoff:
        return first
    return details[0] if details and contacts else None


def strip_signature(text: str, *, sender: str = "", signoff: bool = False) -> str:
    """Drop a signature: '-- ' blocks, 'Sent from my ...' lines, contact details below a closing name.

    With signoff=True the closing block is dropped from the sign-off on ('Best regards,\\nMaria'); by
    default the sign-off and the name stay and only the details below them (title, phone, address) go.
    A sign-off followed by more than a few lines is the customer's text and stays either way.
    """
    lines = text.rstrip().splitlines()
    senders = _sender_names(sender)
    while True:
        cut = _signature_cut(lines)
        if cut is None:
            break
        lines = _trim(lines[:cut])
    for rule in (_signoff_cut, _name_block_cut):
        cut = rule(lines, senders, signoff)
        if cut is not None:
            lines = _trim(lines[:cut])
            break
    return "\n".join(lines).rstrip()


def clean_text(text: str, *, sender: str = "", forwarded: bool = False, signoff: bool = False) -> str:
    """The part of a body that the customer wrote this time (plus anything they forward to us)."""
    own, forward = split_reply(text, forwarded=forwarded)
    own = strip_signature(own, sender=sender, signoff=signoff).strip()
    cleaned = f"{own}\n\n{forward}".strip() if forward else own
    return cleaned or text.strip()


# -- HTML ------------------------------------------------------------------------------------------------------

def _has_class(name: str) -> str:
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


# Containers holding the quoted message (with its attribution line where the client puts it inside).
_HTML_QUOTES = (
    f"//div[{_has_class('gmail_quote')}]", f"//blockquote[{_has_class('gmail_quote')}]",
    "//blockquote[translate(@type, 'CITE', 'cite')='cite']", f"//div[{_has_class('moz-cite-prefix')}]",
    f"//div[{_has_class('yahoo_quoted')}]", f"//div[{_has_class('protonmail_quote')}]",
    "//*[@id='OLK_SRC_BODY_SECTION']",
)
# Outlook marks where the quoted message starts; everything after the mark is history.
_HTML_CUTS = (
    "//*[@id='divRplyFwdMsg']", "//*[@id='appendonsend']", "//hr[@id='stopSpelling']",
    "//*[@id='mail-editor-reference-message-container']",
)
_HTML_RULES = "//hr | //div[contains(translate(@style, 'BORDERTOP', 'bordertop'), 'border-top')]"
MAX_HTML_CANDIDATES = 50  # each check reads the text around an element; a hostile page could hold thousands


def _text_after(el: object, limit: int = 200) -> str:
    """The first words after an element in document order (its own content excluded)."""
    pieces = el.xpath("following::text()[position() <= 30]")  # type: ignore[attr-defined]
    return " ".join(" ".join(map(str, pieces)).split())[:limit]


def _text_before(el: object, limit: int = 120) -> str:
    """The last words before an element in document order."""
    pieces = el.xpath("preceding::text()[position() <= 30]")  # type: ignore[attr-defined]
    return " ".join(" ".join(map(str, pieces)).split())[-limit:]


def _starts_with_forward(text: str) -> bool:
    return bool(_FORWARD_PREFIX.match(text))


def _cut_from(el: object) -> None:
    """Remove an element and everything after it in document order."""
    node = el
    while node.getparent() is not None:  # type: ignore[attr-defined]
        parent = node.getparent()  # type: ignore[attr-defined]
        for sibling in list(node.itersiblings()):  # type: ignore[attr-defined]
            parent.remove(sibling)
        node.tail = None  # type: ignore[attr-defined]
        node = parent
    if el.getparent() is not None:  # type: ignore[attr-defined]
        el.getparent().remove(el)  # type: ignore[attr-defined]


def strip_html_quotes(html: str, *, forwarded: bool = False) -> str:
    """HTML without the quote containers of Gmail, Outlook, Apple Mail and Thunderbird; unchanged if none."""
    if forwarded or not html.strip():
        return html  # a forward's quoted message is what the customer sends us
    try:
        import lxml.html

        doc = lxml.html.document_fromstring(html.encode("utf-8", "surrogatepass"),
                                            parser=lxml.html.HTMLParser(encoding="utf-8"))
        order = {el: n for n, el in enumerate(doc.iter())}
        cuts = [el for xpath in _HTML_CUTS for el in doc.xpath(xpath)]
        for el in doc.xpath(_HTML_RULES)[:MAX_HTML_CANDIDATES]:
            after = _text_after(el) if el.tag == "hr" else " ".join(el.text_content().split())[:200]
            # Outlook puts a rule above "From:"; its desktop client uses a bordered div above "From:"/"Sent:".
            if _label(after) in (("from",) if el.tag == "hr" else ("from", "date")):
                cuts.append(el)
        quotes = [el for xpath in _HTML_QUOTES for el in doc.xpath(xpath)][:MAX_HTML_CANDIDATES]
        forwards = {el for el in quotes
                    if _starts_with_forward(el.text_content()) or _FORWARD_BEFORE.search(_text_before(el))}
        cuts = [el for el in cuts if not any(a in forwards for a in el.iterancestors())]
        if cuts:
            _cut_from(min(cuts, key=lambda el: order.get(el, 0)))
        changed = bool(cuts)
        for el in quotes:
            if el in forwards or any(a in forwards for a in el.iterancestors()):
                continue
            if _attached(el, doc):
                el.drop_tree()
                changed = True
        return lxml.html.tostring(doc, encoding="unicode") if changed else html
    except Exception:  # lxml refuses some inputs (empty documents, odd encodings): keep the HTML as it is
        return html


def _attached(el: object, doc: object) -> bool:
    """Still in the document (an earlier cut or drop may have removed it with an ancestor)."""
    node = el
    while node is not None:
        if node is doc:
            return True
        node = node.getparent()  # type: ignore[attr-defined]
    return False
