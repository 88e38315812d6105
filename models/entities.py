"""Entities in customer text with a blank spaCy English pipeline and rules (nothing is downloaded).

Labels: ORDER_NUMBER, ACCOUNT_NUMBER, MONEY, DATE, PRODUCT (from configuration), EMAIL, PHONE and PERSON
(a name right after a greeting or under a sign-off, found for masking). `mask` replaces personal data
with placeholders such as `[EMAIL]` so that past replies can be stored or shown without it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

LABELS = ("ORDER_NUMBER", "ACCOUNT_NUMBER", "MONEY", "DATE", "PRODUCT", "EMAIL", "PHONE", "PERSON")
# What `mask` hides and with what; amounts, dates and products are not personal data.
MASKED = {"EMAIL": "[EMAIL]", "PHONE": "[PHONE]", "ORDER_NUMBER": "[ORDER_NUMBER]",
          "ACCOUNT_NUMBER": "[ACCOUNT_NUMBER]", "PERSON": "[NAME]"}
# When two rules claim overlapping text, the longer span wins; on a tie, the earlier label here.
_PRIORITY = {label: i for i, label in enumerate(
    ("EMAIL", "ACCOUNT_NUMBER", "ORDER_NUMBER", "PHONE", "MONEY", "DATE", "PRODUCT", "PERSON"))}


@dataclass(frozen=True)
class Entity:
    label: str
    text: str
    start: int  # character offsets into the text
    end: int

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "text": self.text, "start": self.start, "end": self.end}


_MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|december|"
           "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
_WEEKDAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_CURRENCY_CODES = "EUR|USD|GBP|CHF|SEK|NOK|DKK|PLN|CZK|JPY|CAD|AUD"
_CURRENCY_WORDS = "euros?|dollars?|pounds?|francs?|kronor|kroner|cents?"
_AMOUNT = r"\d{1,3}(?:[.,\s]\d{3})*(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"

# Character-level rules: identifiers and numbers that a tokenizer splits unpredictably.
_REGEX_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("EMAIL", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}\b", re.I)),
    ("ACCOUNT_NUMBER", re.compile(r"\bACC-?\d{3,}\b", re.I)),
    ("ACCOUNT_NUMBER", re.compile(r"\baccount\s+(?:(?:number|no\.?|nr\.?|id)\s*:?\s*)?(#?\s*\d{5,})\b", re.I)),
    ("ACCOUNT_NUMBER", re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,3})?\b")),  # IBAN
    ("ORDER_NUMBER", re.compile(r"\b(?!ACC)[A-Z]{2,4}-\d{4,}\b")),
    ("ORDER_NUMBER", re.compile(
        r"\border\s+(?:(?:number|no\.?|nr\.?|id)\s*:?\s*)?(#\s*[A-Z0-9-]*\d[A-Z0-9-]{3,}|[A-Z0-9-]*\d{5,})\b", re.I)),
    ("PHONE", re.compile(
        r"(?<![\w+])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,5}\)[\s.-]?)?\d{2,8}(?:[\s.-]\d{2,8}){1,4}(?![\w-])")),
    ("MONEY", re.compile(rf"[€$£¥]\s?(?:{_AMOUNT})(?:\s?(?:k|m|bn))?\b")),
    ("MONEY", re.compile(rf"\b(?:{_AMOUNT})\s?(?:{_CURRENCY_CODES}|{_CURRENCY_WORDS})\b|\b(?:{_AMOUNT})\s?[€£]",
                         re.I)),
    ("MONEY", re.compile(rf"\b(?:{_CURRENCY_CODES})\s?(?:{_AMOUNT})\b")),
    ("DATE", re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?\b")),
    ("DATE", re.compile(r"\b\d{1,2}[./]\d{1,2}[./](?:\d{4}|\d{2})\b")),
)

_GREETING_NAME = re.compile(
    r"\b(?:hi|hello|hey|dear|good (?:morning|afternoon|evening))[ \t]+"
    r"((?:(?:mr|mrs|ms|miss|dr|prof)\.?[ \t]+)?[A-Z][\w'’-]+(?:[ \t]+[A-Z][\w'’-]+)?)", re.I)
_SIGNOFF_NAME = re.compile(
    r"^[ \t]*(?:(?:kind |best |warm )?regards|thanks(?: again)?|thank you|cheers|best|sincerely|"
    r"yours(?: sincerely| truly)?|many thanks)[ \t]*[,!.]?[ \t]*\r?\n[ \t]*"
    r"([A-Z][\w'’-]+(?:[ \t]+[A-Z][\w'’-]+){0,2})[ \t]*$", re.I | re.M)
_NOT_NAMES = frozenset([
    "there", "team", "all", "everyone", "everybody", "support", "sir", "madam", "customer", "service",
    "folks", "guys", "again", "and", "or", "the", "a", "my", "our", "your", "this", "that", "it", "is",
    "i", "we", "you", "there's"
])


def _token_patterns() -> list[dict[str, Any]]:
    """EntityRuler patterns for dates written in words."""
    weekday = {"LOWER": {"REGEX": f"^(?:{_WEEKDAYS})$"}}
    month = {"LOWER": {"REGEX": f"^(?:{_MONTHS})\\.?$"}}
    day = {"TEXT": {"REGEX": r"^(?:[12]?\d|3[01])(?:st|nd|rd|th)?$"}}
    year = {"TEXT": {"REGEX": r"^(?:19|20)\d\d$"}}
    comma = {"TEXT": ",", "OP": "?"}
    relative = {"LOWER": {"IN": ["today", "tonight", "tomorrow", "yesterday", "tmrw", "tmr"]}}
    patterns: list[list[dict[str, Any]]] = [
        [day, {"LOWER": "of", "OP": "?"}, month],  # 12 November, 3rd of May
        [day, {"LOWER": "of", "OP": "?"}, month, comma, year],  # 12 November 2026
        [month, day],  # November 12
        [month, day, comma, year],  # November 12, 2026
        [{"LOWER": {"IN": ["next", "this", "last", "coming"]}}, weekday],
        [{"LOWER": {"IN": ["next", "this", "last"]}}, {"LOWER": {"IN": ["week", "month", "weekend", "year"]}}],
        [{"LOWER": "end"}, {"LOWER": "of"}, {"LOWER": {"IN": ["the", "this", "next"]}, "OP": "?"},
         {"LOWER": {"IN": ["day", "week", "month", "year", "quarter"]}}],
        [{"LOWER": "the"}, {"LOWER": "day"}, {"LOWER": "after"}, {"LOWER": "tomorrow"}],
        [relative],
        [weekday],
    ]
    return [{"label": "DATE", "pattern": p} for p in patterns]


# What the EntityRuler of `_pipeline` can label: dates in words and configured products, nothing else.
_RULER_LABELS = frozenset({"DATE", "PRODUCT"})
_nlp_cache: dict[tuple[str, ...], Any] = {}
_nlp_lock = threading.Lock()


def _pipeline(products: tuple[str, ...]) -> Any:
    """A blank English pipeline with an EntityRuler, built once per product list per process."""
    with _nlp_lock:
        nlp = _nlp_cache.get(products)
        if nlp is None:
            import spacy

            nlp = spacy.blank("en")
            from spacy.pipeline import EntityRuler

            ruler = cast(EntityRuler, nlp.add_pipe("entity_ruler",
                                                   config={"phrase_matcher_attr": "LOWER", "validate": True}))
            patterns = _token_patterns()
            patterns += [{"label": "PRODUCT", "pattern": name} for name in products if name.strip()]
            ruler.add_patterns(patterns)
            _nlp_cache[products] = nlp
        return nlp


def _resolve(candidates: Iterable[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Keep non-overlapping spans: longer first, then by label priority, then leftmost."""
    chosen: list[tuple[int, int, str]] = []
    for start, end, label in sorted(candidates, key=lambda c: (-(c[1] - c[0]), _PRIORITY[c[2]], c[0])):
        if all(end <= s or start >= e for s, e, _ in chosen):
            chosen.append((start, end, label))
    return sorted(chosen)


