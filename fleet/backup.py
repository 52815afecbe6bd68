"""Backups of the SQL database (twins, registry, votes, users, alarms, audit): nightly, the last K kept.

PostgreSQL is dumped with ``pg_dump --format=custom`` and restored with ``pg_restore``; SQLite is copied
page by page with its online backup API (``sqlite3.Connection.backup``), which gives a consistent copy
while the server keeps writing. A backup is written to ``*.partial`` and renamed when complete, so a
file with the final name is always a whole backup. See docs/backup.md for the restore procedure.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from fleet.settings import Settings
from twins.clock import Clock

log = logging.getLogger(__name__)

PREFIX = "benchfleet-"
STAMP = "%Y%m%dT%H%M%SZ"
#: pg_dump's custom format and SQLite files start with these bytes: a restore checks them first.
MAGIC = {"postgresql": b"PGDMP", "sqlite": b"SQLite format 3\x00"}


class BackupError(Exception):
    """A backup or restore failed; the message names the database and the cause."""


@dataclass(frozen=True, slots=True)
class Backend:
    """How one kind of database is backed up and restored."""

    suffix: str
    backup: Callable[[URL, Path], None]
    restore: Callable[[URL, Path], None]


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection URI without the password, and the environment carrying it (never on the command line)."""
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(argv: list[str], env: Mapping[str, str], what: str) -> None:
    """Run a PostgreSQL client program; BackupError with its stderr if it fails."""
    if shutil.which(argv[0]) is None:
        raise BackupError(f"{what}: {argv[0]} not found; install the PostgreSQL client (Debian: postgresql-client)")
    done = subprocess.run(argv, env=dict(env), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{what}: {argv[0]} exited with {done.returncode}: {done.stderr.strip()[-2000:]}")


def _pg_backup(url: URL, target: Path) -> None:
    conninfo, env = _libpq(url)
    _run(["pg_dump", "--format=custom", f"--file={target}", f"--dbname={conninfo}"], env, f"backup of {url.database}")


def _pg_create_if_missing(url: URL) -> None:
    """Create the database when it does not exist (a restore after losing it), from the maintenance database."""
    import psycopg
    from psycopg import sql

    name = str(url.database)
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if found is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                log.info("restore: created database %s", name)
    except psycopg.Error as err:
        raise BackupError(f"restore of {name}: cannot check or create the database: {err}") from err


def _pg_restore(url: URL, source: Path) -> None:
    _pg_create_if_missing(url)
    conninfo, env = _libpq(url)
    # --clean --if-exists: restoring over a database that still has tables replaces them; one transaction,
    # so a failed restore leaves the database as it was. --no-owner: the restoring user owns everything.
    argv = ["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error"]
    _run([*argv, f"--dbname={conninfo}", str(source)], env, f"restore of {url.database}")


def _sqlite_file(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("BENCHFLEET_DB: an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def _sqlite_copy(source: Path, target: Path, *, read_only: bool) -> None:
    """Copy ``source`` into ``target`` with the online backup API (a consistent snapshot of a live database)."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True) if read_only else sqlite3.connect(source)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    except sqlite3.Error as err:
        raise BackupError(f"copy of {source} to {target}: {err}") from err
    finally:
        src.close()


def _sqlite_backup(url: URL, target: Path) -> None:
    source = _sqlite_file(url)
    if not source.exists():
        raise BackupError(f"backup: database file {source} does not exist")
    _sqlite_copy(source, target, read_only=True)


def _sqlite_restore(url: URL, source: Path) -> None:
    check = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        verdict = check.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        check.close()
    if verdict != "ok":
        raise BackupError(f"restore: {source} fails SQLite's integrity check: {verdict}")
    target = _sqlite_file(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    _sqlite_copy(source, target, read_only=True)


#: Backend name (SQLAlchemy's) -> how to back it up; another database is one more row.
BACKENDS: Mapping[str, Backend] = {
    "postgresql": Backend(".dump", _pg_backup, _pg_restore),
    "sqlite": Backend(".sqlite3", _sqlite_backup, _sqlite_restore),
}


def _backend(db_url: str) -> tuple[URL, str, Backend]:
    try:
        url = make_url(db_url)
    except (ArgumentError, ValueError) as err:
        raise BackupError("BENCHFLEET_DB is not a database URL; use sqlite:///path or postgresql://...") from err
    name = url.get_backend_name()
    backend = BACKENDS.get(name)
    if backend is None:
        raise BackupError(f"BENCHFLEET_DB: cannot back up a {name!r} database; use sqlite or postgresql")
    return url, name, backend


def redacted(db_url: str) -> str:
    """The database URL without its password, for messages."""
    try:
        return make_url(db_url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # never echo a URL that may hold a password
        return "<database URL>"


def list_backups(folder: Path) -> list[Path]:
    """The complete backups in ``folder``, oldest first (their names sort by time)."""
    if not folder.is_dir():
        return []
    suffixes = {b.suffix for b in BACKENDS.values()}
    return sorted(p for p in folder.iterdir() if p.name.startswith(PREFIX) and p.suffix in suffixes and p.is_file())


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups; returns the deleted files."""
    if keep < 1:
        raise ValueError(f"keep={keep}: at least one backup must be kept")
    old = list_backups(folder)[:-keep]
    for path in old:
        path.unlink()
    return old


def backup_database(db_url: str, folder: Path, now: datetime) -> Path:
    """Back up the database of ``db_url`` into ``folder`` as ``benchfleet-<UTC time>.<suffix>``."""
    url, _name, backend = _backend(db_url)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{PREFIX}{now.strftime(STAMP)}{backend.suffix}"
    partial = final.with_name(final.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        backend.backup(url, partial)
        os.replace(partial, final)
    finally:
        partial.unlink(missing_ok=True)
    return final


def restore_database(db_url: str, source: Path) -> None:
    """Replace the content of the database of ``db_url`` with the backup ``source``."""
    url, name, backend = _backend(db_url)
    if not source.is_file():
        raise BackupError(f"restore: {source} is not a file")
    with source.open("rb") as f:
        head = f.read(16)
    if not head.startswith(MAGIC[name]):
        kinds = [k for k, magic in MAGIC.items() if head.startswith(magic)]
        found = f"a {kinds[0]} backup" if kinds else "not a backup"
        raise BackupError(f"restore: {source} is {found}, but BENCHFLEET_DB is a {name} database")
    backend.restore(url, source)


class BackupJob:
    """The nightly backup the scheduler runs: once a day after ``hour`` (UTC), keeping the newest ``keep``."""

    def __init__(self, db_url: str, folder: Path, keep: int, clock: Clock, hour: int = 2) -> None:
        """Back up ``db_url`` into ``folder``; ``run`` is cheap when today's backup exists."""
        self.db_url = db_url
        self.folder = folder
        self.keep = keep
        self._clock = clock
        self._hour = hour

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock) -> BackupJob:
        """The job of BENCHFLEET_DB, BENCHFLEET_BACKUP_DIR, BENCHFLEET_BACKUP_KEEP and BENCHFLEET_BACKUP_HOUR."""
        return cls(settings.db, settings.backup_folder, settings.backup_keep, clock, settings.backup_hour)

    def due(self) -> bool:
        """True from ``hour`` on while no backup of today (UTC) exists."""
        now = self._clock.now()
        today = f"{PREFIX}{now.strftime('%Y%m%d')}T"
        return now.hour >= self._hour and not any(p.name.startswith(today) for p in list_backups(self.folder))

    def run(self) -> Path | None:
        """Back up if due (call it as often as you like); the new file, or None when nothing was due."""
        return self.backup_now() if self.due() else None

    def backup_now(self) -> Path:
        """Back up now and prune old backups."""
        path = backup_database(self.db_url, self.folder, self._clock.now())
        removed = prune(self.folder, self.keep)
        log.info("backup: %s (%d bytes), %d old backup(s) removed", path, path.stat().st_size, len(removed))
        return path
