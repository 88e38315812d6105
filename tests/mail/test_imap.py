"""The IMAP ingestor against a real Dovecot on 127.0.0.1: every message stored exactly once."""

from __future__ import annotations

import logging
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer
from imapclient import IMAPClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from mail.imap import BACKOFF_MAX, BATCH_SIZE, ImapIngestor, backoff_delay
from mail.parse import email_dedup_key
from triage.config import ImapConfig, MailboxConfig, default_config_text
from triage.db import Database
from triage.errors import UserError
from triage.inbox.tables import ImapCheckpoint, InboxItem
from triage.runtime import Triage

ADDRESS = "support@larkspur.example"


def _mailbox(dovecot: Any, folder: str, **imap: Any) -> MailboxConfig:
    settings: dict[str, Any] = {"host": dovecot.host, "port": dovecot.port, "security": "none",
                                "user": dovecot.user, "password": dovecot.password, "folder": folder}
    settings.update(imap)
    return MailboxConfig(address=ADDRESS, team="support", imap=ImapConfig(**settings))


def _emails(make_email: Callable[..., bytes], n: int, tag: str | None = None, *, size: int = 0) -> list[bytes]:
    tag = tag or uuid.uuid4().hex[:8]
    filler = "\n" + ("The parcel tracking page still shows no movement. " * (size // 50)) if size else ""
    return [make_email(message_id=f"<{tag}-{i}@mail.example.com>", subject=f"Order question {i}",
                       body=f"Hello, where is order LH-{100000 + i}?{filler}") for i in range(n)]


def _append(dovecot: Any, folder: str, raws: list[bytes]) -> None:
    with dovecot.client() as client:
        for start in range(0, len(raws), 100):
            client.multiappend(folder, raws[start:start + 100])


def _flags(dovecot: Any, folder: str) -> dict[int, tuple[bytes, ...]]:
    with dovecot.client() as client:
        client.select_folder(folder, readonly=True)
        return dict(client.get_flags(client.search(["ALL"])))


def _inbox(db: Database) -> list[InboxItem]:
    with db.session() as session:
        return list(session.scalars(select(InboxItem).order_by(InboxItem.id)))


def _inbox_count(db: Database) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(InboxItem)) or 0)


def _checkpoint(db: Database, folder: str) -> ImapCheckpoint | None:
    with db.session() as session:
        return session.scalar(select(ImapCheckpoint).where(ImapCheckpoint.folder == folder))


def _wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def _message_ids(items: list[InboxItem]) -> list[str]:
    return [i.dedup_key for i in items]


def test_stores_each_message_once_then_marks_it_seen(rt: Triage, dovecot: Any, make_email: Any) -> None:
    folder = dovecot.new_folder()
    raws = _emails(make_email, 5)
    _append(dovecot, folder, raws)
    ingestor = ImapIngestor(rt.db, _mailbox(dovecot, folder))

    assert ingestor.poll_once() == 5
    items = _inbox(rt.db)
    assert [i.payload for i in items] == raws  # UID order, bytes untouched
    assert len(set(_message_ids(items))) == 5
    assert all(i.source == "imap" and i.kind == "email" and i.status == "pending" for i in items)
    envelopes = [i.envelope for i in items]
    assert [e["uid"] for e in envelopes] == [1, 2, 3, 4, 5]
    assert {e["mailbox"] for e in envelopes} == {ADDRESS} and {e["folder"] for e in envelopes} == {folder}
    checkpoint = _checkpoint(rt.db, folder)
    assert checkpoint is not None and checkpoint.last_uid == 5
    assert checkpoint.uidvalidity == envelopes[0]["uidvalidity"]
    assert all(b"\\Seen" in flags for flags in _flags(dovecot, folder).values())

    assert ingestor.poll_once() == 0  # nothing new: nothing stored, nothing fetched again
    assert len(_inbox(rt.db)) == 5

    _append(dovecot, folder, _emails(make_email, 1))
    assert ingestor.poll_once() == 1
    assert len(_inbox(rt.db)) == 6
    assert _checkpoint(rt.db, folder).last_uid == 6  # type: ignore[union-attr]


