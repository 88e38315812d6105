"""Versioned model storage under TRIAGE_HOME/models/<kind>/<version>/ with a CURRENT pointer.

Every saved model carries its version, training-data hash, metrics, labels and the code version
that made it, so any prediction can be traced back to what produced it. Each kind also keeps a
promotion history (HISTORY.json) so `triage models rollback` can go back to the version served before.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib

from models.vocabulary import TASKS
from training.feedback import text_key
from triage.errors import Conflict, ModelMissingError, NotFound, UserError

log = logging.getLogger(__name__)

ARTIFACT = "model.joblib"
META = "meta.json"
HISTORY = "HISTORY.json"
# Which texts a model was trained on, so a later candidate is compared on rows neither saw (issue 12).
TRAINED_TEXTS = "trained_texts.sha1"
_DIGEST = 20  # bytes of one sha1
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")


def text_digest(text: str) -> bytes:
    """sha1 of the text as `text_key` normalises it (case and whitespace do not make a new example)."""
    return hashlib.sha1(text_key(text).encode("utf-8"), usedforsecurity=False).digest()


def fingerprint(texts: Iterable[str]) -> bytes:
    """The sorted, distinct sha1 digests of the texts, concatenated: 20 bytes a text, no text readable."""
    return b"".join(sorted({text_digest(t) for t in texts}))


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
        if kind not in TASKS:
            raise UserError(f"unknown model kind {kind!r}: choose one of {', '.join(TASKS)}")
        return self.root / kind

    def _version_dir(self, kind: str, version: str) -> Path:
        # Versions come from the command line: never let one name a path outside the registry.
        if not _VERSION.fullmatch(version):
            raise NotFound(f"{version!r} is not a model version (see `triage models list`)")
        return self._kind_dir(kind) / version

    def new_version(self, kind: str, data_sha256: str) -> str:
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        base = f"{kind}-{stamp}-{data_sha256[:6]}"
        version, n = base, 1
        while (self._kind_dir(kind) / version).exists():
            n += 1
            version = f"{base}-{n}"
        return version

    def save(self, kind: str, model: Any, info: ModelInfo, *,
             write_files: Callable[[Path], list[str]] | None = None,
             trained_texts: Iterable[str] | None = None) -> Path:
        """Write artifact, reports and metadata to a temporary folder, then rename: never half a model.

        `write_files(folder)` writes extra files (reports) next to the artifact and returns their names,
        which are recorded in the metadata as `extra["reports"]`. `trained_texts` (the texts the model was
        fitted on) are kept as a fingerprint, recorded as `extra["trained_texts"]`.
        """
        kind_dir = self._kind_dir(kind)
        kind_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".saving-", dir=kind_dir))
        try:
            joblib.dump(model, tmp / ARTIFACT)
            if trained_texts is not None:
                digests = fingerprint(trained_texts)
                (tmp / TRAINED_TEXTS).write_bytes(digests)
                info.extra["trained_texts"] = {"file": TRAINED_TEXTS, "count": len(digests) // _DIGEST,
                                               "sha256": hashlib.sha256(digests).hexdigest()}
            if write_files is not None:
                info.extra["reports"] = write_files(tmp)
            (tmp / META).write_text(json.dumps(info.as_dict(), indent=2, sort_keys=True))
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

    def promote(self, kind: str, version: str, *, action: str = "promote") -> None:
        """Make `version` the one in service and push it on the promotion history."""
        if not (self._version_dir(kind, version) / META).exists():
            raise NotFound(f"no {kind} model version {version!r}")
        _loadable(self, kind, version)  # never serve an artifact that cannot load
        history = self._history(kind)
        stack = self._stack(kind, history)
        if not stack or stack[-1] != version:
            stack.append(version)
        history["stack"] = stack
        history["log"].append({"at": datetime.now(UTC).isoformat(), "action": action, "version": version,
                               "previous": self.current(kind)})
        self._write_history(kind, history)
        _write_atomic(self._kind_dir(kind) / "CURRENT", version + "\n")

    def rollback(self, kind: str) -> str:
        """Serve the previously promoted version again (skipping deleted ones); returns it."""
        current = self.current(kind)
        if current is None:
            raise Conflict(f"no current {kind} model to roll back from")
        history = self._history(kind)
        stack = self._rollback_stack(kind, current, history)
        if not stack:
            raise Conflict(f"no earlier promoted {kind} model to roll back to (current: {current})")
        target = stack[-1]
        _loadable(self, kind, target)  # refuse to roll back onto a broken artifact
        history["stack"] = stack
        history["log"].append({"at": datetime.now(UTC).isoformat(), "action": "rollback", "version": target,
                               "previous": current})
        self._write_history(kind, history)
        _write_atomic(self._kind_dir(kind) / "CURRENT", target + "\n")
        return target

    def rollback_target(self, kind: str) -> str | None:
        """The version `rollback` would serve now; None when there is none (the desk names it on its button)."""
        current = self.current(kind)
        stack = self._rollback_stack(kind, current, self._history(kind)) if current is not None else []
        return stack[-1] if stack else None

    def _rollback_stack(self, kind: str, current: str, history: dict[str, Any]) -> list[str]:
        # The promotion stack without the version in service and without versions deleted since.
        stack = self._stack(kind, history)
        while stack and stack[-1] == current:
            stack.pop()
        while stack and not (self._kind_dir(kind) / stack[-1] / META).exists():
            stack.pop()
        return stack

    def history(self, kind: str) -> list[dict[str, Any]]:
        """Every promotion and rollback of this kind, oldest first."""
        return list(self._history(kind)["log"])

    def _history(self, kind: str) -> dict[str, Any]:
        path = self._kind_dir(kind) / HISTORY
        if not path.exists():
            return {"stack": [], "log": []}
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise UserError(f"{path}: unreadable promotion history ({exc}); fix or delete it") from exc
        return {"stack": list(data.get("stack", [])), "log": list(data.get("log", []))}

    def _stack(self, kind: str, history: dict[str, Any]) -> list[str]:
        # Registries written before the history existed (or edited by hand) still know CURRENT.
        stack = list(history["stack"])
        current = self.current(kind)
        if current is not None and (not stack or stack[-1] != current):
            stack.append(current)
        return stack

    def _write_history(self, kind: str, history: dict[str, Any]) -> None:
        _write_atomic(self._kind_dir(kind) / HISTORY, json.dumps(history, indent=2))

    def info(self, kind: str, version: str) -> ModelInfo:
        path = self._version_dir(kind, version) / META
        if not path.exists():
            raise NotFound(f"no {kind} model version {version!r}")
        try:
            return ModelInfo(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError) as exc:
            raise UserError(f"{kind} model {version}: unreadable {META} ({exc})") from exc

    def kind_of(self, version: str) -> str:
        """The kind a version belongs to (versions are unique across kinds)."""
        for kind in TASKS:
            if (self._version_dir(kind, version) / META).exists():
                return kind
        raise NotFound(f"no model version {version!r} (see `triage models list`)")

    def path(self, kind: str, version: str) -> Path:
        return self._version_dir(kind, version)

    def files(self, kind: str, version: str) -> list[Path]:
        """Report files stored next to the artifact (everything but the artifact, metadata and fingerprint)."""
        folder = self._version_dir(kind, version)
        return sorted(p for p in folder.iterdir()
                      if p.is_file() and p.name not in (ARTIFACT, META, TRAINED_TEXTS))

    def report_file(self, kind: str, version: str, name: str) -> Path | None:
        """One report file by its exact name as `files` lists it; None for any other name (no paths)."""
        return next((p for p in self.files(kind, version) if p.name == name), None)

    def trained_texts(self, kind: str, version: str) -> frozenset[bytes] | None:
        """Digests of the texts this version was trained on; None when unknown (saved before fingerprints)."""
        recorded = self.info(kind, version).extra.get("trained_texts")
        if not recorded:
            return None
        path = self._version_dir(kind, version) / TRAINED_TEXTS
        try:
            data = path.read_bytes()
        except OSError as exc:
            log.warning("%s model %s: cannot read %s (%s); its training texts are unknown", kind, version,
                        path, exc)
            return None
        if len(data) % _DIGEST or hashlib.sha256(data).hexdigest() != recorded.get("sha256", ""):
            log.warning("%s model %s: %s does not match its metadata; its training texts are unknown", kind,
                        version, path)
            return None
        return frozenset(data[i:i + _DIGEST] for i in range(0, len(data), _DIGEST))

    def versions(self, kind: str) -> list[ModelInfo]:
        kind_dir = self._kind_dir(kind)
        if not kind_dir.exists():
            return []
        found = [self.info(kind, p.name) for p in sorted(kind_dir.iterdir())
                 if not p.name.startswith(".") and (p / META).exists()]
        return sorted(found, key=lambda i: i.created_at)

    def load(self, kind: str, version: str | None = None) -> tuple[Any, ModelInfo]:
        """Load a version (default: the current one); ModelMissingError when none is trained.

        A missing or unreadable artifact is a UserError naming the version; nothing is changed, so
        the caller can roll back or retrain.
        """
        version = version or self.current(kind)
        if version is None:
            raise ModelMissingError(kind)
        info = self.info(kind, version)
        path = self._version_dir(kind, version) / ARTIFACT
        if not path.exists():
            raise UserError(f"{kind} model {version}: artifact {path} is missing; retrain, or run "
                            f"`triage models rollback {kind}` / `triage models promote VERSION`")
        try:
            model = joblib.load(path)
        except Exception as exc:  # unpickling a damaged file can raise almost anything
            raise UserError(f"{kind} model {version}: artifact {path} is unreadable "
                            f"({type(exc).__name__}: {exc}); retrain, or run `triage models rollback {kind}` / "
                            "`triage models promote VERSION`") from exc
        if not callable(getattr(model, "predictions", None)):
            raise UserError(f"{kind} model {version}: artifact {path} does not hold a classifier")
        from models.encoder import shared_encoder

        trained_with, serving_with = info.params.get("encoder"), shared_encoder().name
        if trained_with and trained_with != serving_with:
            # Another encoder's vectors mean nothing to this model (or do not even fit its weights).
            raise UserError(f"{kind} model {version} was trained with the encoder {trained_with!r} but this process "
                            f"uses {serving_with!r} (TRIAGE_ENCODER); retrain with it, or unset TRIAGE_ENCODER")
        return model, info

    def has_all(self) -> bool:
        return all(self.current(kind) for kind in TASKS)


def _loadable(registry: Registry, kind: str, version: str) -> None:
    """Refuse to serve a version whose artifact cannot load: a conflict with the stored state, not bad input."""
    try:
        registry.load(kind, version)
    except UserError as exc:
        raise Conflict(str(exc)) from exc


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_suite(registry: Registry):
    """The current intent, sentiment and urgency models as one ClassifierSuite."""
    from models.suite import ClassifierSuite, LoadedModel

    loaded: dict[str, LoadedModel] = {}
    for kind in TASKS:
        model, info = registry.load(kind)
        loaded[kind] = LoadedModel(model=model, version=info.version)
    return ClassifierSuite(loaded)
