"""Turning Markdown snippets into plain sentences for a reply.

A reply is an email, not a help-centre page: headings go, list items become sentences (numbered
steps get "First, ... Then, ... Finally, ..." in English), tables become "row: values" sentences,
and links and emphasis are reduced to their text.
"""

from __future__ import annotations

import math
import re

from models.retrieval import tokenize

_LINK = re.compile(r"!?\[([^\]]*)\]\(([^)\s]*)[^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1")
_HEADING = re.compile(r"^\s*#{1,6}\s+")
_ORDERED = re.compile(r"^\s*\d{1,3}[.)]\s+")
_BULLET = re.compile(r"^\s*[-*+]\s+")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÄÖÜÀ-Ý0-9\"“„])")

_STEP_WORDS = {"en": ("First, ", "Then ", "Next, ", "After that, ", "Finally, ")}


def inline(text: str) -> str:
    """Links to their text (or the address when the text is empty), emphasis and code marks removed."""
    text = _LINK.sub(lambda m: m.group(1) or m.group(2), text)
    for _ in range(2):  # nested emphasis such as **_word_**
        text = _EMPHASIS.sub(r"\2", text)
    return re.sub(r"\s+", " ", text).strip()


def _sentence(text: str) -> str:
    text = text.strip().rstrip(";,")
    if text and text[-1] not in ".!?:":
        text += "."
    return text[:1].upper() + text[1:] if text else text


def _lower_first(text: str, context: str) -> str:
    """Lower-case the first word unless it is a name (written capitalised mid-sentence elsewhere) or 'I'."""
    word = text.split(" ", 1)[0]
    if not word or not word[0].isupper() or word in ("I",) or word[1:2].isupper():
        return text
    if re.search(rf"[a-z,;] {re.escape(word)}\b", context):
        return text
    return word[0].lower() + text[1:]


def _steps(items: list[str], language: str, context: str) -> list[str]:
    """Numbered steps as one unit of sentences, so that selection never keeps step 1 and 3 without 2."""
    words = _STEP_WORDS.get(language)
    out = []
    for i, item in enumerate(items):
        sentence = _sentence(item)
        if words and len(items) > 1:
            lead = words[0] if i == 0 else words[-1] if i == len(items) - 1 else words[min(i, len(words) - 2)]
            sentence = lead + _lower_first(sentence, context)
        out.append(sentence)
    return [" ".join(out)] if out else []


def _table(rows: list[list[str]]) -> list[str]:
    if len(rows) < 2:
        return [_sentence(", ".join(r)) for r in rows if any(r)]
    header, body = rows[0], rows[1:]
    out = []
    for row in body:
        if not row or not row[0]:
            continue
        rest = [f"{header[i].lower()} {cell}" if len(row) > 2 and i < len(header) else cell
                for i, cell in enumerate(row[1:], start=1) if cell]
        out.append(_sentence(f"{row[0]}: {', '.join(rest)}"))
    return out


def to_sentences(markdown: str, language: str = "en") -> list[str]:
    """The snippet as a list of plain sentences, in reading order, without any Markdown."""
    context = inline(markdown)
    out: list[str] = []
    ordered: list[str] = []
    table: list[list[str]] = []
    paragraph: list[str] = []

    def flush() -> None:
        nonlocal ordered, table, paragraph
        if paragraph:
            out.extend(s for s in _SENTENCE_END.split(inline(" ".join(paragraph))) if s)
            paragraph = []
        if ordered:
            out.extend(_steps(ordered, language, context))
            ordered = []
        if table:
            out.extend(_table(table))
            table = []

    for raw in markdown.splitlines():
        line = raw.rstrip()
        if not line.strip() or _HEADING.match(line):
            flush()
            continue
        if line.lstrip().startswith("|"):
            if not table:
                flush()
            if not _TABLE_RULE.match(line):
                table.append([inline(c) for c in line.strip().strip("|").split("|")])
            continue
        if _ORDERED.match(line):
            if not ordered:
                flush()
            ordered.append(inline(_ORDERED.sub("", line)))
            continue
        if _BULLET.match(line):
            flush()
            out.append(_sentence(inline(_BULLET.sub("", line))))
            continue
        if ordered and raw.startswith((" ", "\t")):  # continuation of a step
            ordered[-1] += " " + inline(line)
            continue
        if ordered or table:
            flush()
        paragraph.append(line.strip())
    flush()
    return [s for s in (_sentence(s) for s in out) if len(s) > 1 and not s.endswith(":")]


