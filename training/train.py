"""Training a classifier with a held-out validation split, storing it as a version, and deciding promotion.

`run_training` is the one entry point: the CLI calls it now and the API's background job will later.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.model_selection import train_test_split

from models.encoder import shared_encoder
from models.factory import make_estimator
from models.vocabulary import OUT_OF_SCOPE, TASKS
from training.datasets import BASELINE_FILES, Dataset, load_csv, load_dataset, sample_path
from training.feedback import FEEDBACK, merge_feedback
from training.measure import Context, Evaluation, evaluate, is_better, metrics, serving_contexts
from training.promotion import FORCE_HINT, label_problem
from training.registry import ModelInfo, Registry, code_version, text_digest
from triage.errors import UserError

log = logging.getLogger(__name__)

# (phase, done, total): lets the CLI draw progress bars without this module knowing about rich.
ProgressFn = Callable[[str, int, int], None]


@dataclass
class TrainConfig:
    validation_share: float = 0.2
    seed: int = 0
    C: float | None = None  # None: the estimator's own default
    # Fewer validation rows than this that the current model did not train on say nothing about which
    # model is better: the new one is then not promoted unasked.
    min_comparison_rows: int = 20
    # After validation, the stored model is fitted again on every row (training and validation): the
    # validation figures describe the split model, the served one has seen a quarter more data (Banking77:
    # about half a point of accuracy). False stores the split model itself.
    refit: bool = True


@dataclass
class TrainResult:
    model: Any
    metrics: dict[str, Any]
    labels: list[str]
    validation: Evaluation
    validation_texts: list[str] = field(default_factory=list)
    validation_labels: list[str] = field(default_factory=list)
    validation_embeddings: np.ndarray | None = None
    train_texts: list[str] = field(default_factory=list)
    validation_contexts: list[Context] | None = None
    sentiment_context: str | None = None  # the sentiment version whose answers urgency saw, as in serving
    params: dict[str, Any] = field(default_factory=dict)


def check_trainable(dataset: Dataset) -> None:
    """Refuse data that cannot give a model and a validation split, saying what to fix."""
    counts = Counter(dataset.labels)
    if len(counts) < 2:
        only = next(iter(counts), "")
        raise UserError(f"{dataset.source}: every row has the label {only!r}; training needs at least two labels")
    rare = sorted(label for label, n in counts.items() if n < 2)
    if rare:
        raise UserError(f"{dataset.source}: labels with fewer than 2 examples cannot be split: {', '.join(rare)}")


def check_splittable(dataset: Dataset, config: TrainConfig | None = None) -> None:
    """`check_trainable`, and enough rows to hold out a validation example of each label: before any work starts."""
    check_trainable(dataset)
    _split(dataset.labels, config or TrainConfig(), dataset.source)


def _split(labels: Sequence[str], config: TrainConfig, source: str) -> tuple[np.ndarray, np.ndarray]:
    n, k = len(labels), len(set(labels))
    # A stratified split needs one example of each label on both sides.
    n_val = max(math.ceil(config.validation_share * n), k)
    if n - n_val < k:
        raise UserError(f"{source}: {n} examples are too few to hold out a validation example of each of {k} "
                        f"labels and still train on each; add examples")
    return train_test_split(np.arange(n), test_size=n_val, random_state=config.seed, stratify=list(labels))


def _params(estimator: Any) -> dict[str, Any]:
    try:
        raw = estimator.get_params(deep=False)
    except AttributeError:
        return {}
    return {k: v for k, v in raw.items() if isinstance(v, str | int | float | bool | type(None))}


def embed(texts: list[str], progress: ProgressFn | None = None) -> np.ndarray:
    """Embed with the shared encoder, reporting ("embedding", done, total) after each batch."""
    done = 0

    def step(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress("embedding", done, len(texts))

    if progress:  # the bar shows at once, while the encoder loads and the first batch runs
        progress("embedding", 0, len(texts))
    return shared_encoder().encode(texts, progress=step)


def train_classifier(dataset: Dataset, config: TrainConfig | None = None, progress: ProgressFn | None = None,
                     *, kind: str = "intent", oos_label: str | None = "oos",
                     registry: Registry | None = None) -> TrainResult:
    """Fit on a stratified training split and measure on the held-out rest, through the serving call.

    With a registry, urgency is measured with the current sentiment model's answers as context, as served.
    """
    config = config or TrainConfig()
    check_trainable(dataset)
    train_idx, val_idx = _split(dataset.labels, config, dataset.source)
    embeddings = embed(dataset.texts, progress)
    texts = np.array(dataset.texts, dtype=object)
    labels = np.array(dataset.labels, dtype=object)
    estimator = make_estimator(kind, oos_label=oos_label or "oos")
    if config.C is not None and "C" in _params(estimator):
        estimator.set_params(C=config.C)
    if progress:
        progress("fitting", 0, 1)
    model = estimator.fit(list(texts[train_idx]), list(labels[train_idx]), embeddings[train_idx])
    if progress:
        progress("fitting", 1, 1)
    val_texts, val_labels = list(texts[val_idx]), list(labels[val_idx])
    contexts, sentiment_version = serving_contexts(kind, val_texts, embeddings[val_idx], registry)
    validation = evaluate(model, val_texts, val_labels, kind=kind, oos_label=oos_label,
                          embeddings=embeddings[val_idx], contexts=contexts)
    scores = metrics(validation) | {"n_train": len(train_idx), "n_validation": len(val_idx)}
    trained_on = list(texts[train_idx])
    if config.refit:
        if progress:
            progress("refitting on all rows", 0, 1)
        model = make_estimator(kind, oos_label=oos_label or "oos").set_params(**_params(model)).fit(
            list(texts), list(labels), embeddings)
        trained_on = list(texts)
        scores["refit_on_all"] = len(texts)
        if progress:
            progress("refitting on all rows", 1, 1)
    return TrainResult(model=model, metrics=scores, labels=sorted(set(dataset.labels)), validation=validation,
                       validation_texts=val_texts, validation_labels=val_labels,
                       validation_embeddings=embeddings[val_idx], validation_contexts=contexts,
                       train_texts=trained_on,
                       sentiment_context=sentiment_version, params=_params(model))


def _subset(ev: Evaluation, rows: Sequence[int]) -> Evaluation:
    y_true = [ev.y_true[i] for i in rows]
    return Evaluation(kind=ev.kind, y_true=y_true, y_pred=[ev.y_pred[i] for i in rows],
                      confidence=ev.confidence[list(rows)], has_oos=ev.kind == "intent" and OUT_OF_SCOPE in y_true)


def _scores(ev: Evaluation) -> dict[str, Any]:
    m = metrics(ev)
    return {"accuracy": m["accuracy"], "macro_f1": m["macro_f1"], "ece": m["ece"]}


def _compare_with_current(kind: str, registry: Registry, result: TrainResult, *,
                          oos_label: str | None) -> dict[str, Any] | None:
    """Both models scored on the new run's validation rows that the current model did not train on.

    None when there is no current model. A current model saved before training fingerprints existed
    is scored on every validation row, and the answer says its training texts are unknown.
    """
    current = registry.current(kind)
    if current is None:
        return None
    try:
        model, info = registry.load(kind, current)
        seen = registry.trained_texts(kind, current)
        rows = [i for i, text in enumerate(result.validation_texts)
                if seen is None or text_digest(text) not in seen]
        if not rows:  # it learnt every validation row: nothing to compare on (and nothing wrong with it)
            return {"version": current, "accuracy": None, "macro_f1": None, "ece": None, "n": 0,
                    "n_validation": len(result.validation_texts), "trained_texts": "known", "candidate": None}
        embeddings = result.validation_embeddings
        contexts = result.validation_contexts
        ev = evaluate(model, [result.validation_texts[i] for i in rows],
                      [result.validation_labels[i] for i in rows], kind=kind, oos_label=oos_label,
                      embeddings=embeddings[rows] if embeddings is not None else None,
                      model_oos_label=info.params.get("oos_label"),
                      contexts=[contexts[i] for i in rows] if contexts is not None else None)
    except Exception as exc:  # a current model that cannot even be evaluated is no model to keep
        log.warning("current %s model %s could not be evaluated: %s", kind, current, exc)
        return {"version": current, "error": str(exc)}
    return {"version": current, **_scores(ev), "n": len(rows), "n_validation": len(result.validation_texts),
            "trained_texts": "unknown" if seen is None else "known",
            "candidate": _scores(_subset(result.validation, rows))}


def _decide(promote: bool | None, comparison: dict[str, Any] | None, *, ties: bool = False,
            labels: str | None = None, force: bool = False, min_rows: int = 20) -> tuple[bool, str]:
    """Whether the new model serves, and why; `labels` is what is wrong with its label set, if anything."""
    if promote is False:
        return False, "asked not to (--no-promote)"
    if labels and not force:
        return False, f"{labels}; {FORCE_HINT}"
    forced = f" (forced although {labels})" if labels else ""
    if promote is True:
        return True, f"asked to (--promote){forced}"
    if comparison is None:
        return True, f"no current model{forced}"
    old = comparison["version"]
    if "error" in comparison:
        return True, f"current model {old} is unusable{forced}"
    n, new = comparison["n"], comparison["candidate"]
    if comparison["trained_texts"] == "unknown":
        where = (f"on all {n} validation rows (which texts {old} was trained on is unknown: it predates "
                 "training fingerprints, so it may have seen some of them)")
    else:
        where = f"on the {n} validation rows neither model was trained on"
        need = max(min_rows, 1)
        if n < need:
            return False, (f"only {n} of {comparison['n_validation']} validation rows were not used to train "
                           f"{old}, fewer than the {need} needed to compare fairly; promote it with --promote "
                           "if you are sure")
    verdict = (f"macro-F1 {new['macro_f1']:.4f} vs {comparison['macro_f1']:.4f}, "
               f"accuracy {new['accuracy']:.4f} vs {comparison['accuracy']:.4f} {where}")
    if is_better(new, comparison):
        return True, f"beats {old}: {verdict}{forced}"
    if ties and not is_better(comparison, new):
        return True, f"is not worse than {old}: {verdict}{forced}"
    return False, f"does not beat {old}: {verdict}"


def _store(kind: str, dataset: Dataset, registry: Registry, *, promote: bool | None, compare: bool,
           config: TrainConfig, oos_label: str | None, progress: ProgressFn | None,
           extra: dict[str, Any] | None = None, ties: bool = False, routed: Collection[str] | None = None,
           force: bool = False) -> tuple[ModelInfo, dict[str, Any]]:
    if kind not in TASKS:
        raise UserError(f"unknown model kind {kind!r}: choose one of {', '.join(TASKS)}")
    result = train_classifier(dataset, config, progress, kind=kind, oos_label=oos_label, registry=registry)
    labels = None
    if compare:
        current = registry.current(kind)
        try:
            current_info = registry.info(kind, current) if current else None
        except UserError:  # unreadable metadata: _compare_with_current reports the model as unusable
            current_info = None
        labels = label_problem(kind, result.labels, oos_label, current=current_info, routed=routed)
        comparison = _compare_with_current(kind, registry, result, oos_label=oos_label)
        promoted, reason = _decide(promote, comparison, ties=ties, labels=labels, force=force,
                                   min_rows=config.min_comparison_rows)
    else:
        comparison = None
        promoted = bool(promote or (promote is None and registry.current(kind) is None))
        reason = "asked to" if promote else ("no current model" if promoted else "a current model exists")
    info = ModelInfo(
        kind=kind,
        version=registry.new_version(kind, dataset.sha256),
        created_at=datetime.now(UTC).isoformat(),
        data_sha256=dataset.sha256,
        data_source=dataset.source,
        code_version=code_version(),
        labels=result.labels,
        metrics=result.metrics,
        params=result.params | {"estimator": type(result.model).__name__, "validation_share": config.validation_share,
                                "seed": config.seed, "oos_label": oos_label, "encoder": shared_encoder().name},
        extra=(extra or {}) | {"compared_with": comparison, "promotion": reason, "label_problem": labels,
                               "sentiment_context": result.sentiment_context},
    )

    def reports(folder: Path) -> list[str]:
        from training.reports import write_reports

        if progress:
            progress("reports", 0, 1)
        names = write_reports(result.validation, folder, title=f"{info.version} (validation split)")
        if progress:
            progress("reports", 1, 1)
        return names

    registry.save(kind, result.model, info, write_files=reports, trained_texts=result.train_texts)
    registry.load(kind, info.version)  # what was written must load before it can serve
    if promoted:
        registry.promote(kind, info.version, action="promote" if promote else "auto")
        info.extra["promoted"] = True
    log.info("trained %s model %s (%s; %s): accuracy %.4f, macro-F1 %.4f", kind, info.version,
             "promoted" if promoted else "not promoted", reason, result.metrics["accuracy"],
             result.metrics["macro_f1"])
    return info, {"promoted": promoted, "reason": reason, "compared_with": comparison, "label_problem": labels}


def train_and_register(kind: str, dataset: Dataset, registry: Registry, *, promote: bool | None = None,
                       config: TrainConfig | None = None, progress: ProgressFn | None = None,
                       oos_label: str | None = "oos") -> ModelInfo:
    """Train, store as a new version, and promote it when asked or when no current model exists."""
    info, _ = _store(kind, dataset, registry, promote=promote, compare=False, config=config or TrainConfig(),
                     oos_label=oos_label, progress=progress)
    return info


def run_training(kind: str, data_path: Path, *, registry: Registry, text_column: str = "text",
                 label_column: str = "label", oos_label: str = "oos",
                 feedback: Sequence[tuple[str, str]] | None = None, promote: bool | None = None,
                 config: TrainConfig | None = None, progress: ProgressFn | None = None,
                 promote_ties: bool = False, data_name: str | None = None,
                 routed: Collection[str] | None = None, force: bool = False) -> dict[str, Any]:
    """Train a `kind` model on a CSV or JSONL (plus agents' corrections), store it, and promote it when it is better.

    Without `promote`, the new model is promoted when there is no current model or when it beats the
    current one on the new run's validation rows that the current one was not trained on (macro-F1,
    then accuracy; at least `config.min_comparison_rows` of them); `promote_ties` also promotes one that
    is merely not worse. A model whose labels lack an intent in `routed` (what triage.toml routes) or
    differ from the current model's is promoted only with `force`, even when asked to. A failed run
    leaves the current model in service. Returns what the CLI prints as JSON. `data_name` names the
    data in the model's provenance instead of its path.
    """
    if kind not in TASKS:  # before reading any data
        raise UserError(f"unknown model kind {kind!r}: choose one of {', '.join(TASKS)}")
    dataset = load_dataset(Path(data_path), text_column=text_column, label_column=label_column, name=data_name)
    n_data = len(dataset)
    merged = None
    if feedback:
        merged = merge_feedback(dataset, feedback, kind=kind, oos_label=oos_label)
        dataset = merged.dataset
    check_trainable(dataset)
    extra = {"rows_skipped": len(dataset.skipped),
             "feedback": {"corrections": merged.origins.count(FEEDBACK) if merged else 0,
                          "added": merged.added if merged else 0, "replaced": merged.replaced if merged else 0}}
    info, decision = _store(kind, dataset, registry, promote=promote, compare=True, config=config or TrainConfig(),
                            oos_label=oos_label, progress=progress, extra=extra, ties=promote_ties,
                            routed=routed, force=force)
    return {
        "kind": kind,
        "version": info.version,
        "promoted": decision["promoted"],
        "reason": decision["reason"],
        "current": registry.current(kind),
        "compared_with": decision["compared_with"],
        "label_problem": decision["label_problem"],
        "metrics": info.metrics,
        "labels": info.labels,
        "data_sha256": info.data_sha256,
        "data_source": info.data_source,
        "n_examples": len(dataset),
        "n_data_rows": n_data,
        "feedback": extra["feedback"],
        "skipped": dataset.skipped,
        "reports": info.extra.get("reports", []),
        "path": str(registry.path(kind, info.version)),
        "code_version": info.code_version,
    }


def train_baselines(registry: Registry, *, only_missing: bool = True,
                    progress: Callable[[str], ProgressFn] | None = None) -> list[ModelInfo]:
    """Train the small baseline models from the bundled samples (intent, sentiment, urgency)."""
    trained = []
    for kind in TASKS:
        if only_missing and registry.current(kind):
            continue
        dataset = load_csv(sample_path(BASELINE_FILES[kind]))
        trained.append(train_and_register(kind, dataset, registry, promote=True,
                                          progress=progress(kind) if progress else None))
    return trained
