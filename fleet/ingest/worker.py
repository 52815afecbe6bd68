"""The ingestion worker: drain the queue in batches, run the pipeline, acknowledge what is durable.

Two stages overlap: while the writer thread makes batch k durable (an HTTP round trip to the TSDB,
during which influxd works on the other core), the worker thread already decodes batch k+1 and
commits its SQL transaction. Batches are acknowledged strictly in arrival order, only after their
transaction committed and their points are durable; their events are published after the ack.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from fleet.ingest.pipeline import IngestPipeline, PreparedBatch, RawMessage

log = logging.getLogger(__name__)
_A = TypeVar("_A")
_LINGER_STEP_S = 0.005  # how often a lingering worker looks again whether the writer is done
_R = TypeVar("_R")


class _Stopped(Exception):
    """The worker was stopped while a step was still failing."""


class IngestWorker:
    """Batches up to ``max_batch`` messages (waiting up to ``max_wait_s`` for more only while an earlier batch is
    being written); at most ``max_pending`` batches await their write."""

    def __init__(
        self,
        source_queue: queue.SimpleQueue[RawMessage],
        pipeline: IngestPipeline,
        ack: Callable[[list[RawMessage]], None],
        *,
        max_batch: int = 5000,  # a drain's batch: each bench's samples collapse into one UPDATE (1,000 cost 2x the SQL)
        max_wait_s: float = 0.01,
        max_pending: int = 2,
        retry_backoff_s: float = 0.5,
    ) -> None:
        self._queue = source_queue
        self._pipeline = pipeline
        self._ack = ack
        self._max_batch = max_batch
        self._max_wait = max_wait_s
        self._max_pending = max_pending
        self._backoff = retry_backoff_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ingest-worker", daemon=True)
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-writer")
        self._pending: deque[tuple[list[RawMessage], PreparedBatch, Future[None]]] = deque()
        self.processed = 0
        self.failed_attempts = 0

    def start(self) -> None:
        """Start the worker thread."""
        self._thread.start()

    def alive(self) -> bool:
        """Tell whether the worker thread is running."""
        return self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the batches at hand and stop."""
        self._stop.set()
        self._thread.join(timeout)
        self._writer.shutdown(wait=True)

    def _take_batch(self) -> list[RawMessage]:
        try:
            first = self._queue.get(timeout=0.2)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self._max_wait
        while len(batch) < self._max_batch:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                # Linger for more only while the writer is busy with an earlier batch (this one could not
                # be announced before it anyway): an idle pipeline takes what is there at once, so a lone
                # sample reaches the pages without waiting ``max_wait_s`` (benchmarks/live_latency.py).
                left = deadline - time.monotonic()
                if left <= 0 or not self._writing():
                    break
                try:
                    batch.append(self._queue.get(timeout=min(left, _LINGER_STEP_S)))
                except queue.Empty:
                    continue
        return batch

    def _writing(self) -> bool:
        """Whether an earlier batch is still being made durable."""
        return any(not future.done() for _batch, _prepared, future in self._pending)

    def _run(self) -> None:
        while not self._stop.is_set():
            batch = self._take_batch()
            if not batch:
                self._settle(0)
                continue
            try:
                # Decoding cannot fail for want of a store; the SQL transaction can, and is retried
                # (the database away for a while): the batch stays unacknowledged meanwhile.
                decoded = self._pipeline.decode(batch)
                prepared = self._retrying(self._pipeline.store, decoded)
            except _Stopped:
                break
            future = self._writer.submit(self._durable_then_announce, prepared)
            self._pending.append((batch, prepared, future))
            self._settle(self._max_pending - 1)
        self._settle(0)

    def _settle(self, keep: int) -> None:
        """Acknowledge finished batches in order until at most ``keep`` are still being written."""
        while self._pending and (len(self._pending) > keep or self._pending[0][2].done()):
            batch, _prepared, future = self._pending[0]
            try:
                future.result()
            except _Stopped:
                # Stopped before it was durable: never ack it (nor anything after it); the broker
                # redelivers the whole tail to the next ingester with this session.
                self._pending.clear()
                return
            self._pending.popleft()
            self._ack(batch)
            self.processed += len(batch)

    def _durable_then_announce(self, prepared: PreparedBatch) -> None:
        # On the writer thread, as soon as the points are durable: one thread, so batches are announced
        # in order. Announcing when the worker next settles instead cost live pages a whole batch
        # interval (the next batch's linger and SQL transaction; measured by benchmarks/live_latency.py).
        self._retrying(self._pipeline.commit, prepared)
        self._pipeline.announce(prepared)

    def _retrying(self, step: Callable[[_A], _R], arg: _A) -> _R:
        # The stores are down: keep the batch unacknowledged and retry; every step is idempotent
        # (votes by event id, twin sections by their conditional UPDATEs, points by series and timestamp).
        backoff = self._backoff
        while not self._stop.is_set():
            try:
                return step(arg)
            except Exception:
                self.failed_attempts += 1
                log.exception("ingestion step failed; retrying in %.1f s", backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)  # a returning store is noticed within seconds
        raise _Stopped