# Sentences that talk about the help page itself read oddly in a letter ("This article explains ...").
_SELF_REFERENCE = re.compile(r"\b(?:this (?:article|guide|page)|see also|read more|dieser artikel|diesem artikel|"
                             r"siehe auch|cet article|voir aussi|este art[ií]culo|v[eé]ase tambi[eé]n|"
                             r"(?:listed|shown|described|mentioned) (?:above|below)|siehe oben|(?:wie )?oben "
                             r"(?:genannt|beschrieben)|ci-dessus|ci-dessous|m[aá]s (?:arriba|abajo))\b", re.I)
_FIGURE = re.compile(r"\d")


def reply_sentences(markdown: str, language: str = "en") -> list[str]:
    """`to_sentences` without the sentences that only make sense on the help page."""
    return [s for s in to_sentences(markdown, language) if not _SELF_REFERENCE.search(s)]


def _stems(text: str) -> set[str]:
    """Query-matching keys: four-letter word prefixes, so that Rechnung meets Rechnungen and livraison meets
    livraisons without a stemmer per language (a coarse key only ranks sentences of one article)."""
    return {token[:STEM] for token in tokenize(text)}


STEM = 4
FRAGMENT_WORDS = 4  # a list item shorter than this ("Material defects.") says little in a letter on its own


def rank_sentences(sentences: list[str], query: str, bonus: list[float] | None = None) -> list[int]:
    """Sentence indices, the one that matters most for the query first.

    A sentence scores the query words it shares, each weighted by how rare it is among the article's
    sentences (a word every sentence has tells none apart), plus `bonus` (the caller's preference, e.g. the
    section the search ranked first), plus a little for a figure (times, amounts and limits are what customers
    ask for).
    """
    wanted = _stems(query)
    keys = [_stems(s) for s in sentences]
    frequency: dict[str, int] = {}
    for found in keys:
        for key in found:
            frequency[key] = frequency.get(key, 0) + 1
    scored = []
    for i, s in enumerate(sentences):
        overlap = sum(math.log(1 + len(sentences) / frequency[key]) for key in wanted & keys[i])
        # Steps belong together.
        extra = (0.5 if s.startswith(_STEP_WORDS["en"][0]) else 0.0) + (0.5 if _FIGURE.search(s) else 0.0)
        extra += bonus[i] if bonus else 0.0
        # Without the caller's preference, the opening sentence usually carries the answer.
        scored.append((overlap + extra + (0.75 if i == 0 and bonus is None else 0.0), -i, i))
    return [i for *_, i in sorted(scored, reverse=True)]


def select_sentences(sentences: list[str], query: str, limit: int = 5, bonus: list[float] | None = None,
                     chars: int | None = None) -> list[str]:
    """The best `limit` sentences for the query (within `chars` characters when given), in their original
    order, so that steps stay in sequence; fragments are left out."""
    keep: list[int] = []
    used = -1
    for i in rank_sentences(sentences, query, bonus):
        if len(keep) == limit:
            break
        if len(sentences[i].split()) < FRAGMENT_WORDS:
            continue  # a list item such as "PayPal." reads as a stray word in a letter
        if chars is None or used + 1 + len(sentences[i]) <= chars:
            keep.append(i)
            used += 1 + len(sentences[i])
    return [sentences[i] for i in sorted(keep)]
