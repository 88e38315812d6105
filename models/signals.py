"""Explicit, explainable signals in customer text: anger/frustration and urgency cues.

Pure functions over a text, each returning short human-readable reasons, so that an agent can see why a
message was flagged. The word lists (`models.lexicons`) cover English, German, French and Spanish and are
matched on a folded text (lower case, accents stripped), so "Kündigung" and "kundigung", "débité" and
"debite" are the same word; the reasons quote the customer's own words. They describe how people report
danger, complain and escalate, not what they buy.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from models import lexicons as lex
from models.memo import memo
from models.vocabulary import OUT_OF_SCOPE, URGENCY_LEVELS

_ALIASES = {"medium": "normal", "moderate": "normal", "urgent": "critical", "very high": "critical",
            "highest": "critical", "lowest": "low", "minor": "low", "major": "high", "p1": "critical",
            "p2": "high", "p3": "normal", "p4": "low"}
# Intent labels meaning "not a support request" (the suite reports out-of-scope as "other").
OUT_OF_SCOPE_INTENTS = frozenset({OUT_OF_SCOPE, "oos"})


def urgency_rank(label: str) -> int | None:
    """Position of a label on low < normal < high < critical (common synonyms accepted), else None."""
    key = str(label).strip().lower()
    key = _ALIASES.get(key, key)
    return URGENCY_LEVELS.index(key) if key in URGENCY_LEVELS else None


# ---------------------------------------------------------------- folding and matching

_APOSTROPHES = frozenset("\u2019\u2018\u02bc\u00b4`")


@functools.lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    if ch in _APOSTROPHES:
        return "'"
    return "".join(c for c in unicodedata.normalize("NFKD", ch.casefold()) if not unicodedata.combining(c))


@functools.lru_cache(maxsize=64)  # every cue looks at the same few texts in turn
def _folded(text: str) -> tuple[str, list[int] | None]:
    """The folded text and, for each of its characters, the index of the character it came from."""
    if text.isascii():
        return text.lower(), None  # same length: positions carry over
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        folded = _fold_char(ch)
        out.append(folded)
        index.extend([i] * len(folded))
    return "".join(out), index


def fold(text: str) -> str:
    """Lower case, accents stripped, "ß" as "ss", curly apostrophes straight: the form the lexicons use."""
    return _folded(text)[0]


def words(*lexicons: lex.Lexicon) -> re.Pattern[str]:
    """One pattern matching any fragment of the lexicons (every language) as whole words of a folded text."""
    fragments = [f for lexicon in lexicons for entries in lexicon.values() for f in entries]
    return re.compile(r"(?<!\w)(?:" + "|".join(fragments) + r")(?!\w)")


def _spans(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    """Where the pattern matches the folded text, as spans of the original text."""
    folded, index = _folded(text)
    out = []
    for m in pattern.finditer(folded):
        if m.end() > m.start():
            out.append((m.start(), m.end()) if index is None else (index[m.start()], index[m.end() - 1] + 1))
    return out


def _found(pattern: re.Pattern[str], text: str) -> list[str]:
    """The customer's own words where the pattern matches (accents and case as written)."""
    return [text[a:b] for a, b in _spans(pattern, text)]


def _quote(found: Iterable[str]) -> str:
    seen: list[str] = []
    for item in found:
        item = " ".join(item.split()).lower()
        if item and item not in seen:
            seen.append(item)
    return ", ".join(f'"{s}"' for s in seen[:3])


# ---------------------------------------------------------------- anger and frustration

_PROFANITY = words(lex.PROFANITY)
_INSULTS = words(lex.INSULTS)
_FRUSTRATION = words(lex.FRUSTRATION)
_REPEATED_CONTACT = words(lex.REPEATED_CONTACT)
_STILL_WAITING = words(lex.STILL_WAITING)
_ANGRY_EMOJI = re.compile("[\U0001F620\U0001F621\U0001F92C\U0001F4A2\U0001F624\U0001F92F]|>:\\(|>:-\\(")
_REPEATED_PUNCT = re.compile(r"[!?]{2,}|!{2,}|\?{3,}")
_CAPS_WORD = re.compile(r"\b[A-ZÀ-ÖØ-Þ]{3,}\b")
_SHOUTED_PHRASE = re.compile(r"\b[A-ZÀ-ÖØ-Þ]{2,}(?:[ ,]+[A-ZÀ-ÖØ-Þ]{2,}){2,}\b")
_LETTERS = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ]{3,}")
# Acronyms that are written in capitals anyway; shouting is about ordinary words.
_ACRONYMS = frozenset([
    "ASAP", "FAQ", "USA", "USD", "EUR", "GBP", "CHF", "API", "URL", "PDF", "VAT", "IBAN", "BIC", "SMS",
    "PIN", "ATM", "CEO", "CTO", "IT", "HR", "UK", "EU", "ID", "OK", "FYI", "ETA", "TV", "PC", "LED", "USB",
    "GPS", "DHL", "UPS", "FEDEX", "TNT", "NYC", "LAX", "JFK", "SFO", "LHR", "CET", "UTC", "GMT", "EST",
    "PST", "AM", "PM", "RSVP", "DOA", "MWST", "TVA", "IVA", "DSGVO", "RGPD", "GDPR", "AGB", "CGV", "NIF",
])


