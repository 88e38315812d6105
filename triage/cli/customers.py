"""`triage customers ...`: what a person does about a customer's address, and their data (issue 14)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from triage.cli import _common
from triage.cli._common import emit_json_line, err, out, prepare
from triage.errors import UserError

customers_app = typer.Typer(help="Customers and their addresses.", no_args_is_help=True)


@customers_app.command("clear-bounce")
def customers_clear_bounce(
    email: Annotated[str, typer.Argument(help="The address a delivery-status report marked bouncing.")],
) -> None:
    """Let acknowledgements and replies go to an address again once it is fixed."""
    from triage.conversations.bounces import clear_bounce

    rt = _common.runtime()
    prepare(rt, train=False)
    with rt.db.transaction() as session:
        cleared = clear_bounce(email, session=session)
    if not cleared:
        raise UserError(f"{email} is not marked bouncing")
    out.print(f"{email.strip().lower()}: mail goes to it again.", highlight=False)


@customers_app.command("vip")
def customers_vip(
    email: Annotated[str, typer.Argument(help="An address the customer writes from.")],
    off: Annotated[bool, typer.Option("--off", help="Take the VIP flag away.")] = False,
) -> None:
    """Flag a customer as VIP: their messages are raised one urgency level (at least normal)."""
    from triage.customers.service import customer_by_email, set_vip

    rt = _common.runtime()
    prepare(rt, train=False)
    with rt.db.transaction() as session:
        customer = set_vip(customer_by_email(email, session=session).id, not off, session=session, actor="cli")
        state = "VIP" if customer.vip else "not VIP"
    out.print(f"customer #{customer.id} ({email.strip().lower()}) is {state}.", highlight=False)


@customers_app.command("export")
def customers_export(
    email: Annotated[str, typer.Argument(help="An address the customer writes from.")],
    out_path: Annotated[Path | None, typer.Option("--out", help="JSON file to write (default: stdout).")] = None,
) -> None:
    """Everything stored about a customer as one JSON document (bytes as base64): tickets, messages, raw mail,
    attachments, mail sent to them, label corrections, QA samples, audit events."""
    from triage.customers.privacy import export_customer

    rt = _common.runtime()
    prepare(rt, train=False)
    with rt.db.session() as session:
        document = export_customer(email, session=session)
    text = json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n"
    if out_path is None:
        sys.stdout.write(text)
        return
    try:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{out_path}: cannot write ({exc.strerror or exc})") from exc
    err.print(f"wrote customer #{document['customer']['id']}: {len(document['tickets'])} tickets to {out_path}",
              highlight=False)


@customers_app.command("erase")
def customers_erase(
    email: Annotated[str, typer.Argument(help="An address the customer writes from (all their addresses go).")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="End the output with one line of JSON.")] = False,
) -> None:
    """Erase a customer's personal data everywhere (texts, raw mail, attachments, index entries, addresses);
    tickets stay as anonymous rows for reports. Cannot be undone; running it again changes nothing."""
    from triage.customers.privacy import erase_customer, erasure_preview
    from triage.knowledge.index import knowledge_index

    rt = _common.runtime()
    prepare(rt, train=False)
    if not yes:
        with rt.db.session() as session:
            preview = erasure_preview(email, session=session)
        if preview["found"]:
            who = f"customer #{preview['customer_id']}" if preview["customer_id"] else "the sender"
            typer.confirm(f"Erase {who} ({', '.join(preview['addresses'])}): {preview['tickets']} tickets, "
                          f"{preview['messages']} messages, {preview['intake']} intake rows? This cannot be undone",
                          abort=True, err=True)
    with rt.db.transaction() as session:
        result = erase_customer(email, session=session, actor="cli", index=knowledge_index(rt.settings))
    if as_json:
        emit_json_line(result)
        return
    if result["already_erased"]:
        out.print(f"{email.strip().lower()} was erased before: nothing left to erase.", highlight=False)
        return
    done = ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in result["counts"].items() if n) or "nothing"
    out.print(f"erased customer #{result['customer_id']}: {done}. Audit: customer.erased, address sha256 "
              f"{result['address_sha256'][:12]}...", highlight=False)


@customers_app.command("purge")
def customers_purge(
    days: Annotated[int | None, typer.Option("--days", min=1, help="Keep this many days (default: [privacy] "
                                                                   "retention_days).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would go; change nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="End the output with one line of JSON.")] = False,
) -> None:
    """Delete raw bytes (stored and sent mail, chat records) and attachment contents older than the retention
    period; tickets, parsed text and labels stay. `triage serve` does this every [privacy] purge_interval."""
    from triage.customers.privacy import purge_expired

    rt = _common.runtime()
    prepare(rt, train=False)
    retention = days or rt.config.privacy.retention_days
    if retention is None:
        raise UserError("no retention period: set [privacy] retention_days in triage.toml or pass --days N")
    with rt.db.transaction() as session:
        counts = purge_expired(session=session, retention_days=retention, dry_run=dry_run)
    if as_json:
        emit_json_line({"retention_days": retention, "dry_run": dry_run, **counts})
        return
    verb = "would purge" if dry_run else "purged"
    out.print(f"{verb} (older than {retention} days): {counts['message_raw']} messages' raw bytes, "
              f"{counts['intake_payloads']} intake payloads, {counts['outbox_raw']} sent mails, "
              f"{counts['attachments']} attachment contents.", highlight=False)
