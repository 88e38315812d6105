"""Schema migrations and storage types, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select

from triage.config import Settings
from triage.conversations.tables import Customer
from triage.db import Base, Database, current_revision, head_revision
from triage.events.tables import Event


def test_schema_is_created_on_first_use_and_matches_the_models(settings: Settings) -> None:
    db = Database(settings)
    assert current_revision(db.engine) is None
    with db.session() as session:  # first use migrates
        session.execute(select(Customer)).all()
    assert current_revision(db.engine) == head_revision(db.engine)
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == [], f"models and migrations disagree: {diff}"
    assert {"customers", "customer_identities", "tickets", "messages", "inbox", "agents", "assignments",
            "classifications", "events"} <= set(db.table_names())
    db.dispose()


def test_timestamps_come_back_timezone_aware_in_utc(settings: Settings) -> None:
    db = Database(settings)
    moment = datetime(2026, 11, 16, 9, 30, tzinfo=timezone(timedelta(hours=2)))
    with db.transaction() as session:
        session.add(Event(kind="test", data={"k": [1, 2]}, created_at=moment))
    with db.session() as session:
        event = session.scalars(select(Event)).one()
        assert event.created_at == moment and event.created_at.tzinfo is not None
        assert event.created_at.utcoffset() == timedelta(0)
        assert event.data == {"k": [1, 2]}
    db.dispose()


def test_naive_datetimes_are_refused(settings: Settings) -> None:
    db = Database(settings)
    with pytest.raises(Exception, match="naive datetime"), db.transaction() as session:
        session.add(Event(kind="test", created_at=datetime(2026, 1, 1)))
        session.flush()
    db.dispose()


def test_migrate_twice_is_a_no_op(settings: Settings) -> None:
    from triage.db import migrate

    db = Database(settings)
    assert migrate(db.engine) is True
    assert migrate(db.engine) is False
    db.dispose()


def test_utc_now_helper_is_aware() -> None:
    from triage.db import utcnow

    assert utcnow().tzinfo is UTC
