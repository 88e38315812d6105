"""What a running Triage process holds: settings, database, configuration, models (loaded lazily)."""

from __future__ import annotations

import logging
import threading
import weakref
from functools import cached_property
from pathlib import Path

from models.suite import ClassifierSuite
from training.registry import Registry, load_suite
from triage.agents.service import sync_agents
from triage.config import Settings, TriageConfig, default_config_text, load_config
from triage.db import Database
from triage.flows.processing import Pipeline, Worker

log = logging.getLogger(__name__)


class Triage:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = Database(settings)
        self.registry = Registry(settings.models_dir)
        self._models_lock = threading.Lock()
        self._pipelines: list[weakref.ref[Pipeline]] = []

    @cached_property
    def config(self) -> TriageConfig:
        return load_config(settings=self.settings)

    @cached_property
    def suite(self) -> ClassifierSuite:
        """The current models; raises ModelMissingError with what to run when one is missing."""
        return load_suite(self.registry)

    def pipeline(self) -> Pipeline:
        pipeline = Pipeline(self.config, self.suite)
        with self._models_lock:
            self._pipelines = [ref for ref in self._pipelines if ref() is not None] + [weakref.ref(pipeline)]
        return pipeline

    def reload_models(self) -> ClassifierSuite:
        """Load the current models and swap them in for new work (after a promotion or a rollback).

        The new suite is loaded completely before anything changes, so a broken artifact leaves the old
        models serving; a classification already under way finishes with the suite it started with.
        """
        with self._models_lock:
            suite = load_suite(self.registry)
            self.__dict__["suite"] = suite  # replaces the cached_property value in one assignment
            for ref in self._pipelines:
                pipeline = ref()
                if pipeline is not None:
                    pipeline.suite = suite
        log.info("models reloaded: %s", ", ".join(f"{k} {v}" for k, v in suite.versions().items()))
        return suite

    def refresh_models(self) -> bool:
        """Reload when the registry serves other versions than this process (promoted elsewhere); True if it did.

        Models that were never loaded here are left to load lazily.
        """
        loaded = self.__dict__.get("suite")
        if loaded is None:
            return False
        wanted = {kind: self.registry.current(kind) for kind in loaded.versions()}
        if wanted == loaded.versions():
            return False
        self.reload_models()
        return True

    def worker(self, name: str | None = None) -> Worker:
        return Worker(self.db, self.pipeline(), name)

    def write_default_config(self, *, overwrite: bool = False) -> Path | None:
        """Write the commented default triage.toml unless one exists; returns the path written."""
        path = self.settings.config_path
        if path.exists() and not overwrite:
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(default_config_text(), encoding="utf-8")
        return path

    def sync_agents(self) -> dict[str, int]:
        with self.db.transaction() as session:
            return sync_agents(self.config, session=session)
