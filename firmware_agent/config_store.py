"""Where the last applied configuration is kept, so a reboot without network restores it."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from twins.config import BenchConfig

from .outbox.sqlite import AgentDatabase


@dataclass(frozen=True, slots=True)
class AppliedConfig:
    """A configuration in force on the bench and the desired version it came from (0 = factory default)."""

    version: int
    config: BenchConfig


class ConfigStore(Protocol):
    """Durable storage of the applied configuration."""

    def load(self) -> AppliedConfig | None:
        """The stored configuration, or None if there is none (or it is unreadable)."""
        ...

    def save(self, applied: AppliedConfig) -> None:
        """Store durably; raise OSError if that is impossible."""
        ...


def _dump(applied: AppliedConfig) -> str:
    return json.dumps({"version": applied.version, "config": applied.config.model_dump(mode="json")})


def _parse(text: str) -> AppliedConfig:
    doc = json.loads(text)
    return AppliedConfig(int(doc["version"]), BenchConfig.model_validate_json(json.dumps(doc["config"])))


class FileConfigStore:
    """A JSON file replaced atomically (write, fsync, rename, fsync the folder)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> AppliedConfig | None:
        """Read the file; a missing or corrupt file means "no stored config"."""
        try:
            return _parse(self.path.read_text())
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, applied: AppliedConfig) -> None:
        """Write the file so that a power cut leaves either the old or the new version."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("w") as fh:
            fh.write(_dump(applied))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
        fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class DbConfigStore:
    """The applied config of one bench in a shared ``AgentDatabase`` (simulated fleets)."""

    KEY = "applied_config"

    def __init__(self, db: AgentDatabase, bench_id: str) -> None:
        self.db = db
        self.bench_id = bench_id

    def load(self) -> AppliedConfig | None:
        """Read the stored config."""
        text = self.db.get_state(self.bench_id, self.KEY)
        try:
            return _parse(text) if text is not None else None
        except (ValueError, KeyError, TypeError):
            return None

    def save(self, applied: AppliedConfig) -> None:
        """Store the config in the database."""
        self.db.set_state(self.bench_id, self.KEY, _dump(applied))
