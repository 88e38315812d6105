"""`triage ingest PATH...`: find .eml files, mbox files, Maildir folders and chat transcripts.

Every record found is either stored in the inbox or reported as `file:line: reason`; one bad
record never stops the rest.
"""

from __future__ import annotations

import mailbox
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from triage.errors import UserError
from triage.flows.intake import accept_chat, accept_email, email_key
from triage.ingest.chat import ChatRecord, read_csv, read_jsonl

MAX_MESSAGE_BYTES = 50 * 1024 * 1024
CHAT_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
EMAIL_SUFFIXES = {".eml", ".msg822"}
MBOX_SUFFIXES = {".mbox", ".mbx"}
SKIP_NAMES = {"README.md", ".DS_Store"}


@dataclass
class Record:
    kind: str  # email | chat
    payload: bytes  # the raw email; for chat, the record as stored
    ref: str  # where it came from, for messages and provenance
    chat: ChatRecord | None = None

    @property
    def dedup_key(self) -> str:
        return self.chat.dedup_key() if self.chat is not None else email_key(self.payload)


@dataclass
class Rejection:
    ref: str
    reason: str

    def __str__(self) -> str:
        return f"{self.ref}: {self.reason}"


@dataclass
class IngestReport:
    files: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    inbox_ids: list[int] = field(default_factory=list)


def detect(path: Path) -> str | None:
    """What a path holds: maildir, mbox, eml, jsonl, csv or dir; None when unrecognised."""
    if path.is_dir():
        if all((path / sub).is_dir() for sub in ("cur", "new", "tmp")):
            return "maildir"
        return "dir"
    suffix = path.suffix.lower()
    if suffix in CHAT_SUFFIXES:
        return CHAT_SUFFIXES[suffix]
    if suffix in EMAIL_SUFFIXES:
        return "eml"
    with path.open("rb") as fh:
        head = fh.read(4096)
    if suffix in MBOX_SUFFIXES or head.startswith(b"From "):
        return "mbox"
    if suffix in {".txt", ""} and _looks_like_rfc822(head):
        return "eml"
    return None


def _looks_like_rfc822(head: bytes) -> bool:
    first = head.split(b"\n\n", 1)[0].lower()
    return any(first.startswith(h) or b"\n" + h in first for h in (b"from:", b"message-id:", b"received:")) and (
        b"subject:" in first or b"date:" in first
    )


def expand(paths: list[Path]) -> Iterator[tuple[Path, str | None]]:
    """Every ingestible path under the given ones, with its detected kind (sorted, stable order)."""
    for path in paths:
        if not path.exists():
            yield path, "missing"
            continue
        kind = detect(path)
        if kind == "dir":
            for child in sorted(path.iterdir()):
                if child.name in SKIP_NAMES or child.name.startswith("."):
                    continue
                yield from expand([child])
        else:
            yield path, kind


def read_path(path: Path, kind: str | None) -> Iterator[Record | Rejection]:
    """Records (or rejections) from one file or Maildir."""
    ref = str(path)
    if kind == "missing":
        yield Rejection(ref, "no such file or directory")
    elif kind is None:
        yield Rejection(ref, "unrecognised file type (expected .eml, mbox, Maildir, .jsonl or .csv)")
    elif kind == "eml":
        yield Record("email", path.read_bytes(), ref)
    elif kind == "mbox":
        box = mailbox.mbox(path, create=False)
        try:
            for n, key in enumerate(box.iterkeys(), start=1):
                yield Record("email", box.get_bytes(key), f"{ref}#{n}")
        finally:
            box.close()
    elif kind == "maildir":
        maildir = mailbox.Maildir(path, factory=None, create=False)
        for key in sorted(maildir.iterkeys()):
            yield Record("email", maildir.get_bytes(key), f"{ref}/{key}")
    elif kind in ("jsonl", "csv"):
        reader = read_jsonl if kind == "jsonl" else read_csv
        for line, rec, error in reader(path.read_bytes()):
            if rec is None:
                yield Rejection(f"{ref}:{line}", error or "invalid record")
            else:
                yield Record("chat", rec.model_dump_json().encode("utf-8"), f"{ref}:{line}", chat=rec)


def ingest_paths(
    paths: list[Path], *, session: Session, source: str = "file", batch: int = 200,
    on_record: Callable[[Path], None] | None = None, commit: Callable[[], None] | None = None,
) -> IngestReport:
    """Store every readable record in the inbox; commit every `batch` records so long files are safe."""
    report = IngestReport()
    pending = 0
    for path, kind in expand(paths):
        report.files += 1
        try:
            for item in read_path(path, kind):
                if on_record is not None:
                    on_record(path)
                if isinstance(item, Rejection):
                    report.rejected.append(item)
                    continue
                try:
                    if item.chat is not None:
                        accepted = accept_chat(session, item.chat, source=source, ref=item.ref)
                    else:
                        accepted = accept_email(session, item.payload, source=source, ref=item.ref,
                                                max_bytes=MAX_MESSAGE_BYTES)
                except UserError as exc:
                    report.rejected.append(Rejection(item.ref, str(exc)))
                    continue
                if accepted.created:
                    report.accepted += 1
                    report.inbox_ids.append(accepted.inbox_id)
                    pending += 1
                else:
                    report.duplicates += 1
                if commit is not None and pending >= batch:
                    commit()
                    pending = 0
        except (OSError, mailbox.Error) as exc:
            report.rejected.append(Rejection(str(path), f"cannot read: {exc}"))
    if commit is not None:
        commit()
    return report


def count_records(paths: list[Path]) -> int:
    """A cheap upper bound of the records to read, for the progress bar's total."""
    total = 0
    for path, kind in expand(paths):
        if kind in ("jsonl", "csv"):
            with path.open("rb") as fh:
                total += sum(1 for line in fh if line.strip())
        elif kind == "mbox":
            with path.open("rb") as fh:
                total += sum(1 for line in fh if line.startswith(b"From "))
        elif kind == "maildir":
            total += sum(1 for sub in ("cur", "new") for _ in (path / sub).iterdir())
        else:
            total += 1
    return total
