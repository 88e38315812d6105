"""Addresses that bounce: marked by delivery-status reports, cleared by a person (issue 14)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from triage.conversations.tables import CustomerIdentity
from triage.db import utcnow
from triage.events.service import record


def _identity(address: str, *, session: Session) -> CustomerIdentity | None:
    return session.scalar(select(CustomerIdentity).where(CustomerIdentity.kind == "email",
                                                         CustomerIdentity.value == address.strip().lower()))


def mark_bouncing(addresses: list[str], reason: str, *, session: Session, ticket_id: int | None = None) -> list[str]:
    """Flag the customers' addresses among `addresses` as bouncing; returns the ones newly flagged."""
    marked = []
    for address in addresses:
        identity = _identity(address, session=session)
        if identity is None or identity.bouncing_since is not None:
            continue
        identity.bouncing_since, identity.bounce_reason = utcnow(), reason[:1000]
        marked.append(identity.value)
        record("customer.bouncing", session=session, customer_id=identity.customer_id, ticket_id=ticket_id,
               reason=reason[:200])
    session.flush()
    return marked


def bounce_reason(address: str, *, session: Session) -> str | None:
    """Why mail to this address is held back, or None when it may be sent to."""
    identity = _identity(address, session=session)
    if identity is None or identity.bouncing_since is None:
        return None
    return identity.bounce_reason or "bounced"


def clear_bounce(address: str, *, session: Session) -> bool:
    """Let mail go to the address again; False when it was not marked bouncing."""
    identity = _identity(address, session=session)
    if identity is None or identity.bouncing_since is None:
        return False
    identity.bouncing_since = identity.bounce_reason = None
    record("customer.bounce_cleared", session=session, customer_id=identity.customer_id)
    session.flush()
    return True
