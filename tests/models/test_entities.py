from __future__ import annotations

import pytest

from models.entities import EntityExtractor, mask

LETTER = (
    "Hi Anna,\nmy order #A12345 for the aurora lamp cost €49.99 on 12 November 2026. Account number 12345678. "
    "Call me on +44 20 7946 0958 or mail jo.smith@example.com.\nKind regards,\nJohn Smith"
)


def test_extracts_every_kind_with_offsets() -> None:
    found = EntityExtractor(products=["Aurora Lamp"]).extract(LETTER)
    by_label = {(e.label, e.text) for e in found}
    assert by_label == {
        ("PERSON", "Anna"), ("ORDER_NUMBER", "#A12345"), ("PRODUCT", "aurora lamp"), ("MONEY", "€49.99"),
        ("DATE", "12 November 2026"), ("ACCOUNT_NUMBER", "12345678"), ("PHONE", "+44 20 7946 0958"),
        ("EMAIL", "jo.smith@example.com"), ("PERSON", "John Smith"),
    }
    for e in found:
        assert LETTER[e.start : e.end] == e.text
    assert [e.start for e in found] == sorted(e.start for e in found)


@pytest.mark.parametrize(("text", "label", "value"), [
    ("Refund of 120 EUR please", "MONEY", "120 EUR"),
    ("It cost $1,299.00 last week", "MONEY", "$1,299.00"),
    ("Delivered on 2026-11-02?", "DATE", "2026-11-02"),
    ("Can it arrive by next Tuesday", "DATE", "next Tuesday"),
    ("Order ORD-20451 is late", "ORDER_NUMBER", "ORD-20451"),
    ("My account ACC-99812 is locked", "ACCOUNT_NUMBER", "ACC-99812"),
    ("IBAN DE89 3704 0044 0532 0130 00", "ACCOUNT_NUMBER", "DE89 3704 0044 0532 0130 00"),
])
def test_single_entities(text: str, label: str, value: str) -> None:
    assert (label, value) in {(e.label, e.text) for e in EntityExtractor().extract(text)}


def test_no_false_phones_from_dates_or_small_numbers() -> None:
    found = EntityExtractor().extract("I ordered 3 items on 12/11/2026 and paid 25 EUR")
    assert "PHONE" not in {e.label for e in found}


def test_products_only_when_configured() -> None:
    text = "The Aurora Lamp flickers"
    assert "PRODUCT" not in {e.label for e in EntityExtractor().extract(text)}
    assert ("PRODUCT", "Aurora Lamp") in {(e.label, e.text) for e in EntityExtractor(["aurora lamp"]).extract(text)}


def test_mask_hides_personal_data_and_keeps_the_rest() -> None:
    masked = mask(LETTER)
    for secret in ("Anna", "#A12345", "12345678", "7946", "jo.smith@example.com", "John Smith"):
        assert secret not in masked
    for placeholder in ("[NAME]", "[ORDER_NUMBER]", "[ACCOUNT_NUMBER]", "[PHONE]", "[EMAIL]"):
        assert placeholder in masked
    # Amounts and dates are not personal data and stay for the agent.
    assert "€49.99" in masked and "12 November 2026" in masked
    assert mask("Hello there, nothing to hide") == "Hello there, nothing to hide"


def test_greeting_words_are_not_names() -> None:
    found = EntityExtractor().extract("Hi there,\nplease help.\nThanks\nSupport team")
    assert "PERSON" not in {e.label for e in found}
