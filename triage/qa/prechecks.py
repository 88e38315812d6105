"""Automatic pre-checks shown beside a sampled reply, so a reviewer starts from evidence, not a blank form.

Each check is a function over plain values returning a JSON-ready dict with its verdict and the reasons
behind it. None of them scores the reply: they point the reviewer at what to look at.
"""

from __future__ import annotations

import difflib
import re
import threading
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from models.signals import anger
from triage.sla.calendar import BusinessCalendar

# ---------------------------------------------------------------------------- spelling

SPELLING_LANGUAGES = ("en", "es", "fr", "it", "pt", "de", "ru", "ar", "lv", "eu", "nl", "fa")
_NOISE = re.compile(
    r"https?://\S+|www\.\S+"  # URLs
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"  # email addresses
    r"|\S*\d\S*"  # anything with a digit: order, account and phone numbers, amounts, dates, times
    r"|[@#]\w+",  # handles and tags
)
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_SENTENCE_END = re.compile(r"[.!?:;\n]\s*$")
# British spellings the (American) English dictionary lacks: accepted when the American form is a word.
_BRITISH = (("isation", "ization"), ("ise", "ize"), ("isi", "izi"), ("yse", "yze"), ("ysi", "yzi"),
            ("our", "or"), ("lled", "led"), ("lling", "ling"), ("ogue", "og"), ("ence", "ense"),
            ("mme", "m"), ("tre", "ter"), ("eable", "able"))
# Everyday support words the bundled English word list lacks.
_MODERN = frozenset(("app", "apps", "inbox", "inboxes", "screenshot", "screenshots", "dropdown", "smartphone",
                     "smartphones", "chatbot", "unboxing", "wifi", "logout", "signup", "login", "logins", "checkout",
                     "webshop", "ebook", "ebooks", "emoji", "emojis"))
_checkers: dict[str, Any] = {}
_checkers_lock = threading.Lock()
MAX_REPORTED = 50


def _checker(language: str) -> Any:
    """pyspellchecker's bundled word-frequency dictionary for a language, loaded once per process."""
    from spellchecker import SpellChecker

    with _checkers_lock:
        if language not in _checkers:
            _checkers[language] = SpellChecker(language=language, distance=2)
        return _checkers[language]


def _known(checker: Any, word: str, language: str) -> bool:
    if checker.known([word]):
        return True
    if language == "en":
        if word in _MODERN:
            return True
        for british, american in _BRITISH:
            if british in word and checker.known([word.replace(british, american)]):
                return True
    return False


def words_of(text: str) -> list[str]:
    """Lower-cased words (letters only), for vocabularies and overlaps."""
    return [w.lower().replace("’", "'") for w in _WORD.findall(text)]


def spelling(text: str, *, language: str, ignore: Iterable[str] = ()) -> dict[str, Any]:
    """Words the dictionary does not know, with a suggestion each.

    Skipped: URLs, email addresses, anything with a digit (order numbers, amounts), acronyms, words in
    `ignore` (names, product and knowledge-base words), and in languages other than German capitalised
    words inside a sentence, which are names far more often than mistakes.
    """
    language = (language or "en").lower()[:2]
    if language not in SPELLING_LANGUAGES:
        return {"language": language, "checked": 0, "count": 0, "errors": [], "skipped_names": 0,
                "verdict": "not_checked", "reasons": [f"no bundled dictionary for language {language!r}"]}
    checker = _checker(language)
    ignored = {w.lower() for w in ignore}
    clean = _NOISE.sub(lambda m: " " * len(m.group(0)), text)
    errors: dict[str, dict[str, Any]] = {}
    checked = skipped_names = 0
    for m in _WORD.finditer(clean):
        word = m.group(0).replace("’", "'")
        if len(word) < 2 or (word.isupper() and len(word) <= 6):
            continue
        lower = word.lower()
        base = lower.split("'")[0] if "'" in lower else lower
        if lower in ignored or base in ignored:
            continue
        sentence_start = m.start() == 0 or bool(_SENTENCE_END.search(clean[:m.start()]))
        if word[0].isupper() and not sentence_start and language != "de" and not word.isupper():
            if not _known(checker, lower, language):
                skipped_names += 1
            continue
        checked += 1
        if _known(checker, lower, language) or ("'" in lower and _known(checker, base, language)):
            continue
        entry = errors.setdefault(lower, {"word": word, "count": 0, "suggestion": None})
        entry["count"] += 1
    for entry in list(errors.values())[:MAX_REPORTED]:
        if len(entry["word"]) <= 20:  # candidates for long words cost seconds and rarely help
            suggestion = checker.correction(entry["word"].lower())
            entry["suggestion"] = suggestion if suggestion and suggestion != entry["word"].lower() else None
    count = sum(e["count"] for e in errors.values())
    reasons = [f"{e['word']!r}" + (f" (did you mean {e['suggestion']!r}?)" if e["suggestion"] else "")
               for e in list(errors.values())[:10]]
    return {"language": language, "checked": checked, "count": count,
            "errors": list(errors.values())[:MAX_REPORTED], "skipped_names": skipped_names,
            "verdict": "ok" if count == 0 else "check", "reasons": reasons}