@dataclass
class AngerSignal:
    """How angry or frustrated a message sounds: score in 0..1, a flag, and why."""

    score: float
    angry: bool
    reasons: list[str] = field(default_factory=list)


ANGER_THRESHOLD = 0.5


def anger(text: str) -> AngerSignal:
    """Score anger/frustration from shouting, punctuation, profanity, insults and escalation phrases."""
    weight = 0.0
    reasons: list[str] = []
    caps = [w for w in _CAPS_WORD.findall(text) if w not in _ACRONYMS and not w.startswith(("LH", "ACC"))]
    letters = _LETTERS.findall(text)
    # Technical text is full of product acronyms no list can hold (EMR, PACS, CRM, VPN), even in short
    # sentences. Shouting is mostly capitals, or a phrase of three or more words in capitals.
    if caps and (len(caps) / len(letters) >= 0.5 or _SHOUTED_PHRASE.search(text)):
        weight += 0.8 if len(caps) >= 3 else 0.5
        reasons.append("shouting in capitals")
    punct = _REPEATED_PUNCT.findall(text)
    if punct:
        weight += 0.4 if len(punct) == 1 and len(punct[0]) <= 2 else 0.7
        reasons.append("repeated punctuation")
    profanity = _found(_PROFANITY, text)
    if profanity:
        weight += 1.2
        reasons.append(f"profanity ({_quote(profanity)})")
    insults = _found(_INSULTS, text)
    if insults:
        weight += 0.9
        reasons.append(f"insult ({_quote(insults)})")
    frustration = _found(_FRUSTRATION, text)
    if frustration:
        weight += 0.7 + 0.3 * (len(frustration) - 1)
        reasons.append(f"frustration ({_quote(frustration)})")
    repeated = _found(_REPEATED_CONTACT, text)
    if repeated:
        weight += 0.5
        reasons.append(f"repeated contact ({_quote(repeated)})")
    if _spans(_STILL_WAITING, text):
        weight += 0.3
        reasons.append("still waiting")
    if _ANGRY_EMOJI.search(text):
        weight += 0.8
        reasons.append("angry emoji")
    score = 1.0 - math.exp(-weight)
    return AngerSignal(score=round(score, 4), angry=score >= ANGER_THRESHOLD, reasons=reasons)


def shared_anger(text: str) -> AngerSignal:
    """`anger(text)`, computed once per text inside `models.memo.shared_work()`; treat it as read-only."""
    return memo(("anger", text), lambda: anger(text))


# ---------------------------------------------------------------- urgency cues


@dataclass(frozen=True)
class UrgencySignal:
    """One cue and why it was found: what it does to the level, and a short reason for the agent.

    `floor` is the lowest level it implies, `bump` a one-step raise. `ceiling` is the highest level it
    allows (praise, job applications, spam, out of scope): a ceiling holds unless a cue with a floor of
    high or critical is present; a `firm` ceiling (mail that is no support request at all) is not lifted by
    a deadline word alone ("available to start immediately"), only by a concrete harm.
    """

    name: str
    reason: str
    floor: str | None = None
    bump: bool = False
    ceiling: str | None = None
    firm: bool = False


def _alternation(lexicon: lex.Lexicon) -> str:
    return "|".join(f for entries in lexicon.values() for f in entries)


_SEP = r"[^\w.!?\n]+"  # between words of one sentence


