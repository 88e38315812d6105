"""The one masking rule for personal data leaving Triage (issue 14), in English, German, French and Spanish."""

from __future__ import annotations

import pytest

from triage.customers.masking import luhn_valid, mask_personal_data


@pytest.mark.parametrize(("text", "masked"), [
    # emails
    ("Write to Maria.Jensen+shop@example.co.uk please", "Write to [EMAIL] please"),
    ("Meine neue Adresse ist j.becker@example.de.", "Meine neue Adresse ist [EMAIL]."),
    # phone numbers, international and national
    ("Call me on +44 20 7946 0958 after 5", "Call me on [PHONE] after 5"),
    ("Rufen Sie mich an: 030 12345678", "Rufen Sie mich an: [PHONE]"),
    ("Mon numéro : 06 12 34 56 78", "Mon numéro : [PHONE]"),
    ("Mi teléfono es +34 612 345 678", "Mi teléfono es [PHONE]"),
    ("Please call (555) 123-4567 tomorrow", "Please call [PHONE] tomorrow"),
    # card numbers: Luhn-valid, 13 to 19 digits, grouped or not
    ("Card 4111 1111 1111 1111 was charged twice", "Card [CARD] was charged twice"),
    ("Karte 5500-0000-0000-0004 gesperrt?", "Karte [CARD] gesperrt?"),
    ("Amex 378282246310005 expired", "Amex [CARD] expired"),
    # street addresses
    ("Ship it to 221B Baker Street, London", "Ship it to [ADDRESS], London"),
    ("I moved to 12 High St. last week", "I moved to [ADDRESS] last week"),
    ("Ich wohne in der Hauptstraße 12, 10115 Berlin.", "Ich wohne in der [ADDRESS]."),
    ("Lieferung an Berliner Str. 5a bitte", "Lieferung an [ADDRESS] bitte"),
    ("J'habite au 12 rue de la Paix, 75002 Paris.", "J'habite au [ADDRESS]."),
    ("Livrez au 5 bis avenue Victor Hugo", "Livrez au [ADDRESS]"),
    ("Mi dirección es Calle Mayor 5, 28013 Madrid", "Mi dirección es [ADDRESS]"),
    ("Enviad a Avenida de la Constitución, 12", "Enviad a [ADDRESS]"),
    # bank accounts
    ("IBAN DE89 3704 0044 0532 0130 00 bitte", "IBAN [IBAN] bitte"),
])
def test_personal_data_is_masked(text: str, masked: str) -> None:
    assert mask_personal_data(text) == masked


@pytest.mark.parametrize("text", [
    "Order LH-104233 arrived on 16.11.2026 at 09:00, 3 items for 1.299,00 €",
    "Bestellung vom 2026-11-16, Version 2.4.1, 12 Stück",
    "Commande 12345 reçue le 3 mai, 49,90 EUR",
    "El pedido llegó el 16/11/2026 con 2 cajas",
    "Not a card (the checksum fails): 4111 1111 1111 1112",
    "We meet at 10 Uhr, 5 people, room 4",
])
def test_what_is_not_personal_data_stays(text: str) -> None:
    assert mask_personal_data(text) == text


def test_known_names_are_masked_in_any_case_and_only_as_whole_words() -> None:
    names = ("Ottilie Zanetti", "Ottilie", "Zanetti", "O")
    assert mask_personal_data("Hi Ottilie Zanetti, OTTILIE asked; Ottilien is another word", names=names) == \
        "Hi [NAME], [NAME] asked; Ottilien is another word"


def test_luhn() -> None:
    assert luhn_valid("4111111111111111") and luhn_valid("79927398713")
    assert not luhn_valid("4111111111111112")
