"""What a running Triage process holds: settings, database, configuration, models (loaded lazily)."""

from __future__ import annotations

import logging
from functools import cached_property
from pathlib import Path

from models.suite import ClassifierSuite
from training.registry import Registry, load_suite
from triage.agents.service import sync_agents
from triage.config import Settings, TriageConfig, default_config_text, load_config
from triage.db import Database
from triage.pipeline import Pipeline, Worker

log = logging.getLogger(__name__)


class Triage:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = Database(settings)
        self.registry = Registry(settings.models_dir)

    @cached_property
    def config(self) -> TriageConfig:
        return load_config(settings=self.settings)

    @cached_property
    def suite(self) -> ClassifierSuite:
        """The current models; raises ModelMissingError with what to run when one is missing."""
        return load_suite(self.registry)

    def pipeline(self) -> Pipeline:
        return Pipeline(self.config, self.suite)

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
