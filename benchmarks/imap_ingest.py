"""IMAP ingestion of 5,000 messages from a local Dovecot, end to end to classified tickets.

Baseline, in the same run: fetching the same messages with imapclient and storing nothing.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.common import Row, temp_runtime, timed
from benchmarks.smtp_intake import _messages


def _fetch_only(server, folder: str) -> int:  # type: ignore[no-untyped-def]
    with server.client() as client:
        client.select_folder(folder, readonly=True)
        uids = client.search("ALL")
        got = 0
        for start in range(0, len(uids), 50):
            got += len(client.fetch(uids[start:start + 50], ["BODY.PEEK[]"]))
        return got


def run(n: int = 5000) -> list[Row]:
    from mail.imap import ImapIngestor
    from tests.mail.dovecot import DovecotError, DovecotMissing, run_dovecot
    from training.registry import Registry
    from training.train import train_baselines
    from triage.config import ImapConfig, MailboxConfig

    try:
        context = run_dovecot()
        server = context.__enter__()
    except (DovecotMissing, DovecotError) as exc:
        return [Row("imap ingest", "skipped", 0.0, "msg/s", note=str(exc).splitlines()[0])]
    try:
        folder = server.new_folder("bench")
        messages = _messages(n)
        with server.client() as client:
            for start in range(0, n, 250):
                client.multiappend(folder, messages[start:start + 250])
        base = n / timed(lambda: _fetch_only(server, folder))
        models = Path(tempfile.mkdtemp(prefix="triage-bench-models-"))
        train_baselines(Registry(models))
        rt = temp_runtime(models_path=models)
        box = MailboxConfig(address="support@larkspur.example", imap=ImapConfig(
            host=server.host, port=server.port, security="none", user=server.user, password=server.password,
            folder=folder, after="seen"))
        ingestor = ImapIngestor(rt.db, box)
        stored: list[int] = []
        fetch_store = timed(lambda: stored.append(ingestor.poll_once()))
        worker = rt.worker("bench")
        _ = rt.suite
        outcomes: list[object] = []
        process = timed(lambda: outcomes.extend(worker.drain()))
        rows = [
            Row("imap ingest", f"imapclient fetch only, {n} msgs", base, "msg/s", note="baseline"),
            Row("imap ingest", "Triage fetch + store (checkpoint per message)", n / fetch_store, "msg/s", base,
                note=f"{stored[0]}/{n} stored"),
            Row("imap ingest", "Triage classify + thread + route + acknowledge", n / process, "msg/s",
                note=f"{len(outcomes)} processed"),
            Row("imap ingest", "Triage end to end (fetch to classified ticket)", n / (fetch_store + process),
                "msg/s", base, note="SQLite"),
        ]
        rt.db.dispose()
        return rows
    finally:
        context.__exit__(None, None, None)
