"""Issue 15: the sample knowledge base in German, French and Spanish says what the English articles say."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import SAMPLES
from triage.knowledge.sources import ArticleIn, read_path, split_front_matter

KB = SAMPLES / "kb"
LANGUAGES = ("de", "fr", "es")
# The articles most tickets need: each has a version in every language above.
MOST_NEEDED = (
    "track-your-order", "missing-or-damaged-delivery", "return-policy", "exchange-an-item", "refund-timeline",
    "cancel-an-order", "unexpected-or-double-charge", "payment-declined", "invoices-and-vat", "cant-sign-in",
    "ember-heater-safety-cutoff", "warranty-overview", "repair-process", "shipping-times-and-costs",
    "unauthorised-order", "update-account-details", "delete-account-and-export-data", "complaints-and-escalation",
)
# Facts a translation must keep: figures, addresses, links and order numbers.
FACT = re.compile(r"https?://\S+?(?=[\s)*.,;]*(?:\s|$))|[\w.+-]+@[\w-]+\.\w+|LH-\d+|\d+")


def _facts(body: str) -> set[str]:
    # French writes 14:00 as "14 h": the minutes of a full hour are not a fact of their own.
    return {f for f in FACT.findall(body) if f != "00"}


def _translations() -> dict[tuple[str, str], tuple[Path, str]]:
    """(English slug, language) -> (file, English slug named by its translation_of)."""
    found: dict[tuple[str, str], tuple[Path, str]] = {}
    for path in sorted(KB.glob("*.md")):
        if path.name.lower() == "readme.md":
            continue
        meta, _ = split_front_matter(path.read_text(encoding="utf-8"))
        original = meta.get("translation_of")
        if original:
            key = (str(original), str(meta.get("language")))
            assert key not in found, f"{path.name} and {found[key][0].name} both translate {original}"
            found[key] = (path, str(original))
    return found


@pytest.fixture(scope="module")
def articles() -> dict[str, ArticleIn]:
    result = read_path(KB)
    assert result.rejected == []
    return {a.external_id: a for a in result.articles}


def test_every_most_needed_article_exists_in_every_language(articles: dict[str, ArticleIn]) -> None:
    translations = _translations()
    for slug in MOST_NEEDED:
        assert articles[slug].language == "en"
        for language in LANGUAGES:
            assert (slug, language) in translations, f"{slug} has no {language} version"
    for (original, language), (path, _) in translations.items():
        assert path.name.startswith(f"{language}-"), path.name
        assert articles[original].language == "en", f"{path.name}: translation_of must name an English article"


def test_a_translation_keeps_intents_product_tags_and_facts(articles: dict[str, ArticleIn]) -> None:
    for (original, language), (path, _) in _translations().items():
        english, translated = articles[original], articles[path.stem]
        assert translated.language == language
        assert (translated.intents, translated.product, translated.tags) == (
            english.intents, english.product, english.tags), path.name
        missing = _facts(english.body) - _facts(translated.body)
        assert not missing, f"{path.name} lacks {sorted(missing)} from {original}"


@pytest.mark.parametrize(("language", "unplug", "burning"), [
    ("de", "ziehen Sie den Netzstecker", "verbrannt"),
    ("fr", "débranchez-le", "brûlé"),
    ("es", "desenchúfelo", "quemado"),
])
def test_the_heater_safety_instructions_are_all_there(articles: dict[str, ArticleIn], language: str, unplug: str,
                                                      burning: str) -> None:
    path, _ = _translations()[("ember-heater-safety-cutoff", language)]
    body = articles[path.stem].body
    # unplug to reset it, and unplug and stop using it when it smells of burning
    assert body.count(unplug) >= 2 and burning in body
    assert "1 m" in body.lower() and "50 cm" in body and "**OH**" in body  # keep clear: 1 m in front, 50 cm around