# ---------------------------------------------------------------------------- personalisation

# Words every support reply uses whatever the customer wrote: sharing them shows nothing specific.
_GENERIC = frozenset(("hello", "hi", "hey", "dear", "thanks", "thank", "please", "sorry", "apologise", "apologize",
                      "apologies", "regards", "best", "kind", "wishes", "team", "support", "customer", "customers",
                      "contact", "message", "messages", "email", "mail", "question", "questions", "issue", "issues",
                      "problem", "problems", "help", "happy", "glad", "know", "need", "let", "get", "got", "look",
                      "looking", "reach", "reaching", "assist", "assistance", "inconvenience", "understand", "hear",
                      "great", "good", "day", "today", "soon", "possible", "able", "ticket", "reply", "write",
                      "writing", "wrote", "service", "request", "thing", "things"))
_ENTITY_LABELS = ("ORDER_NUMBER", "ACCOUNT_NUMBER", "MONEY", "DATE", "PRODUCT")


def _stopwords(language: str) -> frozenset[str]:
    from importlib import import_module

    try:
        return frozenset(import_module(f"spacy.lang.{language}.stop_words").STOP_WORDS)
    except ImportError:
        return frozenset(import_module("spacy.lang.en.stop_words").STOP_WORDS)


def _stem(word: str) -> str:
    """A crude suffix stripper: enough to match parcel/parcels, arrive/arrived, charge/charged."""
    w = word.lower().replace("'s", "")
    for suffix, repl in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", ""), ("e", "")):
        if w.endswith(suffix) and len(w) - len(suffix) >= 4 and not w.endswith("ss"):
            w = w[: len(w) - len(suffix)] + repl
            break
    return w


def content_terms(text: str, language: str = "en") -> dict[str, str]:
    """stem -> first surface form, for the words that carry meaning (no stop or generic support words)."""
    stop = _stopwords(language)
    out: dict[str, str] = {}
    for word in words_of(_NOISE.sub(" ", text)):
        if len(word) >= 3 and word not in stop and word not in _GENERIC:
            out.setdefault(_stem(word), word)
    return out


def _same_stem(a: str, b: str) -> bool:
    return a == b or (min(len(a), len(b)) >= 5 and (a.startswith(b) or b.startswith(a)))


def _normalise_entity(text: str) -> str:
    return re.sub(r"[\s#.,]", "", text.lower())


