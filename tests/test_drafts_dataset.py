"""The drafts evaluation set (benchmarks/data/drafts.jsonl, issue 15 item 5) is well formed and its checks can fail."""

from __future__ import annotations

import json
import re
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data" / "drafts.jsonl"
TAXONOMY = ROOT / "triage" / "samples" / "training" / "taxonomy.toml"

LANGUAGES = ("en", "de", "fr", "es")
CHANNELS = {"email", "chat"}
URGENCIES = {"low", "normal", "high", "critical"}
FIELDS = {"id", "language", "channel", "from_name", "from_email", "subject", "body", "intent", "urgency", "must",
          "must_not"}
ORDER = re.compile(r"LH-\d{6}")

# A minimal email in each language with and without its frame, to prove the frame checks bite both ways.
FRAMED = {
    "en": "Hello Jane,\n\nYour parcel is on its way.\n\nKind regards,\nAnna\nLarkspur Home",
    "de": "Guten Tag Frau Becker,\n\nIhr Paket ist unterwegs.\n\nViele Grüße\nAnna\nLarkspur Home",
    "fr": "Bonjour Madame Martin,\n\nVotre colis est en route.\n\nCordialement,\nAnna\nLarkspur Home",
    "es": "Hola Javier:\n\nSu paquete está en camino.\n\nUn saludo,\nAnna\nLarkspur Home",
}
BARE = {
    "en": "Your parcel is on its way.",
    "de": "Ihr Paket ist unterwegs.",
    "fr": "Votre colis est en route.",
    "es": "Su paquete está en camino.",
}
FORMAL_SIGN_OFF = {"en": "Kind regards", "de": "Mit freundlichen Grüßen", "fr": "Cordialement", "es": "Atentamente"}

Row = dict[str, Any]


def _intents() -> set[str]:
    taxonomy = tomllib.loads(TAXONOMY.read_text(encoding="utf-8"))
    return {entry["name"] for entry in taxonomy["intent"]}


def _passes(check: dict[str, Any], text: str) -> bool:
    """A check's alternatives are searched case-insensitively, as the benchmark does."""
    return any(re.search(pattern, text, re.IGNORECASE) for pattern in check["any"])


def _checks(row: Row, kind: str, why_prefix: str) -> list[dict[str, Any]]:
    return [check for check in row[kind] if check["why"].startswith(why_prefix)]


@pytest.fixture(scope="module")
def rows() -> list[Row]:
    parsed = []
    for number, line in enumerate(DATA.read_text(encoding="utf-8").splitlines(), 1):
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:  # pragma: no cover - message only
            raise AssertionError(f"line {number} is not JSON: {exc}") from exc
        assert isinstance(row, dict), f"line {number}"
        parsed.append(row)
    return parsed


def test_ids_languages_and_labels(rows: list[Row]) -> None:
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1]
    per_language = Counter(row["language"] for row in rows)
    assert all(per_language[lang] >= 16 for lang in LANGUAGES), per_language
    assert set(per_language) == set(LANGUAGES)
    intents = _intents() | {"other", None}
    for row in rows:
        where = row["id"]
        assert FIELDS <= set(row) <= FIELDS | {"max_chars"}, where
        assert where.startswith(row["language"] + "-"), where
        assert row["channel"] in CHANNELS, where
        assert row["intent"] in intents, where
        assert row["urgency"] in URGENCIES, where
        assert row["body"].strip() and row["from_name"].strip() and "@" in row["from_email"], where
        assert (row["subject"] == "") == (row["channel"] == "chat"), f"{where}: subject iff email"
    chats = sum(row["channel"] == "chat" for row in rows)
    assert 0.25 <= chats / len(rows) <= 0.45, "about a third of the tickets are chats"


def test_every_check_compiles_and_can_fail(rows: list[Row]) -> None:
    total = 0
    for row in rows:
        assert row["must"], row["id"]
        for kind in ("must", "must_not"):
            for check in row[kind]:
                where = f"{row['id']} {kind} {check.get('why')!r}"
                assert set(check) == {"any", "why"} and check["why"].strip(), where
                assert isinstance(check["any"], list) and check["any"], where
                for pattern in check["any"]:
                    compiled = re.compile(pattern, re.IGNORECASE)
                    # A pattern that matches an empty draft passes (must) or fails (must_not) whatever is written.
                    assert compiled.search("") is None, where
                total += 1
        if "max_chars" in row:
            assert isinstance(row["max_chars"], int) and 100 <= row["max_chars"] <= 1000, row["id"]
    assert total >= 250


def test_order_numbers_in_checks_come_from_the_ticket(rows: list[Row]) -> None:
    for row in rows:
        for check in row["must"] + row["must_not"]:
            for number in ORDER.findall(" ".join(check["any"])):
                assert number in row["subject"] + row["body"], f"{row['id']}: {number}"


def test_every_email_checks_greeting_and_sign_off(rows: list[Row]) -> None:
    emails = [row for row in rows if row["channel"] == "email"]
    assert emails
    for row in emails:
        lang, where = row["language"], row["id"]
        greetings = _checks(row, "must", "greeting")
        sign_offs = _checks(row, "must", "sign-off")
        assert greetings and sign_offs, where
        for check in greetings + sign_offs:
            assert _passes(check, FRAMED[lang]), f"{where}: {check['why']} rejects a proper email"
            assert not _passes(check, BARE[lang]), f"{where}: {check['why']} accepts an unframed reply"


def test_every_chat_is_short_and_not_an_email(rows: list[Row]) -> None:
    chats = [row for row in rows if row["channel"] == "chat"]
    assert chats
    for row in chats:
        where = row["id"]
        assert "max_chars" in row and row["max_chars"] <= 500, where
        signed = f"{BARE[row['language']]}\n\n{FORMAL_SIGN_OFF[row['language']]},\nAnna"
        assert any(_passes(check, signed) for check in row["must_not"]), f"{where}: email sign-off not caught"
        assert not any(_passes(check, BARE[row["language"]]) for check in row["must_not"]), where


def test_register_and_scope_rules(rows: list[Row]) -> None:
    for row in rows:
        where = row["id"]
        if row["urgency"] == "low":
            assert any(_passes(check, "This is urgent.") for check in row["must_not"]), f"{where}: low but urgent ok"
        if row["language"] != "en":
            assert any(_passes(check, "Thank you for your message.") for check in row["must_not"]), where
        if row["intent"] == "other":
            assert row.get("max_chars", 10_000) <= 600, f"{where}: out-of-scope replies are short"
