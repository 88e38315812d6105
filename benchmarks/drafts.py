"""`python -m benchmarks drafts`: reply drafts scored on what a good reply must and must not contain (issue 15).

The served path end to end: a fresh home (`triage init`, the sample knowledge base), the 68 tickets of
`benchmarks/data/drafts.jsonl` (en/de/fr/es, email and chat, written by us) ingested as .eml files and a chat
transcript and classified by the bundled models, then `POST /api/v1/tickets/{id}/suggestions` on `triage serve`
for each. Every draft is scored on its ticket's checks (regular expressions, case-insensitive; `max_chars`) and
its language is detected with the same detector the pipeline uses. A per-ticket report of failed checks is
written to `TRIAGE_BENCH_REPORT` (default: a file in the temporary folder, its path printed).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from statistics import median
from typing import Any

import httpx

from benchmarks.common import Row, free_port, run_triage, start_triage, stop_triage, wait_ready

NAME = "drafts"
DATA = Path(__file__).parent / "data" / "drafts.jsonl"
TARGET_CHECKS = 0.85


@dataclass
class Scored:
    id: str
    language: str
    channel: str
    draft: str
    detected: str | None
    passed: int = 0
    total: int = 0
    failures: list[str] = field(default_factory=list)


def load(path: Path = DATA) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def score(ticket: dict[str, Any], draft: str, detected: str | None) -> Scored:
    """One draft against its ticket's checks: each must, must_not and max_chars counts once."""
    out = Scored(ticket["id"], ticket["language"], ticket["channel"], draft, detected)

    def check(ok: bool, what: str) -> None:
        out.total += 1
        out.passed += ok
        if not ok:
            out.failures.append(what)

    for rule in ticket.get("must", []):
        check(any(re.search(p, draft, re.I) for p in rule["any"]), f"missing: {rule['why']}")
    for rule in ticket.get("must_not", []):
        hits = [m.group(0) for p in rule["any"] for m in [re.search(p, draft, re.I)] if m]
        check(not hits, f"must not: {rule['why']} (found {hits[0]!r})" if hits else "")
    if ticket.get("max_chars"):
        check(len(draft) <= ticket["max_chars"], f"too long: {len(draft)} > {ticket['max_chars']} characters")
    return out


def _write_inputs(tickets: list[dict[str, Any]], folder: Path) -> None:
    """Each email ticket as an .eml file, the chats as one JSONL transcript, a minute apart."""
    start = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    chats = []
    for n, t in enumerate(tickets):
        when = start + timedelta(minutes=n)
        if t["channel"] == "email":
            msg = EmailMessage()
            msg["From"] = f'"{t["from_name"]}" <{t["from_email"]}>'
            msg["To"] = "support@larkspur.example"
            msg["Subject"] = t["subject"]
            msg["Date"] = format_datetime(when)
            msg["Message-ID"] = make_msgid(idstring=t["id"], domain="drafts.bench")
            msg.set_content(t["body"])
            (folder / f"{t['id']}.eml").write_bytes(bytes(msg))
        else:
            chats.append({"conversation_id": f"bench-{t['id']}", "timestamp": when.isoformat(), "role": "customer",
                          "customer": {"id": t["from_email"], "name": t["from_name"], "email": t["from_email"]},
                          "text": t["body"]})
    (folder / "chats.jsonl").write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in chats),
                                        encoding="utf-8")


def _ticket_ids(home: Path, tickets: list[dict[str, Any]]) -> dict[str, int]:
    """Dataset id -> ticket id, by the customer's address (each ticket of the set has its own customer)."""
    from sqlalchemy import select

    from triage.config import Settings
    from triage.conversations.tables import CustomerIdentity, Ticket
    from triage.runtime import Triage

    rt = Triage(Settings(home=home))
    with rt.db.session() as session:
        rows = session.execute(select(CustomerIdentity.value, Ticket.id).join(
            Ticket, Ticket.customer_id == CustomerIdentity.customer_id).order_by(Ticket.id)).all()
    by_address: dict[str, int] = {}
    for address, ticket_id in rows:
        by_address.setdefault(address, ticket_id)
    missing = [t["id"] for t in tickets if t["from_email"].lower() not in by_address]
    if missing:
        raise RuntimeError(f"no ticket was created for {', '.join(missing)}")
    return {t["id"]: by_address[t["from_email"].lower()] for t in tickets}


def evaluate(tickets: list[dict[str, Any]]) -> list[Scored]:
    """Ingest, serve and ask for every ticket's draft; each draft scored."""
    from models.language import detect_language

    home = Path(tempfile.mkdtemp(prefix="triage-bench-drafts-"))
    inputs = home / "inputs"
    inputs.mkdir()
    try:
        run_triage(home, "init")
        run_triage(home, "kb", "import", str(Path(__file__).parents[1] / "triage" / "samples" / "kb"))
        _write_inputs(tickets, inputs)
        run_triage(home, "ingest", str(inputs))
        ids = _ticket_ids(home, tickets)
        key = run_triage(home, "users", "add", "bench-drafts", "--role", "admin").strip()
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = start_triage(home, "serve", "--port", str(port), "--no-smtp", "--no-imap", "--no-outbox")
        try:
            wait_ready(base, proc)
            results = []
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=120) as client:
                for t in tickets:
                    answer = client.post(f"/api/v1/tickets/{ids[t['id']]}/suggestions", json={"k": 3})
                    answer.raise_for_status()
                    draft = answer.json()["draft"]
                    guess = detect_language(draft)
                    results.append(score(t, draft, guess.code if guess else None))
            return results
        finally:
            stop_triage(proc)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def report(results: list[Scored], path: Path) -> None:
    lines = ["# Draft failures (python -m benchmarks drafts)", ""]
    for r in results:
        wrong_language = r.detected != r.language
        if r.failures or wrong_language:
            lines.append(f"## {r.id} ({r.channel}, {r.language}; {r.passed}/{r.total} checks"
                         f"{f'; detected {r.detected}' if wrong_language else ''})")
            lines += [f"- {f}" for f in r.failures]
            lines += ["", "```", r.draft, "```", ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def run() -> list[Row]:
    tickets = load()
    results = evaluate(tickets)
    path = Path(os.environ.get("TRIAGE_BENCH_REPORT") or Path(tempfile.gettempdir()) / "triage-drafts-report.md")
    report(results, path)
    passed, total = sum(r.passed for r in results), sum(r.total for r in results)
    right = sum(r.detected == r.language for r in results)
    rows = [Row(NAME, "checks passed", 100 * passed / total, "%",
                note=f"{passed}/{total} checks on {len(results)} tickets; target >= {TARGET_CHECKS:.0%}; "
                     f"failures in {path}"),
            Row(NAME, "drafts in the customer's language", 100 * right / len(results), "%",
                note=f"{right}/{len(results)}; target 100%"),
            Row(NAME, "tickets with every check passed", 100 * sum(not r.failures for r in results) / len(results),
                "%")]
    by_language: dict[str, list[Scored]] = defaultdict(list)
    for r in results:
        by_language[r.language].append(r)
    for language in sorted(by_language):
        group = by_language[language]
        rows.append(Row(NAME, f"checks passed ({language})",
                        100 * sum(r.passed for r in group) / sum(r.total for r in group), "%",
                        note=f"{len(group)} tickets"))
    for channel in ("email", "chat"):
        lengths = [len(r.draft) for r in results if r.channel == channel]
        if lengths:
            rows.append(Row(NAME, f"{channel} draft length (median)", median(lengths), "characters",
                            note=f"max {max(lengths)}"))
    return rows