def test_leave_never_sets_seen(rt: Triage, dovecot: Any, make_email: Any) -> None:
    folder = dovecot.new_folder()
    _append(dovecot, folder, _emails(make_email, 3))
    assert ImapIngestor(rt.db, _mailbox(dovecot, folder, after="leave")).poll_once() == 3
    # BODY.PEEK[] (RFC 3501 §6.4.5): fetching alone must not mark the mail read.
    assert all(b"\\Seen" not in flags for flags in _flags(dovecot, folder).values())
    assert _checkpoint(rt.db, folder).last_uid == 3  # type: ignore[union-attr]


def test_same_message_id_already_in_the_inbox_is_not_stored_twice(rt: Triage, dovecot: Any, make_email: Any) -> None:
    folder = dovecot.new_folder()
    raws = _emails(make_email, 2)
    _append(dovecot, folder, [*raws, raws[0]])  # e.g. also delivered over SMTP, or copied twice
    assert ImapIngestor(rt.db, _mailbox(dovecot, folder)).poll_once() == 2
    assert len(_inbox(rt.db)) == 2
    assert _checkpoint(rt.db, folder).last_uid == 3  # type: ignore[union-attr]
    assert all(b"\\Seen" in flags for flags in _flags(dovecot, folder).values())


def test_move_after_storing(rt: Triage, dovecot: Any, make_email: Any) -> None:
    folder, done = dovecot.new_folder(), dovecot.new_folder("done")
    _append(dovecot, folder, _emails(make_email, 4))
    ingestor = ImapIngestor(rt.db, _mailbox(dovecot, folder, after="move", move_to=done))
    assert ingestor.poll_once() == 4
    assert _flags(dovecot, folder) == {}
    assert len(_flags(dovecot, done)) == 4
    assert ingestor.poll_once() == 0
    assert len(_inbox(rt.db)) == 4


class _OldServer(IMAPClient):
    """A client that pretends the server lacks some extensions (MOVE, UIDPLUS)."""

    hidden: frozenset[bytes] = frozenset()

    def has_capability(self, capability: str) -> bool:
        name = capability.encode() if isinstance(capability, str) else capability
        return name.upper() not in self.hidden and super().has_capability(capability)


@pytest.mark.parametrize("hidden", [{b"MOVE"}, {b"MOVE", b"UIDPLUS"}], ids=["uid-expunge", "expunge"])
def test_move_without_the_move_extension(rt: Triage, dovecot: Any, make_email: Any, hidden: set[bytes]) -> None:
    folder, done = dovecot.new_folder(), dovecot.new_folder("done")
    _append(dovecot, folder, _emails(make_email, 3))
    factory = type("Client", (_OldServer,), {"hidden": frozenset(hidden)})
    ingestor = ImapIngestor(rt.db, _mailbox(dovecot, folder, after="move", move_to=done), client_factory=factory)
    assert ingestor.poll_once() == 3
    assert _flags(dovecot, folder) == {}  # COPY, \Deleted, EXPUNGE (RFC 6851 §3.3)
    moved = _flags(dovecot, done)
    assert len(moved) == 3 and all(b"\\Deleted" not in f for f in moved.values())


def test_messages_stored_but_not_moved_before_a_crash_are_moved_next_time(
    rt: Triage, dovecot: Any, make_email: Any
) -> None:
    folder, done = dovecot.new_folder(), dovecot.new_folder("done")
    _append(dovecot, folder, _emails(make_email, 3))
    # Stored and checkpointed, then "crashed" before the move: the same state as after="leave".
    assert ImapIngestor(rt.db, _mailbox(dovecot, folder, after="leave")).poll_once() == 3
    _append(dovecot, folder, _emails(make_email, 1))
    assert ImapIngestor(rt.db, _mailbox(dovecot, folder, after="move", move_to=done)).poll_once() == 1
    assert _flags(dovecot, folder) == {}
    assert len(_flags(dovecot, done)) == 4
    assert len(_inbox(rt.db)) == 4


