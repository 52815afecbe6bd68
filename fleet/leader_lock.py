"""Locks that at most one process holds at a time, and that its death releases (the scheduler's leadership).

PostgreSQL: a session advisory lock on a connection of its own; PostgreSQL drops it when that session
ends, however the holder died. SQLite (one machine): an ``flock`` on a file in the data folder, which
the kernel drops when the holder's process dies.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from pathlib import Path
from typing import Any, Protocol

import psycopg
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

#: The advisory lock key of the scheduler (any fixed 64-bit number; "benchfleet" in ASCII, shortened).
SCHEDULER_LOCK_KEY = 0x62656E6368666C


class LeaderLock(Protocol):
    """A lock held by at most one process."""

    def try_acquire(self) -> bool:
        """Take the lock if free (never waits); True when this process holds it now."""
        ...

    def still_held(self) -> bool:
        """Tell whether this process still holds the lock (False after a lost connection)."""
        ...

    def release(self) -> None:
        """Give the lock up (idempotent)."""
        ...

    def describe(self) -> str:
        """Where the lock lives, for logs."""
        ...


class PgAdvisoryLock:
    """A PostgreSQL session advisory lock on a dedicated autocommit connection."""

    def __init__(self, db_url: str, key: int = SCHEDULER_LOCK_KEY, connect_timeout_s: int = 5) -> None:
        url = make_url(db_url)
        self._conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._where = url.set(drivername="postgresql").render_as_string(hide_password=True)
        self._key = key
        self._timeout = connect_timeout_s
        self._conn: psycopg.Connection[Any] | None = None

    def try_acquire(self) -> bool:
        """``pg_try_advisory_lock`` on the lock's own connection (opened on first use, again after a loss)."""
        try:
            if self._conn is None or self._conn.closed:
                self._conn = psycopg.connect(self._conninfo, autocommit=True, connect_timeout=self._timeout)
            row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (self._key,)).fetchone()
        except psycopg.Error as err:
            log.debug("advisory lock on %s not taken: %s", self._where, err)
            self._drop()
            return False
        # Not ours: the connection stays open for the next try (one connect per process, not one per try).
        return bool(row is not None and row[0])

    def still_held(self) -> bool:
        """Ask PostgreSQL whether this session holds the lock (False if the connection broke)."""
        if self._conn is None or self._conn.closed:
            return False
        try:
            row = self._conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND pid = pg_backend_pid() AND ((classid::bigint << 32) | objid::bigint) = %s",
                (self._key,),
            ).fetchone()
        except psycopg.Error as err:
            log.warning("lost the connection holding the scheduler lock on %s: %s", self._where, err)
            self._drop()
            return False
        return row is not None and row[0] > 0

    def release(self) -> None:
        """Unlock and close the connection (closing alone would release it too)."""
        if self._conn is not None and not self._conn.closed:
            with contextlib.suppress(psycopg.Error):
                self._conn.execute("SELECT pg_advisory_unlock(%s)", (self._key,))
        self._drop()

    def describe(self) -> str:
        """The database, without its password."""
        return f"advisory lock {self._key} on {self._where}"

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
        self._conn = None


class FileLeaderLock:
    """An exclusive ``flock`` on a file (one machine: the SQLite demo and small sites)."""

    def __init__(self, path: Path) -> None:
        self._path = Path(path)
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        """Take the flock without waiting."""
        if self._fd is not None:
            return True
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())  # for an operator wondering who leads
        self._fd = fd
        return True

    def still_held(self) -> bool:
        """An flock lasts as long as its descriptor."""
        return self._fd is not None

    def release(self) -> None:
        """Close the descriptor (which unlocks)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def describe(self) -> str:
        """The lock file."""
        return f"file lock {self._path}"


def leader_lock_for(db_url: str, data_dir: Path) -> LeaderLock:
    """The scheduler lock that fits the database: advisory lock on PostgreSQL, file lock otherwise."""
    if make_url(db_url).get_backend_name() == "postgresql":
        return PgAdvisoryLock(db_url)
    return FileLeaderLock(Path(data_dir) / "scheduler.lock")
