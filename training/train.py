"""Training a classifier on a labelled dataset with a held-out validation split, and the baselines."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split

from models.classifiers import TextClassifier
from models.encoder import shared_encoder
from training.datasets import BASELINE_FILES, Dataset, load_csv, sample_path
from training.registry import KINDS, ModelInfo, Registry, code_version

log = logging.getLogger(__name__)

# (phase, done, total): lets the CLI draw progress bars without this module knowing about rich.
ProgressFn = Callable[[str, int, int], None]


@dataclass
class TrainConfig:
    validation_share: float = 0.2
    seed: int = 0
    C: float = 8.0


@dataclass
class TrainResult:
    model: TextClassifier
    metrics: dict[str, Any]
    labels: list[str]


def train_classifier(dataset: Dataset, config: TrainConfig | None = None,
                     progress: ProgressFn | None = None) -> TrainResult:
    """Fit on a stratified training split and measure on the held-out rest."""
    config = config or TrainConfig()
    counts: dict[str, int] = {}
    for label in dataset.labels:
        counts[label] = counts.get(label, 0) + 1
    rare = sorted(label for label, n in counts.items() if n < 2)
    if rare:
        from triage.errors import UserError

        raise UserError(f"{dataset.source}: labels with fewer than 2 examples cannot be split: {', '.join(rare)}")
    encoder = shared_encoder()
    done = 0

    def step(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress("embedding", done, len(dataset))

    embeddings = encoder.encode(dataset.texts, progress=step)
    idx = np.arange(len(dataset))
    train_idx, val_idx = train_test_split(
        idx, test_size=config.validation_share, random_state=config.seed, stratify=dataset.labels
    )
    texts = np.array(dataset.texts, dtype=object)
    labels = np.array(dataset.labels, dtype=object)
    if progress:
        progress("fitting", 0, 1)
    model = TextClassifier(C=config.C).fit(list(texts[train_idx]), list(labels[train_idx]), embeddings[train_idx])
    if progress:
        progress("fitting", 1, 1)
    predicted = model.predict(list(texts[val_idx]), embeddings[val_idx])
    metrics = {
        "accuracy": round(float(accuracy_score(labels[val_idx], predicted)), 4),
        "macro_f1": round(float(f1_score(labels[val_idx], predicted, average="macro")), 4),
        "n_train": len(train_idx),
        "n_validation": len(val_idx),
    }
    return TrainResult(model=model, metrics=metrics, labels=sorted(counts))


def train_and_register(kind: str, dataset: Dataset, registry: Registry, *, promote: bool | None = None,
                       config: TrainConfig | None = None, progress: ProgressFn | None = None) -> ModelInfo:
    """Train, store as a new version, and promote it when asked or when no current model exists."""
    config = config or TrainConfig()
    result = train_classifier(dataset, config, progress)
    info = ModelInfo(
        kind=kind,
        version=registry.new_version(kind, dataset.sha256),
        created_at=datetime.now(UTC).isoformat(),
        data_sha256=dataset.sha256,
        data_source=dataset.source,
        code_version=code_version(),
        labels=result.labels,
        metrics=result.metrics,
        params={"C": config.C, "validation_share": config.validation_share, "seed": config.seed,
                "encoder": shared_encoder().name},
    )
    registry.save(kind, result.model, info)
    if promote or (promote is None and registry.current(kind) is None):
        registry.promote(kind, info.version)
        info.extra["promoted"] = True
    log.info("trained %s model %s: %s", kind, info.version, result.metrics)
    return info


def train_baselines(registry: Registry, *, only_missing: bool = True,
                    progress: Callable[[str], ProgressFn] | None = None) -> list[ModelInfo]:
    """Train the small baseline models from the bundled samples (intent, sentiment, urgency)."""
    trained = []
    for kind in KINDS:
        if only_missing and registry.current(kind):
            continue
        dataset = load_csv(sample_path(BASELINE_FILES[kind]))
        trained.append(train_and_register(kind, dataset, registry, promote=True,
                                          progress=progress(kind) if progress else None))
    return trained
