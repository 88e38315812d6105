"""IMAP intake of distinct sample emails from a local Dovecot, end to end to classified tickets (issue 18).

What a user gets: the emails are the bundled samples made distinct by `benchmarks.pipeline.emails` (fresh
Message-IDs, numbered subjects), the home is set up by `triage init` (the bundled configuration and the models it
serves), and the same messages are fetched with imapclient alone in the same run as the baseline. Timed apart:
fetch + store (the IMAP checkpoint committed per message), processing the stored rows to classified tickets
(models and encoder loaded and warmed up first, as `triage serve` does at start-up) and the two together.
`TRIAGE_BENCH_IMAP_N` sets the count (default 600); the load average at the start and the end goes into the
notes, since the machine is shared.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.common import Row, run_triage, timed
from benchmarks.pipeline import emails

N = 600
FETCH_BATCH = 50  # what mail.imap fetches per command, so the baseline does the same round trips


def _fetch_only(server: Any, folder: str) -> int:
    with server.client() as client:
        client.select_folder(folder, readonly=True)
        uids = client.search("ALL")
        got = 0
        for start in range(0, len(uids), FETCH_BATCH):
            got += len(client.fetch(uids[start:start + FETCH_BATCH], ["BODY.PEEK[]"]))
        return got


def _load() -> str:
    return f"{os.getloadavg()[0]:.2f}"


def run(n: int | None = None) -> list[Row]:
    from tests.mail.dovecot import DovecotError, DovecotMissing, run_dovecot

    n = n or int(os.environ.get("TRIAGE_BENCH_IMAP_N", N))
    try:
        context = run_dovecot()
        server = context.__enter__()
    except (DovecotMissing, DovecotError) as exc:
        return [Row("imap ingest", "skipped", 0.0, "msg/s", note=str(exc).splitlines()[0])]
    work = Path(tempfile.mkdtemp(prefix="triage-bench-imap-"))
    try:
        return _run(server, work / "home", n)
    finally:
        context.__exit__(None, None, None)
        shutil.rmtree(work, ignore_errors=True)


def _run(server: Any, home: Path, n: int) -> list[Row]:
    from sqlalchemy import func, select

    from mail.imap import ImapIngestor
    from triage.config import ImapConfig, Settings
    from triage.conversations.tables import Ticket
    from triage.runtime import Triage

    folder = server.new_folder("bench")
    messages = emails(n)
    with server.client() as client:
        for start in range(0, n, 250):
            client.multiappend(folder, messages[start:start + 250])
    run_triage(home, "init")  # the bundled triage.toml and the models a user is served: not timed

    load_start = _load()
    base = n / timed(lambda: _fetch_only(server, folder))
    rt = Triage(Settings(home=home))
    mailbox = rt.config.mailboxes[0].model_copy(update={"imap": ImapConfig(
        host=server.host, port=server.port, security="none", user=server.user, password=server.password,
        folder=folder, after="seen")})
    stored: list[int] = []
    fetch_store = timed(lambda: stored.append(ImapIngestor(rt.db, mailbox).poll_once()))
    worker = rt.worker("bench")
    rt.suite.classify_one("warm-up")  # as `triage serve` does before /ready: classifiers and encoder loaded
    outcomes: list[Any] = []
    process = timed(lambda: outcomes.extend(worker.drain()))
    with rt.db.session() as session:
        tickets = session.scalar(select(func.count()).select_from(Ticket)) or 0
        classified = session.scalar(select(func.count()).select_from(Ticket).where(Ticket.intent.is_not(None))) or 0
    rt.db.dispose()
    load = f"load {load_start} -> {_load()} (1-min avg, {os.cpu_count()} cores)"
    return [
        Row("imap ingest", f"imapclient fetch only, {n} distinct sample emails", base, "msg/s", note="baseline"),
        Row("imap ingest", "Triage fetch + store (checkpoint per message)", n / fetch_store, "msg/s", base,
            note=f"{stored[0]}/{n} stored"),
        Row("imap ingest", "Triage processing to classified tickets (models loaded)", n / process, "msg/s",
            note=f"{len(outcomes)} rows processed, {tickets} tickets, {classified} classified"),
        Row("imap ingest", "Triage end to end (fetch to classified ticket)", n / (fetch_store + process),
            "msg/s", base, note=f"SQLite, `triage init` home; {load}"),
    ]