def test_uidvalidity_change_reads_the_folder_again_without_duplicates(
    rt: Triage, dovecot: Any, make_email: Any, caplog: pytest.LogCaptureFixture
) -> None:
    folder = dovecot.new_folder()
    raws = _emails(make_email, 3)
    _append(dovecot, folder, raws)
    ingestor = ImapIngestor(rt.db, _mailbox(dovecot, folder))
    assert ingestor.poll_once() == 3
    before = _checkpoint(rt.db, folder)
    assert before is not None

    with dovecot.client() as client:  # the folder is recreated: new UIDVALIDITY, UIDs start at 1 again
        client.delete_folder(folder)
        client.create_folder(folder)
    new = _emails(make_email, 1)
    _append(dovecot, folder, raws + new)

    with caplog.at_level(logging.WARNING, logger="mail.imap"):
        assert ingestor.poll_once() == 1
    after = _checkpoint(rt.db, folder)
    assert after is not None and after.uidvalidity != before.uidvalidity and after.last_uid == 4
    assert "UIDVALIDITY changed" in caplog.text
    items = _inbox(rt.db)
    assert len(items) == 4 and items[-1].payload == new[0]
    assert ingestor.poll_once() == 0


def test_setup_mistakes_are_one_line_user_errors(tmp_path: Path, dovecot: Any, make_email: Any) -> None:
    from triage.config import Settings

    db = Database(Settings(home=tmp_path, environment="test"))
    folder = dovecot.new_folder()
    cases = [
        (_mailbox(dovecot, folder, password="wrong"), "login as 'triage'"),
        (_mailbox(dovecot, "NoSuchFolder"), "'NoSuchFolder' does not exist"),
        (_mailbox(dovecot, folder, after="move", move_to="NoSuchTarget"), "'NoSuchTarget' does not exist"),
        (_mailbox(dovecot, folder, port=_closed_port()), "cannot connect"),
        (_mailbox(dovecot, folder, security="starttls") if dovecot.tls_port is None else None, "STARTTLS"),
    ]
    for box, expected in cases:
        if box is None:
            continue
        with pytest.raises(UserError) as info:
            ImapIngestor(db, box).poll_once()
        message = str(info.value)
        assert expected in message and ADDRESS in message and "\n" not in message
    db.dispose()


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_tls_and_starttls_verify_the_certificate(tmp_path: Path, dovecot: Any, make_email: Any) -> None:
    from triage.config import Settings

    if dovecot.tls_port is None:
        pytest.skip("openssl could not make a test certificate, so Dovecot runs without TLS")
    db = Database(Settings(home=tmp_path, environment="test"))
    folder = dovecot.new_folder()
    _append(dovecot, folder, _emails(make_email, 2))
    tls = _mailbox(dovecot, folder, security="tls", port=dovecot.tls_port, ca_file=dovecot.ca_file, after="leave")
    assert ImapIngestor(db, tls).poll_once() == 2
    _append(dovecot, folder, _emails(make_email, 1))
    starttls = _mailbox(dovecot, folder, security="starttls", ca_file=dovecot.ca_file, after="leave")
    assert ImapIngestor(db, starttls).poll_once() == 1

    untrusted = _mailbox(dovecot, folder, security="tls", port=dovecot.tls_port)
    with pytest.raises(UserError, match="cannot be verified"):
        ImapIngestor(db, untrusted).poll_once()
    unchecked = _mailbox(dovecot, folder, security="tls", port=dovecot.tls_port, verify_tls=False)
    assert ImapIngestor(db, unchecked).poll_once() == 0
    db.dispose()


def _start(ingestor: ImapIngestor) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=ingestor.run, args=(stop,), daemon=True)
    thread.start()
    return thread, stop


