"""A ticket's sentiment across the conversation: the customer's current state (issue #12)."""

from __future__ import annotations

from models.signals import is_acknowledgement

# The ticket had been answered: solved, or handed back to the customer by an agent (pending).
ANSWERED_STATUSES = ("solved", "pending")


def conversation_sentiment(previous: str | None, label: str, text: str, *, answered: bool = False) -> str:
    """The ticket's sentiment after one more customer message, whose own sentiment is `label`.

    Only customer messages count: the caller never passes an agent's or the bot's words. The ticket
    follows the customer's latest substantive message. A message that says nothing beyond thanks or an
    acknowledgement ("thanks!", "ok", "danke", "merci", "gracias, Ana") keeps the previous state: a
    "thanks" after a complaint is politeness, not satisfaction. It counts as itself only when the ticket
    had been `answered` (solved, or pending after an agent's reply): then it thanks for a resolution. So a
    positive message turns a negative ticket positive only when it says something or follows an answer.
    """
    if previous is None or answered or not is_acknowledgement(text):
        return label
    return previous
