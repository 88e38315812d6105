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


WANTED = ("ORDER_NUMBER", "PHONE")


@pytest.mark.parametrize("text", [
    LETTER,
    "Call me back on 12 November 2026 4567 please",  # the date in words displaces the 'phone' 2026 4567
    "Order ORD-20451 is late, ring +44 20 7946 0958 next Tuesday",
    "Nothing to find here, it arrived on Monday",
    "",
])
def test_only_some_labels_is_the_full_result_filtered(text: str) -> None:
    full = [e for e in EntityExtractor().extract(text) if e.label in WANTED]
    assert EntityExtractor().extract(text, WANTED) == full


def test_the_date_pass_is_skipped_only_when_the_rules_found_none_of_the_labels(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = EntityExtractor.nlp.fget  # type: ignore[attr-defined]

    def counted(self: EntityExtractor) -> object:
        calls.append("nlp")
        return real(self)

    monkeypatch.setattr(EntityExtractor, "nlp", property(counted))
    assert EntityExtractor().extract("It arrived broken on Monday", WANTED) == []
    assert calls == []
    assert [e.text for e in EntityExtractor().extract("Order ORD-20451 on Monday", WANTED)] == ["ORD-20451"]
    assert EntityExtractor().extract("It arrived on Monday", ("DATE",))[0].text == "Monday"
    assert calls == ["nlp", "nlp"]
