"""Desired configs with versions the database allocates, and their retained publication under a per-bench lock."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Engine, func, insert, select, update

from fleet.db.schema import desired_history, twins
from fleet.state.twin_store import TwinStore
from twins.twin import Twin, VersionConflict, patch_desired

log = logging.getLogger(__name__)

_t = twins.c
#: First key of PostgreSQL's two-int advisory lock space for "publishing a bench's desired config"
#: (the two-int space never collides with single-bigint locks such as the scheduler's).
_PUBLISH_LOCK_SPACE = 0x62660001 & 0x7FFFFFFF


class DesiredBusy(Exception):
    """The desired config kept changing under a PATCH without If-Match; the caller may try again."""


class DesiredSink(Protocol):
    """Where a desired config goes (the MQTT publisher, retained); True once the broker acknowledged it."""

    def publish_desired(self, twin: Twin, at: datetime) -> bool:
        """Publish a twin's desired config and wait for the broker's acknowledgement."""
        ...


def bench_lock_key(bench_id: str) -> int:
    """A stable signed 32-bit key of a bench id (the same in every process and after restarts)."""
    return int.from_bytes(hashlib.blake2b(bench_id.encode(), digest_size=4).digest(), "big", signed=True)


class DesiredVersions:
    """Merge-patches of desired configs: the version is bumped by a conditional UPDATE, never reused."""

    def __init__(self, store: TwinStore, attempts: int = 20) -> None:
        self._store = store
        self._attempts = attempts

    def patch(self, bench_id: str, patch: Mapping[str, Any], if_match: int | None, actor: str, now: datetime) -> Twin:
        """Merge ``patch`` into the current desired config and commit it as the next version, with a
        ``desired_history`` row. Raises KeyError (unknown bench), VersionConflict (If-Match stale, or lost
        the race under If-Match), InvalidConfig, or DesiredBusy (kept losing races without If-Match)."""
        for _ in range(self._attempts):
            current = self._store.get_twin(bench_id)
            if current is None:
                raise KeyError(bench_id)
            updated = patch_desired(current, dict(patch), now, if_match)
            if self._commit(current, updated, actor, now):
                return updated
            if if_match is not None:
                latest = self._store.get_twin(bench_id)
                raise VersionConflict(if_match, latest.desired_version if latest else if_match + 1)
        raise DesiredBusy(f"desired config of {bench_id} changed {self._attempts} times during the PATCH")

    def _commit(self, current: Twin, updated: Twin, actor: str, now: datetime) -> bool:
        config = updated.desired.model_dump_json()
        with self._store.engine.begin() as conn:
            stmt = (
                update(twins)
                .where(_t.bench_id == current.bench_id, _t.desired_version == current.desired_version)
                .values(desired=config, desired_version=_t.desired_version + 1, desired_updated=now, updated_at=now)
            )
            if conn.execute(stmt).rowcount != 1:
                return False
            conn.execute(
                insert(desired_history).values(
                    bench_id=current.bench_id, version=updated.desired_version, config=config, actor=actor, at=now
                )
            )
        return True


class DesiredPublication:
    """Publishes the newest committed desired config of a bench, one publisher at a time per bench.

    Whoever holds the bench's lock re-reads the desired config and publishes it (waiting for PUBACK)
    before letting go, so the last retained message is always the newest committed version, even
    when several processes commit and publish at once.
    """

    def __init__(self, store: TwinStore, sink: DesiredSink) -> None:
        self._store = store
        self._sink = sink
        self._postgres = store.engine.dialect.name == "postgresql"
        # SQLite is the single-process demo: a process-local lock is the whole story there.
        self._local = threading.Lock()

    def publish_latest(self, bench_id: str, at: datetime) -> bool:
        """Publish the bench's committed desired config; False if the broker did not acknowledge it."""
        if not self._postgres:
            with self._local:
                twin = self._store.get_twin(bench_id)
                return twin is not None and self._send(twin, at)
        engine: Engine = self._store.engine
        with engine.begin() as conn:
            # Transaction-scoped: released at commit, or when the connection dies with this process.
            conn.execute(select(func.pg_advisory_xact_lock(_PUBLISH_LOCK_SPACE, bench_lock_key(bench_id))))
            twin = self._store.get_twin(bench_id, conn)
            return twin is not None and self._send(twin, at)

    def _send(self, twin: Twin, at: datetime) -> bool:
        ok = self._sink.publish_desired(twin, at)
        if not ok:
            log.info("desired v%d of %s not acknowledged yet (sent on reconnect)", twin.desired_version, twin.bench_id)
        return ok
