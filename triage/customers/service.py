"""Customer facts the classifiers use: VIP status and how often the customer wrote lately.

The urgency model raises a VIP's message and one from a customer who keeps writing (models.signals:
"vip", "repeated_contact"); `urgency_context` gives it both, in the keys `UrgencyClassifier` reads.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from triage.config import TriageConfig, parse_duration
from triage.conversations.tables import Customer, CustomerIdentity, Message, Ticket
from triage.db import utcnow
from triage.errors import NotFound
from triage.events.service import record


class UrgencyContext(TypedDict):
    vip: bool
    previous_contacts: int


def is_vip(customer: Customer, *, session: Session, config: TriageConfig) -> bool:
    """The customer's vip flag, or one of their email addresses (or its domain) listed in [customers] vip."""
    if customer.vip:
        return True
    if not config.customers.vip:
        return False
    addresses = session.scalars(select(CustomerIdentity.value).where(
        CustomerIdentity.customer_id == customer.id, CustomerIdentity.kind == "email"))
    return any(config.customers.is_vip_address(a) for a in addresses)


def recent_contacts(customer: Customer, *, session: Session, config: TriageConfig,
                    now: datetime | None = None) -> int:
    """Messages the customer wrote (automatic mail aside) within [customers] contact_window before `now`."""
    now = now or utcnow()
    since = now - parse_duration(config.customers.contact_window)
    return session.scalar(
        select(func.count(Message.id)).join(Ticket, Message.ticket_id == Ticket.id).where(
            Ticket.customer_id == customer.id, Message.direction == "in", Message.author_kind == "customer",
            # When the customer wrote, not when we stored it: an imported archive is not a burst of contacts.
            Message.auto_kind.is_(None), Message.sent_at >= since, Message.sent_at < now)) or 0


def urgency_context(customer: Customer, *, session: Session, config: TriageConfig,
                    now: datetime | None = None) -> UrgencyContext:
    """{"vip": ..., "previous_contacts": ...} for the urgency classifier's context of a message received at `now`.

    Pass the message's own receipt time as `now` so that the message itself is not counted.
    """
    return UrgencyContext(vip=is_vip(customer, session=session, config=config),
                          previous_contacts=recent_contacts(customer, session=session, config=config, now=now))


def customer_by_email(email: str, *, session: Session) -> Customer:
    """The customer who wrote from this address (case-insensitive)."""
    value = (email or "").strip().lower()
    customer = session.scalar(select(Customer).join(CustomerIdentity).where(
        CustomerIdentity.kind == "email", CustomerIdentity.value == value))
    if customer is None:
        raise NotFound(f"no customer writes from {value or 'an empty address'}")
    return customer


def set_vip(customer_id: int, vip: bool, *, session: Session, actor: str = "system") -> Customer:
    """Flag a customer as VIP (or not); the change is recorded in the audit log."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}")
    if customer.vip != vip:
        customer.vip = vip
        record("customer.vip", session=session, actor=actor, customer_id=customer_id, vip=vip)
    session.flush()
    return customer
