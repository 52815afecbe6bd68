"""The ingestion pipeline: decode, validate, check the bench, update twins, store, notify."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from fleet.db.store import SqlStore, VoteRow
from fleet.events import ConfigStatusChanged, FleetEvent, Listener, TwinChanged, VoteCounted
from fleet.ingest.metrics import IngestMetrics
from fleet.twin_repo import TwinRepository
from twins.clock import Clock
from twins.codec import Decoded, Rejected, RejectReason, check_not_future, decode
from twins.messages import BenchEvent, Reported, Status, Telemetry, VoteEvent
from twins.series import SeriesPoint, telemetry_points, vote_point
from twins.topics import INBOUND_KINDS, ROOT, TopicKind
from twins.twin import Twin, apply_activity, apply_reported, apply_status, apply_telemetry, count_vote

log = logging.getLogger(__name__)


class PointSink(Protocol):
    """Where points go; ``write`` returns once they are durable (TSDB or disk spool)."""

    def write(self, points: Sequence[SeriesPoint]) -> None:
        """Write points durably."""
        ...


@dataclass(frozen=True, slots=True)
class RawMessage:
    """One MQTT message as it came off the wire."""

    topic: str
    payload: bytes
    mid: int = 0
    qos: int = 1
    retain: bool = False


@dataclass(frozen=True, slots=True)
class PreparedBatch:
    """A processed batch whose points still have to be made durable."""

    points: list[SeriesPoint]
    cpu_seconds: float


@dataclass
class _Batch:
    now: datetime
    points: list[SeriesPoint] = field(default_factory=list)
    votes: list[VoteRow] = field(default_factory=list)
    changed: dict[str, str] = field(default_factory=dict)
    events: list[FleetEvent] = field(default_factory=list)


class RejectLog:
    """Logs each rejected message at WARNING, but at most once per (bench, reason) per interval."""

    def __init__(self, interval_s: float = 10.0, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._interval = interval_s
        self._monotonic = monotonic
        self._last: dict[tuple[str, str], tuple[float, int]] = {}

    def log(self, bench: str, reason: str, detail: str) -> None:
        """Log one rejection (or count it as suppressed)."""
        key = (bench, reason)
        now = self._monotonic()
        last, suppressed = self._last.get(key, (float("-inf"), 0))
        if now - last < self._interval:
            self._last[key] = (last, suppressed + 1)
            return
        if len(self._last) > 10_000:  # garbage with random topics must not grow this forever
            self._last.clear()
        self._last[key] = (now, 0)
        more = f" (+{suppressed} similar suppressed)" if suppressed else ""
        # %r: the bench part comes from the topic, which a broken client can fill with newlines.
        log.warning("rejected message from bench %r: %s: %s%s", bench, reason, detail, more)


_KIND_LABELS = frozenset(k.value for k in TopicKind)


def _kind_label(topic: str) -> str:
    # Cheaper than parse_topic (which decode runs anyway); only the label is needed here.
    parts = topic.split("/")
    return parts[2] if len(parts) == 3 and parts[0] == ROOT and parts[2] in _KIND_LABELS else "unknown"


def _bench_of(topic: str) -> str:
    parts = topic.split("/")
    return parts[1][:64] if len(parts) >= 2 and parts[1] else "?"


class IngestPipeline:
    """Turns batches of raw messages into twin updates, stored points and counted votes."""

    def __init__(
        self,
        repo: TwinRepository,
        store: SqlStore,
        sink: PointSink,
        metrics: IngestMetrics,
        clock: Clock,
        *,
        auto_register: bool = False,
        twin_flush_interval_s: float = 1.0,
    ) -> None:
        self._repo = repo
        self._store = store
        self._sink = sink
        self._metrics = metrics
        self._clock = clock
        self._auto_register = auto_register
        self._listeners: list[Listener] = []
        self._in_counters: dict[str, Any] = {}
        self._reject_log = RejectLog()
        self._flush_interval = twin_flush_interval_s
        self._last_flush = time.monotonic()
        self._handlers: dict[TopicKind, Callable[[Twin, Decoded, _Batch], Twin]] = {
            TopicKind.TELEMETRY: self._on_telemetry,
            TopicKind.EVENTS: self._on_event,
            TopicKind.REPORTED: self._on_reported,
            TopicKind.STATUS: self._on_status,
        }

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener`` with every event this pipeline produces."""
        self._listeners.append(listener)

    # --- one batch --------------------------------------------------------------------------------

    def handle(self, messages: Sequence[RawMessage]) -> None:
        """Process a batch; returns when everything in it is durable (then its messages may be acked)."""
        self.commit(self.prepare(messages))

    def prepare(self, messages: Sequence[RawMessage]) -> PreparedBatch:
        """Decode, validate, update twins, count votes (SQL) and build the batch's points (CPU-bound part)."""
        started = time.perf_counter()
        batch = _Batch(now=self._clock.now())
        for msg in messages:
            self._one(msg, batch)
        self._count_votes(batch)
        self._notify(batch)
        return PreparedBatch(batch.points, time.perf_counter() - started)

    def commit(self, prepared: PreparedBatch) -> None:
        """Make the batch's points durable (TSDB or spool) and persist twins when due (I/O-bound part)."""
        started = time.perf_counter()
        if prepared.points:
            self._sink.write(prepared.points)
            self._metrics.points_written.inc(len(prepared.points))
        if time.monotonic() - self._last_flush >= self._flush_interval:
            self.flush_twins()
        self._metrics.batch_seconds.observe(prepared.cpu_seconds + time.perf_counter() - started)

    def flush_twins(self) -> int:
        """Persist changed twins now."""
        self._last_flush = time.monotonic()
        written = self._repo.flush(self._clock.now())
        self._metrics.twins_saved.inc(written)
        return written

    def _one(self, msg: RawMessage, batch: _Batch) -> None:
        # Count every message before anything can reject it, so messages_in = accepted + rejected.
        label = _kind_label(msg.topic)
        counter = self._in_counters.get(label)
        if counter is None:  # labels() costs a lock and a tuple hash: look each child up once
            counter = self._in_counters[label] = self._metrics.messages_in.labels(label)
        counter.inc()
        try:
            decoded = decode(msg.topic, msg.payload)
            check_not_future(decoded.message, batch.now)
            kind = decoded.topic.kind
            if kind not in INBOUND_KINDS:
                raise Rejected(RejectReason.WRONG_DIRECTION, f"{kind.value} is published by the fleet, not benches")
            bench_id = decoded.topic.bench_id
            twin = self._repo.get(bench_id)
            if twin is None:
                if not self._auto_register:
                    raise Rejected(RejectReason.UNKNOWN_BENCH, f"bench {bench_id!r} is not registered")
                twin = self._repo.auto_register(bench_id, batch.now)
            handler = self._handlers[kind]
            self._repo.update(bench_id, lambda t: handler(t, decoded, batch))
        except Rejected as rej:
            self._metrics.rejected.labels(rej.reason.value).inc()
            self._reject_log.log(_bench_of(msg.topic), rej.reason.value, rej.detail)

    # --- handlers, one per topic kind ---------------------------------------------------------------

    def _on_telemetry(self, twin: Twin, decoded: Decoded, batch: _Batch) -> Twin:
        sample = decoded.message
        assert isinstance(sample, Telemetry)
        # Older samples (replayed outbox, redelivery) still belong in the time series.
        batch.points.extend(telemetry_points(sample, twin.attributes.municipality))
        self._metrics.lag.set((batch.now - sample.ts).total_seconds())
        updated, changed = apply_telemetry(twin, sample, batch.now)
        if changed:
            batch.changed[twin.bench_id] = "telemetry"
        else:
            self._metrics.stale_ignored.inc()
        return updated

    def _on_event(self, twin: Twin, decoded: Decoded, batch: _Batch) -> Twin:
        event: BenchEvent = decoded.message  # type: ignore[assignment]
        if isinstance(event, VoteEvent):
            batch.votes.append(VoteRow(event, twin.attributes.municipality))
        else:
            batch.points.append(_event_point(event, twin.attributes.municipality))
        return apply_activity(twin, batch.now)

    def _on_reported(self, twin: Twin, decoded: Decoded, batch: _Batch) -> Twin:
        doc = decoded.message
        assert isinstance(doc, Reported)
        before = (twin.config_state(), twin.reported.config if twin.reported else None)
        updated, changed = apply_reported(twin, doc, batch.now)
        if changed:
            batch.changed[twin.bench_id] = "reported"
            report = updated.reported.config if updated.reported else None
            if (updated.config_state(), report) != before and report is not None:
                batch.events.append(
                    ConfigStatusChanged(
                        twin.bench_id,
                        twin.attributes.municipality,
                        report.version,
                        updated.config_state(),
                        report.error,
                        batch.now,
                    )
                )
        return updated

    def _on_status(self, twin: Twin, decoded: Decoded, batch: _Batch) -> Twin:
        status = decoded.message
        assert isinstance(status, Status)
        updated, changed = apply_status(twin, status, batch.now)
        if changed:
            batch.changed[twin.bench_id] = "connectivity"
        return updated

    # --- votes and notification -----------------------------------------------------------------------

    def _count_votes(self, batch: _Batch) -> None:
        if not batch.votes:
            return
        unique = list({str(v.event.id): v for v in batch.votes}.values())
        new_ids = self._store.record_votes(unique, batch.now)
        self._metrics.votes_duplicate.inc(len(batch.votes) - len(new_ids))
        self._metrics.votes_counted.inc(len(new_ids))
        for row in unique:
            if str(row.event.id) not in new_ids:
                continue
            ev = row.event
            self._repo.update(ev.bench_id, _vote_counter(ev, batch.now))
            batch.points.append(vote_point(ev, row.municipality))
            batch.changed[ev.bench_id] = "votes"
            batch.events.append(VoteCounted(ev.bench_id, row.municipality, ev.data.poll_id, ev.data.option, ev.ts))

    def _notify(self, batch: _Batch) -> None:
        if not self._listeners:
            return
        events: list[FleetEvent] = []
        for bench_id, section in batch.changed.items():
            twin = self._repo.get(bench_id)
            if twin is not None:
                events.append(TwinChanged(twin, section))
        events.extend(batch.events)
        for listener in self._listeners:
            for event in events:
                try:
                    listener(event)
                except Exception:  # a broken listener must never stop ingestion
                    log.exception("listener %r failed", listener)


def _event_point(event: BenchEvent, municipality: str) -> SeriesPoint:
    return SeriesPoint(
        "event",
        {"bench_id": event.bench_id, "municipality": municipality, "type": event.type},
        {"id": str(event.id), "data": event.data.model_dump_json()},
        event.ts,
    )


def _vote_counter(event: VoteEvent, at: datetime) -> Callable[[Twin], Twin]:
    def apply(twin: Twin) -> Twin:
        return count_vote(twin, event.data.poll_id, event.data.option, at)

    return apply
