"""Personal data in free text replaced by placeholders: the one masking rule for data leaving Triage (issue 14).

`triage data export` masks agents' corrections with it (customers' own words), and erasing a customer runs it over
what is kept of their tickets (event data, QA reviewers' comments). Regular expressions only, no model, so it is
fast and behaves the same everywhere; it errs towards masking a little too much (a long order number that looks
like a phone number becomes `[PHONE]`), which is the safe side for data that leaves the desk.

Past replies offered as suggestions are masked by `models.entities.mask`, which also finds names after a greeting;
the placeholders are the same.
"""

from __future__ import annotations

import re
from collections.abc import Callable

EMAIL, PHONE, CARD, IBAN, ADDRESS = "[EMAIL]", "[PHONE]", "[CARD]", "[IBAN]", "[ADDRESS]"

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}\b", re.I)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,3})?\b")
# 13 to 19 digits, alone or in groups split by one space or dash (how card numbers are written); Luhn decides.
_CARD = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")
_PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[\s./-]?)?(?:\(\d{1,5}\)[\s./-]?)?\d{2,12}(?:[\s./-]\d{2,8}){0,5}(?![\w-])")
_DATE_LIKE = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}")

_CAP = r"[A-ZÀ-ÖØ-Þ][\w'’-]*"  # a capitalised word, accents included
_NUM = r"\d{1,5}(?:\s?[A-Za-z]\b)?"  # house number, optionally 12a / 221B
# English: "221B Baker Street", "12 High St.", "1600 Pennsylvania Avenue NW".
_EN = (rf"\b\d{{1,5}}[A-Za-z]?,?\s+(?:{_CAP}\s+){{0,3}}{_CAP}?\s*"
       r"(?:(?:Street|Road|Avenue|Lane|Drive|Boulevard|Way|Court|Place|Square|Terrace|Close|Crescent|Gardens|Row|"
       r"Walk|Hill|Parkway)\b|(?:St|Rd|Ave|Ln|Dr|Blvd|Ct|Pl|Sq|Pkwy)\b\.?)")
# German: "Hauptstraße 12", "Berliner Str. 5a", "Am Lindenweg 3", "Schillerplatz 7".
_DE = (rf"\b(?:{_CAP}\s+)?[A-ZÄÖÜ][\wäöüß-]*(?:straße|strasse|str\.|weg|gasse|platz|allee|ring|damm|ufer|chaussee)"
       rf"\s*{_NUM}"
       rf"|\b(?:{_CAP}\s+)(?:Straße|Strasse|Str\.|Weg|Gasse|Platz|Allee|Ring|Damm|Ufer)\s*{_NUM}")
# French: "12 rue de la Paix", "5 bis avenue Victor Hugo", "3, boulevard Saint-Germain".
_FR = (r"\b\d{1,5}(?:\s?(?:bis|ter))?,?\s+(?:rue|avenue|av\.|boulevard|bd|place|allée|chemin|impasse|quai|route|"
       rf"cours|square)\s+(?:(?:de|du|des|la|le|les|l'|l’|d'|d’)\s*)*{_CAP}(?:\s+{_CAP}){{0,3}}")
# Spanish: "Calle Mayor 5", "C/ Alcalá 42, 3º B", "Avenida de la Constitución, 12", "Plaza de España 3".
_ES = (r"\b(?:Calle|C/|Avenida|Avda\.?|Plaza|Pza\.|Paseo|Camino|Carrer|Ronda|Travesía)\s*"
       rf"(?:(?:de|del|la|las|los|el)\s+)*{_CAP}(?:\s+(?:(?:de|del|la|las|los|el)\s+)*{_CAP}){{0,3}},?\s*"
       r"(?:n[º°o]\.?\s*)?\d{1,5}[A-Za-z]?(?:,?\s*\d{1,2}\s?[º°ª]\s?[A-Za-z]?)?")
# A postcode and town right after the street: ", 10115 Berlin", " 75002 Paris", ", London SW1A 1AA" is not tried.
_TOWN = rf"(?:,?\s+\d{{4,5}}\s+{_CAP}(?:[ -]{_CAP})?)?"
_ADDRESS = re.compile(rf"(?:{_EN}|{_DE}|{_FR}|{_ES}){_TOWN}")


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum every payment card number satisfies (ISO/IEC 7812-1)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return CARD if 13 <= len(digits) <= 19 and luhn_valid(digits) else match.group(0)


def _phone(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = sum(ch.isdigit() for ch in text)
    # 7 to 15 digits (E.164 allows 15); a date such as 16.11.2026 is not a phone number.
    if not 7 <= digits <= 15 or _DATE_LIKE.fullmatch(text):
        return text
    return PHONE


_RULES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (_EMAIL, lambda _m: EMAIL),
    (_IBAN, lambda _m: IBAN),
    (_ADDRESS, lambda _m: ADDRESS),
    (_CARD, _card),
    (_PHONE, _phone),
)


def mask_personal_data(text: str, *, names: tuple[str, ...] = ()) -> str:
    """The text with email addresses, IBANs, street addresses, card numbers (Luhn-valid, 13-19 digits) and phone
    numbers replaced by [EMAIL], [IBAN], [ADDRESS], [CARD] and [PHONE]; `names` (a customer's known names or
    chat ids) become [NAME] wherever they appear as whole words, in any case."""
    if not text:
        return text
    for name in sorted({n.strip() for n in names if n and len(n.strip()) > 1}, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", "[NAME]", text, flags=re.I)
    for pattern, replace in _RULES:
        text = pattern.sub(replace, text)
    return text
