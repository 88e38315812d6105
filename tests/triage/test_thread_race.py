"""Two workers on PostgreSQL: a reply claimed while the message it answers is still uncommitted (issue 14)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import select

from triage.conversations.tables import Message
from triage.flows.processing import Worker
from triage.inbox.service import enqueue
from triage.runtime import Triage


def test_a_reply_waits_for_its_parent_in_flight_on_another_worker(rt: Triage, make_email: Any) -> None:
    if rt.db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: the parent is committed before the reply is claimed")
    parent = make_email(message_id="<p1@mail.example.com>", subject="My order never came")
    reply = make_email(message_id="<p2@mail.example.com>", subject="Re: My order never came",
                       in_reply_to="<p1@mail.example.com>", references="<p1@mail.example.com>",
                       body="Any news? Still nothing here.",
                       # A colleague answers: another customer, so no customer lock orders the two workers.
                       sender="Jonas Berg <jonas.berg@example.com>")
    with rt.db.transaction() as session:
        enqueue(session=session, kind="email", source="file", payload=parent, dedup_key="mid:p1@mail.example.com")
        enqueue(session=session, kind="email", source="file", payload=reply, dedup_key="mid:p2@mail.example.com")

    slow, fast = rt.pipeline(), rt.pipeline()
    inside, release = threading.Event(), threading.Event()
    real = slow.process

    def holding(item: Any, *, session: Any, prepared: Any = None) -> Any:  # the parent's worker stops before its commit
        message = real(item, session=session, prepared=prepared)
        inside.set()
        release.wait(20)
        return message

    slow.process = holding  # type: ignore[method-assign]
    outcomes: dict[str, Any] = {}
    first = threading.Thread(target=lambda: outcomes.update(parent=Worker(rt.db, slow, "a").run_once()))
    first.start()
    assert inside.wait(60), "the first worker never reached the parent"
    second = threading.Thread(target=lambda: outcomes.update(reply=Worker(rt.db, fast, "b").run_once()))
    second.start()
    second.join(1.5)
    assert second.is_alive(), "the reply's worker must wait for the parent's commit, not open a ticket"
    release.set()
    first.join(60)
    second.join(60)
    assert outcomes["parent"].status == outcomes["reply"].status == "done"
    assert outcomes["parent"].ticket_id == outcomes["reply"].ticket_id
    with rt.db.session() as session:
        tickets = set(session.scalars(select(Message.ticket_id).where(Message.direction == "in")))
    assert tickets == {outcomes["parent"].ticket_id}
