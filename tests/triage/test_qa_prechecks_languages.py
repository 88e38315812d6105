"""The QA pre-checks in the customers' languages: English, German, French and Spanish (issue 15, item 4)."""

from __future__ import annotations

import pytest

from triage.config import load_config
from triage.qa.prechecks import (
    compound_parts,
    config_templates,
    personalisation,
    references,
    spelling,
    template_words,
    tone,
)

FRENCH = ("Bonjour Madame Lefèvre,\n\nje suis vraiment désolée pour ce retard. Votre commande LH-104233 a été remise "
          "au transporteur le 24 novembre et le remboursement de 12,50 € a été effectué aujourd'hui. N'hésitez pas à "
          "nous écrire si le colis n'arrive pas.\n\nBien cordialement,\nNadia")
SPANISH = ("Hola Lucía,\n\nlo siento mucho por las molestias. Hemos reembolsado 49,90 € de su pedido LH-104233 el "
           "24 de noviembre y le enviaremos una lámpara nueva esta semana. Gracias por su paciencia.\n\n"
           "Un saludo,\nNadia")


# ---------------------------------------------------------------------------- spelling


def test_correct_replies_in_each_language_pass_and_mistakes_are_caught() -> None:
    assert spelling(FRENCH, language="fr", ignore=["Nadia"])["count"] == 0  # elisions: n'hésitez, n'arrive
    # pyspellchecker's Spanish list lacks "está", "hemos", "gracias": simplemma's word forms know them.
    assert spelling(SPANISH, language="es", ignore=["Nadia"])["count"] == 0
    assert spelling("Gracias, su pedido está en camino y hemos avisado al transportista.", language="es")["count"] == 0
    french = spelling("Votre comande est en retard.", language="fr")
    assert [(e["word"], e["suggestion"]) for e in french["errors"]] == [("comande", "commande")]
    spanish = spelling("Su pedidio llegará mañanna.", language="es")
    assert {e["word"]: e["suggestion"] for e in spanish["errors"]} == {"pedidio": "pedido", "mañanna": "mañana"}
    english = spelling("We have organised a replacement; it should arive tomorow.", language="en")
    assert {e["word"] for e in english["errors"]} == {"arive", "tomorow"}


def test_german_compounds_split_into_known_words_and_misspellings_do_not() -> None:
    assert compound_parts("Nachforschungsauftrag", "de") == ("nachforschungs", "auftrag")  # linking -s-
    assert compound_parts("Paketdienstes", "de") == ("paket", "dienstes")
    assert compound_parts("Lieferadresse", "de") == ("liefer", "adresse")  # verb stem of "liefern"
    for wrong in ("bestelung", "rechnnung", "lieferrung", "entschuldigunng", "sendungsnummmer"):
        assert compound_parts(wrong, "de") is None, wrong
    result = spelling("Wir haben einen Nachforschungsauftrag gestellt.", language="de")
    assert result["count"] == 0
    assert result["accepted"]["compound"] == ["nachforschungs+auftrag"]
    assert any("compounds of known words: nachforschungs+auftrag" in r for r in result["reasons"])


def test_words_of_our_own_drafts_and_configured_acknowledgements_are_accepted() -> None:
    drafts = template_words("de")
    assert {"garantiereparatur", "hilfeartikel", "kundenkonto", "zahlungsdaten", "teamleitung"} <= drafts
    assert "order" not in drafts and "quoting_order" not in drafts  # slot names are no words of the text
    reply = "Die Garantiereparatur ist beauftragt; die Zahlungsdaten stehen in Ihrem Kundenkonto."
    result = spelling(reply, language="de")
    assert result["count"] == 0
    assert result["accepted"]["template"] == ["Garantiereparatur", "Zahlungsdaten", "Kundenkonto"]

    texts = config_templates(load_config())  # the bundled triage.toml, German acknowledgement included
    assert any("vielen Dank für Ihre Nachricht an" in t for t in texts)
    own = ["Willkommen in der Larkspurwelt, {{ customer_name }}!",
           "{% if expected_reply %}Antwort bis {{ expected_reply }}.{% endif %} Ihr {{ company }} Team"]
    assert spelling("Willkommen in der Larkspurwelt.", language="de")["count"] == 1
    welcomed = spelling("Willkommen in der Larkspurwelt.", language="de", templates=own)
    assert welcomed["count"] == 0 and welcomed["accepted"]["template"] == ["Larkspurwelt"]


