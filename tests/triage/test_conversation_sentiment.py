"""The ticket's sentiment follows the customer's state, not a closing "thanks" (issue #12)."""

from __future__ import annotations

import pytest

from triage.conversations.sentiment import conversation_sentiment


def test_the_first_message_sets_the_state() -> None:
    assert conversation_sentiment(None, "negative", "Thanks!") == "negative"


@pytest.mark.parametrize("thanks", ["thanks!", "Danke", "merci", "gracias", "ok", "Thank you, Maria", "👍"])
def test_a_bare_thanks_after_a_complaint_keeps_it(thanks: str) -> None:
    assert conversation_sentiment("negative", "positive", thanks) == "negative"


def test_a_bare_thanks_after_an_answer_counts() -> None:
    # The ticket was solved (or handed back after an agent's reply): the thanks is for a resolution.
    assert conversation_sentiment("negative", "positive", "Thanks!", answered=True) == "positive"


def test_a_substantive_message_sets_the_state_either_way() -> None:
    fixed = "That fixed it, the heater works again. Thanks!"
    assert conversation_sentiment("negative", "positive", fixed) == "positive"
    assert conversation_sentiment("positive", "negative", "Thanks, but it is smoking again") == "negative"
    assert conversation_sentiment("neutral", "negative", "Still no refund.") == "negative"