_SAFETY = words(lex.SAFETY)
_CHILDREN = words(lex.CHILDREN)
_ELDERLY = words(lex.ELDERLY)
_DANGER = words(lex.DANGER)
_SECURITY = words(lex.SECURITY)
_LEGAL = words(lex.LEGAL)
_OUTAGE = words(lex.OUTAGE)
_BUSINESS = words(lex.BUSINESS)
_MONEY = words(lex.MONEY)
_CHARGED, _CANCELLED = _alternation(lex.CHARGED), _alternation(lex.CANCELLED)
_NOT = r"(?<!not be )(?<!'t be )(?<!not )(?<!never )(?<!nicht )(?<!pas )(?<!no )"  # "I won't be charged"
_MONEY_AFTER_CANCEL = re.compile(
    rf"(?<!\w){_NOT}(?:(?:{_CHARGED})(?:{_SEP}\w+){{0,8}}?{_SEP}(?:{_CANCELLED})"
    rf"|(?:{_CANCELLED})(?:{_SEP}\w+){{0,8}}?{_SEP}{_NOT}(?:{_CHARGED}))(?!\w)")
_LOCKOUT = words(lex.LOCKOUT)
_DISPATCH = words(lex.DISPATCH)
_CHURN = words(lex.CHURN)
_CALM = words(lex.CALM)
_PROBLEM = words(lex.PROBLEM)
_DEADLINE_WORDS = words(lex.DEADLINE_WORDS)
# A time word is a deadline only when something is due by then: "by Friday", "bis morgen", "need it for
# Saturday", "demain au plus tard". Alone ("arrived today", "my Saturday delivery slot") it is not.
_DEADLINE_TIMED = re.compile(
    rf"(?<!\w)(?:(?:{_alternation(lex.DEADLINE_BY)}){_SEP}{lex.WHEN}"
    rf"|(?:{_alternation(lex.DEADLINE_NEED)})(?:{_SEP}\w+){{0,4}}?{_SEP}(?:(?:{_alternation(lex.DEADLINE_BY)}){_SEP})?"
    rf"{lex.WHEN}"
    rf"|{lex.WHEN}{_SEP}(?:{_alternation(lex.DEADLINE_LATEST)}))(?!\w)"
    r"(?!\s+(?:not|nicht|kein\w*|nichts|pas|no)\b)")  # "bis heute nicht erhalten": until now, not a deadline

# Mail that is no support request at all: capped at low whatever a deadline word says.
_NOT_SUPPORT = (
    ("job_application", "job application", words(lex.JOB), False),
    ("sales_pitch", "sales pitch", words(lex.PITCH), False),
    ("spam", "spam", words(lex.SPAM), False),
    ("auto_reply", "automatic reply", words(lex.AUTO_REPLY), False),
    ("personal", "personal message", words(lex.PERSONAL), True),  # True: not when a problem is named
)
# Can wait, unless the same message names a problem: capped at low, lifted by any high cue.
_CAN_WAIT = (
    ("praise", "praise", words(lex.PRAISE)),
    ("pre_sales", "pre-sales question", words(lex.PRESALES)),
    ("newsletter", "newsletter / unsubscribe", words(lex.NEWSLETTER)),
)


def urgency_signals(text: str, *, vip: bool = False, previous_contacts: int = 0,
                    sentiment: tuple[str, float] | None = None, intent: str | None = None) -> list[UrgencySignal]:
    """The urgency cues found in a text and its context, each with a short reason."""
    found = list(memo(("urgency cues", text), lambda: _text_cues(text)))
    if previous_contacts >= 2 and not any(s.name == "repeated_contact" for s in found):
        found.append(UrgencySignal("repeated_contact", f"repeated contact: {previous_contacts} earlier messages",
                                   bump=True))
    mood = shared_anger(text)
    if mood.angry:
        found.append(UrgencySignal("negative_sentiment", f"angry customer (anger {mood.score:.2f})", bump=True))
    elif sentiment is not None and sentiment[0] == "negative" and sentiment[1] >= 0.9:
        found.append(UrgencySignal("negative_sentiment", f"strongly negative ({sentiment[1]:.2f})", bump=True))
    if vip:
        found.append(UrgencySignal("vip", "VIP customer", floor="normal", bump=True))
    if intent is not None and intent in OUT_OF_SCOPE_INTENTS:
        # Out of scope is never high on the model's word alone (issue #12); a concrete cue still counts.
        found.append(UrgencySignal("out_of_scope", "not a support request (intent out of scope)", ceiling="normal"))
    return found


