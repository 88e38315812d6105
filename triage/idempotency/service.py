"""Claim an Idempotency-Key for a request, store the response it got, and purge keys after a day (issue 14 item 6).

The key's row is inserted by the transaction that does the work and receives the response before that
transaction commits, so no other transaction ever sees an unfinished request: a concurrent retry with the
same key waits on the unique (user, key) index (PostgreSQL) or on the write lock (SQLite) and then replays.
A request that fails rolls back its key too, so retrying it runs it again.

Plain functions: they flush; the caller (the request's session) commits.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from triage.db import utcnow
from triage.errors import Conflict
from triage.idempotency.tables import IdempotencyKey

TTL = timedelta(hours=24)  # a retry later than this runs again; Stripe keeps keys as long
PURGE_BATCH = 100  # expired rows deleted per claim: a bounded cost on the request that happens to do it


@dataclass(frozen=True)
class Claim:
    row: IdempotencyKey
    replay: bool  # True: answered before, send the stored response; False: this request does the work


def fingerprint(route: str, payload: Any) -> str:
    """sha256 of the route and the request body as canonical JSON (key order and spacing do not count)."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{route}\n{canonical}".encode()).hexdigest()


def claim(key: str, *, user_id: int, route: str, fingerprint: str, session: Session,
          now: datetime | None = None) -> Claim:
    """This user's request with this key: new (the caller does the work) or a retry of a finished one.

    Raises Conflict when the key came with a different request, or (should a route commit before answering)
    when the first request has not finished.
    """
    now = now or utcnow()
    purge_expired(session=session, now=now)
    existing = _find(user_id, key, session=session)
    if existing is not None and existing.created_at <= now - TTL:  # expired, and beyond this purge's batch
        session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == existing.id)
                        .execution_options(synchronize_session=False))
        existing = None
    if existing is None:
        row = IdempotencyKey(user_id=user_id, key=key, route=route, fingerprint=fingerprint, created_at=now)
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            # A concurrent request with this key committed while our insert waited on the unique index.
            existing = _find(user_id, key, session=session)
            if existing is None:
                raise Conflict(f"a request with Idempotency-Key {key!r} is in progress; retry it") from None
        else:
            return Claim(row, replay=False)
    if existing.fingerprint != fingerprint:
        raise Conflict(f"Idempotency-Key {key!r} was used for a different request ({existing.route} with another "
                       "body); use a new key for a new request")
    if existing.response_status is None or existing.response_body is None:
        raise Conflict(f"the first request with Idempotency-Key {key!r} is still in progress; retry it")
    return Claim(existing, replay=True)


def complete(row: IdempotencyKey, *, status: int, body: str, session: Session) -> None:
    """Keep the response the claimed request is about to send, for its retries."""
    row.response_status = status
    row.response_body = body
    session.flush()


def purge_expired(*, session: Session, now: datetime | None = None, limit: int = PURGE_BATCH) -> int:
    """Delete up to `limit` keys older than a day; rows another transaction holds are skipped, not waited for."""
    cutoff = (now or utcnow()) - TTL
    oldest = (select(IdempotencyKey.id).where(IdempotencyKey.created_at <= cutoff)
              .order_by(IdempotencyKey.created_at).limit(limit).with_for_update(skip_locked=True))
    result = session.execute(delete(IdempotencyKey).where(IdempotencyKey.id.in_(oldest))
                             .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


def _find(user_id: int, key: str, *, session: Session) -> IdempotencyKey | None:
    return session.scalar(select(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
                          .execution_options(populate_existing=True))
