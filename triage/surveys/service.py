"""Customer satisfaction surveys (issue 17 item 4): invitations with a signed single-use link, responses,
opt-outs and CSAT reports.

- A link is `<invitation id>.<nonce>.<HMAC-SHA256 of both under the secret key>`: it cannot be made up without
  the key, and a response sets `responded_at`, so it counts once.
- No invitation goes to a sender who never wrote as a person (bounces, auto-replies: every customer message of the
  ticket carries an `auto_kind`), to a bouncing address, to a customer who opted out, twice for a ticket (a
  unique key), or to a customer invited within `customer_window`.
- CSAT is the share of responses rating 4 or 5; the mean rating is reported beside it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from collections import defaultdict
from datetime import datetime
from typing import Literal

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from triage.config import TriageConfig, parse_duration
from triage.conversations.tables import CustomerIdentity, Message, Ticket
from triage.db import utcnow
from triage.errors import Conflict, InvalidInput
from triage.events.service import record
from triage.surveys.schemas import CsatReport, CsatRow
from triage.surveys.tables import SurveyInvitation, SurveyOptOut

log = logging.getLogger(__name__)

CsatBy = Literal["agent", "queue", "intent", "channel", "day", "week", "month"]
MAX_COMMENT = 2000
BAD_LINK = "this survey link is not valid"


def _signature(invitation_id: int, nonce: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), f"survey:{invitation_id}:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def make_token(invitation: SurveyInvitation, secret: str) -> str:
    """The signed link token of an invitation."""
    return f"{invitation.id}.{invitation.nonce}.{_signature(invitation.id, invitation.nonce, secret)}"


def _verified(token: str, *, session: Session, secret: str) -> SurveyInvitation:
    """The invitation a token names when its signature holds; InvalidInput (saying nothing more) otherwise."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or len(token) > 200:
        raise InvalidInput(BAD_LINK)
    invitation_id, nonce, signature = int(parts[0]), parts[1], parts[2]
    if not hmac.compare_digest(signature, _signature(invitation_id, nonce, secret)):
        raise InvalidInput(BAD_LINK)
    invitation = session.get(SurveyInvitation, invitation_id)
    if invitation is None or not hmac.compare_digest(invitation.nonce, nonce):
        raise InvalidInput(BAD_LINK)
    return invitation


def skip_reason(ticket: Ticket, *, session: Session, config: TriageConfig, now: datetime) -> str | None:
    """Why this solved ticket gets no invitation, or None when it may get one."""
    if session.scalar(select(SurveyInvitation.id).where(SurveyInvitation.ticket_id == ticket.id)) is not None:
        return "already invited"
    if session.get(SurveyOptOut, ticket.customer_id) is not None:
        return "opted out"
    kinds = list(session.scalars(select(Message.auto_kind).where(Message.ticket_id == ticket.id,
                                                                 Message.direction == "in")))
    if not kinds or all(k is not None for k in kinds):
        return "automatic sender"  # bounces, auto-replies, complaints: nobody to ask
    if ticket.channel == "email":
        identity = email_identity(ticket, session=session)
        if identity is None:
            return "no email address"
        if identity.bouncing_since is not None:
            return "bouncing address"
    since = now - parse_duration(config.surveys.customer_window)
    recent = session.scalar(select(SurveyInvitation.id).where(SurveyInvitation.customer_id == ticket.customer_id,
                                                               SurveyInvitation.sent_at > since).limit(1))
    if recent is not None:
        return "invited recently"
    return None


def email_identity(ticket: Ticket, *, session: Session) -> CustomerIdentity | None:
    """The customer's first email address, where an emailed invitation goes."""
    return session.scalar(select(CustomerIdentity).where(CustomerIdentity.customer_id == ticket.customer_id,
                                                         CustomerIdentity.kind == "email")
                          .order_by(CustomerIdentity.id).limit(1))


def create_invitation(ticket: Ticket, *, session: Session, config: TriageConfig,
                      now: datetime | None = None) -> SurveyInvitation | str:
    """The ticket's invitation (flushed; sending it is `triage.flows.surveys`), or the reason there is none."""
    now = now or utcnow()
    reason = skip_reason(ticket, session=session, config=config, now=now)
    if reason is not None:
        return reason
    invitation = SurveyInvitation(ticket_id=ticket.id, customer_id=ticket.customer_id, agent_id=ticket.assignee_id,
                                  queue=ticket.queue, intent=ticket.intent, channel=ticket.channel,
                                  nonce=secrets.token_hex(8), sent_at=now,
                                  expires_at=now + parse_duration(config.surveys.expire_after))
    session.add(invitation)
    session.flush()
    return invitation


def solved_without_invitation(*, session: Session, config: TriageConfig, now: datetime,
                              limit: int = 1000) -> list[Ticket]:
    """Tickets solved within `solved_within` before `now` that have no invitation yet, oldest first."""
    since = now - parse_duration(config.surveys.solved_within)
    invited = select(SurveyInvitation.ticket_id)
    return list(session.scalars(select(Ticket).where(Ticket.status.in_(("solved", "closed")),
                                                     Ticket.solved_at >= since, Ticket.solved_at <= now,
                                                     Ticket.id.not_in(invited))
                                .order_by(Ticket.solved_at, Ticket.id).limit(limit)))


def invitation_for(token: str, *, session: Session, secret: str) -> SurveyInvitation:
    """The invitation behind a link (for the rating page); InvalidInput when the link is not ours."""
    return _verified(token, session=session, secret=secret)