def test_names_the_customers_own_words_products_and_numbers_are_accepted() -> None:
    reply = ("Guten Tag Frau Wojciechowska,\n\nIhre Zephyrine-Leuchte aus der Bestellung LH-104233 holt der "
             "Paketdienst am 24.11.2026 in der Tscharnerstrasse 12b ab.\n\nViele Grüße\nInes Okonkwo")
    customer = "Meine Zephyrine ist kaputt angekommen, bitte holen Sie sie in der Tscharnerstrasse ab."
    before = spelling(reply, language="de")
    assert {e["word"] for e in before["errors"]} == {"Zephyrine", "Tscharnerstrasse"}
    after = spelling(reply, language="de", customer_text=customer)
    assert after["count"] == 0, after["errors"]
    assert after["accepted"]["name"] == ["Wojciechowska", "Ines", "Okonkwo"]  # after "Frau" and the sign-off: names
    assert after["accepted"]["customer"] == ["Zephyrine", "Tscharnerstrasse"]
    # Elsewhere in a German sentence a capitalised unknown word is still checked: it may be a misspelt noun.
    assert spelling("Ihre Bestelung ist unterwegs.", language="de")["count"] == 1


# ---------------------------------------------------------------------------- personalisation


def test_concrete_references_make_a_reply_personal_in_every_language() -> None:
    french = personalisation(FRENCH, "Ma commande LH-104233 n'est toujours pas arrivée.", "Camille Lefèvre",
                             language="fr")
    assert french["verdict"] == "personal" and french["uses_name"] is True  # "Madame Lefèvre": the surname
    assert {(r["kind"], r["text"], r["from_customer"]) for r in french["references"]} == {
        ("order", "LH-104233", True), ("date", "24 novembre", False), ("amount", "12,50 €", False)}
    spanish = personalisation(SPANISH, "Hola, la lámpara de mi pedido LH-104233 llegó rota.", "Lucía Gómez",
                              language="es")
    assert spanish["verdict"] == "personal"
    assert spanish["kinds"] == ["amount", "date", "facts", "name", "order"]
    assert spanish["shared_terms"] == ["lámpara", "pedido"]
    german = personalisation("Sehr geehrte Frau Schneider, Ihre Erstattung über 89,00 € ist am 24.11.2026 "
                             "veranlasst worden.", "Wo bleibt meine Erstattung?", "Anna Schneider", language="de")
    assert german["verdict"] == "personal" and german["kinds"] == ["amount", "date", "name"]
    assert "uses the customer's name 'Schneider'" in german["reasons"]


def test_stock_replies_stay_generic_and_one_reference_is_partly() -> None:
    asked = "Meine Lampe ist kaputt, Bestellung LH-104233."
    stock = personalisation("Vielen Dank für Ihre Nachricht. Wir kümmern uns so schnell wie möglich darum.", asked,
                            "Anna Schneider", language="de")
    assert stock["verdict"] == "generic" and stock["score"] == 0 and stock["references"] == []
    assert any("reads like a template" in r for r in stock["reasons"])
    spanish = personalisation("Gracias por su mensaje, le responderemos lo antes posible.", "Mi pedido no llegó.",
                              None, language="es")
    assert spanish["verdict"] == "generic"
    only_order = personalisation("Your order LH-104233 is on its way.", "Where is my parcel?", None)
    assert only_order["verdict"] == "partly" and only_order["kinds"] == ["order"]
    assert only_order["references"] == [{"kind": "order", "text": "LH-104233", "from_customer": False}]


def test_products_and_written_order_numbers_count_as_references() -> None:
    found = references("Bestellung 1045521: die Aurora-Leuchte (Aurora Lamp) kommt am 3. Dezember, 19,99 EUR.",
                       products=["Aurora Lamp"])
    assert found == [("order", "1045521"), ("product", "Aurora Lamp"), ("date", "3. Dezember"),
                     ("amount", "19,99 EUR")]
    result = personalisation("Your aurora lamp is back in stock.", "Is it back?", None, products=["Aurora-Lamp"])
    assert result["kinds"] == ["product"] and result["verdict"] == "partly"
    assert references("We will reply on Friday, ticket #4711.") == []  # a weekday or our ticket number is no fact


