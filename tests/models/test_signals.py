from __future__ import annotations

import pytest

from models.signals import ANGER_THRESHOLD, anger, escalate, urgency_rank, urgency_signals


def names(text: str, **context: object) -> set[str]:
    return {s.name for s in urgency_signals(text, **context)}  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "expected"), [
    ("The charger started smoking and melted the plug", "safety"),
    ("My card was used without my permission, I didn't make these payments", "security"),
    ("I will contact my lawyer if this is not refunded", "legal"),
    ("The app is not working at all since the update", "outage"),
    ("I need this fixed by Friday please", "deadline"),
    ("I want to cancel my subscription and go elsewhere", "churn"),
    ("This is the third time I am writing about this", "repeated_contact"),
])
def test_each_kind_of_cue_is_found_with_a_reason(text: str, expected: str) -> None:
    signals = urgency_signals(text)
    assert expected in {s.name for s in signals}
    reason = next(s.reason for s in signals if s.name == expected)
    # The reason quotes what was found, so an agent can see why.
    assert '"' in reason


def test_plain_and_calm_messages_raise_nothing() -> None:
    assert names("Could you tell me how to change my delivery address?") == set()
    # "Not urgent" cancels deadline words in the same message.
    assert "deadline" not in names("Not urgent, whenever you get a chance: could this be sorted by Friday?")


def test_business_wide_outage_is_critical_but_one_device_is_high() -> None:
    one = urgency_signals("My printer stopped working")
    everyone = urgency_signals("Our whole checkout is down, customers cannot pay at all")
    assert [s.floor for s in one if s.name == "outage"] == ["high"]
    assert [s.floor for s in everyone if s.name == "outage"] == ["critical"]


def test_context_signals() -> None:
    assert "vip" in names("Quick question about invoices", vip=True)
    assert "repeated_contact" in names("Any news?", previous_contacts=3)
    assert "repeated_contact" not in names("Any news?", previous_contacts=1)
    assert "negative_sentiment" in names("Hello", sentiment=("negative", 0.95))
    assert "negative_sentiment" not in names("Hello", sentiment=("negative", 0.6))


def test_escalate_applies_floors_and_one_step_raises() -> None:
    assert escalate("low", []) == "low"
    assert escalate("low", urgency_signals("someone hacked my account")) == "critical"
    assert escalate("normal", urgency_signals("please reply by tomorrow")) == "high"
    assert escalate("critical", urgency_signals("please reply by tomorrow")) == "critical"  # never lowered
    # A raise is one step and never reaches critical on its own.
    assert escalate("low", urgency_signals("Any news?", previous_contacts=3)) == "normal"
    assert escalate("high", urgency_signals("Any news?", previous_contacts=3)) == "high"
    # Labels a model knows: with no "critical", the highest known level is used.
    assert escalate("low", urgency_signals("server down for everyone"), ("low", "medium", "high")) == "high"


def test_urgency_rank_accepts_synonyms() -> None:
    assert [urgency_rank(x) for x in ("low", "Medium", "HIGH", "urgent", "P1")] == [0, 1, 2, 3, 3]
    assert urgency_rank("banana") is None


def test_anger_scores_rise_with_evidence() -> None:
    calm = anger("Thanks so much, all sorted!")
    cross = anger("This is ridiculous, still waiting")
    furious = anger("This is UNACCEPTABLE!!! Third time I have emailed you, useless company")
    assert calm.score == 0.0 and not calm.angry and calm.reasons == []
    assert 0 < cross.score < furious.score <= 1.0
    assert furious.angry and furious.score >= ANGER_THRESHOLD
    kinds = " ".join(furious.reasons)
    assert "punctuation" in kinds and "insult" in kinds and "repeated contact" in kinds


def test_shouting_ignores_acronyms() -> None:
    assert "shouting in capitals" not in anger("Please send the PDF and the VAT invoice in USD").reasons
    assert "shouting in capitals" in anger("WHERE IS MY ORDER").reasons
    # Product acronyms in technical text are not shouting, even several in a short sentence.
    assert anger("Our EMR and PACS integration with the CRM fails").reasons == []
    assert "shouting in capitals" in anger("the app is NOT WORKING AT ALL").reasons


def test_hospital_as_a_place_of_work_is_no_safety_hazard() -> None:
    assert "safety" not in names("The hospital EMR cannot open patient records")
    assert "safety" in names("My son was taken to hospital after using your heater")
    assert "safety" in names("I was hospitalised after using this heater")
