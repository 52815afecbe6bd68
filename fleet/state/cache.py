"""A process's read copy of every twin: refreshed by change events and a periodic full reload, never the authority."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from fleet.events import FleetEvent, TwinChanged, TwinsMoved
from fleet.state.twin_store import TwinStore
from twins.twin import Twin

log = logging.getLogger(__name__)


def _dominates(new: Twin, held: Twin) -> bool:
    a, b = new.versions(), held.versions()
    return all(a[k] >= b[k] for k in a)


class TwinCache:
    """Twins for the fleet list and the health sweep; subscribe ``on_event`` to the EventBus.

    ``TwinsMoved`` (ingestion's notification) is turned into a ``TwinChanged`` per twin read from SQL and
    handed to ``notify`` (the bus's ``inject``: every listener but the relay) for a process whose pages
    show twins live. Without ``notify`` (an ingest worker) the moved twins are only marked, and read when
    the cache is next asked (the scheduler's health sweep): nothing is read that nobody looks at.
    """

    def __init__(
        self, store: TwinStore, reload_every_s: float = 60.0, notify: Callable[[FleetEvent], None] | None = None
    ) -> None:
        self._store = store
        self._every = reload_every_s
        self._notify = notify
        self._lock = threading.Lock()
        self._twins: dict[str, Twin] = {}
        self._dirty: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def reload(self) -> int:
        """Replace the copy with every twin as committed now; returns how many there are."""
        with self._lock:
            self._dirty.clear()  # marked before this read: the read has them
        fresh = {t.bench_id: t for t in self._store.list_twins()}
        with self._lock:
            self._twins = fresh
        return len(fresh)

    def on_event(self, event: FleetEvent) -> None:
        """Take a changed twin; when it is not newer in every section (events from several processes
        can cross), read that bench from SQL instead. Moved twins are read (or marked, see the class)."""
        if isinstance(event, TwinsMoved):
            self._moved(event)
            return
        if not isinstance(event, TwinChanged):
            return
        twin = event.twin
        with self._lock:
            held = self._twins.get(twin.bench_id)
            if held is None or _dominates(twin, held):
                self._twins[twin.bench_id] = twin
                return
        self.refresh(twin.bench_id)

    def _moved(self, event: TwinsMoved) -> None:
        ids = [bench_id for bench_id, _section in event.sections]
        if self._notify is None:
            with self._lock:
                self._dirty.update(ids)
            return
        fresh = self._store.get_twins(ids)
        with self._lock:
            self._twins.update(fresh)
        for bench_id, section in event.sections:
            twin = fresh.get(bench_id)
            if twin is not None:
                self._notify(TwinChanged(twin, section))

    def _settle(self) -> None:
        """Read the twins marked as moved (one SELECT) before answering from the copy."""
        if not self._dirty:
            return
        with self._lock:
            ids, self._dirty = sorted(self._dirty), set()
        fresh = self._store.get_twins(ids)
        with self._lock:
            self._twins.update(fresh)

    def refresh(self, bench_id: str) -> Twin | None:
        """Re-read one twin from SQL."""
        twin = self._store.get_twin(bench_id)
        with self._lock:
            if twin is None:
                self._twins.pop(bench_id, None)
            else:
                self._twins[bench_id] = twin
        return twin

    def get(self, bench_id: str) -> Twin | None:
        """The cached twin of a bench, or None."""
        self._settle()
        return self._twins.get(bench_id)

    def all(self) -> list[Twin]:
        """Every cached twin, ordered by bench id."""
        self._settle()
        with self._lock:
            return [self._twins[k] for k in sorted(self._twins)]

    def __len__(self) -> int:
        return len(self._twins)

    def start(self) -> None:
        """Reload now and then every ``reload_every_s`` (the safety net for lost events)."""
        self.reload()
        self._thread = threading.Thread(target=self._run, name="twin-cache-reload", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the periodic reload."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            try:
                self.reload()
            except Exception:  # the database may be away for a while; the next round retries
                log.exception("reloading the twin cache failed")
