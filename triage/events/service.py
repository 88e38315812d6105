"""Recording events; every state change in the pipeline leaves one."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from triage.events.tables import Event


def record(
    kind: str,
    *,
    session: Session,
    ticket_id: int | None = None,
    inbox_id: int | None = None,
    actor: str = "system",
    **data: Any,
) -> Event:
    """Append one event to the audit log (flushed, not committed)."""
    event = Event(kind=kind, ticket_id=ticket_id, inbox_id=inbox_id, actor=actor, data=data)
    session.add(event)
    session.flush()
    return event