def respond(token: str, rating: int, comment: str | None = None, *, session: Session, secret: str,
            now: datetime | None = None) -> SurveyInvitation:
    """Record the customer's rating once; a second answer, an expired link or a forged one is refused."""
    now = now or utcnow()
    invitation = _verified(token, session=session, secret=secret)
    if not 1 <= rating <= 5:
        raise InvalidInput("rating: choose a whole number from 1 to 5")
    if invitation.responded_at is not None:
        raise Conflict("this survey was already answered, thank you")
    if now > invitation.expires_at:
        raise Conflict("this survey link has expired")
    invitation.rating, invitation.responded_at = rating, now
    invitation.comment = (comment or "").strip()[:MAX_COMMENT] or None
    session.flush()
    record("survey.answered", session=session, ticket_id=invitation.ticket_id, actor="customer", rating=rating)
    return invitation


def opt_out(token: str, *, session: Session, secret: str) -> None:
    """No more invitations for the customer of this link (idempotent)."""
    invitation = _verified(token, session=session, secret=secret)
    if session.get(SurveyOptOut, invitation.customer_id) is None:
        session.add(SurveyOptOut(customer_id=invitation.customer_id))
        session.flush()


def _bucket(moment: datetime, by: str) -> str:
    if by == "day":
        return moment.date().isoformat()
    if by == "week":
        year, week, _ = moment.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{moment:%Y-%m}"


def csat_report(*, session: Session, since: datetime, until: datetime, by: CsatBy = "queue",
                queue: str | None = None, channel: str | None = None, intent: str | None = None,
                agent_id: int | None = None) -> CsatReport:
    """CSAT (share of 4-5), mean rating, responses and response rate per agent, queue, intent, channel or period
    (UTC) of invitations sent in [since, until); per agent also the mean QA score of their reviewed replies in the
    period, and over tickets both rated and QA-scored the correlation of the two."""
    from triage.agents.tables import Agent
    from triage.qa.tables import QaReview, QaSample

    query = select(SurveyInvitation).where(SurveyInvitation.sent_at >= since, SurveyInvitation.sent_at < until)
    for column, value in ((SurveyInvitation.queue, queue), (SurveyInvitation.channel, channel),
                          (SurveyInvitation.intent, intent), (SurveyInvitation.agent_id, agent_id)):
        if value is not None:
            query = query.where(column == value)
    names = dict(session.execute(select(Agent.id, Agent.email)).all())
    groups: dict[str, list[SurveyInvitation]] = defaultdict(list)
    rows = list(session.scalars(query))
    for inv in rows:
        if by in ("day", "week", "month"):
            key = _bucket(inv.sent_at, by)
        elif by == "agent":
            key = names.get(inv.agent_id, "(unassigned)") if inv.agent_id else "(unassigned)"
        else:
            key = getattr(inv, by) or "(none)"
        groups[key].append(inv)
    scored = (select(QaSample.agent_id, QaSample.ticket_id, QaReview.total)
              .join(QaReview, QaReview.sample_id == QaSample.id)
              .where(QaReview.total.is_not(None), QaSample.sent_at >= since, QaSample.sent_at < until))
    per_agent: dict[str, list[float]] = defaultdict(list)
    per_ticket: dict[int, list[float]] = defaultdict(list)
    for agent, ticket_id, total in session.execute(scored):
        if total is not None:
            per_agent[names.get(agent, str(agent))].append(float(total))
            per_ticket[ticket_id].append(float(total))
    qa_by_agent = {k: float(np.mean(v)) for k, v in per_agent.items()}
    qa_by_ticket = {k: float(np.mean(v)) for k, v in per_ticket.items()}

    def row(key: str, invs: list[SurveyInvitation]) -> CsatRow:
        ratings = [i.rating for i in invs if i.rating is not None]
        return CsatRow(key=key, invited=len(invs), responses=len(ratings),
                       response_rate=round(len(ratings) / len(invs), 4) if invs else None,
                       csat=round(sum(r >= 4 for r in ratings) / len(ratings), 4) if ratings else None,
                       mean_rating=round(float(np.mean(ratings)), 3) if ratings else None,
                       qa_mean=round(qa_by_agent[key], 2) if by == "agent" and key in qa_by_agent else None)

    pairs = [(float(i.rating), qa_by_ticket[i.ticket_id]) for i in rows
             if i.rating is not None and i.ticket_id in qa_by_ticket]
    correlation = None
    if len(pairs) >= 3 and len({p[0] for p in pairs}) > 1 and len({p[1] for p in pairs}) > 1:
        correlation = round(float(np.corrcoef(np.array(pairs).T)[0, 1]), 3)
    return CsatReport(since=since, until=until, by=by, rows=[row(k, v) for k, v in sorted(groups.items())],
                      total=row("total", rows), qa_pairs=len(pairs), qa_correlation=correlation)


def pending_for_chat(ticket_id: int, *, session: Session, secret: str) -> str | None:
    """The token of an unanswered invitation for a chat ticket, for the widget's rating prompt."""
    invitation = session.scalar(select(SurveyInvitation).where(SurveyInvitation.ticket_id == ticket_id,
                                                               SurveyInvitation.responded_at.is_(None)))
    if invitation is None or invitation.channel != "chat":
        return None
    return make_token(invitation, secret)


def counts(*, session: Session) -> dict[str, int]:
    """Invitations sent and answered, and customers opted out."""
    return {"invited": session.scalar(select(func.count()).select_from(SurveyInvitation)) or 0,
            "answered": session.scalar(select(func.count()).select_from(SurveyInvitation)
                                       .where(SurveyInvitation.responded_at.is_not(None))) or 0,
            "opted_out": session.scalar(select(func.count()).select_from(SurveyOptOut)) or 0}
