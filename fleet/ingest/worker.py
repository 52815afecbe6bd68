"""The ingestion worker thread: drain the queue in batches, run the pipeline, then acknowledge."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

from fleet.ingest.pipeline import IngestPipeline, RawMessage

log = logging.getLogger(__name__)


class IngestWorker:
    """One thread; batches up to ``max_batch`` messages or ``max_wait_s``, whichever comes first."""

    def __init__(
        self,
        source_queue: queue.Queue[RawMessage],
        pipeline: IngestPipeline,
        ack: Callable[[list[RawMessage]], None],
        *,
        max_batch: int = 1000,
        max_wait_s: float = 0.05,
        retry_backoff_s: float = 0.5,
    ) -> None:
        self._queue = source_queue
        self._pipeline = pipeline
        self._ack = ack
        self._max_batch = max_batch
        self._max_wait = max_wait_s
        self._backoff = retry_backoff_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ingest-worker", daemon=True)
        self.processed = 0

    def start(self) -> None:
        """Start the worker thread."""
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the batch at hand, flush twins and stop."""
        self._stop.set()
        self._thread.join(timeout)
        self._pipeline.flush_twins()

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
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    batch.append(self._queue.get(timeout=left))
                except queue.Empty:
                    break
        return batch

    def _run(self) -> None:
        while not self._stop.is_set():
            batch = self._take_batch()
            if not batch:
                self._idle()
                continue
            backoff = self._backoff
            while not self._stop.is_set():
                try:
                    self._pipeline.handle(batch)
                    break
                except Exception:
                    # The stores are down: keep the batch unacknowledged and retry; the pipeline's
                    # steps are idempotent (votes by id, twins by ts/seq, points by timestamp).
                    log.exception("ingestion batch failed; retrying in %.1f s", backoff)
                    self._stop.wait(backoff)
                    backoff = min(backoff * 2, 30.0)
            else:
                return
            self._ack(batch)
            self.processed += len(batch)

    def _idle(self) -> None:
        try:
            self._pipeline.flush_twins()
        except Exception:
            log.exception("twin flush failed; will retry")
