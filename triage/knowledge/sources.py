"""Reading knowledge-base articles from Markdown (YAML front matter), CSV and JSON, and chunking them.

Markdown files are named after the article (the stem is its id); CSV and JSON records carry an `id`.
Records that cannot be read are reported as `file[:line]: reason` and skipped, like message intake.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator

from triage.errors import UserError

SUFFIXES = (".md", ".markdown", ".csv", ".json")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z]{2,4})?$")
_ID = re.compile(r"^[\w.-]{1,200}$")


def _as_list(value: Any) -> list[str]:
    """Tags and intents come as YAML/JSON lists or as 'a; b' / 'a, b' strings (CSV)."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [v.strip() for v in re.split(r"[;,|]", value) if v.strip()]
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    raise ValueError(f"expected a list or a ';'-separated string, got {type(value).__name__}")


class ArticleIn(BaseModel):
    """One article as imported; `body` is Markdown."""

    external_id: str
    title: str = Field(min_length=1, max_length=500)
    body: str = Field(min_length=1)
    tags: list[str] = Field(default_factory=list)
    intents: list[str] = Field(default_factory=list)
    product: str | None = None
    language: str = "en"

    @field_validator("external_id")
    @classmethod
    def _id(cls, v: str) -> str:
        v = v.strip()
        if not _ID.match(v):
            raise ValueError(f"{v!r} is not a usable article id (letters, digits, '.', '_', '-'; up to 200)")
        return v

    @field_validator("title", "body")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be empty")
        return v.strip()

    @field_validator("tags", "intents", mode="before")
    @classmethod
    def _lists(cls, v: Any) -> list[str]:
        return _as_list(v)

    @field_validator("product", mode="before")
    @classmethod
    def _product(cls, v: Any) -> str | None:
        if v is None or (isinstance(v, str) and v.strip().lower() in ("", "null", "none")):
            return None
        return str(v).strip()

    @field_validator("language", mode="before")
    @classmethod
    def _language(cls, v: Any) -> str:
        v = str(v or "en").strip().lower()
        if not _LANGUAGE.match(v):
            raise ValueError(f"{v!r} is not a language code such as 'en' or 'de'")
        return v

    def content_hash(self) -> str:
        """Everything that changes the stored article or its chunks; unchanged articles are skipped on import."""
        payload = json.dumps(self.model_dump(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass
class ReadResult:
    articles: list[ArticleIn] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    # Ids seen in records that failed: they must not be pruned as "deleted" because of a typo.
    failed_ids: set[str] = field(default_factory=set)
    files: int = 0


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'record'}: {e['msg']}" for e in exc.errors())


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """The YAML block between two leading `---` lines, and the Markdown after it."""
    import yaml

    text = text.lstrip("\ufeff")
    if not text.startswith("---"):
        return {}, text
    parts = re.split(r"^---[ \t]*$", text, maxsplit=2, flags=re.MULTILINE)
    if len(parts) < 3:
        raise ValueError("front matter starts with '---' but has no closing '---' line")
    try:
        meta = yaml.safe_load(parts[1]) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"front matter is not valid YAML: {exc}") from exc
    if not isinstance(meta, dict):
        raise ValueError("front matter must be a mapping of fields (title, tags, intents, product, language)")
    return meta, parts[2]


def _read_markdown(path: Path, result: ReadResult) -> None:
    try:
        meta, body = split_front_matter(path.read_text(encoding="utf-8"))
        title = meta.get("title")
        if not title:  # a file without front matter may still have a '# Title' line
            m = re.match(r"\s*#\s+(.+)\n", body)
            title = m.group(1).strip() if m else None
            body = body[m.end():] if m else body
        result.articles.append(ArticleIn.model_validate({**meta, "external_id": meta.get("id") or path.stem,
                                                         "title": title or "", "body": body}))
    except (ValueError, UnicodeDecodeError) as exc:
        result.failed_ids.add(path.stem)
        reason = _problems(exc) if isinstance(exc, ValidationError) else str(exc)
        result.rejected.append(f"{path}: {reason}")