def _text_cues(text: str) -> tuple[UrgencySignal, ...]:
    """The cues the text alone carries, most serious first."""
    found: list[UrgencySignal] = []

    hazard = _found(_SAFETY, text)
    children, elderly = _spans(_CHILDREN, text), _spans(_ELDERLY, text)
    if not hazard and (children or elderly):
        hazard = _found(_DANGER, text)  # "dangerous for my kids" is a hazard; "dangerous?" alone a question
    if hazard:
        at_risk = [who for who, present in (("children", children), ("elderly or vulnerable people", elderly))
                   if present]
        reason = f"safety hazard: {_quote(hazard)}" + "".join(f", {who} at risk" for who in at_risk)
        found.append(UrgencySignal("safety", reason, floor="critical"))
    for name, title, pattern in (("security", "security or fraud", _SECURITY), ("legal", "legal threat", _LEGAL)):
        hits = _found(pattern, text)
        if hits:
            found.append(UrgencySignal(name, f"{title}: {_quote(hits)}", floor="critical"))
    hits = _found(_OUTAGE, text)
    if hits:
        if _spans(_BUSINESS, text):  # an outage that stops a business, not one device
            found.append(UrgencySignal("outage", f"outage affecting the business: {_quote(hits)}", floor="critical"))
        else:
            found.append(UrgencySignal("outage", f"outage / not working: {_quote(hits)}", floor="high"))
    hits = _found(_MONEY, text) or _found(_MONEY_AFTER_CANCEL, text)
    if hits:
        found.append(UrgencySignal("money_taken", f"money wrongly taken: {_quote(hits)}", floor="high"))
    hits = _found(_LOCKOUT, text)
    if hits and _spans(_DISPATCH, text):  # locked out alone is an ordinary login problem
        found.append(UrgencySignal("locked_out", f"locked out before dispatch: {_quote(hits)}", floor="high"))
    calm = _found(_CALM, text)
    hits = _found(_DEADLINE_WORDS, text) + _found(_DEADLINE_TIMED, text)
    if hits and not calm:
        found.append(UrgencySignal("deadline", f"deadline: {_quote(hits)}", floor="high"))
    for name, title, pattern in (("churn", "cancellation / churn risk", _CHURN),
                                 ("repeated_contact", "repeated contact", _REPEATED_CONTACT)):
        hits = _found(pattern, text)
        if hits:
            found.append(UrgencySignal(name, f"{title}: {_quote(hits)}", bump=True))

    problem = bool(_spans(_PROBLEM, text))
    if calm:
        found.append(UrgencySignal("can_wait", f"customer says it can wait: {_quote(calm)}", ceiling="normal"))
    for name, title, pattern, unless_problem in _NOT_SUPPORT:
        hits = _found(pattern, text)
        if hits and not (unless_problem and problem):
            found.append(UrgencySignal(name, f"{title}: {_quote(hits)}", ceiling="low", firm=True))
    if not problem:
        for name, title, pattern in _CAN_WAIT:
            hits = _found(pattern, text)
            if hits:
                found.append(UrgencySignal(name, f"{title}: {_quote(hits)}", ceiling="low"))
    return tuple(found)


def holding(signals: Iterable[UrgencySignal]) -> list[UrgencySignal]:
    """The signals whose ceiling holds: none gives way to a cue with a floor of high or more."""
    signals = list(signals)
    high = URGENCY_LEVELS.index("high")
    pressing = [s for s in signals if s.floor and (urgency_rank(s.floor) or 0) >= high]
    harm = [s for s in pressing if s.name != "deadline"]  # a deadline word alone does not lift a firm ceiling
    return [s for s in signals if s.ceiling and urgency_rank(s.ceiling) is not None
            and not (harm if s.firm else pressing)]


def ceiling(signals: Iterable[UrgencySignal]) -> str | None:
    """The highest level the signals allow, or None."""
    ranks = [urgency_rank(s.ceiling) or 0 for s in holding(signals) if s.ceiling]
    return URGENCY_LEVELS[min(ranks)] if ranks else None


def escalate(level: str, signals: list[UrgencySignal], levels: tuple[str, ...] = URGENCY_LEVELS) -> str:
    """The level after the signals: every floor, one step up for a raise (never to critical), then the ceiling."""
    def order(lab: str) -> int:
        rank = urgency_rank(lab)
        return rank if rank is not None else 1

    ranked = sorted(levels, key=order)
    rank = urgency_rank(level)
    if rank is None:
        return level
    floors = [urgency_rank(s.floor) for s in signals if s.floor]
    new = max([rank, *[f for f in floors if f is not None]])
    if any(s.bump for s in signals):
        new = max(new, min(rank + 1, URGENCY_LEVELS.index("high")))
    cap = ceiling(signals)
    if cap is not None:
        new = min(new, URGENCY_LEVELS.index(cap))
    # Map back onto the labels the model knows (a model trained on low/medium/high has no "critical").
    candidates = [lab for lab in ranked if (urgency_rank(lab) or 0) >= new]
    return candidates[0] if candidates else ranked[-1]


