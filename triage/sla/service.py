"""SLA due times from the policy for the ticket's channel and priority (wall-clock for now)."""

from __future__ import annotations

from datetime import datetime

from triage.config import TriageConfig, parse_duration
from triage.conversations.tables import Ticket

URGENCY_TO_PRIORITY = {"low": "low", "normal": "normal", "high": "high", "critical": "urgent"}


def apply_sla(ticket: Ticket, config: TriageConfig, *, start: datetime) -> None:
    """Set first-response and resolution due times; a ticket without a matching policy gets none."""
    policy = config.sla_for(ticket.channel, ticket.priority)
    if policy is None:
        ticket.first_response_due = ticket.resolution_due = None
        return
    if ticket.first_responded_at is None:
        ticket.first_response_due = start + parse_duration(policy.first_response)
    ticket.resolution_due = start + parse_duration(policy.resolution)
