"""Automatic pre-checks shown beside a sampled reply, so a reviewer starts from evidence, not a blank form.

Each check is a function over plain values returning a JSON-ready dict with its verdict and the reasons
behind it. None of them scores the reply: they point the reviewer at what to look at.
"""

from __future__ import annotations

import difflib
import functools
import re
import threading
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from models.signals import anger, fold
from triage.qa import lexicon
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


# simplemma's lemmatisation tables (inflected word forms, inside its wheel) back pyspellchecker up: its Spanish
# list lacks everyday forms such as "está", "hemos" and "gracias", and every list misses some inflections.
WORD_FORM_LANGUAGES = frozenset(("en", "de", "fr", "es", "it", "pt", "nl"))
_forms_loaded: set[str] = set()
_forms_lock = threading.Lock()
# Elided articles and pronouns: "n'hésitez", "l'adresse", "qu'il", "dell'ordine" are words after the apostrophe.
_ELISIONS = frozenset(("l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu", "dell",
                       "nell", "all", "dall", "sull", "un", "quest", "quell"))


def _word_form(word: str, language: str) -> bool:
    import simplemma

    # low_memory: the compact backend holds en, de, fr and es in about 35 MB instead of about 270 MB.
    if language not in _forms_loaded:
        with _forms_lock:  # the first look-up loads the language's data; one thread does it
            simplemma.is_known(word, lang=language, low_memory=True)
            _forms_loaded.add(language)
    return bool(simplemma.is_known(word, lang=language, low_memory=True))


def _known(checker: Any, word: str, language: str) -> bool:
    if checker.known([word]):
        return True
    if language in WORD_FORM_LANGUAGES and _word_form(word, language):
        return True
    if language == "en":
        if word in _MODERN:
            return True
        for british, american in _BRITISH:
            if british in word and checker.known([word.replace(british, american)]):
                return True
    return False


def _known_word(checker: Any, word: str, language: str) -> bool:
    """Known as written, or as the word before an apostrophe (we've) or after an elision (n'hésitez)."""
    if _known(checker, word, language):
        return True
    if "'" not in word:
        return False
    head, _, tail = word.partition("'")
    return _known(checker, head, language) or (head in _ELISIONS and bool(tail) and _known(checker, tail, language))


def words_of(text: str) -> list[str]:
    """Lower-cased words (letters only), for vocabularies and overlaps."""
    return [w.lower().replace("’", "'") for w in _WORD.findall(text)]


_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|\{\w*\}", re.S)


@functools.lru_cache(maxsize=16)
def template_words(language: str) -> frozenset[str]:
    """The words of our own reply drafts in a language (every string table of `triage.knowledge.draft_texts`)."""
    from triage.knowledge import draft_texts

    texts: list[str] = []
    for table in vars(draft_texts).values():
        # The texts module keeps its sentences as {language: {key: text}} tables; walk them all, so a
        # table added there is accepted here without a change.
        if isinstance(table, dict) and isinstance(table.get(language), dict):
            texts += [t for t in table[language].values() if isinstance(t, str)]
    return frozenset(words_of(_JINJA.sub(" ", " ".join(texts))))


def config_templates(config: Any) -> list[str]:
    """The text of the configured acknowledgements and chat greeting (`[auto_reply]`), for `spelling(templates=)`."""
    auto = config.auto_reply
    return [auto.subject, auto.body, auto.chat_body,
            *(t.body for t in auto.templates if t.body), *(t.chat_body for t in auto.templates if t.chat_body),
            *(t.subject for t in auto.templates if t.subject)]


# German joins nouns into compounds the dictionary cannot list ("Paketdienst", "Nachforschungsauftrag"); such a
# word is accepted when it splits into known words, joined directly or by a linking -s-, -es-, -n- or -en-.
COMPOUND_LANGUAGES = frozenset(("de",))
_LINKS = ("", "s", "es", "n", "en")
_MIN_PART = 4  # shorter parts would let almost any misspelling split ("bes" + "telung")
_MAX_PARTS = 3


@functools.lru_cache(maxsize=65536)
def compound_parts(word: str, language: str) -> tuple[str, ...] | None:
    """The known words a compound splits into, longest head first; None when it does not split."""
    checker = _checker(language)
    return _split(checker, word.lower(), 1)