# ---------------------------------------------------------------- acknowledgements

_ACKNOWLEDGEMENT = words(lex.ACKNOWLEDGEMENT)


def is_acknowledgement(text: str) -> bool:
    """True when a message says nothing beyond thanks or ok ("Thanks!", "danke", "merci", "gracias, Ana")."""
    if len(text) > 300:
        return False
    spans = _spans(_ACKNOWLEDGEMENT, text)
    rest = list(text)
    for a, b in spans:
        rest[a:b] = " " * (b - a)
    left = re.findall(r"[^\W\d_]+", "".join(rest))
    if not spans:
        return not left and not re.search(r"\d", text)  # emoji or punctuation only: "👍", "!"
    # What remains may be a name to sign with ("Thanks, Maria"), nothing more.
    return len(left) <= 2 and all(w[:1].isupper() for w in left)


# ---------------------------------------------------------------- explicit requests

_CALLBACK = words(lex.CALLBACK)
# "20 units", "20x Cirrus purifiers", "20 Cirrus-Luftreiniger", "20 unités": a number, up to two words
# (a brand), then what is counted; on the folded text.
_QUANTITY = re.compile(r"(?<![\w.,/-])(\d{1,6})\s?(?:x\s?)?(?:[a-z]+[\s-]){0,2}?(?:"
                       + _alternation(lex.QUANTITY_NOUNS) + r")(?!\w)")


# The same shapes with a calendar date ("flying on 14 December", "antes del 18 de diciembre"); used for what a
# draft must answer, not for urgency, which a date weeks away does not raise.
_DEADLINE_DATED = re.compile(
    rf"(?<!\w)(?:(?:{_alternation(lex.DEADLINE_BY)}){_SEP}{lex.DATE}"
    rf"|(?:{_alternation(lex.DEADLINE_NEED)})(?:{_SEP}\w+){{0,4}}?{_SEP}(?:(?:{_alternation(lex.DEADLINE_BY)}){_SEP})?"
    rf"{lex.DATE})(?!\w)")
_WHEN_PART = re.compile(rf"(?:(?:{_alternation(lex.DEADLINE_BY)}){_SEP})?(?:{lex.DATE}|{lex.WHEN})"
                        rf"(?:{_SEP}(?:{_alternation(lex.DEADLINE_LATEST)}))?(?!\w)")


def _when(said: str) -> str:
    """The time words of a deadline phrase ("need it fixed by Friday" -> "by Friday"), as the customer wrote them."""
    folded, index = _folded(said)
    found = list(_WHEN_PART.finditer(folded))
    if not found:
        return said
    m = found[-1]
    return said[m.start():m.end()] if index is None else said[index[m.start()]:index[m.end() - 1] + 1]


@dataclass(frozen=True)
class Requests:
    """What a customer explicitly asked for or is exposed to, in their own words: a reply must answer these.

    `deadline` holds only dated deadlines ("by Friday", "demain"); "urgent" alone is the urgency model's business.
    """

    hazard: list[str] = field(default_factory=list)
    callback: list[str] = field(default_factory=list)
    deadline: list[str] = field(default_factory=list)
    quantities: list[str] = field(default_factory=list)


def explicit_requests(text: str) -> Requests:
    """Hazards, call-back requests, deadlines and quantities named in a text (any of en/de/fr/es)."""
    hazard = _found(_SAFETY, text)
    if not hazard and (_spans(_CHILDREN, text) or _spans(_ELDERLY, text)):
        hazard = _found(_DANGER, text)
    spans = [] if _found(_CALM, text) else sorted(_spans(_DEADLINE_DATED, text) + _spans(_DEADLINE_TIMED, text))
    merged: list[tuple[int, int]] = []
    for a, b in spans:  # "by Friday" inside "by Friday 11 December": the longer says more
        if merged and a < merged[-1][1]:
            merged[-1] = (min(a, merged[-1][0]), max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    deadline = list(dict.fromkeys(_when(text[a:b]) for a, b in merged))
    folded, index = _folded(text)
    quantities = []
    for m in _QUANTITY.finditer(folded):
        if int(m.group(1)) >= 2:
            a, b = (m.start(), m.end()) if index is None else (index[m.start()], index[m.end() - 1] + 1)
            quantities.append(text[a:b])
    return Requests(hazard=hazard, callback=_found(_CALLBACK, text), deadline=deadline, quantities=quantities)
