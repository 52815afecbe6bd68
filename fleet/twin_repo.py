"""The live twins of a process: an in-memory map guarded by a lock, persisted in batches to SQL."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import datetime

from fleet.db.store import SqlStore
from fleet.registry import BenchRecord
from twins.twin import Attributes, Twin, new_twin

UNASSIGNED = "Unassigned"


class TwinRepository:
    """Every twin of the fleet, keyed by bench id; the SQL store is the durable copy."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store
        self._lock = threading.RLock()
        self._twins: dict[str, Twin] = {}
        self._dirty: set[str] = set()

    def load(self) -> int:
        """Load registry and twins from SQL; counted votes are re-read from the vote table (the authority)."""
        records = self._store.list_benches()
        stored = {t.bench_id: t for t in self._store.load_twins()}
        counted = self._store.counted_votes_by_bench()
        with self._lock:
            for rec in records:
                twin = stored.get(rec.bench_id) or new_twin(rec.bench_id, rec.attributes)
                update: dict[str, object] = {"attributes": rec.attributes}
                if twin.counted_votes != counted.get(rec.bench_id, {}):
                    update["counted_votes"] = counted.get(rec.bench_id, {})
                self._twins[rec.bench_id] = twin.model_copy(update=update)
        return len(records)

    def register(self, records: Iterable[BenchRecord], now: datetime) -> int:
        """Add or update benches in the registry and their twins' attributes."""
        records = list(records)
        self._store.upsert_benches(records, now)
        with self._lock:
            for rec in records:
                held = self._twins.get(rec.bench_id)
                twin = (
                    held.model_copy(update={"attributes": rec.attributes})
                    if held
                    else new_twin(rec.bench_id, rec.attributes)
                )
                self._twins[rec.bench_id] = twin
                self._dirty.add(rec.bench_id)
        return len(records)

    def auto_register(self, bench_id: str, now: datetime) -> Twin:
        """Register an unknown bench that spoke first (BENCHFLEET_AUTO_REGISTER=1)."""
        attrs = Attributes(name=bench_id, municipality=UNASSIGNED, lat=0.0, lon=0.0)
        self.register([BenchRecord(bench_id, attrs)], now)
        return self._twins[bench_id]

    def get(self, bench_id: str) -> Twin | None:
        """The twin of a bench, or None."""
        return self._twins.get(bench_id)

    def all(self) -> list[Twin]:
        """Every twin, ordered by bench id."""
        with self._lock:
            return [self._twins[k] for k in sorted(self._twins)]

    def __len__(self) -> int:
        return len(self._twins)

    def put(self, twin: Twin) -> None:
        """Replace a twin (the caller holds the lock via ``update`` or owns the bench)."""
        with self._lock:
            self._twins[twin.bench_id] = twin
            self._dirty.add(twin.bench_id)

    def update(self, bench_id: str, fn: Callable[[Twin], Twin]) -> Twin:
        """Read-modify-write one twin atomically; raises KeyError for an unknown bench."""
        with self._lock:
            twin = fn(self._twins[bench_id])
            self._twins[bench_id] = twin
            self._dirty.add(bench_id)
            return twin

    def flush(self, now: datetime) -> int:
        """Write changed twins to SQL; returns how many were written."""
        with self._lock:
            dirty = [self._twins[b] for b in self._dirty if b in self._twins]
            self._dirty = set()
        try:
            return self._store.save_twins(dirty, now)
        except Exception:
            with self._lock:  # keep them dirty so the next flush retries
                self._dirty.update(t.bench_id for t in dirty)
            raise