def _split(checker: Any, word: str, depth: int) -> tuple[str, ...] | None:
    for cut in range(len(word) - _MIN_PART, _MIN_PART - 1, -1):
        head, rest = word[:cut], word[cut:]
        # A verb stem leads many compounds: "Liefer-adresse" from "liefern", "Wasch-maschine" from "waschen".
        if not (checker.known([head]) or checker.known([head + "n"]) or checker.known([head + "en"])):
            continue
        for link in _LINKS:
            tail = rest[len(link):]
            if not rest.startswith(link) or len(tail) < _MIN_PART:
                continue
            if checker.known([tail]):
                return (head + link, tail)
            if depth + 1 < _MAX_PARTS:
                more = _split(checker, tail, depth + 1)
                if more:
                    return (head + link, *more)
    return None


def _names_after_cues(text: str) -> set[int]:
    """Start offsets of capitalised words that follow a salutation or title ("Frau Schneider", "Hallo Jonas")."""
    out: set[int] = set()
    previous: re.Match[str] | None = None
    previous_is_name = False
    for m in _WORD.finditer(text):
        word = m.group(0)
        cue = False
        if previous is not None:
            gap = text[previous.end():m.start()]
            before = previous.group(0).lower()
            if before in lexicon.SIGNOFF_CUES:
                cue = gap.strip() in ("", ",") and gap.count("\n") <= 1
            elif before in lexicon.NAME_CUES or previous_is_name:
                cue = "\n" not in gap and gap.strip() in ("", ".")
        previous_is_name = bool(cue and word[:1].isupper())
        if previous_is_name:
            out.add(m.start())
        previous = m
    return out


def spelling(text: str, *, language: str, ignore: Iterable[str] = (), customer_text: str = "",
             templates: Iterable[str] = ()) -> dict[str, Any]:
    """Words the dictionary of the reply's language does not know, with a suggestion each.

    Accepted without the dictionary, each listed under `accepted` so the reviewer sees why: words in
    `ignore` (names, product and knowledge-base words), words of our own drafts and of `templates` (the
    configured acknowledgements), words the customer wrote in `customer_text`, German compounds of known
    words, and names: capitalised words inside a sentence (in German, only after a salutation or title,
    since German capitalises every noun). Skipped: URLs, email addresses, anything with a digit (order
    numbers, amounts), acronyms.
    """
    language = (language or "en").lower()[:2]
    if language not in SPELLING_LANGUAGES:
        return {"language": language, "checked": 0, "count": 0, "errors": [], "skipped_names": 0, "accepted": {},
                "verdict": "not_checked", "reasons": [f"no bundled dictionary for language {language!r}"]}
    checker = _checker(language)
    sources: list[tuple[str, set[str]]] = [
        ("ignored", {w.lower() for w in ignore}),
        ("template", set(template_words(language)) | set(words_of(_JINJA.sub(" ", " ".join(templates))))),
        ("customer", set(words_of(customer_text))),
    ]
    accepted: dict[str, list[str]] = {}

    def accept(kind: str, word: str) -> None:
        listed = accepted.setdefault(kind, [])
        if word not in listed and len(listed) < MAX_REPORTED:
            listed.append(word)

    clean = _NOISE.sub(lambda m: " " * len(m.group(0)), text)
    after_cue = _names_after_cues(clean) if language == "de" else set()
    errors: dict[str, dict[str, Any]] = {}
    checked = skipped_names = 0
    for m in _WORD.finditer(clean):
        word = m.group(0).replace("’", "'")
        if len(word) < 2 or (word.isupper() and len(word) <= 6):
            continue
        lower = word.lower()
        base = lower.split("'")[0] if "'" in lower else lower
        known = _known_word(checker, lower, language)
        source = next((kind for kind, words in sources if lower in words or base in words), None)
        if source == "ignored":
            continue
        sentence_start = m.start() == 0 or bool(_SENTENCE_END.search(clean[:m.start()]))
        if word[0].isupper() and not word.isupper() and (
                m.start() in after_cue or (not sentence_start and language != "de")):
            if not known and source is None:
                skipped_names += 1
                accept("name", word)
            continue
        checked += 1
        if known:
            continue
        if source is not None:
            accept(source, word)
            continue
        parts = compound_parts(lower, language) if language in COMPOUND_LANGUAGES else None
        if parts:
            accept("compound", "+".join(parts))
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
    labels = {"template": "words of our templates", "customer": "the customer's own words",
              "compound": "compounds of known words", "name": "names"}
    reasons += [f"accepted as {labels[kind]}: " + ", ".join(words[:8]) for kind, words in accepted.items()]
    return {"language": language, "checked": checked, "count": count,
            "errors": list(errors.values())[:MAX_REPORTED], "skipped_names": skipped_names, "accepted": accepted,
            "verdict": "ok" if count == 0 else "check", "reasons": reasons}