def _stop(thread: threading.Thread, stop: threading.Event) -> float:
    began = time.monotonic()
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()
    return time.monotonic() - began


def test_run_idles_wakes_on_new_mail_and_stops_promptly(rt: Triage, dovecot: Any, make_email: Any) -> None:
    folder = dovecot.new_folder()
    _append(dovecot, folder, _emails(make_email, 1))
    # An hour between polls: only IDLE's EXISTS can bring the second message in quickly.
    ingestor = ImapIngestor(rt.db, _mailbox(dovecot, folder, poll_interval="1h"))
    thread, stop = _start(ingestor)
    try:
        _wait_for(lambda: _inbox_count(rt.db) == 1, 10, "the first message")
        time.sleep(0.3)  # let it enter IDLE
        _append(dovecot, folder, _emails(make_email, 2))
        _wait_for(lambda: _inbox_count(rt.db) == 3, 5, "the IDLE wake-up")
    finally:
        took = _stop(thread, stop)
    assert took < 5  # IDLE checks the stop event every few seconds
    assert _checkpoint(rt.db, folder).last_uid == 3  # type: ignore[union-attr]


def test_run_polls_without_idle(rt: Triage, dovecot: Any, make_email: Any) -> None:
    folder = dovecot.new_folder()
    ingestor = ImapIngestor(rt.db, _mailbox(dovecot, folder, idle=False, poll_interval="0.2s"))
    thread, stop = _start(ingestor)
    try:
        _append(dovecot, folder, _emails(make_email, 2))
        _wait_for(lambda: _inbox_count(rt.db) == 2, 5, "the next poll")
    finally:
        assert _stop(thread, stop) < 2


def test_run_reconnects_after_the_server_drops_the_connection(rt: Triage, dovecot: Any, make_email: Any) -> None:
    folder = dovecot.new_folder()
    ingestor = ImapIngestor(rt.db, _mailbox(dovecot, folder, poll_interval="1h"))
    thread, stop = _start(ingestor)
    try:
        time.sleep(0.5)
        dovecot.kick()
        _append(dovecot, folder, _emails(make_email, 1))
        _wait_for(lambda: _inbox_count(rt.db) == 1, 10, "the reconnect")
    finally:
        _stop(thread, stop)


def test_run_backs_off_while_the_server_is_down_and_still_stops(
    tmp_path: Path, dovecot: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from triage.config import Settings

    db = Database(Settings(home=tmp_path, environment="test"))
    ingestor = ImapIngestor(db, _mailbox(dovecot, "INBOX", port=_closed_port()))
    with caplog.at_level(logging.WARNING, logger="mail.imap"):
        thread, stop = _start(ingestor)
        time.sleep(0.3)
        assert _stop(thread, stop) < 1
    assert "cannot connect" in caplog.text and "retrying in" in caplog.text
    db.dispose()


def test_backoff_doubles_from_one_second_to_five_minutes_with_jitter() -> None:
    rng = random.Random(7)
    delays = [backoff_delay(n, rng) for n in range(1, 13)]
    for n, delay in enumerate(delays, start=1):
        base = min(BACKOFF_MAX, 2.0 ** (n - 1))
        assert 0.8 * base <= delay <= 1.2 * base
    assert max(delays) <= 1.2 * BACKOFF_MAX and delays[-1] >= 0.8 * BACKOFF_MAX


def _write_config(rt: Triage, dovecot: Any, folder: str, **extra: str) -> Path:
    imap = {"host": dovecot.host, "port": dovecot.port, "security": "none", "user": dovecot.user,
            "password": dovecot.password, "folder": folder, **extra}
    lines = "".join(f"{k} = {v if isinstance(v, int) else repr(str(v))}\n" for k, v in imap.items())
    path = rt.settings.home / "triage.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(default_config_text() + f'\n[[mailboxes]]\naddress = "imap-test@larkspur.example"\n'
                    f"[mailboxes.imap]\n{lines}", encoding="utf-8")
    return path


