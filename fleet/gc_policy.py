"""The cyclic garbage collector on a timer instead of an allocation count, for the long-running processes.

Nearly everything ingestion allocates is freed by reference counting the moment a batch is done; the
cyclic collector only finds the rare cycle. Triggered by allocation counts it still walked, over and
over, whatever was alive meanwhile: the batch in hand and the broker's in-flight window waiting in the
source queue (up to 20,000 messages). One worker drained a 30,000-message backlog at ~5,100 msg/s with
the collector on allocation counts (thresholds 50,000/20/100) and ~8,000 msg/s with it on a timer
(benchmarks/ingest_throughput.py, docs/performance.md). On a timer, the young generations are collected
every ``young_every_s`` and everything every ``full_every_s``: cycles are still freed, memory stays bounded.
"""

from __future__ import annotations

import gc
import logging
import threading
import time

log = logging.getLogger(__name__)

#: How often young objects are collected. Each collection walks whatever is alive at that moment (a drain's
#: batch in hand and the in-flight window: ~200,000 objects, tens of ms); every second that was 10 % of a
#: worker's samples (py-spy). Cycles are rare: they wait a few seconds longer.
YOUNG_EVERY_S = 10.0
#: How often the whole heap is (what was loaded at start-up is frozen out of sight first).
FULL_EVERY_S = 600.0

_lock = threading.Lock()
_collector: TimedCollector | None = None


class TimedCollector:
    """A daemon thread collecting young generations every ``young_every_s`` and all every ``full_every_s``."""

    def __init__(self, young_every_s: float = YOUNG_EVERY_S, full_every_s: float = FULL_EVERY_S) -> None:
        self._young = young_every_s
        self._full = full_every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gc-timer", daemon=True)
        self.collections = 0

    def start(self) -> None:
        """Start collecting on the timer."""
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread (the caller decides whether allocation-count collection comes back)."""
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        last_full = time.monotonic()
        while not self._stop.wait(self._young):
            now = time.monotonic()
            generation = 2 if now - last_full >= self._full else 1
            if generation == 2:
                last_full = now
            try:
                gc.collect(generation)
            except Exception:  # a finalizer that raises must not end collection for the process
                log.exception("garbage collection failed")
            self.collections += 1


def tune_gc() -> None:
    """Freeze what is loaded so far out of the collector's sight and collect on a timer from now on.

    Idempotent per process: several runtimes in one process (tests) share one timer.
    """
    global _collector
    with _lock:
        gc.collect()
        gc.freeze()
        gc.disable()
        if _collector is None:
            _collector = TimedCollector()
            _collector.start()
