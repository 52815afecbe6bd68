"""The ingestion pipeline: decode, validate, check the bench, one SQL transaction, points, then events."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple, Protocol

from fleet.events import ConfigStatusChanged, FleetEvent, TwinsMoved, VoteCounted
from fleet.ingest.metrics import IngestMetrics
from fleet.ops.commands import record_command_results
from fleet.ops.rollout_progress import record_ota_progress
from fleet.state.bench_index import BenchIndex
from fleet.state.twin_store import TwinStore, auto_registered
from fleet.state.vote_check import read_vote_context
from fleet.state.writes import BatchOutcome, TwinWrites, VoteRow
from twins.clock import Clock
from twins.codec import Decoded, Rejected, RejectReason, check_not_future, decode
from twins.messages import BenchEvent, Reported, Status, Telemetry, VoteEvent
from twins.series import SampledPoints, SeriesPoint, event_point, vote_point
from twins.topics import INBOUND_KINDS, ROOT, TopicKind
from twins.twin import Twin, config_state_of

log = logging.getLogger(__name__)


class PointSink(Protocol):
    """Where points go; ``write`` returns once they are durable (TSDB or disk spool)."""

    def write(self, points: Sequence[SeriesPoint]) -> int | None:
        """Write points durably; returns how many the store refused (a type conflict: never durable), or
        None for a sink that refuses nothing (a plain store: it raises instead)."""
        ...


class RawMessage(NamedTuple):
    """One MQTT message as it came off the wire (a NamedTuple: made for every message on paho's thread, in a
    third of a frozen dataclass's time)."""

    topic: str
    payload: bytes
    mid: int = 0
    qos: int = 1
    retain: bool = False


@dataclass(frozen=True, slots=True)
class PreparedBatch:
    """A batch committed to SQL whose points still have to be made durable, and the events to publish after."""

    points: Sequence[SeriesPoint]
    events: list[FleetEvent]
    cpu_seconds: float


@dataclass
class DecodedBatch:
    """The accepted messages of a batch, their points so far and the twin writes they ask for."""

    now: datetime
    samples: list[tuple[Telemetry, str]] = field(default_factory=list)  # telemetry, with municipality: its point
    points: list[SeriesPoint] = field(default_factory=list)  # the other points
    writes: TwinWrites = field(default_factory=TwinWrites)
    accepted: list[Decoded] = field(default_factory=list)
    cpu_seconds: float = 0.0
    checked: bool = False
    votes_checked: bool = False
    newest: datetime | None = None  # the newest sample's ts: the lag gauge, set once per batch


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


@lru_cache(maxsize=100_000)  # a fleet publishes on a few topics per bench: each is split once
def _kind_label(topic: str) -> str:
    # Cheaper than parse_topic (which decode runs anyway); only the label is needed here.
    parts = topic.split("/")
    return parts[2] if len(parts) == 3 and parts[0] == ROOT and parts[2] in _KIND_LABELS else "unknown"


def _bench_of(topic: str) -> str:
    parts = topic.split("/")
    return parts[1][:64] if len(parts) >= 2 and parts[1] else "?"


def _ignore(_event: FleetEvent) -> None:
    """No listener (a test or tool that reads SQL only)."""


class IngestPipeline:
    """Turns batches of raw messages into one SQL transaction, stored points and, last, fleet events.

    ``publish`` (the EventBus's) is called only after the batch's transaction committed and its points
    are durable: a listener never hears of a change that could still be lost.
    """

    def __init__(
        self,
        twins: TwinStore,
        sink: PointSink,
        metrics: IngestMetrics,
        clock: Clock,
        publish: Callable[[FleetEvent], None] = _ignore,
        *,
        auto_register: bool = False,
        index: BenchIndex | None = None,
        on_bench_event: Callable[[BenchEvent], None] | None = None,
    ) -> None:
        self._twins = twins
        self._on_bench_event = on_bench_event  # alarm signals (tamper); idempotent, so a retried batch is harmless
        self._sink = sink
        self._metrics = metrics
        self._clock = clock
        self._publish = publish
        self._auto_register = auto_register
        self._index = index or BenchIndex(twins)
        self._in_counters: dict[str, Any] = {}
        self._reject_log = RejectLog()
        self._handlers: dict[TopicKind, Callable[[Decoded, str, DecodedBatch], None]] = {
            TopicKind.TELEMETRY: self._on_telemetry,
            TopicKind.EVENTS: self._on_event,
            TopicKind.REPORTED: self._on_reported,
            TopicKind.STATUS: self._on_status,
        }

    # --- one batch --------------------------------------------------------------------------------

    def handle(self, messages: Sequence[RawMessage]) -> None:
        """Process a batch; returns when everything in it is durable and its events are published."""
        prepared = self.prepare(messages)
        self.commit(prepared)
        self.announce(prepared)

    def prepare(self, messages: Sequence[RawMessage]) -> PreparedBatch:
        """``decode`` then ``store``."""
        return self.store(self.decode(messages))

    def decode(self, messages: Sequence[RawMessage]) -> DecodedBatch:
        """Decode and validate a batch (CPU only: no store is asked, so this step cannot fail for want of one)."""
        started = time.perf_counter()
        batch = DecodedBatch(now=self._clock.now())
        # Counted per batch, not per message: a prometheus counter's inc takes a lock (5 % of a worker's CPU).
        arrived: dict[str, int] = {}
        for msg in messages:
            label = _kind_label(msg.topic)
            arrived[label] = arrived.get(label, 0) + 1
            self._decode(msg, batch)
        for label, n in arrived.items():
            self._in_counter(label).inc(n)
        batch.cpu_seconds = time.perf_counter() - started
        return batch

    def store(self, batch: DecodedBatch) -> PreparedBatch:
        """Check the benches against the registry, collapse the twin writes per bench, commit them and the
        votes in ONE SQL transaction and read the changed twins back. Safe to repeat after a failure (the
        database away): the bench check is done once, and every write is conditional or keyed."""
        started = time.perf_counter()
        if not batch.checked:
            self._check_benches(batch)
            batch.checked = True
            if batch.newest is not None:
                self._metrics.lag.set((batch.now - batch.newest).total_seconds())
        if not batch.votes_checked:
            self._check_votes(batch)
            batch.votes_checked = True
        outcome = self._twins.apply_batch(batch.writes, batch.now)
        record_command_results(self._twins.engine, batch.accepted, batch.now)  # cmd_result → command status
        record_ota_progress(self._twins.engine, batch.accepted, batch.now)  # ota_progress → firmware rollouts
        others = list(batch.points)
        events = self._events(batch, outcome, others)
        self._metrics.stale_ignored.inc(batch.writes.telemetry_offered - outcome.telemetry_applied)
        self._metrics.twins_saved.inc(len(outcome.changed))
        points = SampledPoints(batch.samples, others)
        return PreparedBatch(points, events, batch.cpu_seconds + time.perf_counter() - started)

    def commit(self, prepared: PreparedBatch) -> None:
        """Make the batch's points durable (TSDB or spool; the I/O-bound part)."""
        started = time.perf_counter()
        if prepared.points:
            refused = self._sink.write(prepared.points) or 0
            self._metrics.points_written.inc(len(prepared.points) - refused)
            self._metrics.points_refused.inc(refused)
        self._metrics.batch_seconds.observe(prepared.cpu_seconds + time.perf_counter() - started)

    def announce(self, prepared: PreparedBatch) -> None:
        """Publish the batch's events (after its transaction committed and its points are durable)."""
        for event in prepared.events:
            try:
                self._publish(event)
            except Exception:  # a broken listener must never stop ingestion
                log.exception("publishing %s failed", type(event).__name__)

    def _decode(self, msg: RawMessage, batch: DecodedBatch) -> None:
        try:
            decoded = decode(msg.topic, msg.payload)
            check_not_future(decoded.message, batch.now)
            kind = decoded.topic.kind
            if kind not in INBOUND_KINDS:
                raise Rejected(RejectReason.WRONG_DIRECTION, f"{kind.value} is published by the fleet, not benches")
            batch.accepted.append(decoded)
        except Rejected as rej:
            self._reject(msg.topic, rej)

    def _in_counter(self, label: str) -> Any:
        counter = self._in_counters.get(label)
        if counter is None:  # labels() costs a lock and a tuple hash: look each child up once
            counter = self._in_counters[label] = self._metrics.messages_in.labels(label)
        return counter

    def _reject(self, topic: str, rej: Rejected) -> None:
        self._metrics.rejected.labels(rej.reason.value).inc()
        self._reject_log.log(_bench_of(topic), rej.reason.value, rej.detail)

    def _check_benches(self, batch: DecodedBatch) -> None:
        """Drop messages of unregistered benches (or register them), then hand the rest to their handler."""
        known = self._index.lookup({d.topic.bench_id for d in batch.accepted})  # the one step that may fail
        for decoded in batch.accepted:
            bench_id = decoded.topic.bench_id
            municipality = known.get(bench_id)
            if municipality is None:
                if not self._auto_register:
                    reason = RejectReason.UNKNOWN_BENCH.value
                    self._metrics.rejected.labels(reason).inc()
                    self._reject_log.log(bench_id, reason, f"bench {bench_id!r} is not registered")
                    continue
                record = auto_registered(bench_id)
                batch.writes.register[bench_id] = record
                municipality = known[bench_id] = record.attributes.municipality
                self._index.add(bench_id, municipality)
            self._handlers[decoded.topic.kind](decoded, municipality, batch)

    def _check_votes(self, batch: DecodedBatch) -> None:
        """Refuse, with a reason, every vote that does not count: one read per batch that has votes."""
        votes = batch.writes.votes
        if not votes:
            return
        rows = list(votes.values())
        context = read_vote_context(
            self._twins.engine, {r.event.bench_id for r in rows}, {r.event.data.poll_id for r in rows}
        )
        for event_id, row in list(votes.items()):
            reason = context.refusal(row.event, row.municipality)
            if reason is not None:
                del votes[event_id]
                batch.writes.votes_offered -= 1  # refused, not a duplicate
                self._metrics.rejected.labels(reason.value).inc()
                self._reject_log.log(row.event.bench_id, reason.value, f"vote for poll {row.event.data.poll_id!r}")

    # --- handlers, one per topic kind ---------------------------------------------------------------

    def _on_telemetry(self, decoded: Decoded, municipality: str, batch: DecodedBatch) -> None:
        sample = decoded.message
        assert isinstance(sample, Telemetry)
        # Older samples (replayed outbox, redelivery) still belong in the time series: kept as samples, whose
        # points a store that knows them writes without making them (twins.series.SampledPoints).
        batch.samples.append((sample, municipality))
        if batch.newest is None or sample.ts > batch.newest:
            batch.newest = sample.ts
        # The payload passed strict validation as this very model: stored as it came (no second serialisation).
        batch.writes.offer_telemetry(sample, decoded.payload.decode())
        batch.writes.seen.add(sample.bench_id)

    def _on_event(self, decoded: Decoded, municipality: str, batch: DecodedBatch) -> None:
        event: BenchEvent = decoded.message  # type: ignore[assignment]
        if isinstance(event, VoteEvent):
            batch.writes.offer_vote(VoteRow(event, municipality))
        else:
            batch.points.append(event_point(event, municipality))
            if self._on_bench_event is not None:
                self._on_bench_event(event)
        batch.writes.seen.add(event.bench_id)

    def _on_reported(self, decoded: Decoded, municipality: str, batch: DecodedBatch) -> None:
        doc = decoded.message
        assert isinstance(doc, Reported)
        batch.writes.offer_reported(doc)
        batch.writes.seen.add(doc.bench_id)

    def _on_status(self, decoded: Decoded, municipality: str, batch: DecodedBatch) -> None:
        status = decoded.message
        assert isinstance(status, Status)
        batch.writes.offer_status(status)
        if status.online:  # an offline last will is published by the broker, not the bench
            batch.writes.seen.add(status.bench_id)

    # --- events ---------------------------------------------------------------------------------------

    def _events(self, batch: DecodedBatch, outcome: BatchOutcome, points: list[SeriesPoint]) -> list[FleetEvent]:
        """Votes' points, and the events of the batch with twins as read back after the commit."""
        stored = len(outcome.new_votes) + len(outcome.suspect_votes)
        self._metrics.votes_duplicate.inc(batch.writes.votes_offered - stored)
        self._metrics.votes_counted.inc(len(outcome.new_votes))
        self._metrics.votes_suspect.inc(len(outcome.suspect_votes))
        for row in outcome.new_votes:
            points.append(vote_point(row.event, row.municipality))
        if not outcome.changed:
            return []
        # Which twins moved, not the twins: receivers read them (fleet.state.cache). Reading a batch's
        # ~1,000 twins back and serialising them for Redis was a quarter of a worker's CPU (measured).
        events: list[FleetEvent] = [TwinsMoved(tuple(outcome.changed.items()))]
        # A moved reported document may change a config's state: only those few twins are read here.
        twins = self._twins.get_twins(list(outcome.reported_before)) if outcome.reported_before else {}
        for bench_id, (desired_version, reported) in outcome.reported_before.items():
            twin = twins.get(bench_id)
            if twin is None:
                continue
            events.extend(_config_status(twin, desired_version, reported, batch.now))
        for row in outcome.new_votes:
            ev = row.event
            events.append(VoteCounted(ev.bench_id, row.municipality, ev.data.poll_id, ev.data.option, ev.ts))
        return events


def _config_status(twin: Twin, desired_version: int, before: Reported | None, now: datetime) -> list[FleetEvent]:
    report = twin.reported.config if twin.reported else None
    if report is None:
        return []
    was = (config_state_of(desired_version, before), before.config if before else None)
    if (twin.config_state(), report) == was:
        return []
    return [
        ConfigStatusChanged(
            twin.bench_id, twin.attributes.municipality, report.version, twin.config_state(), report.error, now
        )
    ]
