"""A row that kills its worker is quarantined after `[inbox] max_attempts` tries; the rows behind it go on.

Issue 14.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import cli_in_process
from triage.events.tables import Event
from triage.inbox.service import enqueue, retry_failed
from triage.inbox.tables import InboxItem
from triage.ingest.chat import ChatRecord
from triage.monitoring import backlog
from triage.runtime import Triage

WORKER = Path(__file__).with_name("crash_worker.py")


def _chat(i: int, text: str) -> tuple[bytes, str]:
    rec = ChatRecord.model_validate({"conversation_id": f"conv-{i}", "timestamp": f"2026-11-16T09:{i:02d}:00Z",
                                     "role": "customer", "customer": {"id": f"cust-{i}"}, "text": text})
    return rec.model_dump_json().encode(), rec.dedup_key()


def _run_worker(rt: Triage, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TRIAGE_HOME": str(tmp_path / "home"), "TRIAGE_DATABASE_URL": rt.settings.db_url,
           "TRIAGE_MODELS_PATH": str(rt.settings.models_dir)}
    return subprocess.run([sys.executable, str(WORKER)], env=env, capture_output=True, text=True, timeout=300)


def test_poison_row_is_quarantined_after_three_crashes_and_the_rest_processed(
        rt: Triage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = []
    with rt.db.transaction() as session:
        for i, text in enumerate(["Where is my order?", "POISON pill that kills the worker",
                                  "I was charged twice", "The app crashes when I open settings"]):
            payload, key = _chat(i, text)
            ids.append(enqueue(session=session, kind="chat", source="test", payload=payload, dedup_key=key)[0].id)
    poison = ids[1]

    codes = []
    for _ in range(3):  # each restart dies on the poison row; its attempt survives the crash
        run = _run_worker(rt, tmp_path)
        codes.append(run.returncode)
        with rt.db.session() as session:
            row = session.get(InboxItem, poison)
            assert row is not None and row.status == "pending" and row.attempts == len(codes), run.stderr
    assert codes == [70, 70, 70]

    run = _run_worker(rt, tmp_path)  # the fourth start sets the row aside and works through the others
    assert run.returncode == 0, run.stderr
    with rt.db.session() as session:
        rows = {r.id: r for r in session.scalars(select(InboxItem))}
        assert rows[poison].status == "quarantined" and rows[poison].attempts == 3
        assert rows[poison].error == "process died while processing, 3 attempts"
        assert {r.status for i, r in rows.items() if i != poison} == {"done"}
        assert session.scalars(select(Event.kind).where(Event.inbox_id == poison)).all() == ["inbox.quarantined"]
        assert backlog(session=session).inbox == {"pending": 0, "failed": 0, "quarantined": 1, "orphan": 0}

    # Visible to a person, and released by `triage inbox retry ID` (a quarantined row is never retried by default).
    listed = cli_in_process(rt, monkeypatch, "inbox", "list", "--status", "quarantined")
    assert listed.exit_code == 0 and "process died while processing, 3 attempts" in listed.output
    assert "1 quarantined" in listed.output
    with rt.db.transaction() as session:
        assert retry_failed(session=session) == 0
        assert retry_failed(session=session, ids=[poison]) == 1
    with rt.db.session() as session:
        row = session.get(InboxItem, poison)
        assert row is not None and row.status == "pending" and row.attempts == 0 and row.error is None