def _record(raw: Any, where: str, result: ReadResult) -> None:
    if not isinstance(raw, dict):
        result.rejected.append(f"{where}: expected an object with id, title and body")
        return
    data = {k: v for k, v in raw.items() if k != "id"}
    data["external_id"] = str(raw.get("id") or "")
    try:
        result.articles.append(ArticleIn.model_validate(data))
    except ValidationError as exc:
        if data["external_id"]:
            result.failed_ids.add(data["external_id"])
        result.rejected.append(f"{where}: {_problems(exc)}")


def _read_csv(path: Path, result: ReadResult) -> None:
    start = len(result.articles)
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = {"id", "title", "body"} - set(reader.fieldnames or [])
            if missing:
                result.rejected.append(f"{path}: missing column(s) {', '.join(sorted(missing))}")
                return
            for row in reader:
                _record({k: v for k, v in row.items() if k}, f"{path}:{reader.line_num}", result)
    except (UnicodeDecodeError, csv.Error) as exc:
        # All or nothing, like a file with missing columns; what was read is kept from pruning.
        result.failed_ids.update(a.external_id for a in result.articles[start:])
        del result.articles[start:]
        result.rejected.append(f"{path}: unreadable ({exc})")


def _read_json(path: Path, result: ReadResult) -> None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, or not UTF-8
        result.rejected.append(f"{path}: not valid JSON: {exc}")
        return
    records = data.get("articles") if isinstance(data, dict) else data
    if not isinstance(records, list):
        result.rejected.append(f"{path}: expected a list of articles or {{\"articles\": [...]}}")
        return
    for i, raw in enumerate(records):
        _record(raw, f"{path}:[{i}]", result)


def read_path(path: Path) -> ReadResult:
    """Every article in a file or a folder (recursively); a folder's README.md is documentation, not an article."""
    if not path.exists():
        raise UserError(f"{path} does not exist")
    if path.is_file() and path.suffix.lower() not in SUFFIXES:
        raise UserError(f"{path}: unsupported file type; use Markdown (.md), .csv or .json")
    files = [path] if path.is_file() else sorted(
        p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES and p.name.lower() != "readme.md")
    result = ReadResult(files=len(files))
    for file in files:
        suffix = file.suffix.lower()
        if suffix == ".csv":
            _read_csv(file, result)
        elif suffix == ".json":
            _read_json(file, result)
        else:
            _read_markdown(file, result)
    seen: set[str] = set()
    for article in list(result.articles):
        if article.external_id in seen:
            result.articles.remove(article)
            result.rejected.append(f"{path}: article id {article.external_id!r} appears twice; the first is kept")
        seen.add(article.external_id)
    return result


# ---------------------------------------------------------------------------- chunking

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
TARGET_CHARS = 350  # paragraphs are merged up to about this size: a snippet should make sense on its own


@dataclass(frozen=True)
class ChunkIn:
    position: int
    heading: str
    text: str


def _paragraphs(lines: list[str]) -> list[str]:
    """Blank-line separated blocks; a list or table stays one block, as does its lead-in line ending in ':'."""
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in lines:
        if not line.strip():
            if current:
                blocks.append(current)
                current = []
            continue
        current.append(line.rstrip())
    if current:
        blocks.append(current)
    merged: list[str] = []
    for block in blocks:
        text = "\n".join(block).strip()
        if merged and merged[-1].endswith(":") and (_LIST_ITEM.match(block[0]) or block[0].lstrip().startswith("|")):
            merged[-1] = merged[-1] + "\n" + text
        else:
            merged.append(text)
    return merged


def chunk_markdown(body: str, *, target: int = TARGET_CHARS) -> list[ChunkIn]:
    """Chunks by heading, then by paragraph: paragraphs of one section are merged up to `target` characters."""
    sections: list[tuple[str, list[str]]] = [("", [])]
    for line in body.splitlines():
        m = _HEADING.match(line)
        if m:
            sections.append((m.group(2).strip(), []))
        else:
            sections[-1][1].append(line)
    chunks: list[ChunkIn] = []
    for heading, lines in sections:
        buffer = ""
        for para in _paragraphs(lines):
            if buffer and len(buffer) >= target:
                chunks.append(ChunkIn(len(chunks), heading, buffer))
                buffer = ""
            buffer = f"{buffer}\n\n{para}" if buffer else para
        if buffer:
            chunks.append(ChunkIn(len(chunks), heading, buffer))
    return chunks
