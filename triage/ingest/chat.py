"""The chat transcript format (JSONL or CSV, one message per record) and its validation."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

CSV_COLUMNS = ("conversation_id", "timestamp", "role", "customer_id", "customer_name", "customer_email", "text")
MAX_TEXT = 100_000


class ChatCustomer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=300)
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, v: object) -> object:
        return str(v).strip() if isinstance(v, int | str) else v

    @field_validator("email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        if "@" not in v:
            raise ValueError(f"{v!r} is not an email address")
        return v.strip().lower()


class ChatRecord(BaseModel):
    """One chat message; naive timestamps are taken as UTC."""

    model_config = ConfigDict(extra="ignore")

    conversation_id: str = Field(min_length=1, max_length=250)
    timestamp: datetime
    role: Literal["customer", "agent", "bot"]
    customer: ChatCustomer
    text: str = Field(min_length=1, max_length=MAX_TEXT)

    @field_validator("conversation_id", mode="before")
    @classmethod
    def _cid(cls, v: object) -> object:
        return str(v).strip() if isinstance(v, int | str) else v

    @field_validator("text")
    @classmethod
    def _text(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("text is empty")
        return v

    @field_validator("timestamp")
    @classmethod
    def _tz(cls, v: datetime) -> datetime:
        return (v.replace(tzinfo=UTC) if v.tzinfo is None else v).astimezone(UTC)

    def dedup_key(self) -> str:
        """Same conversation, time, role and text: the same message, however often it is offered."""
        digest = hashlib.sha256(
            "\x1f".join([self.conversation_id, self.timestamp.isoformat(), self.role, self.text]).encode("utf-8")
        )
        return f"sha256:{digest.hexdigest()}"


def _problem(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        msg = err["msg"]
        if err["type"] == "missing":
            msg = "missing"
        elif err["type"] == "literal_error":
            msg = f"must be customer, agent or bot (got {err.get('input')!r})"
        parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts)


Parsed = tuple[int, ChatRecord | None, str | None]  # (line, record, error)


def read_jsonl(data: bytes) -> Iterator[Parsed]:
    """Yield (line number, record or None, error or None) for every non-blank line."""
    for number, raw_line in enumerate(data.splitlines(), start=1):
        if not raw_line.strip():
            continue
        try:
            line = raw_line.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield number, None, f"not UTF-8 ({exc.reason} at byte {exc.start})"
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, None, f"invalid JSON: {exc.msg} (column {exc.colno})"
            continue
        if not isinstance(obj, dict):
            yield number, None, f"expected a JSON object, got {type(obj).__name__}"
            continue
        try:
            yield number, ChatRecord.model_validate(obj), None
        except ValidationError as exc:
            yield number, None, _problem(exc)


def read_csv(data: bytes) -> Iterator[Parsed]:
    """CSV with the columns in CSV_COLUMNS (customer_* flattened); line numbers count the header."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        yield 1, None, f"not UTF-8 ({exc.reason} at byte {exc.start})"
        return
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in ("conversation_id", "timestamp", "role", "customer_id", "text")
               if c not in (reader.fieldnames or [])]
    if missing:
        yield 1, None, f"CSV header lacks column(s): {', '.join(missing)}"
        return
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield reader.line_num, None, f"malformed CSV: {exc}"
            return
        obj = {
            "conversation_id": row.get("conversation_id"),
            "timestamp": row.get("timestamp"),
            "role": (row.get("role") or "").strip(),
            "customer": {"id": row.get("customer_id") or "", "name": row.get("customer_name") or None,
                         "email": row.get("customer_email") or None},
            "text": row.get("text") or "",
        }
        try:
            yield reader.line_num, ChatRecord.model_validate(obj), None
        except ValidationError as exc:
            yield reader.line_num, None, _problem(exc)