# ---------------------------------------------------------------------------- personalisation

_ENTITY_KINDS = {"ORDER_NUMBER": "order", "ACCOUNT_NUMBER": "account", "MONEY": "amount", "DATE": "date",
                 "PRODUCT": "product"}
_KIND_WORDS = {"name": "the customer's name", "order": "order number", "account": "account number",
               "amount": "amount", "date": "date", "product": "product", "facts": "the customer's own facts"}

_NUMBER = r"\d{1,3}(?:[.,\u00a0 ]\d{3})*(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_CURRENCY = r"EUR|USD|GBP|CHF|SEK|NOK|DKK|PLN|CZK|CAD|AUD|euros?|dollars?|pounds?|libras?|francs?|francos?|cents?"
_MONTH_NAMES = "|".join(sorted({m for months in lexicon.MONTHS.values() for m in months}, key=len, reverse=True))
_REFERENCES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("order", re.compile(r"\b(?!ACC)[A-Z]{2,4}-\d{4,}\b")),
    ("order", re.compile(r"\b(?:" + "|".join(lexicon.ORDER_WORDS) + r")\s*"
                         r"(?:number|no\.?|nr\.?|nummer|n[°º]|n[úu]mero|#)?\s*:?\s*#?\s*(\d{5,})\b", re.I)),
    ("account", re.compile(r"\bACC-?\d{3,}\b", re.I)),
    ("amount", re.compile(rf"(?:[€$£]|\b(?:{_CURRENCY})\b)\s?(?:{_NUMBER})(?!\d)"
                          rf"|(?<![\d.,])(?:{_NUMBER})\s?(?:[€$£]|(?:{_CURRENCY})\b)", re.I)),
    ("date", re.compile(r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}[./]\d{1,2}[./](?:\d{4}|\d{2})\b")),
    ("date", re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th|er|\.)?\s+(?:of\s+|de\s+)?(?:{_MONTH_NAMES})\b"
                        rf"|\b(?:{_MONTH_NAMES})\s+\d{{1,2}}(?:st|nd|rd|th)?\b", re.I)),
)


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
    generic = lexicon.GENERIC.get(language, frozenset()) | lexicon.GENERIC["en"]
    out: dict[str, str] = {}
    for word in words_of(_NOISE.sub(" ", text)):
        if len(word) >= 3 and word not in stop and word not in generic:
            out.setdefault(_stem(word), word)
    return out


def _same_stem(a: str, b: str) -> bool:
    return a == b or (min(len(a), len(b)) >= 5 and (a.startswith(b) or b.startswith(a)))


def _normalise_entity(text: str) -> str:
    return re.sub(r"[\s#.,\u00a0-]", "", text.lower())


def references(text: str, *, products: Iterable[str] = ()) -> list[tuple[str, str]]:
    """Concrete references in a text, as (kind, text): order and account numbers, amounts, dates, products."""
    found: list[tuple[int, int, str, str]] = []
    for kind, pattern in _REFERENCES:
        for m in pattern.finditer(text):
            group = 1 if pattern.groups else 0
            found.append((m.start(group), m.end(group), kind, m.group(group).strip()))
    lowered = text.lower()
    for product in {p.strip() for p in products if p and p.strip()}:
        phrase = r"[\s-]+".join(re.escape(w) for w in re.split(r"[\s-]+", product.lower()))
        hit = re.search(r"(?<!\w)" + phrase + r"(?!\w)", lowered)
        if hit:
            found.append((hit.start(), hit.end(), "product", text[hit.start():hit.end()]))
    out: list[tuple[str, str]] = []
    taken: list[tuple[int, int]] = []
    for start, end, kind, surface in sorted(found, key=lambda f: (f[0], -(f[1] - f[0]))):
        if all(end <= a or start >= b for a, b in taken):  # "LH-104702" is one order number, not also a date
            taken.append((start, end))
            out.append((kind, surface))
    return out


