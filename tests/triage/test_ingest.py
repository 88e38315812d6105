"""File ingestion: detecting .eml, mbox, Maildir and chat transcripts; rejections as file:line."""

from __future__ import annotations

import json
import mailbox
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from triage.config import Settings
from triage.conversations.tables import Message, Ticket
from triage.ingest.chat import read_csv, read_jsonl
from triage.ingest.files import detect, expand, ingest_paths, read_path
from triage.runtime import Triage


def test_detects_each_kind(tmp_path: Path, make_email) -> None:
    (tmp_path / "a.eml").write_bytes(make_email())
    (tmp_path / "noext").write_bytes(make_email())
    (tmp_path / "box.mbox").write_bytes(b"From x@y Mon Nov 16 09:00:00 2026\n" + make_email())
    md = tmp_path / "Maildir"
    mailbox.Maildir(md, create=True)
    (tmp_path / "c.jsonl").write_text("{}\n")
    (tmp_path / "c.csv").write_text("a,b\n")
    (tmp_path / "photo.png").write_bytes(b"\x89PNG\r\n")
    kinds = {p.name: k for p, k in expand([tmp_path])}
    assert kinds == {"a.eml": "eml", "noext": "eml", "box.mbox": "mbox", "Maildir": "maildir", "c.jsonl": "jsonl",
                     "c.csv": "csv", "photo.png": None}
    assert detect(md) == "maildir"


def test_mbox_and_maildir_messages_become_records(tmp_path: Path, make_email) -> None:
    box = mailbox.mbox(tmp_path / "all.mbox")
    for i in range(3):
        box.add(make_email(message_id=f"<mb{i}@example.com>", body=f"message {i}"))
    box.close()
    md = mailbox.Maildir(tmp_path / "md", create=True)
    md.add(make_email(message_id="<md1@example.com>"))
    md.add(make_email(message_id="<md2@example.com>"))
    mbox_records = list(read_path(tmp_path / "all.mbox", "mbox"))
    assert [r.dedup_key for r in mbox_records] == [f"mid:mb{i}@example.com" for i in range(3)]
    assert mbox_records[1].ref.endswith("all.mbox#2")
    maildir_records = list(read_path(tmp_path / "md", "maildir"))
    assert sorted(r.dedup_key for r in maildir_records) == ["mid:md1@example.com", "mid:md2@example.com"]


def test_chat_csv_matches_jsonl(tmp_path: Path) -> None:
    csv_text = (
        "conversation_id,timestamp,role,customer_id,customer_name,customer_email,text\n"
        'c-1,2026-11-16T09:00:00Z,customer,cust-1,Ann,ann@example.com,"Hello, my order, it is late"\n'
        "c-1,2026-11-16T09:01:00Z,agent,cust-1,,,Checking now\n"
        "c-1,2026-11-16T09:02:00Z,wizard,cust-1,,,?\n"
    )
    rows = list(read_csv(csv_text.encode()))
    assert [r[0] for r in rows] == [2, 3, 4]
    rec = rows[0][1]
    assert rec is not None and rec.customer.email == "ann@example.com" and rec.text == "Hello, my order, it is late"
    assert rows[2][1] is None and "role" in (rows[2][2] or "")
    jsonl = json.dumps({"conversation_id": "c-1", "timestamp": "2026-11-16T09:00:00Z", "role": "customer",
                        "customer": {"id": "cust-1", "name": "Ann", "email": "ann@example.com"},
                        "text": "Hello, my order, it is late"})
    [(_, same, _)] = list(read_jsonl(jsonl.encode()))
    assert same is not None and same.dedup_key() == rec.dedup_key()


def test_csv_without_required_columns(tmp_path: Path) -> None:
    [(line, rec, error)] = list(read_csv(b"id,message\n1,hi\n"))
    assert line == 1 and rec is None and "conversation_id" in (error or "")


def test_non_utf8_chat_line_is_rejected_not_fatal() -> None:
    data = b'{"conversation_id": "c", "timestamp": "2026-11-16T09:00:00Z", "role": "customer", ' \
           b'"customer": {"id": "x"}, "text": "caf\xe9"}\n'
    [(line, rec, error)] = list(read_jsonl(data))
    assert line == 1 and rec is None and "not UTF-8" in (error or "")


def test_naive_timestamp_is_utc() -> None:
    [(_, rec, _)] = list(read_jsonl(b'{"conversation_id": 7, "timestamp": "2026-11-16T09:00:00", '
                                    b'"role": "bot", "customer": {"id": 12}, "text": "Hi"}'))
    assert rec is not None and rec.timestamp.isoformat() == "2026-11-16T09:00:00+00:00"
    assert rec.conversation_id == "7" and rec.customer.id == "12"


def test_ingest_reports_unknown_and_missing_paths(rt: Triage, tmp_path: Path, make_email) -> None:
    (tmp_path / "ok.eml").write_bytes(make_email())
    (tmp_path / "empty.eml").write_bytes(b"")
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01")
    with rt.db.session() as session:
        report = ingest_paths([tmp_path, tmp_path / "nope"], session=session, commit=session.commit)
    reasons = sorted(str(r) for r in report.rejected)
    assert report.accepted == 1
    assert any("blob.bin: unrecognised file type" in r for r in reasons)
    assert any("empty.eml: the message is empty" in r for r in reasons)
    assert any("nope: no such file" in r for r in reasons)


def test_cli_ingest_strict_and_json(tmp_path: Path, make_email, models_path: Path) -> None:
    """The real console command: exit codes, JSON summary, rejections on stderr as file:line."""
    good = {"conversation_id": "c-1", "timestamp": "2026-11-16T09:00:00Z", "role": "customer",
            "customer": {"id": "cust-1"}, "text": "My order LH-100200 is late"}
    chats = tmp_path / "chats.jsonl"
    chats.write_text(json.dumps(good) + "\n{broken\n")
    (tmp_path / "m.eml").write_bytes(make_email())
    env = {"TRIAGE_HOME": str(tmp_path / "home"), "TRIAGE_MODELS_PATH": str(models_path), "PATH": "/usr/bin:/bin"}
    cmd = [sys.executable, "-m", "triage.cli", "ingest", str(chats), str(tmp_path / "m.eml"), "--json"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["accepted"] == 2 and summary["rejected"] == 1 and summary["processed"] == 2
    assert f"{chats}:2: invalid JSON" in done.stderr
    strict = subprocess.run([*cmd, "--strict"], capture_output=True, text=True, env=env, timeout=300)
    assert strict.returncode == 1
    assert json.loads(strict.stdout)["duplicates"] == 2  # idempotent: nothing new the second time
    rt = Triage(Settings(home=tmp_path / "home", models_path=models_path))  # read back through the library
    with rt.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 2
        assert session.scalar(select(func.count()).select_from(Ticket)) == 2
    missing = subprocess.run([sys.executable, "-m", "triage.cli", "tickets", "show", "999"], capture_output=True,
                             text=True, env=env, timeout=120)
    assert missing.returncode == 2 and "no ticket #999" in missing.stderr and "Traceback" not in missing.stderr
