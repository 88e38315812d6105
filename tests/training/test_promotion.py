"""Safe promotion (issue 12): comparisons on rows neither model trained on, and label sets that would break routing."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from training.datasets import load_csv
from training.promotion import PromotionRefused, check_promotion, label_problem
from training.registry import TRAINED_TEXTS, Registry, text_digest
from training.train import TrainConfig, run_training

pytestmark = pytest.mark.usefixtures("cached_embeddings")

# Phrasings the first data set lacks, which its model gets wrong (mostly as order_status); agents correct them.
_CORRECTED = {
    "refund_request": ["the {x} went back to you weeks ago and my card shows nothing",
                       "RMA for the {x} is closed, when do I see the cash",
                       "the {x} is going back, what happens to my payment"],
    "account_access": ["I forgot which email I used on the {x}", "the {x} rejected my fingerprint",
                       "the {x} says user not found"],
}
_MORE = ["blender", "toaster", "router", "tablet", "desk", "chair"]


def _corrections() -> list[tuple[str, str]]:
    return [(t.format(x=x), label) for label, templates in _CORRECTED.items()
            for t, x in itertools.product(templates, _MORE)]


def test_the_training_texts_are_fingerprinted_beside_the_model(tmp_path: Path, intent_csv: Path) -> None:
    registry = Registry(tmp_path / "models")
    result = run_training("intent", intent_csv, registry=registry)
    version = result["version"]
    info = registry.info("intent", version)
    # what the stored model was fitted on: its training split, or every row when refitted after validation
    fitted = info.metrics.get("refit_on_all", info.metrics["n_train"])
    assert info.extra["trained_texts"]["count"] == fitted
    seen = registry.trained_texts("intent", version)
    assert seen is not None and len(seen) == fitted
    folder = registry.path("intent", version)
    assert (folder / TRAINED_TEXTS).stat().st_size == fitted * 20  # compact: one sha1 a text, no text readable
    assert b"refund" not in (folder / TRAINED_TEXTS).read_bytes()
    assert TRAINED_TEXTS not in {p.name for p in registry.files("intent", version)}  # not a report
    # case and spacing do not make a new text
    assert text_digest("Where is my  SPEAKER order") == text_digest("where is my speaker order")

    # a damaged fingerprint makes the training texts unknown, never wrong
    (folder / TRAINED_TEXTS).write_bytes(b"\x00" * 40)
    assert registry.trained_texts("intent", version) is None


def test_a_retrain_with_corrections_wins_on_rows_neither_model_saw(tmp_path: Path, intent_csv: Path) -> None:
    registry = Registry(tmp_path / "models")
    current = run_training("intent", intent_csv, registry=registry)["version"]
    seen = registry.trained_texts("intent", current)
    assert seen is not None

    retrain = run_training("intent", intent_csv, registry=registry, feedback=_corrections(),
                           config=TrainConfig(min_comparison_rows=5))
    compared = retrain["compared_with"]
    assert retrain["feedback"]["added"] == len(_corrections())
    # rows the current model learnt were left out: it is not scored on what it memorised
    assert compared["trained_texts"] == "known" and 5 <= compared["n"] < compared["n_validation"]
    assert compared["n_validation"] == retrain["metrics"]["n_validation"]
    assert compared["candidate"]["macro_f1"] > compared["macro_f1"]
    assert retrain["promoted"], retrain["reason"]
    assert retrain["reason"].startswith(f"beats {current}") and "validation rows neither model was trained on" \
        in retrain["reason"]
    assert registry.current("intent") == retrain["version"]


def test_too_few_unseen_rows_are_no_comparison(tmp_path: Path, intent_csv: Path) -> None:
    registry = Registry(tmp_path / "models")
    current = run_training("intent", intent_csv, registry=registry)["version"]
    retrain = run_training("intent", intent_csv, registry=registry, feedback=_corrections()[:6])
    assert not retrain["promoted"] and registry.current("intent") == current
    assert retrain["compared_with"]["n"] < 20
    assert "fewer than the 20 needed to compare fairly" in retrain["reason"] and "--promote" in retrain["reason"]
    asked = run_training("intent", intent_csv, registry=registry, feedback=_corrections()[:6], promote=True)
    assert asked["promoted"] and registry.current("intent") == asked["version"]


def test_no_unseen_rows_at_all_keeps_the_current_model(tmp_path: Path, intent_csv: Path,
                                                       write_rows: Callable[..., Path]) -> None:
    registry = Registry(tmp_path / "models")
    current = run_training("intent", intent_csv, registry=registry)["version"]
    seen = registry.trained_texts("intent", current)
    assert seen is not None
    # a new model trained only on texts the current one learnt validates on nothing it did not see
    data = load_csv(intent_csv)
    learnt = [(t, label) for t, label in zip(data.texts, data.labels, strict=True) if text_digest(t) in seen]
    subset = run_training("intent", write_rows(tmp_path / "learnt.csv", learnt), registry=registry,
                          config=TrainConfig(min_comparison_rows=0))
    assert subset["compared_with"]["n"] == 0 and subset["compared_with"]["candidate"] is None
    assert not subset["promoted"] and "only 0 of" in subset["reason"]
    assert registry.current("intent") == current


def test_a_model_saved_before_fingerprints_is_compared_on_all_rows_and_says_so(tmp_path: Path,
                                                                               intent_csv: Path) -> None:
    registry = Registry(tmp_path / "models")
    old = run_training("intent", intent_csv, registry=registry)["version"]
    meta = registry.path("intent", old) / "meta.json"
    data = json.loads(meta.read_text())
    del data["extra"]["trained_texts"]
    meta.write_text(json.dumps(data))
    (registry.path("intent", old) / TRAINED_TEXTS).unlink()
    assert registry.trained_texts("intent", old) is None

    new = run_training("intent", intent_csv, registry=registry, feedback=_corrections())
    compared = new["compared_with"]
    assert compared["trained_texts"] == "unknown" and compared["n"] == compared["n_validation"]
    assert "is unknown: it predates training fingerprints" in new["reason"]


def _foreign_rows() -> list[tuple[str, str]]:
    intents = {"pending_top_up": ["my top up of {x} is still pending", "why is the {x} top-up not through"],
               "card_arrival": ["my new card for {x} has not arrived", "when will the {x} card come"],
               "exchange_rate": ["what rate do you use for {x}", "the {x} exchange rate looks wrong"]}
    return [(t.format(x=x), label) for label, templates in intents.items() for t in templates
            for x in ("euros", "pounds", "dollars", "yen", "francs")]


def test_a_foreign_label_set_is_never_promoted_unless_forced(tmp_path: Path, intent_csv: Path,
                                                             write_rows: Callable[..., Path]) -> None:
    registry = Registry(tmp_path / "models")
    served = run_training("intent", intent_csv, registry=registry)["version"]
    banking = write_rows(tmp_path / "banking.csv", _foreign_rows())
    few = TrainConfig(min_comparison_rows=5)

    auto = run_training("intent", banking, registry=registry, config=few)
    # it "wins" (the served model knows none of these labels), yet it would route nothing
    assert auto["compared_with"]["macro_f1"] == 0.0 and auto["metrics"]["macro_f1"] > 0.5
    assert not auto["promoted"] and registry.current("intent") == served
    assert f"shares no label with {served} in service" in auto["reason"] and "--force" in auto["reason"]
    assert auto["label_problem"] and registry.info("intent", auto["version"]).extra["label_problem"]

    asked = run_training("intent", banking, registry=registry, config=few, promote=True)
    assert not asked["promoted"] and registry.current("intent") == served

    forced = run_training("intent", banking, registry=registry, config=few, force=True)
    assert forced["promoted"] and registry.current("intent") == forced["version"]
    assert "forced although it shares no label" in forced["reason"]

    # promoting a stored version back checks the same way
    with pytest.raises(PromotionRefused, match=f"not promoting {served}: it shares no label"):
        check_promotion(registry, "intent", served, routed=None)
    assert check_promotion(registry, "intent", served, routed=None, force=True)


def test_label_problems_name_what_routing_would_lose() -> None:
    routed = {"order_status", "refund_request", "account_access"}
    assert label_problem("intent", ["order_status", "refund_request", "account_access", "oos"], "oos",
                         current=None, routed=routed) is None
    missing = label_problem("intent", ["order_status", "oos"], "oos", current=None, routed=routed)
    assert missing == "it lacks 2 of the 3 intents routed in triage.toml (account_access, refund_request)"
    # sentiment and urgency are not routed by triage.toml
    assert label_problem("sentiment", ["negative", "positive"], None, current=None, routed=routed) is None


def test_labels_that_differ_from_the_served_model_need_force(tmp_path: Path, intent_csv: Path,
                                                             write_rows: Callable[..., Path],
                                                             intent_rows: list[tuple[str, str]]) -> None:
    registry = Registry(tmp_path / "models")
    served = run_training("intent", intent_csv, registry=registry)["version"]
    # the same data with out of scope spelt differently is the same label set as served
    renamed = write_rows(tmp_path / "renamed.csv", [(t, "none" if label == "oos" else label)
                                                   for t, label in intent_rows])
    same = run_training("intent", renamed, registry=registry, oos_label="none")
    assert same["label_problem"] is None
    # one intent dropped
    fewer = write_rows(tmp_path / "fewer.csv", [(t, label) for t, label in intent_rows if label != "order_status"])
    dropped = run_training("intent", fewer, registry=registry, promote=True)
    assert not dropped["promoted"] and registry.current("intent") == served
    assert f"its labels differ from {served} in service: drops order_status" in dropped["reason"]
