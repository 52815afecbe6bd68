"""Writers in front of a TimeSeriesStore: nothing lost while the TSDB is down, memory bounded.

SpoolingWriter.write returns once the points are durable: accepted by the store, or appended and
fsynced to the disk spool. While the spool holds anything, new points queue behind it, and a
background thread replays it oldest first with exponential backoff.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

from fleet.tsdb.base import TimeSeriesStore, TsdbRejected, TsdbUnavailable
from fleet.tsdb.line_protocol import EncodedBatch
from fleet.tsdb.spool import Chunk, Spool
from twins.clock import Clock, SystemClock
from twins.series import SeriesPoint

log = logging.getLogger(__name__)


@dataclass(slots=True)
class WriterStats:
    """Counters for /metrics (points, except ``failures`` which counts failed store attempts).

    A batch the store refuses counts whole in ``rejected`` even though InfluxDB (and the SQLite store)
    keep its valid points ("partial write"): the counter says how much data was affected.
    """

    written: int = 0
    spooled: int = 0
    replayed: int = 0
    rejected: int = 0
    damaged: int = 0
    failures: int = 0

    def snapshot(self) -> dict[str, int]:
        """A copy of the counters by name."""
        return asdict(self)


def backoff_delay(attempt: int, initial_s: float, max_s: float) -> float:
    """Seconds to wait after the ``attempt``-th consecutive failure: initial_s * 2^(attempt-1), capped."""
    return float(min(max_s, initial_s * 2 ** min(max(attempt - 1, 0), 62)))


class SpoolingWriter:
    """Writes batches to a store, spooling to disk while it is unreachable and replaying in order."""

    def __init__(
        self,
        store: TimeSeriesStore,
        spool_dir: Path,
        *,
        batch_size: int = 5000,
        clock: Clock | None = None,
        max_backoff_s: float = 30.0,
        initial_backoff_s: float = 0.5,
        segment_bytes: int = 16 << 20,
        max_spool_bytes: int | None = None,
        poll_interval_s: float = 0.05,
        parallel: int = 2,
        parallel_min: int = 1000,
    ) -> None:
        """Start the replay thread; whatever an earlier run left in ``spool_dir`` is replayed first.

        ``parallel``: a direct write of at least ``parallel_min`` points goes out as that many concurrent
        requests. influxd parses one request on one core: an ingest worker's 5,000-point batch as one
        request kept influxd on one of this machine's two cores and was the drain's slowest step (measured:
        0.3-0.6 s per batch, longer than the worker's own decode and SQL)."""
        if batch_size < 1:
            raise ValueError(f"batch_size={batch_size} must be at least 1")
        self.store = store
        self.batch_size = batch_size
        self.clock: Clock = clock or SystemClock()
        self.max_backoff_s = max_backoff_s
        self.initial_backoff_s = initial_backoff_s
        self.max_spool_bytes = max_spool_bytes
        self.poll_interval_s = poll_interval_s
        self.stats = WriterStats()
        self._spool = Spool(Path(spool_dir), segment_bytes=segment_bytes)
        # _state guards spool, counters and retry state; _direct serialises direct store writes so that
        # the "spool empty?" decision and the write it leads to are one step.
        self._state = threading.Condition(threading.Lock())
        self._direct = threading.Lock()
        self._attempt = 0
        self._retry_at: datetime | None = None
        self._last_error: str | None = None
        self._closed = False
        self._parallel = max(1, parallel)
        self._parallel_min = parallel_min
        self._pool = ThreadPoolExecutor(self._parallel, "tsdb-write") if self._parallel > 1 else None
        self._thread = threading.Thread(target=self._replay_loop, name="tsdb-spool-replay", daemon=True)
        self._thread.start()

    # -- public -------------------------------------------------------------------------------
    def write(self, points: Sequence[SeriesPoint]) -> int:
        """Return once ``points`` are durable (in the store or fsynced to the spool), in batch_size slices;
        returns how many the store refused (counted in ``stats.rejected``, not durable).

        Raises TsdbUnavailable only if the store is down AND the spool cannot take the points (disk
        full, max_spool_bytes reached): the caller must then keep them (e.g. not acknowledge MQTT).
        """
        if self._closed:
            raise RuntimeError("SpoolingWriter is closed")
        size = self.batch_size
        prepared = isinstance(points, EncodedBatch)  # one body already encoded: one request
        if self._pool is not None and len(points) >= self._parallel_min and not prepared:
            size = min(size, -(-len(points) // self._parallel))
        batches = [points[i : i + size] for i in range(0, len(points), size)]
        if self._pool is None or len(batches) < 2:
            return sum(self._write_batch(batch) for batch in batches)
        return sum(self._write_batches(batches[i : i + self._parallel]) for i in range(0, len(batches), self._parallel))

    def prepare(self, points: Sequence[SeriesPoint]) -> Sequence[SeriesPoint]:
        """The points made ready for the store ahead of ``write`` (InfluxV1Store encodes their body), on
        the caller's thread; the same points for a store with nothing to prepare."""
        prepare: Callable[[Sequence[SeriesPoint]], Sequence[SeriesPoint]] | None = getattr(self.store, "prepare", None)
        if prepare is None or len(points) > self.batch_size:
            return points  # write() slices it into batches: a body for the whole would not be used
        return prepare(points)

    def pending(self) -> int:
        """Points waiting in the spool."""
        with self._state:
            return self._spool.pending

    def flush(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds (real time) for the spool to drain; True if it did."""
        with self._state:
            return self._state.wait_for(lambda: self._spool.pending == 0, timeout=timeout)

    def retry_now(self) -> None:
        """Skip the current backoff and try the store at once (e.g. when a health check sees it back)."""
        with self._state:
            self._retry_at = None
            self._state.notify_all()

    @property
    def retry_at(self) -> datetime | None:
        """When (by the writer's clock) the next replay attempt is due, or None if not backing off."""
        with self._state:
            return self._retry_at

    @property
    def last_error(self) -> str | None:
        """Message of the latest store failure (cleared once the store accepts again)."""
        with self._state:
            return self._last_error

    @property
    def spool_bytes(self) -> int:
        """Bytes waiting in the spool."""
        with self._state:
            return self._spool.bytes

    def close(self, timeout: float = 5.0) -> None:
        """Stop the replay thread (waiting up to ``timeout`` s); spooled points stay on disk for next time."""
        with self._state:
            self._closed = True
            self._state.notify_all()
        self._thread.join(timeout=timeout)
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        with self._state:
            self._spool.close()

    # -- direct path --------------------------------------------------------------------------
    def _write_batch(self, batch: Sequence[SeriesPoint]) -> int:
        """Write one batch directly if nothing is spooled, else (or on failure) spool it; returns how many
        points the store refused."""
        with self._direct:
            with self._state:
                if self._spool.pending or self._retry_at is not None:
                    self._append(batch)
                    return 0
            try:
                self.store.write(batch)
            except TsdbUnavailable as err:
                with self._state:
                    self._failed(err)
                    self._append(batch)
                return 0
            except TsdbRejected as err:
                log.warning("TSDB rejected a batch of %d points: %s", len(batch), err)
                with self._state:
                    self.stats.rejected += len(batch)
                return len(batch)
            with self._state:
                self.stats.written += len(batch)
            return 0

    def _write_batches(self, batches: list[Sequence[SeriesPoint]]) -> int:
        """``_write_batch`` for several batches at once, as concurrent requests; a batch the store could not
        take is spooled (the others are in the store: both are durable); returns how many were refused."""
        assert self._pool is not None
        with self._direct:
            with self._state:
                if self._spool.pending or self._retry_at is not None:
                    for batch in batches:
                        self._append(batch)
                    return 0
            futures = [self._pool.submit(self.store.write, batch) for batch in batches]
            refused = 0
            for batch, future in zip(batches, futures, strict=True):
                try:
                    future.result()
                except TsdbUnavailable as err:
                    with self._state:
                        self._failed(err)
                        self._append(batch)
                    continue
                except TsdbRejected as err:
                    log.warning("TSDB rejected a batch of %d points: %s", len(batch), err)
                    with self._state:
                        self.stats.rejected += len(batch)
                    refused += len(batch)
                    continue
                with self._state:
                    self.stats.written += len(batch)
            return refused

    def _append(self, batch: Sequence[SeriesPoint]) -> None:
        """Put a batch on the spool (caller holds _state)."""
        if self.max_spool_bytes is not None and self._spool.bytes >= self.max_spool_bytes:
            raise TsdbUnavailable(
                f"TSDB unreachable ({self._last_error}) and the spool is full "
                f"({self._spool.bytes} bytes >= max_spool_bytes={self.max_spool_bytes})"
            )
        try:
            self._spool.append(batch)
        except OSError as err:
            raise TsdbUnavailable(f"TSDB unreachable ({self._last_error}) and spool not writable: {err}") from err
        self.stats.spooled += len(batch)
        self._state.notify_all()

    def _failed(self, err: TsdbUnavailable) -> None:
        """Record a failed attempt and schedule the next one (caller holds _state)."""
        self._attempt += 1
        self.stats.failures += 1
        delay = backoff_delay(self._attempt, self.initial_backoff_s, self.max_backoff_s)
        self._retry_at = self.clock.now() + timedelta(seconds=delay)
        if self._last_error is None or self._attempt in (1, 5) or self._attempt % 20 == 0:
            log.warning("TSDB unavailable (attempt %d, next in %.1fs): %s", self._attempt, delay, err)
        self._last_error = str(err)

    # -- replay thread ------------------------------------------------------------------------
    def _due(self) -> bool:
        """True when there is spool to replay and the backoff has elapsed (caller holds _state)."""
        if not self._spool.pending:
            return False
        return self._retry_at is None or self.clock.now() >= self._retry_at

    def _replay_loop(self) -> None:
        """Replay the spool oldest first until closed."""
        while True:
            with self._state:
                # Re-check the (possibly manual) clock every poll interval while backing off.
                while not self._closed and not self._due():
                    self._state.wait(timeout=self.poll_interval_s)
                if self._closed:
                    return
                segment = self._spool.oldest()
            if segment is None:
                continue
            try:
                self._replay_chunk(segment)
            except Exception:
                # A bug or disk error must not kill the thread silently: log, back off, try again.
                log.exception("TSDB spool replay failed")
                with self._state:
                    self._failed(TsdbUnavailable("spool replay error"))

    def _replay_chunk(self, segment: int) -> None:
        """Send the next chunk of ``segment`` to the store and commit it unless the store is down."""
        chunk = self._spool.read(segment, self.batch_size)
        try:
            if chunk.points:
                self.store.write(chunk.points)
        except TsdbUnavailable as err:
            with self._state:
                self._failed(err)
            return
        except TsdbRejected as err:
            log.warning("TSDB rejected %d replayed points: %s", len(chunk.points), err)
            with self._state:
                self.stats.rejected += len(chunk.points)
                self._commit(chunk)
            return
        with self._state:
            self.stats.replayed += len(chunk.points)
            self._commit(chunk)

    def _commit(self, chunk: Chunk) -> None:
        """Advance the spool past an accepted chunk and reset the backoff (caller holds _state)."""
        self._spool.commit(chunk)
        self.stats.damaged += chunk.damaged
        self._attempt = 0
        self._retry_at = None
        self._last_error = None
        self._state.notify_all()
