"""Ingestion counters, exposed at /metrics in the Prometheus text format."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from twins.codec import RejectReason


class IngestMetrics:
    """Messages in, rejected by reason, written, and lag; one registry per process."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.messages_in = Counter("benchfleet_messages_in", "MQTT messages received", ["kind"], registry=r)
        self.rejected = Counter("benchfleet_messages_rejected", "Messages rejected, by reason", ["reason"], registry=r)
        self.points_written = Counter(
            "benchfleet_points_written", "Points handed durably to the TSDB (or its spool)", registry=r
        )
        self.points_refused = Counter(
            "benchfleet_points_refused", "Points of the ingestion path the TSDB refused (lost)", registry=r
        )
        self.twins_saved = Counter("benchfleet_twins_saved", "Twin documents written to SQL", registry=r)
        self.votes_counted = Counter("benchfleet_votes_counted", "Vote events counted (first delivery)", registry=r)
        self.votes_duplicate = Counter(
            "benchfleet_votes_duplicate", "Vote events delivered again and ignored", registry=r
        )
        self.votes_suspect = Counter(
            "benchfleet_votes_suspect", "Vote events held for review (implausible rate from one bench)", registry=r
        )
        self.stale_ignored = Counter(
            "benchfleet_telemetry_out_of_order", "Telemetry older than the twin's (stored, not applied)", registry=r
        )
        self.lag = Gauge(
            "benchfleet_ingest_lag_seconds",
            "Receive time minus payload ts of the newest telemetry of the last batch",
            registry=r,
        )
        self.batch_seconds = Histogram(
            "benchfleet_ingest_batch_seconds",
            "Time to process one batch",
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=r,
        )
        self.tsdb_spooled = Gauge("benchfleet_tsdb_spool_points", "Points waiting in the TSDB disk spool", registry=r)
        for reason in RejectReason:  # every label shows up as 0, so dashboards and alerts find them
            self.rejected.labels(reason.value)

    def watch_writer(self, pending: Callable[[], int], stats: Callable[[], dict[str, int]]) -> None:
        """Export the TSDB writer's spool size (a gauge read at scrape time) and its point counters."""
        self.tsdb_spooled.set_function(pending)
        self.registry.register(_WriterCollector(stats))

    def render(self) -> bytes:
        """The text exposition."""
        return generate_latest(self.registry)

    def rejected_total(self) -> float:
        """Sum of rejected messages over every reason (for tests and the CLI)."""
        return float(sum(self.rejected.labels(r.value)._value.get() for r in RejectReason))


class _WriterCollector(Collector):
    """``benchfleet_tsdb_points_total{outcome}``: the writer's counters (written, spooled, replayed, rejected
    by the TSDB, damaged in the spool), read at scrape time."""

    def __init__(self, stats: Callable[[], dict[str, int]]) -> None:
        self._stats = stats

    def collect(self) -> Iterator[CounterMetricFamily]:
        """One sample per outcome."""
        family = CounterMetricFamily("benchfleet_tsdb_points", "TSDB writer points by outcome", labels=["outcome"])
        for outcome, n in sorted(self._stats().items()):
            if outcome != "failures":
                family.add_metric([outcome], n)
        yield family
        yield CounterMetricFamily(
            "benchfleet_tsdb_write_failures", "Failed TSDB write attempts", self._stats()["failures"]
        )
