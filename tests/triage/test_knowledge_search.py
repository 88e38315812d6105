"""Hybrid search's alpha: tuned on labelled queries, stored with the index, served by every process on the home."""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence

import numpy as np
import pytest

from triage.errors import UserError
from triage.knowledge import service
from triage.knowledge.index import KnowledgeIndex
from triage.knowledge.sources import ArticleIn
from triage.runtime import Triage

ARTICLES = [("refunds", "Refund policy", "Refunds reach your card within five days of the return."),
            ("tracking", "Parcel tracking", "The tracking number is in the shipping confirmation email."),
            ("passwords", "Password reset", "Use the reset link on the sign-in page to choose a new password."),
            ("invoices", "Invoice copies", "Download an invoice copy from the orders page of your account."),
            ("warranty", "Warranty claims", "Our warranty covers manufacturing faults for two years.")]
LABELLED = [("how long does a refund take", ["refunds"]), ("where is my tracking number", ["tracking"]),
            ("I forgot my password", ["passwords"]), ("need an invoice copy", ["invoices"]),
            ("is a broken motor under warranty", ["warranty"])]


class NoiseEncoder:
    """Embeddings that carry no meaning (seeded by the text): dense search is noise, keywords are right."""

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        rows = [np.random.default_rng(zlib.crc32(t.encode())).normal(size=16) for t in texts]
        return np.asarray(rows, dtype=np.float32)


def _index(rt: Triage) -> KnowledgeIndex:
    index = KnowledgeIndex(rt.settings, encoder=NoiseEncoder())
    with rt.db.transaction() as session:
        service.import_articles([ArticleIn(external_id=i, title=t, body=b) for i, t, b in ARTICLES],
                                session=session, index=index, source="test")
    return index


def test_tuned_alpha_is_stored_and_served_by_other_processes(rt: Triage) -> None:
    index = _index(rt)
    assert index.hybrid_alpha() == (0.8, "default")
    with rt.db.session() as session:
        untuned = [service.search(q, session=session, index=index, k=1)[0].article for q, _ in LABELLED]
    assert untuned != [ids[0] for _, ids in LABELLED]  # mostly meaning, here noise: some answers are wrong
    with rt.db.transaction() as session:
        tuning = service.tune_search(LABELLED, session=session, index=index)
    assert tuning.alpha == 0.0 and tuning.mrr[0.0] == 1.0 > tuning.mrr[1.0]
    assert index.hybrid_alpha() == (0.0, "tuned") and index.retriever.alpha == 0.0
    state = json.loads((rt.settings.home / "kb" / "state.json").read_text(encoding="utf-8"))
    assert state["hybrid"]["alpha"] == 0.0 and state["hybrid"]["queries"] == len(LABELLED)

    # Another process on the same home loads the tuned alpha, and its served search ranks by keywords.
    other = KnowledgeIndex(rt.settings, encoder=NoiseEncoder())
    with rt.db.session() as session:
        for query, (answer,) in LABELLED:
            assert service.search(query, session=session, index=other, k=3)[0].article == answer
    assert other.retriever.alpha == 0.0

    # A later import keeps the tuned value.
    with rt.db.transaction() as session:
        service.import_articles([ArticleIn(external_id="gifts", title="Gift cards", body="Gift cards never expire.")],
                                session=session, index=index, source="extra")
    assert index.hybrid_alpha() == (0.0, "tuned") and index.retriever.alpha == 0.0


def test_setting_pins_alpha_and_bad_labels_are_refused(rt: Triage) -> None:
    index = _index(rt)
    with rt.db.transaction() as session:
        service.tune_search(LABELLED, session=session, index=index)
        with pytest.raises(UserError, match="unknown article ids in the labelled queries: nope"):
            service.tune_search([("refund", ["nope"])], session=session, index=index)
        with pytest.raises(UserError, match="at least one labelled query"):
            service.tune_search([("  ", ["refunds"])], session=session, index=index)
        with pytest.raises(UserError, match="at least one article"):
            service.tune_search([("refund", [])], session=session, index=index)
    pinned = KnowledgeIndex(rt.settings.model_copy(update={"kb_hybrid_alpha": 1.0}), encoder=NoiseEncoder())
    with rt.db.session() as session:
        pinned.ensure_loaded(session)
    assert pinned.hybrid_alpha() == (1.0, "setting") and pinned.retriever.alpha == 1.0