def personalisation(reply: str, customer_text: str, customer_name: str | None, *, language: str = "en",
                    entities: Sequence[tuple[str, str]] = (), products: Iterable[str] = ()) -> dict[str, Any]:
    """How concretely the reply speaks to this customer: counted in kinds of reference, not in shared words.

    Kinds: the customer's name (any part of it, so "Frau Schneider" counts), order and account numbers,
    amounts, dates written out (a bare weekday, which any template has, only when the customer's `entities`
    name it), products (`products` and
    the PRODUCT `entities`), and the customer's own facts (two content words of their message picked up
    beyond stock support phrases). A reference counts whether the customer wrote it or the agent looked it
    up; `entities` (label, text) from the customer's message mark which ones echo the customer. Two or more
    kinds make the reply `personal`, one `partly`, none `generic`.
    """
    reasons: list[str] = []
    kinds: dict[str, list[str]] = {}
    parts = [p for p in (w.strip(".'’()-") for w in re.split(r"[\s,]+", customer_name or ""))
             if len(p) > 1 and "@" not in p and p.lower() not in lexicon.NAME_PARTICLES]
    first = parts[0] if parts else None
    uses_name: bool | None = None
    if parts:
        used = [p for p in parts if re.search(rf"(?<!\w){re.escape(p)}(?!\w)", reply, flags=re.I)]
        uses_name = bool(used)
        if used:
            kinds["name"] = used
        reasons.append(f"uses the customer's name {' '.join(used)!r}" if used
                       else f"does not use the name {' '.join(parts)!r}")
    else:
        reasons.append("no customer name on record")

    reply_norm = _normalise_entity(reply)
    shared_entities = sorted({text for label, text in entities
                              if label in _ENTITY_KINDS and _normalise_entity(text)
                              and _normalise_entity(text) in reply_norm})
    customer_norm = _normalise_entity(customer_text)
    found = references(reply, products=[*products, *(text for label, text in entities if label == "PRODUCT")])
    found += [(_ENTITY_KINDS[label], text) for label, text in entities
              if label in _ENTITY_KINDS and text in shared_entities]
    listed: list[dict[str, Any]] = []
    for kind, text in found:
        norm = _normalise_entity(text)
        if any(_normalise_entity(r["text"]) == norm for r in listed):
            continue
        listed.append({"kind": kind, "text": text, "from_customer": bool(norm) and norm in customer_norm})
        kinds.setdefault(kind, []).append(text)

    asked = content_terms(customer_text, language)
    said = content_terms(reply, language)
    shared_terms = sorted({asked[a] for a in asked if any(_same_stem(a, s) for s in said)})
    if len(shared_terms) >= 2:
        kinds["facts"] = shared_terms
    for kind, texts in kinds.items():
        if kind != "name":
            reasons.append(f"{_KIND_WORDS[kind]}: " + ", ".join(texts[:8]))
    specific = any(kind != "name" for kind in kinds)
    if not kinds:
        reasons.append("no name, number, amount, date, product or fact of the customer's: reads like a template")
    coverage = round(len(shared_terms) / len(asked), 3) if asked else None
    score = len(kinds)
    verdict = "personal" if score >= 2 else "partly" if score == 1 else "generic"
    return {"uses_name": uses_name, "name": first, "references": listed, "kinds": sorted(kinds), "score": score,
            "shared_entities": shared_entities, "shared_terms": shared_terms, "coverage": coverage,
            "specific": specific, "verdict": verdict, "reasons": reasons}


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

_SHOUT = re.compile(r"\b[A-Z]{3,}\b")
# Capitals that are names of things, not raised voices.
_ACRONYMS = frozenset(("ASAP", "FAQ", "USA", "USD", "EUR", "GBP", "CHF", "API", "URL", "PDF", "VAT", "IBAN", "BIC",
                       "SMS", "PIN", "ATM", "CEO", "CTO", "ETA", "GPS", "DHL", "UPS", "FEDEX", "TNT", "UTC", "GMT",
                       "CET", "LED", "USB", "DOA", "RMA", "SKU", "QR", "NFC", "HTML", "CSV", "IMAP", "SMTP", "VPN",
                       "IOS", "DPD", "GLS", "SEPA", "MWST", "TVA", "IVA", "AGB", "CGV"))
_TONE_CUES = {"apology": lexicon.APOLOGY, "empathy": lexicon.EMPATHY, "thanks": lexicon.THANKS,
              "courtesy": lexicon.COURTESY, "blame": lexicon.BLAME}


