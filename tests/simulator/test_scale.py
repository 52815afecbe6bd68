"""1,000 simulated benches from one thread against a real Mosquitto: every bench connects and publishes."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from simulator.clock import AcceleratedClock
from simulator.runner import FleetRunner
from simulator.sites import fleet_sites
from tests.services import MosquittoService
from tests.simulator.sim_harness import Recorder
from tests.waiting import wait_until
from twins.broker_url import parse_broker_url

BENCHES = 1000


def test_thousand_benches_connect_and_publish_from_one_thread(fresh_mosquitto: MosquittoService) -> None:
    """Each bench has its own connection and client id; the subscriber sees telemetry from all 1,000."""
    recorder = Recorder(fresh_mosquitto.url)
    # 10x: a sample every 6 s of real time per bench, so the run stays short.
    clock = AcceleratedClock(datetime(2026, 6, 1, 6, 0, tzinfo=UTC), speed=10.0)
    runner = FleetRunner(fleet_sites(BENCHES, 3), parse_broker_url(fresh_mosquitto.url), clock, seed=3,
                         connect_rate_per_s=400.0)  # fmt: skip
    threads_before = threading.active_count()
    try:
        runner.build()

        def everyone_published() -> bool:
            runner.run_once(0.05)
            return len(recorder.seen_benches("telemetry")) == BENCHES

        wait_until(everyone_published, timeout=50, interval=0.0, message="telemetry from all 1,000 benches")
        assert threading.active_count() == threads_before  # no thread per bench
        stats = runner.stats()
        assert stats.connected == BENCHES
        assert stats.disconnects == 0
        assert recorder.seen_benches("telemetry") == {b.bench_id for b in runner.benches}
        online = {m.bench_id for m in recorder.of(kind="status") if m.doc()["online"]}
        assert len(online) == BENCHES
        assert {b.transport.client._client_id.decode() for b in runner.benches} == {
            f"bench-{b.bench_id}" for b in runner.benches
        }
        runner.stop()

        def everyone_offline() -> bool:  # a clean stop says offline for every bench
            return len({m.bench_id for m in recorder.of(kind="status") if not m.doc()["online"]}) == BENCHES

        wait_until(everyone_offline, timeout=20, message="offline status from all 1,000 benches")
    finally:
        runner.stop()
        recorder.close()