def personalisation(reply: str, customer_text: str, customer_name: str | None, *, language: str = "en",
                    entities: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
    """Does the reply greet the customer by name and pick up what they actually wrote?

    `entities` are (label, text) found in the customer's message (order numbers, amounts, dates,
    products); echoing one counts as specific, and so do two shared content words beyond stock phrases.
    """
    reasons: list[str] = []
    first = (customer_name or "").split()[0] if (customer_name or "").split() else None
    uses_name: bool | None = None
    if first and len(first) > 1:
        uses_name = re.search(rf"\b{re.escape(first)}\b", reply, flags=re.I) is not None
        reasons.append(f"uses the customer's name {first!r}" if uses_name else f"does not use the name {first!r}")
    else:
        reasons.append("no customer name on record")
    reply_norm = _normalise_entity(reply)
    shared_entities = sorted({text for label, text in entities
                              if label in _ENTITY_LABELS and _normalise_entity(text)
                              and _normalise_entity(text) in reply_norm})
    asked = content_terms(customer_text, language)
    said = content_terms(reply, language)
    shared_terms = sorted({asked[a] for a in asked if any(_same_stem(a, s) for s in said)})
    specific = bool(shared_entities) or len(shared_terms) >= 2
    if shared_entities:
        reasons.append("repeats " + ", ".join(shared_entities))
    if shared_terms:
        reasons.append("picks up the customer's words: " + ", ".join(shared_terms[:8]))
    if not specific:
        reasons.append("nothing specific to the customer's message: reads like a template")
    coverage = round(len(shared_terms) / len(asked), 3) if asked else None
    score = int(bool(uses_name)) + int(specific)
    verdict = ("personal", "partly", "generic")[2 - score]
    return {"uses_name": uses_name, "name": first, "shared_entities": shared_entities,
            "shared_terms": shared_terms, "coverage": coverage, "specific": specific, "verdict": verdict,
            "reasons": reasons}


# ---------------------------------------------------------------------------- response time


def _minutes(delta: timedelta) -> float:
    return round(delta.total_seconds() / 60, 1)


def response_time(*, reply_at: datetime, metric: str, clock_start: datetime | None, due_at: datetime | None,
                  target: timedelta | None, calendar: BusinessCalendar, breaches: Sequence[str]) -> dict[str, Any]:
    """How long the customer waited for this reply, in wall-clock and business time, against the SLA target."""
    out: dict[str, Any] = {"metric": metric, "since": clock_start.isoformat() if clock_start else None,
                           "waited_minutes": None, "business_minutes": None,
                           "target_minutes": _minutes(target) if target else None,
                           "due_at": due_at.isoformat() if due_at else None, "within_sla": None,
                           "ticket_breaches": sorted(set(breaches)), "reasons": []}
    reasons: list[str] = out["reasons"]
    if clock_start is None:
        reasons.append("a follow-up: no customer message was waiting for it")
    else:
        out["waited_minutes"] = _minutes(reply_at - clock_start)
        out["business_minutes"] = _minutes(calendar.business_time_between(clock_start, reply_at))
        reasons.append(f"{metric.replace('_', ' ')} after {out['business_minutes']} business minutes")
    if due_at is not None and clock_start is not None:
        out["within_sla"] = reply_at <= due_at
        late = _minutes(reply_at - due_at)
        reasons.append("within the SLA" if out["within_sla"] else f"{late} minutes after the SLA deadline")
    elif clock_start is not None:
        reasons.append("no SLA target applies to this reply")
    if breaches:
        reasons.append("the ticket breached: " + ", ".join(sorted(set(breaches))))
    out["verdict"] = ("follow_up" if clock_start is None else "no_target" if out["within_sla"] is None
                      else "met" if out["within_sla"] else "missed")
    return out


# ---------------------------------------------------------------------------- tone

_POLITE = re.compile(r"\b(?:please|thank(?:s| you)|appreciate|kind regards|best regards|happy to help|"
                     r"glad to help|let me know|bitte|danke|merci|s'il vous pla[iî]t)\b", re.I)
_EMPATHY = re.compile(r"\b(?:sorry|apologi[sz]e|apologies|understand(?: how| that| your)|i can imagine|"
                      r"frustrating|must be|i hear you|thank you for your patience|entschuldig\w*|"
                      r"d[ée]sol[ée]e?)\b", re.I)
_DISMISSIVE = re.compile(
    r"\b(?:you should have|you need to read|as (?:i|we) (?:already |have already )?(?:said|told you|explained|"
    r"mentioned)|calm down|not our (?:problem|fault|responsibility)|your (?:own )?fault|nothing (?:i|we) can do|"
    r"there is nothing (?:i|we) can do|obviously|clearly you|you failed to|read the (?:manual|instructions|faq)|"
    r"we can'?t help you|i can'?t help you|that'?s (?:just )?(?:the|our) policy|deal with it|"
    r"not (?:my|our) job|for the last time)\b", re.I)
_SHOUT = re.compile(r"\b[A-Z]{3,}\b")
# Capitals that are names of things, not raised voices.
_ACRONYMS = frozenset(("ASAP", "FAQ", "USA", "USD", "EUR", "GBP", "CHF", "API", "URL", "PDF", "VAT", "IBAN", "BIC",
                       "SMS", "PIN", "ATM", "CEO", "CTO", "ETA", "GPS", "DHL", "UPS", "FEDEX", "TNT", "UTC", "GMT",
                       "CET", "LED", "USB", "DOA", "RMA", "SKU", "QR", "NFC", "HTML", "CSV", "IMAP", "SMTP", "VPN",
                       "IOS"))


def tone(reply: str, *, model: tuple[str, float] | None = None) -> dict[str, Any]:
    """Politeness and empathy against blame, dismissal, shouting and anger, each shown as the words found.

    `model` is the sentiment classifier's (label, confidence) for the reply. It was trained on customers'
    messages, where an apology signals a problem, so it is shown for context and never decides alone.
    """
    polite = sorted({m.group(0).lower() for m in _POLITE.finditer(reply)})
    empathy = sorted({m.group(0).lower() for m in _EMPATHY.finditer(reply)})
    dismissive = sorted({m.group(0).lower() for m in _DISMISSIVE.finditer(reply)})
    shouting = sorted({w for w in _SHOUT.findall(reply) if w not in _ACRONYMS})
    angry = anger(reply)
    concerns: list[str] = []
    if dismissive:
        concerns.append("dismissive or blaming: " + ", ".join(repr(d) for d in dismissive))
    if shouting:
        concerns.append("capitals read as shouting: " + ", ".join(shouting[:5]))
    if reply.count("!") >= 3 or "!!" in reply:
        concerns.append("many exclamation marks")
    if angry.angry:
        concerns.append("sounds angry: " + "; ".join(angry.reasons))
    reasons = list(concerns)
    if polite:
        reasons.append("polite: " + ", ".join(repr(p) for p in polite))
    if empathy:
        reasons.append("empathetic: " + ", ".join(repr(e) for e in empathy))
    out: dict[str, Any] = {"verdict": "concern" if concerns else ("warm" if polite and empathy else
                                                                 "polite" if polite else "neutral"),
                           "polite": polite, "empathy": empathy, "dismissive": dismissive, "shouting": shouting,
                           "anger_score": round(angry.score, 3), "model": None, "reasons": reasons}
    if model is not None:
        label, confidence = model
        out["model"] = {"label": label, "confidence": round(float(confidence), 3)}
        reasons.append(f"sentiment model reads it as {label} ({confidence:.2f})")
    return out


# ---------------------------------------------------------------------------- suggested draft


def draft_kept(reply: str, draft: str | None, *, suggestion_id: int | None = None,
               feedback: str | None = None) -> dict[str, Any]:
    """How much of the suggested draft survived into the reply (difflib over words).

    `kept_share` is the share of the draft's words found in order in the reply; `similarity` is
    difflib's ratio (2 * matches / both lengths), which also drops when the agent added much.
    """
    if draft is None:
        return {"suggestion_id": None, "feedback": None, "similarity": None, "kept_share": None,
                "verdict": "no_draft", "reasons": ["no draft was suggested on this ticket before the reply"]}
    a, b = words_of(draft), words_of(reply)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    kept = sum(block.size for block in matcher.get_matching_blocks())
    similarity = round(matcher.ratio(), 3)
    share = round(kept / len(a), 3) if a else 0.0
    verdict = "kept" if share >= 0.9 and similarity >= 0.9 else "edited" if share >= 0.5 else "rewritten"
    reasons = [f"{share:.0%} of the draft's words kept, similarity {similarity:.2f}"]
    if feedback:
        reasons.append(f"the agent marked the suggestion {feedback}")
    return {"suggestion_id": suggestion_id, "feedback": feedback, "similarity": similarity, "kept_share": share,
            "verdict": verdict, "reasons": reasons}