@functools.lru_cache(maxsize=64)
def _cue_pattern(cue: str, language: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)(?:" + "|".join(_TONE_CUES[cue][language]) + r")(?!\w)")


def _folded_index(text: str) -> tuple[str, list[int]]:
    """The folded text, and for each of its characters the index of the character of `text` it came from."""
    if text.isascii():
        return text.lower(), list(range(len(text)))
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        folded = fold(ch)
        out.append(folded)
        index.extend([i] * len(folded))
    return "".join(out), index


def _cue_spans(cue: str, languages: Sequence[str], folded: str, index: list[int]) -> list[tuple[int, int]]:
    """Where a cue of any of `languages` matches, as spans of the original text."""
    spans: list[tuple[int, int]] = []
    for language in languages:
        for m in _cue_pattern(cue, language).finditer(folded):
            if m.end() > m.start():
                spans.append((index[m.start()], index[m.end() - 1] + 1))
    return spans


def _quoted(text: str, spans: Iterable[tuple[int, int]]) -> list[str]:
    """The reply's own words at the spans, lower-cased, once each; a span inside a longer one is not repeated."""
    kept: list[tuple[int, int]] = []
    for a, b in sorted(spans, key=lambda span: span[0] - span[1]):
        if not any(x <= a and b <= y for x, y in kept):
            kept.append((a, b))
    return sorted({" ".join(text[a:b].split()).lower() for a, b in kept})


def tone(reply: str, *, model: tuple[str, float] | None = None, language: str | None = None) -> dict[str, Any]:
    """Apology, understanding, thanks and courtesy against blame, dismissal, shouting and anger, as the words found.

    The word lists are ours, per language (`triage.qa.lexicon`: en, de, fr, es); with no or another
    `language` all four are read, which their words allow. An apology or understanding makes the reply
    `warm`, thanks or courtesy alone `polite`, any blame, shouting or anger a `concern`.
    `model` is the sentiment classifier's (label, confidence) for the reply. It was trained on customers'
    messages, where an apology signals a problem, so it is shown for context and never decides alone.
    """
    code = (language or "").lower()[:2]
    languages = (code,) if code in lexicon.TONE_LANGUAGES else lexicon.TONE_LANGUAGES
    folded, index = _folded_index(reply)
    spans = {cue: _cue_spans(cue, languages, folded, index) for cue in _TONE_CUES}
    found = {cue: _quoted(reply, cue_spans) for cue, cue_spans in spans.items()}
    shouting = sorted({w for w in _SHOUT.findall(reply) if w not in _ACRONYMS})
    # The customers' anger signals read "frustrating" as frustration; in "I understand how frustrating this is"
    # the agent names the customer's feelings, so apology and understanding are blanked out before they look.
    kind = list(reply)
    for a, b in (*spans["apology"], *spans["empathy"]):
        kind[a:b] = " " * (b - a)
    angry = anger("".join(kind))
    concerns: list[str] = []
    if found["blame"]:
        concerns.append("dismissive or blaming: " + ", ".join(repr(d) for d in found["blame"]))
    if shouting:
        concerns.append("capitals read as shouting: " + ", ".join(shouting[:5]))
    if reply.count("!") >= 3 or "!!" in reply:
        concerns.append("many exclamation marks")
    if angry.angry:
        concerns.append("sounds angry: " + "; ".join(angry.reasons))
    reasons = list(concerns)
    for cue, label in (("apology", "apologises"), ("empathy", "shows understanding"), ("thanks", "thanks"),
                       ("courtesy", "courteous")):
        if found[cue]:
            reasons.append(f"{label}: " + ", ".join(repr(w) for w in found[cue]))
    warm = found["apology"] or found["empathy"]
    polite = sorted({*found["thanks"], *found["courtesy"]})
    verdict = "concern" if concerns else "warm" if warm else "polite" if polite else "neutral"
    if verdict == "neutral":
        reasons.append("no apology, understanding, thanks or courtesy words found"
                       + ("" if code in lexicon.TONE_LANGUAGES else " in en, de, fr or es"))
    out: dict[str, Any] = {"verdict": verdict, "languages": list(languages), "apology": found["apology"],
                           "empathy": found["empathy"], "thanks": found["thanks"],
                           "polite": polite, "dismissive": found["blame"], "shouting": shouting,
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
