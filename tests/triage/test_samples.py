"""The bundled sample data is complete enough to demo every part of the product."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from triage.ingest.chat import read_csv, read_jsonl

SAMPLES = Path(str(resources.files("triage.samples")))
INTENTS = {
    "order_status", "delivery_problem", "shipping_info", "cancel_order", "return_exchange", "refund_request",
    "billing_issue", "payment_problem", "invoice_request", "pricing_plans", "cancel_subscription", "account_access",
    "account_update", "account_deletion", "technical_problem", "product_question", "warranty_repair",
    "security_fraud", "complaint", "feedback",
}


def test_enough_emails_and_chats() -> None:
    assert len(list((SAMPLES / "emails").glob("*.eml"))) >= 40
    conversations = set()
    for path in (SAMPLES / "chats").iterdir():
        reader = read_jsonl if path.suffix == ".jsonl" else read_csv if path.suffix == ".csv" else None
        if reader is None:
            continue
        for _, rec, error in reader(path.read_bytes()):
            assert error is None, f"{path}: {error}"
            assert rec is not None
            conversations.add(rec.conversation_id)
    assert len(conversations) >= 15


def test_knowledge_base_articles_have_front_matter() -> None:
    articles = [p for p in (SAMPLES / "kb").glob("*.md") if p.name != "README.md"]
    assert len(articles) >= 30
    covered: set[str] = set()
    for path in articles:
        text = path.read_text(encoding="utf-8")
        match = re.match(r"^---\n(.*?)\n---\n(.+)", text, flags=re.DOTALL)
        assert match, f"{path.name}: no front matter"
        head = dict(line.split(":", 1) for line in match.group(1).splitlines() if ":" in line)
        assert {"title", "tags", "intents", "product", "language"} <= set(head), path.name
        covered |= {i.strip() for i in head["intents"].strip(" []").split(",")}
        assert len(match.group(2).split()) >= 80, f"{path.name}: too short"
    assert covered >= INTENTS