class EntityExtractor:
    """Finds order and account numbers, amounts, dates, configured products, emails, phones and names."""

    def __init__(self, products: Sequence[str] = ()) -> None:
        self.products = tuple(sorted({p.strip() for p in products if p and p.strip()}))

    @property
    def nlp(self) -> Any:
        return _pipeline(self.products)

    def extract(self, text: str, labels: Collection[str] | None = None) -> list[Entity]:
        """All entities in reading order, without overlaps (only those of `labels` when given).

        The spaCy pass adds only dates and products, which can displace a rule's span but never add one of another
        label: when `labels` wants neither and no rule found one of its labels, the result is empty without it.
        That pass is most of the cost (about 1.4 ms on a sample email), and a suggestion wants only the order
        number and the phone (issue 18).
        """
        candidates: list[tuple[int, int, str]] = []
        for label, pattern in _REGEX_RULES:
            for m in pattern.finditer(text):
                group = 1 if pattern.groups else 0  # rules with a group keep only the identifier itself
                if label == "PHONE" and not _plausible_phone(m.group(group)):
                    continue
                candidates.append((m.start(group), m.end(group), label))
        for pattern in (_GREETING_NAME, _SIGNOFF_NAME):
            for m in pattern.finditer(text):
                name = _trim_name(m.group(1))
                if name:
                    candidates.append((m.start(1), m.start(1) + len(name), "PERSON"))
        if labels is not None and _RULER_LABELS.isdisjoint(labels) and all(c[2] not in labels for c in candidates):
            return []
        doc = self.nlp(text)
        candidates += [(ent.start_char, ent.end_char, ent.label_) for ent in doc.ents]
        return [Entity(label, text[start:end], start, end) for start, end, label in _resolve(candidates)
                if labels is None or label in labels]

    def mask(self, text: str) -> str:
        """The text with emails, phones, order and account numbers and names replaced by placeholders."""
        out, last = [], 0
        for ent in self.extract(text):
            if ent.label in MASKED:
                out += [text[last:ent.start], MASKED[ent.label]]
                last = ent.end
        out.append(text[last:])
        return "".join(out)


def _plausible_phone(candidate: str) -> bool:
    digits = sum(ch.isdigit() for ch in candidate)
    # 7 to 15 digits (E.164 allows 15); a plain date or a lone year-like group is not a phone number.
    if not 7 <= digits <= 15:
        return False
    return not re.fullmatch(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}", candidate)


def _trim_name(raw: str) -> str:
    words = raw.split()
    kept: list[str] = []
    for word in words:
        if word.lower().strip(".") in _NOT_NAMES or not word[0].isupper():
            break
        kept.append(word)
    # A title alone ("Dear Mr") is not a name.
    if not kept or all(w.lower().rstrip(".") in {"mr", "mrs", "ms", "miss", "dr", "prof"} for w in kept):
        return ""
    return " ".join(kept)


_default: EntityExtractor | None = None


def mask(text: str) -> str:
    """`EntityExtractor().mask(text)` with a process-wide extractor (no product list needed for masking)."""
    global _default
    if _default is None:
        _default = EntityExtractor()
    return _default.mask(text)
