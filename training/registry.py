"""Versioned model storage under TRIAGE_HOME/models/<kind>/<version>/ with a CURRENT pointer.

Every saved model carries its version, training-data hash, metrics, labels and the code version
that made it, so any prediction can be traced back to what produced it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib

from triage.errors import ModelMissingError, UserError

KINDS = ("intent", "sentiment", "urgency")


def code_version() -> str:
    """The package version plus the git commit when running from a checkout."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        ver = version("triage")
    except PackageNotFoundError:  # pragma: no cover
        ver = "0+unknown"
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=Path(__file__).parent, capture_output=True,
            text=True, timeout=5, check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        sha = ""
    return f"{ver}+g{sha}" if sha else ver


@dataclass
class ModelInfo:
    kind: str
    version: str
    created_at: str
    data_sha256: str
    data_source: str
    code_version: str
    labels: list[str]
    metrics: dict[str, Any]
    params: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Registry:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _kind_dir(self, kind: str) -> Path:
        if kind not in KINDS:
            raise UserError(f"unknown model kind {kind!r}: choose one of {', '.join(KINDS)}")
        return self.root / kind

    def new_version(self, kind: str, data_sha256: str) -> str:
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        base = f"{kind}-{stamp}-{data_sha256[:6]}"
        version, n = base, 1
        while (self._kind_dir(kind) / version).exists():
            n += 1
            version = f"{base}-{n}"
        return version

    def save(self, kind: str, model: Any, info: ModelInfo) -> Path:
        """Write artifact and metadata to a temporary folder, then rename: never half a model."""
        kind_dir = self._kind_dir(kind)
        kind_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".saving-", dir=kind_dir))
        try:
            joblib.dump(model, tmp / "model.joblib")
            (tmp / "meta.json").write_text(json.dumps(info.as_dict(), indent=2, sort_keys=True))
            final = kind_dir / info.version
            os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return final

    def current(self, kind: str) -> str | None:
        pointer = self._kind_dir(kind) / "CURRENT"
        if not pointer.exists():
            return None
        version = pointer.read_text().strip()
        return version or None

    def promote(self, kind: str, version: str) -> None:
        if not (self._kind_dir(kind) / version / "meta.json").exists():
            raise UserError(f"no {kind} model version {version!r}")
        pointer = self._kind_dir(kind) / "CURRENT"
        tmp = pointer.with_suffix(".tmp")
        tmp.write_text(version + "\n")
        os.replace(tmp, pointer)

    def info(self, kind: str, version: str) -> ModelInfo:
        path = self._kind_dir(kind) / version / "meta.json"
        if not path.exists():
            raise UserError(f"no {kind} model version {version!r}")
        return ModelInfo(**json.loads(path.read_text()))

    def versions(self, kind: str) -> list[ModelInfo]:
        kind_dir = self._kind_dir(kind)
        if not kind_dir.exists():
            return []
        found = [self.info(kind, p.name) for p in sorted(kind_dir.iterdir()) if (p / "meta.json").exists()]
        return sorted(found, key=lambda i: i.created_at)

    def load(self, kind: str, version: str | None = None) -> tuple[Any, ModelInfo]:
        """Load a version (default: the current one); ModelMissingError when none is trained."""
        version = version or self.current(kind)
        if version is None:
            raise ModelMissingError(kind)
        info = self.info(kind, version)
        return joblib.load(self._kind_dir(kind) / version / "model.joblib"), info

    def has_all(self) -> bool:
        return all(self.current(kind) for kind in KINDS)


def load_suite(registry: Registry):  # type: ignore[no-untyped-def]
    """The current intent, sentiment and urgency models as one ClassifierSuite."""
    from models.suite import ClassifierSuite, LoadedModel

    loaded = {}
    for kind in KINDS:
        model, info = registry.load(kind)
        loaded[kind] = LoadedModel(model=model, version=info.version)
    return ClassifierSuite(loaded)
