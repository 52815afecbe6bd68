"""The broker is really stopped for a simulated hour while the agent keeps sampling and taking votes."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

from firmware_agent.agent import AgentSettings
from fleet.runtime import build_runtime
from tests.firmware_agent.conftest import config_doc, poll_doc
from tests.fleet.conftest import make_settings
from tests.services import MosquittoService
from tests.waiting import wait_until
from twins.clock import SystemClock

INTERVAL_S = 30
BENCH = "mostar-01"  # one of the 12 default benches, so the fleet's ingestion accepts it


def test_hour_long_outage_loses_nothing_and_votes_count_once(
    fresh_mosquitto: MosquittoService, clock, tmp_path: Path, harnesses, observers
) -> None:
    runtime = build_runtime(make_settings(tmp_path / "fleet", fresh_mosquitto.url), SystemClock())
    runtime.start()
    try:
        wait_until(runtime.source.connected.is_set, timeout=10, message="ingestion connected")
        obs = observers(fresh_mosquitto.url, BENCH, persistent=True)
        obs.send_desired(1, config_doc(telemetry_interval_s=INTERVAL_S, polls=[poll_doc()]))
        h = harnesses(
            fresh_mosquitto.url, BENCH, tmp_path / "bench", clock, settings=AgentSettings(drain_rate_per_s=25)
        ).start()
        h.pump_until(lambda: h.agent.applied.version == 1, message="config applied")
        before = h.votes.cast("park-2026", "yes")
        h.pump_until(lambda: h.outbox.count() == 0, advance=timedelta(seconds=1), message="first samples sent")

        fresh_mosquitto.stop()
        h.pump_until(lambda: not h.transport.is_connected(), message="agent noticed the outage")
        cast = [before]
        for step in range(3600 // INTERVAL_S):
            clock.advance(timedelta(seconds=INTERVAL_S))
            h.host.pump()
            if step % 10 == 0:
                cast.append(h.votes.cast("park-2026", "no" if step % 20 else "yes"))
        held = h.outbox.count()
        assert held >= 3600 // INTERVAL_S + 10  # all samples and votes of the hour wait in the outbox

        fresh_mosquitto.start()
        expected = set(range(h.agent.sampler.seq))
        vote_ids = {str(v.event_id) for v in cast}
        h.pump_until(
            lambda: expected <= obs.seqs() and vote_ids <= {e["id"] for e in obs.events("vote")},
            timeout=40,
            advance=timedelta(seconds=1),
            message="every sample and vote delivered",
        )
        h.pump_until(lambda: h.outbox.count() == 0 and h.agent.inflight == 0, advance=timedelta(seconds=1))
        assert h.outbox.stats().dropped == 0
        assert h.outbox.stats().thinned == 0

        # The foundation's ingestion counts every vote exactly once, however often it was delivered.
        yes = sum(1 for v in cast if v.option == "yes")
        wait_until(lambda: runtime.store.vote_count() == len(cast), timeout=40, message="votes counted")
        counted = runtime.store.counted_votes_by_bench()[BENCH]["park-2026"]
        assert counted == {"yes": yes, "no": len(cast) - yes}
        assert h.outbox.vote_counts() == {"park-2026": counted}
        assert len({e["id"] for e in obs.events("vote")}) == len(cast)
    finally:
        runtime.stop()


def test_samples_keep_their_own_timestamps_and_order(mosquitto, clock, tmp_path, harnesses, observers) -> None:
    bench_id = f"order-{uuid.uuid4().hex[:8]}"
    obs = observers(mosquitto.url, bench_id)
    h = harnesses(mosquitto.url, bench_id, tmp_path, clock).start()
    h.pump_until(lambda: len(obs.of("telemetry")) >= 1, message="first sample")
    for _ in range(5):
        clock.advance(timedelta(seconds=60))
        h.host.pump()
    h.pump_until(lambda: len(obs.of("telemetry")) >= 6, message="six samples")
    samples = obs.of("telemetry")[:6]
    assert [s["seq"] for s in samples] == list(range(6))
    assert [s["ts"][11:19] for s in samples] == ["10:00:00", "10:01:00", "10:02:00", "10:03:00", "10:04:00", "10:05:00"]
