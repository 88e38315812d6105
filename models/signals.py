"""Explicit, explainable signals in customer text: anger/frustration and urgency cues.

Pure functions over a text, each returning short human-readable reasons, so that an agent can see why a
message was flagged. The lexicons are written for Triage and deliberately domain-neutral: they describe how
people complain and escalate, not what they buy.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from models.memo import memo

URGENCY_LEVELS = ("low", "normal", "high", "critical")
_ALIASES = {"medium": "normal", "moderate": "normal", "urgent": "critical", "very high": "critical",
            "highest": "critical", "lowest": "low", "minor": "low", "major": "high", "p1": "critical",
            "p2": "high", "p3": "normal", "p4": "low"}


def urgency_rank(label: str) -> int | None:
    """Position of a label on low < normal < high < critical (common synonyms accepted), else None."""
    key = str(label).strip().lower()
    key = _ALIASES.get(key, key)
    return URGENCY_LEVELS.index(key) if key in URGENCY_LEVELS else None


# ---------------------------------------------------------------- anger and frustration

_PROFANITY = re.compile(
    r"\b(?:f+u+c+k\w*|f\*+k\w*|wtf|sh[i1]t\w*|bullsh\w*|crap+y?|damn(?:ed|it)?|goddamn\w*|bloody|hell|"
    r"piss(?:ed)?(?: off)?|bastards?|arse|ass(?:holes?)?|screw(?:ed)? (?:you|up|over)|sucks?)\b", re.I)
_INSULTS = re.compile(
    r"\b(?:idiots?|idiotic|morons?|moronic|stupid|incompetent|incompetence|useless|pathetic|clowns?|"
    r"amateurs?|amateurish|liars?|lying|thie(?:f|ves)|crooks?|scammers?|rip[- ]?off|joke|laughable|"
    r"disgrace(?:ful)?|shameful|shambles|clueless|worthless|garbage|rubbish|trash|hopeless)\b", re.I)
_FRUSTRATION = re.compile(
    r"\b(?:unacceptable|ridiculous|absurd|outrageous|appalling|appalled|disgusting|disgusted|furious|"
    r"livid|fuming|outraged|infuriat\w*|angry|mad at|frustrat\w*|annoy\w*|fed up|sick (?:and tired )?of|"
    r"had enough|last straw|enough is enough|terrible|horrible|horrendous|awful|worst|atrocious|"
    r"never again|waste of (?:my )?(?:time|money)|beyond (?:a )?joke|i'?m done|done being|"
    r"how (?:hard|difficult) (?:is it|can it be)|are you (?:kidding|serious)|seriously\?|what a joke|"
    r"nobody (?:cares|helps)|no one (?:cares|helps))", re.I)
_REPEATED_CONTACT = re.compile(
    r"\b(?:(?:second|third|fourth|fifth|2nd|3rd|4th|5th|\d+th|umpteenth|nth) (?:time|attempt|email|call|request)|"
    r"(?:two|three|four|five|six|several|multiple|many|\d+) (?:times|emails|calls|messages|attempts)|"
    r"how many (?:more )?times|again and again|yet again|"
    r"no (?:one|body) (?:has )?(?:replied|responded|answered|got back|gotten back|called)|"
    r"nobody (?:has )?(?:replied|responded|answered|got back|called)|"
    r"(?:never|not) (?:heard|had a reply|received a reply)|"
    r"already (?:contacted|called|emailed|written|wrote|asked|explained|told)|follow(?:ing)?[- ]up (?:on|again)|"
    r"keep (?:being told|getting|telling|asking)|chased|chasing)\b", re.I)
_STILL_WAITING = re.compile(
    r"\bstill (?:no|not|nothing|haven'?t|hasn'?t|waiting|have not|has not|can'?t|cannot|doesn'?t|won'?t)\b", re.I)
_ANGRY_EMOJI = re.compile("[\U0001F620\U0001F621\U0001F92C\U0001F4A2\U0001F624\U0001F92F]|>:\\(|>:-\\(")
_REPEATED_PUNCT = re.compile(r"[!?]{2,}|!{2,}|\?{3,}")
_CAPS_WORD = re.compile(r"\b[A-Z]{3,}\b")
_SHOUTED_PHRASE = re.compile(r"\b[A-Z]{2,}(?:[ ,]+[A-Z]{2,}){2,}\b")
# Acronyms that are written in capitals anyway; shouting is about ordinary words.
_ACRONYMS = frozenset([
    "ASAP", "FAQ", "USA", "USD", "EUR", "GBP", "CHF", "API", "URL", "PDF", "VAT", "IBAN", "BIC", "SMS",
    "PIN", "ATM", "CEO", "CTO", "IT", "HR", "UK", "EU", "ID", "OK", "FYI", "ETA", "TV", "PC", "LED", "USB",
    "GPS", "DHL", "UPS", "FEDEX", "TNT", "NYC", "LAX", "JFK", "SFO", "LHR", "CET", "UTC", "GMT", "EST",
    "PST", "AM", "PM", "RSVP", "DOA"
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
    letters = [w for w in re.findall(r"[A-Za-z]{3,}", text)]
    # Technical text is full of product acronyms no list can hold (EMR, PACS, CRM, VPN), even in short
    # sentences. Shouting is mostly capitals, or a phrase of three or more words in capitals.
    if caps and (len(caps) / len(letters) >= 0.5 or _SHOUTED_PHRASE.search(text)):
        weight += 0.8 if len(caps) >= 3 else 0.5
        reasons.append("shouting in capitals")
    punct = _REPEATED_PUNCT.findall(text)
    if punct:
        weight += 0.4 if len(punct) == 1 and len(punct[0]) <= 2 else 0.7
        reasons.append("repeated punctuation")
    profanity = _PROFANITY.findall(text)
    if profanity:
        weight += 1.2
        reasons.append(f"profanity ({_quote(profanity)})")
    insults = _INSULTS.findall(text)
    if insults:
        weight += 0.9
        reasons.append(f"insult ({_quote(insults)})")
    frustration = _FRUSTRATION.findall(text)
    if frustration:
        weight += 0.7 + 0.3 * (len(frustration) - 1)
        reasons.append(f"frustration ({_quote(frustration)})")
    repeated = _REPEATED_CONTACT.findall(text)
    if repeated:
        weight += 0.5
        reasons.append(f"repeated contact ({_quote(repeated)})")
    if _STILL_WAITING.search(text):
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


def _quote(found: Iterable[str]) -> str:
    seen: list[str] = []
    for item in found:
        item = item.strip().lower()
        if item and item not in seen:
            seen.append(item)
    return ", ".join(f'"{s}"' for s in seen[:3])


# ---------------------------------------------------------------- urgency cues


@dataclass(frozen=True)
class UrgencySignal:
    """One cue: its name, the lowest level it implies (`floor`) or a one-step raise (`bump`), and why."""

    name: str
    reason: str
    floor: str | None = None
    bump: bool = False


_RULES: tuple[tuple[str, str | None, bool, str, re.Pattern[str]], ...] = (
    ("safety", "critical", False, "safety hazard", re.compile(
        r"\b(?:smok(?:e|ing|y)|burning|burnt|burned|scorch\w*|on fire|caught fire|fire\b|flames?|sparks?|sparking|"
        r"melt(?:ed|ing)|overheat\w*|too hot to touch|hot to the touch|swollen|bulging|explod\w*|electric(?:al)? shock|"
        r"electrocut\w*|shock(?:ed)? me|gas leak|smell(?:s)? of gas|carbon monoxide|injur\w*|"
        r"(?:taken|went|rushed|admitted) to (?:the )?hospital|ended up in (?:the )?hospital|hospitali[sz]ed|"
        r"choking|poison\w*|toxic|contaminat\w*|crackl\w*|(?:socket|plug|outlet|wiring) (?:has )?(?:gone black|"
        r"melted|scorched)|leak\w* (?:onto|into|near|over) (?:the |a )?(?:power )?(?:socket|plug|outlet|wiring))\b",
        re.I)),
    ("security", "critical", False, "security or fraud", re.compile(
        r"\b(?:hack(?:ed|er|ers|ing)?|fraud\w*|unauthori[sz]ed|didn'?t (?:make|place|authori[sz]e)|did not "
        r"(?:make|place|authori[sz]e)|stolen (?:card|identity|account|password)|card (?:was|has been) stolen|"
        r"identity theft|phishing|compromised|data breach|breach|leak(?:ed)? (?:data|details)|someone else'?s "
        r"(?:order|details|data|address)|(?:account|card) (?:was |has been )?(?:taken over|used without)|"
        r"taken over my account|account takeover|someone (?:has )?(?:logged|accessed|used|changed|is (?:using|logged))|"
        r"scam(?:med)?|skimm\w*|pretend(?:ing|ed) to be|fake (?:website|site|email|text|sms|call|page)|"
        r"other (?:customers|people|users)'? (?:details|data|names|addresses|information|orders|card)|"
        r"(?:account|card) (?:has been|was|is being) used)\b", re.I)),
    ("legal", "critical", False, "legal threat", re.compile(
        r"\b(?:lawyers?|attorneys?|solicitors?|legal (?:action|proceedings|claim|steps|advice|team)|sue|suing|"
        r"lawsuit|court|small claims|tribunal|ombudsman|trading standards|consumer protection|"
        r"(?:better business bureau|bbb)|regulator|report (?:you|this) to|formal complaint|formal notice|"
        r"chargeback|police report|gdpr complaint|data protection authority)\b", re.I)),
    ("outage", "high", False, "outage / not working", re.compile(
        r"\b(?:outage|(?:is|are|been|went|goes|gone) down|down for (?:everyone|all|hours|days)|"
        r"not working at all|doesn'?t work at all|does not work at all|won'?t (?:turn|power|switch) on|"
        r"(?:completely|totally|entirely) (?:dead|broken|down|unusable|stopped)|stopped working|nothing works|"
        r"(?:can'?t|cannot|unable to) (?:log ?in|sign in|access|place (?:any )?orders?|pay|use)(?: \w+)? at all|"
        r"inaccessible|unreachable|crash(?:es|ed|ing) (?:every|all|constantly)|error 5\d\d|50[0-4] error)\b", re.I)),
    ("deadline", "high", False, "deadline", re.compile(
        r"\b(?:urgent(?:ly)?|asap|a\.s\.a\.p|as soon as possible|immediately|right away|right now|straight away|"
        r"emergency|time[- ]sensitive|today|tonight|tomorrow|within (?:the |an |\d+ |one |two )?(?:hour|hours|minutes)|"
        r"end of (?:the )?day|eod|by (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|noon|midnight|"
        r"the end of|next week|this week|the \d{1,2}(?:st|nd|rd|th)?)|before (?:monday|tuesday|wednesday|thursday|"
        r"friday|saturday|sunday|the weekend|the \d{1,2}(?:st|nd|rd|th)?|it ships)|deadline|closes (?:today|tomorrow)|"
        r"this (?:morning|afternoon|evening)|last day)\b", re.I)),
    ("churn", None, True, "cancellation / churn risk", re.compile(
        r"\b(?:cancel (?:my|our|the) (?:account|subscription|membership|contract|plan|service)|close my account|"
        r"(?:switch|switching|move|moving|go|going)(?: over)? to (?:a |an )?(?:competitor|another (?:provider|company|"
        r"supplier|bank|store|shop|service|airline|carrier))|go(?:ing)? elsewhere|take my business elsewhere|"
        r"(?:leave|leaving) (?:you|your)|never (?:buy|order|shop|use)\w* "
        r"(?:from|with)? ?(?:you|here)? ?again|last (?:chance|attempt) before|done with (?:you|your)|"
        r"unsubscribe me|terminate (?:my|our|the) (?:contract|account|subscription))", re.I)),
    ("repeated_contact", None, True, "repeated contact", _REPEATED_CONTACT),
)


# "Not urgent", "no rush": the customer says outright that it can wait.
_CALM = re.compile(r"\b(?:not (?:urgent|in a hurry|a priority)|no (?:rush|hurry|pressure)|whenever (?:you|it'?s)|"
                   r"in your own time|when(?:ever)? you (?:get|have) (?:a )?(?:chance|moment|time))\b", re.I)


def urgency_signals(text: str, *, vip: bool = False, previous_contacts: int = 0,
                    sentiment: tuple[str, float] | None = None) -> list[UrgencySignal]:
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
    return found


def _text_cues(text: str) -> tuple[UrgencySignal, ...]:
    """The cues the text alone carries (the rules above), in rule order."""
    found: list[UrgencySignal] = []
    calm = _CALM.search(text) is not None
    for name, floor, bump, title, pattern in _RULES:
        hits = pattern.findall(text)
        if not hits or (name == "deadline" and calm):
            continue
        if name == "outage" and re.search(r"\b(?:all|every|whole|entire|company|business|production|stores?|"
                                          r"customers|staff|team|everyone|api|checkout|portal|platform|servers?|"
                                          r"website|site|system)\b", text, re.I):
            floor = "critical"  # an outage that stops a business, not one device
        found.append(UrgencySignal(name, f"{title}: {_quote(hits)}", floor=floor, bump=bump))
    return tuple(found)


def escalate(level: str, signals: list[UrgencySignal], levels: tuple[str, ...] = URGENCY_LEVELS) -> str:
    """The level after the signals: at least every floor, one step up for any raise (never to critical)."""
    ranked = sorted(levels, key=lambda lab: urgency_rank(lab) if urgency_rank(lab) is not None else 1)
    rank = urgency_rank(level)
    if rank is None:
        return level
    floors = [urgency_rank(s.floor) for s in signals if s.floor]
    new = max([rank, *[f for f in floors if f is not None]])
    if any(s.bump for s in signals):
        new = max(new, min(rank + 1, URGENCY_LEVELS.index("high")))
    # Map back onto the labels the model knows (a model trained on low/medium/high has no "critical").
    candidates = [lab for lab in ranked if (urgency_rank(lab) or 0) >= new]
    return candidates[0] if candidates else ranked[-1]
