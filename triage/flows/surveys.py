"""Survey invitations (issue 17 item 4): the survey domain decides who is invited; this flow mails the link
through the one composer and the outbox, and records the event."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy.orm import Session

from triage.config import TriageConfig
from triage.conversations.tables import Ticket
from triage.db import utcnow
from triage.events.service import record
from triage.flows.mail import queue_outgoing, sender_address
from triage.surveys import service
from triage.surveys.tables import SurveyInvitation


def invite(ticket: Ticket, *, session: Session, config: TriageConfig, secret: str,
           now: datetime | None = None) -> SurveyInvitation | str:
    """Invite the ticket's customer to rate it: the invitation (its mail queued in the outbox for email; a chat
    shows the prompt from the invitation), or the reason there is none."""
    now = now or utcnow()
    invitation = service.create_invitation(ticket, session=session, config=config, now=now)
    if isinstance(invitation, str):
        return invitation
    if ticket.channel == "email":
        identity = service.email_identity(ticket, session=session)
        sender = sender_address(config, kind="notification", team=ticket.queue)
        if identity is None or sender is None:
            session.delete(invitation)
            session.flush()
            return "no mailbox to send from" if sender is None else "no email address"
        link = f"{config.surveys.public_url}/survey/{service.make_token(invitation, secret)}"
        fields = {"ticket_id": ticket.id, "customer_name": ticket.customer.name or "there", "link": link,
                  "opt_out_link": f"{link}/opt-out", "company": config.company}
        queue_outgoing("notification", config=config, session=session, ticket_id=ticket.id, sender=sender,
                       sender_name=f"{config.company} support", to=identity.value,
                       subject=config.surveys.subject.format_map(fields), body=config.surveys.body.format_map(fields))
    record("survey.invited", session=session, ticket_id=ticket.id, actor="surveys", invitation_id=invitation.id)
    return invitation


def send_invitations(*, session: Session, config: TriageConfig, secret: str, now: datetime | None = None,
                     limit: int = 1000) -> dict[str, int]:
    """Invite for every ticket solved within `solved_within` that has no invitation yet; counts per outcome."""
    now = now or utcnow()
    outcomes: dict[str, int] = defaultdict(int)
    for ticket in service.solved_without_invitation(session=session, config=config, now=now, limit=limit):
        result = invite(ticket, session=session, config=config, secret=secret, now=now)
        outcomes["invited" if isinstance(result, SurveyInvitation) else result] += 1
    return dict(outcomes)
