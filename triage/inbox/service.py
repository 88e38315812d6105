"""Accepting raw messages durably and claiming them for processing."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from triage.db import on_postgres, utcnow
from triage.inbox.tables import FAILED, ORPHAN, PENDING, QUARANTINED, STATUSES, InboxItem


def enqueue(
    *, session: Session, kind: str, source: str, payload: bytes, dedup_key: str, source_ref: str = "",
    envelope: dict[str, Any] | None = None,
) -> tuple[InboxItem, bool]:
    """Store one accepted message; returns (row, created). The same message offered twice is one row.

    Channels go through `triage.flows.intake`, which makes the key; this only stores.
    """
    # A message of an erased customer offered again (an IMAP folder re-read) stays erased: its key is kept hashed.
    existing = session.scalar(select(InboxItem).where(InboxItem.dedup_key.in_((dedup_key, erased_key(dedup_key))))
                              .order_by(InboxItem.id).limit(1))
    if existing is not None:
        return existing, False
    item = InboxItem(kind=kind, source=source, source_ref=source_ref, payload=payload, dedup_key=dedup_key,
                     envelope=envelope)
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


ERASED_PREFIX = "erased:"


def erased_key(dedup_key: str) -> str:
    """What a dedup key becomes when its customer is erased (issue 14): a hash, still recognised by `enqueue`."""
    if dedup_key.startswith(ERASED_PREFIX):
        return dedup_key
    return ERASED_PREFIX + hashlib.sha256(dedup_key.encode("utf-8")).hexdigest()


class Orphaned(Exception):
    """Raised by processing for a row that belongs to no one (a message without any sender): kept for a person."""


# pg_try_advisory_xact_lock(class, id): the class keeps inbox locks apart from any other advisory lock.
_PG_LOCK_CLASS = 14_001


def claim_next(*, session: Session, worker: str) -> InboxItem | None:
    """The oldest pending row, held for this transaction; the caller records the attempt (`record_attempt`).

    On PostgreSQL several workers share the inbox: each row is held by one of them through a
    transaction-level advisory lock, and a crashed worker's lock dies with its connection. An
    advisory lock rather than `FOR UPDATE` because the attempt is committed by another connection
    while this transaction holds the row, which a row lock would block (issue 14). SQLite
    serialises writers, so the plain select is enough there.
    """
    query = select(InboxItem).where(InboxItem.status == PENDING).order_by(InboxItem.id)
    if not on_postgres(session):
        return session.scalar(query.limit(1))
    after = 0
    while True:
        ids = list(session.scalars(select(InboxItem.id).where(InboxItem.status == PENDING, InboxItem.id > after)
                                   .order_by(InboxItem.id).limit(20)))
        if not ids:
            return None
        for row_id in ids:
            if session.scalar(select(func.pg_try_advisory_xact_lock(_PG_LOCK_CLASS, row_id))):
                # Read again under the lock: another worker may have finished it since the scan.
                item = session.scalar(select(InboxItem).where(InboxItem.id == row_id)
                                      .execution_options(populate_existing=True))
                if item is not None and item.status == PENDING:
                    return item
        after = ids[-1]


def claim_batch(*, session: Session, limit: int, after: int = 0) -> list[InboxItem]:
    """Up to `limit` oldest pending rows (ids above `after`), held by this session's connection until
    `release_claim` (issue 18).

    A worker embeds a batch in one encoder pass, then commits each row in a transaction of its own; a
    transaction-level lock would end with the first of those commits, so on PostgreSQL each row is held by a
    session-level advisory lock of the claiming connection instead (same lock class as `claim_next`, so
    `wait_for_earlier` still waits for it). The caller keeps that connection out of the pool until every row is
    released; a crashed worker's locks die with its connection. SQLite serialises writers: a plain select.
    """
    query = select(InboxItem).where(InboxItem.status == PENDING, InboxItem.id > after).order_by(InboxItem.id)
    if not on_postgres(session):
        return list(session.scalars(query.limit(limit)))
    held: list[InboxItem] = []
    while len(held) < limit:
        ids = list(session.scalars(select(InboxItem.id).where(InboxItem.status == PENDING, InboxItem.id > after)
                                   .order_by(InboxItem.id).limit(max(limit, 20))))
        if not ids:
            break
        for row_id in ids:
            if not session.scalar(select(func.pg_try_advisory_lock(_PG_LOCK_CLASS, row_id))):
                continue
            # Read again under the lock: another worker may have finished it since the scan.
            item = session.scalar(select(InboxItem).where(InboxItem.id == row_id)
                                  .execution_options(populate_existing=True))
            if item is not None and item.status == PENDING:
                held.append(item)
                if len(held) == limit:
                    break
            else:
                release_claim(row_id, session=session)
        after = ids[-1]
    return held


def release_claim(item_id: int, *, session: Session) -> None:
    """Let other workers take a row claimed by `claim_batch` (its work is committed, or left for later)."""
    if on_postgres(session):
        session.execute(select(func.pg_advisory_unlock(_PG_LOCK_CLASS, item_id)))


def wait_for_earlier(dedup_keys: list[str], *, before_id: int, session: Session) -> int:
    """Wait until earlier rows with these keys (a reply's parents) are no longer held by another worker.

    On PostgreSQL a reply can be claimed while the message it answers is still being processed by another
    worker, uncommitted, and would open a second ticket (issue 14). Taking the parent row's lock waits for
    that worker's commit; the caller then sees the parent. The lock is kept until this transaction ends.
    Call it before taking any other lock (customer identities), so two workers never wait on each other:
    parents have lower ids, so waits only ever point at older rows. SQLite runs one writer at a time.
    """
    if not dedup_keys or not on_postgres(session):
        return 0
    ids = sorted(session.scalars(select(InboxItem.id).where(
        InboxItem.dedup_key.in_(dedup_keys), InboxItem.id < before_id, InboxItem.status == PENDING)))
    for row_id in ids:
        session.execute(select(func.pg_advisory_xact_lock(_PG_LOCK_CLASS, row_id)))
    return len(ids)


def record_attempt(*, session: Session, item_id: int, worker: str) -> int:
    """Count one processing attempt; the caller commits it before the work starts, so a crash cannot undo it."""
    session.execute(update(InboxItem).where(InboxItem.id == item_id)
                    .values(attempts=InboxItem.attempts + 1, processed_by=worker))
    session.flush()
    return int(session.scalar(select(InboxItem.attempts).where(InboxItem.id == item_id)) or 0)


def record_attempts(item_ids: list[int], *, session: Session, worker: str) -> None:
    """`record_attempt` for a whole claimed batch, in one statement."""
    if item_ids:
        session.execute(update(InboxItem).where(InboxItem.id.in_(item_ids))
                        .values(attempts=InboxItem.attempts + 1, processed_by=worker)
                        .execution_options(synchronize_session=False))
        session.flush()


def quarantine_if_exhausted(item: InboxItem, *, max_attempts: int) -> bool:
    """Set aside a pending row that was begun `max_attempts` times and never finished: each one died."""
    if item.status != PENDING or item.attempts < max_attempts:
        return False
    item.status = QUARANTINED
    item.error = f"process died while processing, {item.attempts} attempts"
    item.processed_at = utcnow()
    return True


def retry_failed(*, session: Session, ids: list[int] | None = None, quarantined: bool = False) -> int:
    """Put failed rows back to pending so the worker replays them; returns how many.

    Quarantined rows are released when named by id or with `quarantined`; their attempts start again from 0.
    """
    statuses = [FAILED, QUARANTINED, ORPHAN] if ids else [FAILED, QUARANTINED] if quarantined else [FAILED]
    stmt = update(InboxItem).where(InboxItem.status.in_(statuses)).values(status=PENDING, error=None, attempts=0)
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
    return {status: found.get(status, 0) for status in STATUSES}
