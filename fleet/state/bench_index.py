"""Which bench ids are registered and their municipality, for ingestion (points are tagged with it)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from fleet.state.twin_store import TwinStore


class BenchIndex:
    """bench id → municipality, read from the registry; unknown ids are looked up again in SQL, and the
    whole map is re-read every ``refresh_s`` (a bench moved by ``benches import`` is picked up)."""

    def __init__(
        self, store: TwinStore, refresh_s: float = 30.0, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._store = store
        self._refresh = refresh_s
        self._monotonic = monotonic
        self._map: dict[str, str] = {}
        self._loaded_at = float("-inf")
        self._lock = threading.Lock()

    def lookup(self, bench_ids: Iterable[str]) -> dict[str, str]:
        """Municipality of each registered bench among ``bench_ids`` (unregistered ones are left out)."""
        wanted = set(bench_ids)
        with self._lock:
            if self._monotonic() - self._loaded_at >= self._refresh:
                self._map = self._store.municipalities()
                self._loaded_at = self._monotonic()
            missing = wanted - self._map.keys()
            if missing:
                self._map.update(self._store.municipalities(missing))
            return {b: self._map[b] for b in wanted if b in self._map}

    def add(self, bench_id: str, municipality: str) -> None:
        """Remember a bench registered by this process."""
        with self._lock:
            self._map[bench_id] = municipality
