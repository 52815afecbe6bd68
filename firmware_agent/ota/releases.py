"""Installed versions on disk: ``releases/<version>/``, an atomically switched ``current`` link, and the
``pending.json`` marker of a version on trial (confirmed once it reaches the broker, else rolled back).
"""

from __future__ import annotations

import io
import json
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Trial:
    """A freshly switched version awaiting confirmation, and the one to return to."""

    version: str
    previous: str | None
    starts: int


class ReleaseStore:
    """The release folders under ``root`` (the agent's data folder)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.releases = root / "releases"
        self.current_link = root / "current"
        self.marker = root / "pending.json"
        self.history = root / "last_update.json"

    def current_version(self) -> str | None:
        """The version ``current`` points to, if any."""
        try:
            return Path(os.readlink(self.current_link)).name
        except OSError:
            return None

    def release_dir(self, version: str) -> Path:
        """Folder of one version."""
        if "/" in version or version in (".", ".."):
            raise ValueError(f"invalid release version {version!r}")
        return self.releases / version

    def stage(self, version: str, artifact: bytes, filename: str) -> Path:
        """Unpack a tarball (or store another file as it is) into ``releases/<version>/``."""
        target = self.release_dir(version)
        staging = target.with_name(f".{version}.staging")
        if staging.exists():
            _remove_tree(staging)
        staging.mkdir(parents=True)
        if tarfile.is_tarfile(io.BytesIO(artifact)):
            with tarfile.open(fileobj=io.BytesIO(artifact)) as tar:
                # The "data" filter refuses absolute paths, links out of the tree and device files.
                tar.extractall(staging, filter="data")
        else:
            (staging / (Path(filename).name or "artifact")).write_bytes(artifact)
        if target.exists():
            _remove_tree(target)
        os.replace(staging, target)
        return target

    def switch(self, version: str) -> None:
        """Point ``current`` at ``version`` atomically (a new link renamed over the old one)."""
        target = self.release_dir(version)
        if not target.is_dir():
            raise FileNotFoundError(f"release {version} is not staged")
        tmp = self.root / ".current.tmp"
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        os.symlink(Path("releases") / version, tmp)
        os.replace(tmp, self.current_link)
        _fsync_dir(self.root)

    def begin_trial(self, version: str, previous: str | None) -> None:
        """Record that ``version`` must prove itself, then switch to it."""
        _write_json(self.marker, {"version": version, "previous": previous, "starts": 0})
        self.switch(version)

    def trial(self) -> Trial | None:
        """The version on trial, if any."""
        try:
            doc = json.loads(self.marker.read_text())
            return Trial(str(doc["version"]), doc.get("previous"), int(doc.get("starts", 0)))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def count_start(self) -> Trial | None:
        """Count one start of the version on trial and return the updated trial."""
        trial = self.trial()
        if trial is None:
            return None
        trial = Trial(trial.version, trial.previous, trial.starts + 1)
        _write_json(self.marker, {"version": trial.version, "previous": trial.previous, "starts": trial.starts})
        return trial

    def confirm(self) -> None:
        """The version on trial works: keep it, and remember what it replaced."""
        trial = self.trial()
        if trial is not None:
            _write_json(self.history, {"version": trial.version, "previous": trial.previous})
        self.marker.unlink(missing_ok=True)
        _fsync_dir(self.root)

    def previous_of(self, version: str) -> str | None:
        """The version that ``version`` replaced in its confirmed update, if known."""
        try:
            doc = json.loads(self.history.read_text())
        except (OSError, ValueError):
            return None
        return doc.get("previous") if isinstance(doc, dict) and doc.get("version") == version else None

    def roll_back(self) -> str | None:
        """Switch back to the previous version and end the trial; returns the version now current."""
        trial = self.trial()
        if trial is not None:
            if trial.previous is not None and self.release_dir(trial.previous).is_dir():
                self.switch(trial.previous)
            else:
                # The previous version was the factory install (no release folder): drop the link.
                self.current_link.unlink(missing_ok=True)
        self.marker.unlink(missing_ok=True)
        _fsync_dir(self.root)
        return self.current_version()


def _write_json(path: Path, doc: object) -> None:
    tmp = path.with_suffix(".tmp")
    with tmp.open("w") as fh:
        json.dump(doc, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path)
