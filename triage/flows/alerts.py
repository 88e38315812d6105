"""Emerging-issue notifications (issue 17 item 3): the planning domain detects and opens episodes; this flow
tells people once per episode, through the channels SLA escalations use (mail through the one composer, a
webhook), both via the outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from triage.config import TriageConfig
from triage.flows.mail import queue_outgoing, sender_address
from triage.outbox.service import queue_webhook
from triage.planning.alerts import Encode, check_alerts
from triage.planning.schemas import AlertsReport
from triage.planning.tables import AlertEpisode


def _describe(episode: AlertEpisode) -> tuple[str, str]:
    """Subject and body of the notification."""
    if episode.kind == "topic":
        examples = "\n".join(f"  - {e}" for e in episode.details.get("examples", []))
        return (f"[Emerging topic] {episode.key} ({episode.observed} messages)",
                f"{episode.observed} recent messages the classifier was unsure of share a topic: {episode.key}.\n"
                f"Examples:\n{examples}\n")
    what = f"{episode.kind} {episode.key}"
    return (f"[Emerging issue] {what}: {episode.observed} tickets, about {episode.expected:g} expected",
            f"{episode.observed} new tickets for {what} in the last {episode.details.get('window', '?')}, against "
            f"{episode.expected:g} in the same hours of recent weeks (p = {episode.p_value:.2g}).\n")


def notify(episode: AlertEpisode, *, config: TriageConfig, session: Session) -> int:
    """Queue the episode's mail and webhook in the outbox; how many were queued."""
    plan = config.planning
    team = {"queue": episode.key, "intent": config.team_for_intent(episode.key)}.get(episode.kind)
    lead = (config.team(team).lead if team and config.team(team) else None)  # type: ignore[union-attr]
    recipients = list(dict.fromkeys([*plan.alert_notify, *([lead.lower()] if lead else [])]))
    subject, body = _describe(episode)
    queued = 0
    sender = sender_address(config, kind="notification")
    if recipients and sender is not None:
        for address in recipients:
            queue_outgoing("notification", config=config, session=session, ticket_id=None, sender=sender,
                           sender_name=f"{config.company} alerts", to=address, subject=subject, body=body)
            queued += 1
    if plan.alert_webhook_url:
        queue_webhook(plan.alert_webhook_url, {"event": "alert.opened", "kind": episode.kind, "key": episode.key,
                                               "observed": episode.observed, "expected": episode.expected,
                                               "p_value": episode.p_value, "opened_at": episode.opened_at.isoformat(),
                                               "details": episode.details},
                      session=session, ticket_id=None, kind="alert.opened")
        queued += 1
    return queued


def run_alerts(*, session: Session, config: TriageConfig, now: datetime | None = None, encode: Encode | None = None,
               send: bool = True) -> AlertsReport:
    """One detection pass; with `send`, every episode it opens is notified (once: later passes find it open)."""
    def on_open(episode: AlertEpisode) -> None:
        notify(episode, config=config, session=session)

    return check_alerts(session=session, config=config, now=now, encode=encode, on_open=on_open if send else None)
