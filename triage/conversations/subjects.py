"""Subject lines: our ticket token and the reply/forward prefixes that threading and classification ignore.

Pure functions, so every domain that reads a subject (threading, feedback, knowledge) shares one rule.
"""

from __future__ import annotations

import re

# Our outgoing subjects carry "[#123]" so a reply that lost its headers still finds its ticket.
TICKET_TOKEN = re.compile(r"\[#(\d{1,12})\]")
REPLY_PREFIX = re.compile(r"^\s*((re|fwd?|aw|wg|sv|vs|tr|r|antw)(\[\d+\])?\s*:\s*)+", re.IGNORECASE)


def ticket_token(ticket_id: int) -> str:
    """The token our outgoing subjects carry for a ticket: `[#123]`."""
    return f"[#{ticket_id}]"


def normalise_subject(subject: str) -> str:
    """Subject without reply/forward prefixes (Re:, Fwd:, AW:, SV:, RE[2]:) or our ticket token."""
    return " ".join(TICKET_TOKEN.sub("", REPLY_PREFIX.sub("", subject or "")).split())


# The encoder reads 256 word pieces (about 1,000-1,500 characters); the n-gram features read what is left up
# to this cap. Without it a 12 MB email cost seconds and gigabytes to classify (issue 14): the opening of a
# message says what it is about, the rest is logs, pasted threads and attachments rendered as text.
# Chosen with `python -m benchmarks cap` (docs/models.md): intent accuracy stops rising at 500 characters,
# and past the encoder's window more text only costs time and, on long mail, dilutes the n-grams.
MAX_CLASSIFIED_CHARS = 2_000


def classification_text(subject: str | None, body: str) -> str:
    """What the classifiers see of an email: its normalised subject, then the body, capped at
    MAX_CLASSIFIED_CHARS (one rule for serving, evaluation and the feedback that retrains on it)."""
    normalised = normalise_subject(subject or "")
    text = f"{normalised}\n{body}" if normalised else body
    return text[:MAX_CLASSIFIED_CHARS]
