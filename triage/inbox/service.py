"""Accepting raw messages durably and claiming them for processing."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from triage.inbox.tables import DONE, FAILED, PENDING, InboxItem


def enqueue(
    *, session: Session, kind: str, source: str, payload: bytes, dedup_key: str, source_ref: str = ""
) -> tuple[InboxItem, bool]:
    """Store one accepted message; returns (row, created). The same message offered twice is one row."""
    existing = session.scalar(select(InboxItem).where(InboxItem.dedup_key == dedup_key))
    if existing is not None:
        return existing, False
    item = InboxItem(kind=kind, source=source, source_ref=source_ref, payload=payload, dedup_key=dedup_key)
    try:
        with session.begin_nested():  # a concurrent writer may insert the same key first
            session.add(item)
            session.flush()
    except IntegrityError:
        existing = session.scalar(select(InboxItem).where(InboxItem.dedup_key == dedup_key))
        if existing is None:
            raise
        return existing, False
    return item, True


def claim_next(*, session: Session, worker: str) -> InboxItem | None:
    """Lock the oldest pending row for this transaction.

    On PostgreSQL `FOR UPDATE SKIP LOCKED` lets several workers share the inbox: each row is
    locked by exactly one of them, and a crashed worker's lock dies with its transaction, so the
    row is simply pending again. SQLite serialises writers, so the plain select is enough there.
    """
    query = select(InboxItem).where(InboxItem.status == PENDING).order_by(InboxItem.id).limit(1)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    item = session.scalar(query)
    if item is not None:
        item.attempts += 1
        item.processed_by = worker
    return item


def retry_failed(*, session: Session, ids: list[int] | None = None) -> int:
    """Put failed rows back to pending so the worker replays them; returns how many."""
    stmt = update(InboxItem).where(InboxItem.status == FAILED).values(status=PENDING, error=None)
    if ids:
        stmt = stmt.where(InboxItem.id.in_(ids))
    result = session.execute(stmt)
    session.flush()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def list_items(*, session: Session, status: str | None = None, limit: int = 100) -> list[InboxItem]:
    query = select(InboxItem).order_by(InboxItem.id.desc()).limit(limit)
    if status:
        query = query.where(InboxItem.status == status)
    return list(session.scalars(query))


def counts(*, session: Session) -> dict[str, int]:
    rows = session.execute(select(InboxItem.status, func.count()).group_by(InboxItem.status))
    found = {status: int(n) for status, n in rows}
    return {status: found.get(status, 0) for status in (PENDING, DONE, FAILED)}