# ---------------------------------------------------------------------------- tone


@pytest.mark.parametrize(("reply", "apology"), [
    ("I'm really sorry", ["sorry"]),
    ("Es tut mir wirklich leid, dass Ihr Paket nicht angekommen ist.", ["es tut mir wirklich leid"]),
    ("Je suis vraiment désolée pour ce retard.", ["désolée"]),
    ("Lo siento mucho, su pedido llegará el lunes.", ["lo siento"]),
])
def test_an_apology_is_warm_in_every_language(reply: str, apology: list[str]) -> None:
    result = tone(reply)
    assert result["verdict"] == "warm" and result["apology"] == apology
    assert result["reasons"] == ["apologises: " + ", ".join(repr(a) for a in apology)]


@pytest.mark.parametrize(("reply", "blame"), [
    ("As I already said, that's our policy.", ["as i already said", "that's our policy"]),
    ("Wie bereits gesagt, das ist nicht unser Problem. Lesen Sie die Anleitung.",
     ["lesen sie die anleitung", "nicht unser problem", "wie bereits gesagt"]),
    ("Comme je l'ai déjà dit, ce n'est pas notre problème.", ["ce n'est pas notre problème", "comme je l'ai déjà dit"]),
    ("Como ya le dije, no es nuestro problema. Lea el manual.",
     ["como ya le dije", "lea el manual", "no es nuestro problema"]),
])
def test_blame_is_a_concern_in_every_language(reply: str, blame: list[str]) -> None:
    result = tone(reply)
    assert result["verdict"] == "concern" and result["dismissive"] == blame
    assert result["reasons"][0] == "dismissive or blaming: " + ", ".join(repr(b) for b in blame)


def test_thanks_alone_is_polite_and_plain_facts_are_neutral() -> None:
    for reply, words in (("Vielen Dank für Ihre Nachricht.", ["vielen dank"]), ("Merci pour votre message.", ["merci"]),
                         ("Gracias por su mensaje.", ["gracias"]), ("Thanks, the parcel left today.", ["thanks"])):
        result = tone(reply)
        assert result["verdict"] == "polite" and result["polite"] == words, reply
    for reply in ("Ihr Paket kommt am Freitag.", "Su paquete llega el viernes.", "Votre colis arrive vendredi."):
        result = tone(reply)
        assert result["verdict"] == "neutral" and result["reasons"][-1].startswith("no apology"), reply
    french = tone(FRENCH)
    assert french["verdict"] == "warm" and french["polite"] == ["bien cordialement", "n'hésitez pas"]
    spanish = tone(SPANISH)
    assert spanish["empathy"] == ["su paciencia"] and spanish["thanks"] == ["gracias"]


def test_a_known_language_reads_only_its_own_word_list() -> None:
    assert tone("Es tut mir leid.", language="de")["verdict"] == "warm"
    assert tone("Es tut mir leid.", language="en")["verdict"] == "neutral"
    assert tone("Es tut mir leid.", language="de")["languages"] == ["de"]
    assert tone("Es tut mir leid.", language="ja")["languages"] == ["en", "de", "fr", "es"]  # no list: read all


@pytest.mark.parametrize("reply", [
    # the apology sentences of our own drafts (triage/knowledge/drafts.py)
    "I am sorry for the trouble this has caused, and I understand how frustrating it is.",
    "Es tut mir leid, dass Ihnen das Ärger bereitet hat, und ich verstehe, wie ärgerlich das ist.",
    "Je comprends votre frustration, nous sommes désolés.",
    "Entiendo lo frustrante que es, lo sentimos mucho.",
])
def test_naming_the_customers_frustration_is_understanding_not_anger(reply: str) -> None:
    result = tone(reply)
    assert result["verdict"] == "warm", result["reasons"]
    assert result["empathy"] and result["anger_score"] == 0.0
    assert tone("This is ridiculous, I am fed up with you people!!")["verdict"] == "concern"