def _env(rt: Triage, models_path: Path) -> dict[str, str]:
    return {"TRIAGE_HOME": str(rt.settings.home), "TRIAGE_CONFIG_FILE": str(rt.settings.home / "triage.toml"),
            "TRIAGE_DATABASE_URL": rt.settings.db_url, "TRIAGE_MODELS_PATH": str(models_path),
            "TRIAGE_ENVIRONMENT": "test"}


# Enough that the kill lands mid-poll: 300 were once all stored within the 50 ms between two looks.
KILL_MESSAGES = 1000


@pytest.mark.slow
def test_killed_mid_poll_loses_nothing_and_duplicates_nothing(
    rt: Triage, dovecot: Any, make_email: Any, models_path: Path
) -> None:
    folder = dovecot.new_folder()
    raws = _emails(make_email, KILL_MESSAGES, size=2000)
    _append(dovecot, folder, raws)
    _write_config(rt, dovecot, folder)
    env = {**os.environ, **_env(rt, models_path)}
    command = [sys.executable, "-m", "triage.cli", "imap", "poll", "--once", "--no-process"]

    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for(lambda: _inbox_count(rt.db) >= 50 or first.poll() is not None, 60, "50 stored messages")
        exited = first.poll()
        first.send_signal(signal.SIGKILL)
    finally:
        first.wait(timeout=10)
        assert first.stderr
        stderr = first.stderr.read().decode(errors="replace")
        first.stderr.close()
    assert exited is None, f"the first poll exited ({exited}) before it could be killed: {stderr}"
    at_kill = _inbox_count(rt.db)
    assert 50 <= at_kill < KILL_MESSAGES

    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert second.returncode == 0, second.stderr
    assert f"{KILL_MESSAGES - at_kill} new message(s) stored" in second.stdout

    items = _inbox(rt.db)
    expected = {email_dedup_key(raw) for raw in raws}
    assert len(items) == KILL_MESSAGES and set(_message_ids(items)) == expected
    assert sorted(i.envelope["uid"] for i in items) == list(range(1, KILL_MESSAGES + 1))  # type: ignore[index]
    assert _checkpoint(rt.db, folder).last_uid == KILL_MESSAGES  # type: ignore[union-attr]
    # \Seen is set per fetched batch after its commits: a kill between the two leaves at most one
    # batch stored but unread in the mailbox (never fetched again: the checkpoint is past it).
    unread = [uid for uid, flags in _flags(dovecot, folder).items() if b"\\Seen" not in flags]
    assert len(unread) < BATCH_SIZE


def test_cli_poll_once_stores_and_processes_into_tickets(
    rt: Triage, dovecot: Any, make_email: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from triage.cli import _common
    from triage.cli.imap import imap_app
    from triage.conversations.service import list_tickets

    folder = dovecot.new_folder()
    _append(dovecot, folder, _emails(make_email, 2))
    _write_config(rt, dovecot, folder)
    runtimes: list[Triage] = []

    def runtime() -> Triage:  # the command's own runtime, disposed below (no connection left open)
        runtimes.append(Triage(rt.settings))
        return runtimes[-1]

    monkeypatch.setattr(_common, "runtime", runtime)
    app = typer.Typer()
    app.add_typer(imap_app, name="imap")
    runner = CliRunner()
    try:
        result = runner.invoke(app, ["imap", "poll", "--once", "--mailbox", "IMAP-test@larkspur.example"])
        assert result.exit_code == 0, result.output
        assert "imap-test@larkspur.example: 2 new message(s) stored." in result.output
        assert "2 processed, 0 failed." in result.output
        with rt.db.session() as session:
            assert len(list_tickets(session=session, limit=10)) == 2

        unknown = runner.invoke(app, ["imap", "poll", "--once", "--mailbox", "nobody@larkspur.example"])
        assert isinstance(unknown.exception, UserError)
        assert "no mailbox nobody@larkspur.example" in str(unknown.exception)
    finally:
        for made in runtimes:
            made.db.dispose()
