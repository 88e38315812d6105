"""The automatic pre-checks shown beside a QA sample, one by one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from triage.qa.prechecks import draft_kept, personalisation, response_time, spelling, tone
from triage.sla.calendar import BusinessCalendar


def test_spelling_finds_mistakes_with_suggestions() -> None:
    result = spelling("Thank you for your paitence, we will recieve the parcel tomorow.", language="en")
    assert result["verdict"] == "check"
    found = {e["word"]: e["suggestion"] for e in result["errors"]}
    assert found == {"paitence": "patience", "recieve": "receive", "tomorow": "tomorrow"}
    assert result["count"] == 3 and result["checked"] >= 10


def test_spelling_skips_what_is_not_a_word() -> None:
    text = ("Hi Siobhan, your order LH-104233 (EUR 49.90) ships on 2026-11-24. Track it at "
            "https://track.larkspur.example/LH-104233 or write to help@larkspur.example. Your Zephyrine lamp "
            "is in the Larkspur app. We apologise for the colour mix-up; it was cancelled and we've organised a "
            "new one. ETA Friday. Best, Nadia")
    result = spelling(text, language="en", ignore=["Siobhan", "Nadia", "Larkspur"])
    assert result["count"] == 0, result["errors"]  # British spellings, numbers, links, names, acronyms
    assert result["skipped_names"] >= 1  # "Zephyrine" inside a sentence reads as a product name
    assert spelling("Zephyrine is here.", language="en")["count"] == 1  # not at a sentence start


def test_spelling_in_other_languages_and_unsupported_ones() -> None:
    german = spelling("Guten Tag, Ihre Bestellung ist unterwegs und kommt morgen an. Viele Grüße", language="de")
    assert german["count"] == 0 and german["language"] == "de"
    assert spelling("Ihre Bestelung ist unterwegs.", language="de")["count"] == 1
    assert spelling("こんにちは", language="ja")["verdict"] == "not_checked"


def test_personalisation_needs_the_name_and_the_customers_specifics() -> None:
    asked = "My Aurora lamp from order LH-104233 arrived with a cracked shade. Can you send a replacement?"
    entities = [("PRODUCT", "Aurora lamp"), ("ORDER_NUMBER", "LH-104233")]
    personal = personalisation("Hi Maria, I'm sorry the shade of your Aurora lamp (LH-104233) arrived cracked. "
                               "A replacement shade goes out today.", asked, "Maria Jensen", entities=entities)
    assert personal["verdict"] == "personal" and personal["uses_name"] is True
    assert personal["shared_entities"] == ["Aurora lamp", "LH-104233"]
    assert {"shade", "cracked", "replacement"} <= set(personal["shared_terms"])
    template = personalisation("Hello, thank you for contacting us. We are sorry for the inconvenience and will "
                               "look into your issue as soon as possible.", asked, "Maria Jensen", entities=entities)
    assert template["verdict"] == "generic" and template["specific"] is False and template["uses_name"] is False
    named_template = personalisation("Hi Maria, thank you for your message, we will help soon.", asked,
                                     "Maria Jensen", entities=entities)
    assert named_template["verdict"] == "partly"
    anonymous = personalisation("Your lamp shade replacement is on its way.", asked, None)
    assert anonymous["uses_name"] is None and anonymous["verdict"] == "partly"
    assert "no customer name on record" in anonymous["reasons"]


def test_tone_flags_blame_and_shouting_but_not_acronyms() -> None:
    rude = tone("As I already said, this is NOT our problem. Read the manual!!")
    assert rude["verdict"] == "concern"
    assert "as i already said" in rude["dismissive"] and "not our problem" in rude["dismissive"]
    assert rude["shouting"] == ["NOT"]
    calm = tone("Hi Maria, I'm sorry about the delay. The ETA from DHL is Friday. Thank you for your patience.")
    assert calm["verdict"] == "warm" and calm["shouting"] == []
    assert tone("Your parcel ships on Friday.")["verdict"] == "neutral"


def test_tone_shows_the_model_without_letting_it_decide() -> None:
    result = tone("I'm so sorry, please accept our apologies.", model=("negative", 0.91))
    assert result["model"] == {"label": "negative", "confidence": 0.91}
    assert result["verdict"] == "warm"
    assert any("sentiment model reads it as negative" in r for r in result["reasons"])


def test_draft_kept() -> None:
    draft = "Hello Maria, your order LH-104233 left our warehouse today and should arrive on Friday. Best, Nadia"
    same = draft_kept(draft, draft, suggestion_id=3, feedback="used")
    assert same["kept_share"] == 1.0 and same["similarity"] == 1.0 and same["verdict"] == "kept"
    edited = draft_kept("Hi Maria, good news: your order LH-104233 left our warehouse today and should arrive on "
                        "Friday, in time for the birthday. Nadia", draft)
    assert 0.5 <= edited["kept_share"] < 0.95 and edited["verdict"] == "edited"
    rewritten = draft_kept("We have refunded you in full.", draft)
    assert rewritten["verdict"] == "rewritten" and rewritten["kept_share"] < 0.2
    assert draft_kept("anything", None)["verdict"] == "no_draft"


def test_response_time_against_the_sla_in_business_hours() -> None:
    office = BusinessCalendar("Europe/London", "Mon-Fri 09:00-17:00")
    friday_4pm = datetime(2026, 11, 20, 16, tzinfo=UTC)
    due = office.add(friday_4pm, timedelta(hours=2))  # Monday 10:00
    on_monday = response_time(reply_at=datetime(2026, 11, 23, 9, 30, tzinfo=UTC), metric="first_response",
                              clock_start=friday_4pm, due_at=due, target=timedelta(hours=2), calendar=office,
                              breaches=[])
    assert on_monday["within_sla"] is True and on_monday["business_minutes"] == 90.0
    assert on_monday["verdict"] == "met"
    assert on_monday["waited_minutes"] == 60 * 65.5
    late = response_time(reply_at=datetime(2026, 11, 23, 11, tzinfo=UTC), metric="first_response",
                         clock_start=friday_4pm, due_at=due, target=timedelta(hours=2), calendar=office,
                         breaches=["first_response"])
    assert late["within_sla"] is False and "60.0 minutes after the SLA deadline" in late["reasons"]
    assert late["verdict"] == "missed"
    assert late["ticket_breaches"] == ["first_response"]
    follow_up = response_time(reply_at=friday_4pm, metric="follow_up", clock_start=None, due_at=None, target=None,
                              calendar=office, breaches=[])
    assert follow_up["within_sla"] is None and follow_up["waited_minutes"] is None
    assert follow_up["verdict"] == "follow_up"


# Issue 15 item 4: the three defects reproduced from reviewers' reports, each on the call the service makes.


def test_correct_german_compounds_and_our_draft_words_are_not_misspelt() -> None:
    reply = ("Guten Tag Frau Schneider,\n\nwir haben beim Paketdienst einen Nachforschungsauftrag für Ihre Sendung "
             "gestellt. Falls das Paket nicht ankommt, antworten Sie auf diese E-Mail. Die Zahlungsdaten in Ihrem "
             "Kundenkonto haben wir geprüft; die Garantiereparatur übernimmt unsere Teamleitung.\n\n"
             "Mit freundlichen Grüßen")
    result = spelling(reply, language="de")
    assert result["count"] == 0, result["errors"]
    assert result["verdict"] == "ok"
    assert spelling("Ihre Bestelung und die Rechnnung sind unterwegs.", language="de")["count"] == 2


def test_a_reply_with_the_order_number_and_the_amount_is_not_generic() -> None:
    reply = "Done - LH-104702 is cancelled and the refund of 49.90 EUR is on its way"
    result = personalisation(reply, "Hi, I changed my mind, please stop it and give me my money back.", None)
    assert result["verdict"] != "generic" and result["specific"] is True
    assert result["verdict"] == "personal"
    assert {r["kind"]: r["text"] for r in result["references"]} == {"order": "LH-104702", "amount": "49.90 EUR"}


def test_an_apology_alone_is_not_neutral() -> None:
    result = tone("I'm really sorry")
    assert result["verdict"] == "warm"
    assert result["apology"] == ["sorry"]
    assert "apologises: 'sorry'" in result["reasons"]
