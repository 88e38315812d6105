"""`triage imap ...`: pull the mailboxes that have an [imap] section into the inbox."""

from __future__ import annotations

import threading
import time
from typing import Annotated, Any

import typer

from triage.cli import _common
from triage.cli._common import err, out, prepare, process_inbox
from triage.errors import UserError

imap_app = typer.Typer(help="Pull mail from IMAP mailboxes into the inbox.", no_args_is_help=True)


def _mailboxes(rt: Any, address: str | None) -> list[Any]:
    boxes = [box for box in rt.config.mailboxes if box.imap is not None]
    if address is not None:
        wanted = address.strip().lower()
        boxes = [box for box in boxes if box.address == wanted]
        if not boxes:
            raise UserError(f"no mailbox {wanted} with an imap section in {rt.settings.config_path}")
    elif not boxes:
        raise UserError(f"no mailbox in {rt.settings.config_path} has an imap section "
                        "(give a mailbox an imap table with host, user and password or password_file)")
    return boxes


@imap_app.command("poll")
def poll(
    once: Annotated[bool, typer.Option(help="Store what is new once, process it, and exit.")] = False,
    mailbox: Annotated[str | None, typer.Option(help="Only this mailbox address (default: every one with imap).")]
    = None,
    process: Annotated[bool, typer.Option(help="Process the inbox after storing (--no-process only stores).")]
    = True,
) -> None:
    """Store new mail from the IMAP mailboxes in the inbox, then classify and route it; without --once, keep polling."""
    from imapclient.exceptions import IMAPClientError
    from rich.markup import escape

    from mail.imap import ImapIngestor

    rt = _common.runtime()
    prepare(rt, train=process)
    boxes = _mailboxes(rt, mailbox)
    ingestors = [ImapIngestor(rt.db, box) for box in boxes]
    if once:
        failed = 0
        for ingestor in ingestors:
            try:
                stored = ingestor.poll_once()
            except (OSError, IMAPClientError) as exc:  # the server went away mid-way; what was stored stays
                failed += 1
                err.print(f"[red]error:[/red] mailbox {ingestor.mailbox.address}: IMAP failed: {escape(str(exc))}",
                          highlight=False)
                continue
            out.print(f"{ingestor.mailbox.address}: {stored} new message(s) stored.", highlight=False)
        if process:
            outcomes = process_inbox(rt)
            bad = sum(1 for o in outcomes if o.status == "failed")
            out.print(f"{len(outcomes) - bad} processed, {bad} failed.")
        if failed:
            raise typer.Exit(1)
        return

    stop = threading.Event()
    threads = [threading.Thread(target=i.run, args=(stop,), name=f"triage-imap-{i.label}", daemon=True)
               for i in ingestors]
    for thread in threads:
        thread.start()
    err.print(f"Polling {len(ingestors)} mailbox(es); Ctrl-C stops.")
    worker = rt.worker() if process else None
    try:
        while True:
            if worker is not None:
                worker.drain()
            time.sleep(1.0)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=15)
