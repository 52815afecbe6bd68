"""``start_demo_fleet``: the 12 seed benches live on one thread, configured by the fleet over MQTT."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from simulator.demo import start_demo_fleet
from simulator.sites import seed_sites
from tests.services import MosquittoService
from tests.simulator.sim_harness import Recorder
from tests.waiting import wait_until
from twins.clock import to_rfc3339
from twins.twin import default_config

LABELS = {"bs": "Park?", "hr": "Park?", "sr": "Парк?", "en": "A park?"}


def _desired_with_poll(bench_id: str) -> bytes:
    """A retained desired document (version 1) opening a poll for the next simulated year."""
    config = default_config().model_dump(mode="json")
    now = datetime.now(UTC)
    config["polls"] = [
        {
            "id": "park-2026",
            "question": LABELS,
            "options": [{"id": "yes", "labels": LABELS}, {"id": "no", "labels": LABELS}],
            "opens": to_rfc3339(now - timedelta(days=1)),
            "closes": to_rfc3339(now + timedelta(days=365)),
        }
    ]
    doc = {"v": 1, "bench_id": bench_id, "ts": to_rfc3339(now), "version": 1, "config": config}
    return json.dumps(doc).encode()


def test_demo_fleet_runs_the_seed_benches_and_votes_on_the_fleets_poll(
    fresh_mosquitto: MosquittoService, tmp_path: Path
) -> None:
    """All 12 publish telemetry; a poll in the desired config is applied and visitors vote; stop says offline."""
    recorder = Recorder(fresh_mosquitto.url)
    for site in seed_sites():
        info = recorder.client.publish(f"benches/{site.bench_id}/desired", _desired_with_poll(site.bench_id), 1, True)
        info.wait_for_publish(5)
    fleet = start_demo_fleet(fresh_mosquitto.url, tmp_path / "benches", speed=1200.0)
    try:
        ids = {s.bench_id for s in seed_sites()}
        wait_until(lambda: recorder.seen_benches("telemetry") == ids, timeout=30, message="telemetry from all 12")

        def applied() -> set[str]:
            reports = [m for m in recorder.of(kind="reported") if (m.doc().get("config") or {}).get("status")]
            return {m.bench_id for m in reports if m.doc()["config"]["status"] == "applied"}

        wait_until(lambda: applied() == ids, timeout=30, message="desired version 1 applied by all 12")

        def votes() -> list[dict[str, object]]:
            docs = [m.doc() for m in recorder.of(kind="events")]
            return [d for d in docs if d["type"] == "vote"]

        wait_until(lambda: len(votes()) >= 5, timeout=40, message="votes from the kiosks")
        assert {v["data"]["poll_id"] for v in votes()} == {"park-2026"}  # type: ignore[index]
        assert fleet.thread.is_alive()
        assert len([t for t in recorder.of(kind="telemetry") if t.doc()["votes"]]) > 0
    finally:
        fleet.stop()
    assert not fleet.thread.is_alive()
    wait_until(
        lambda: len({m.bench_id for m in recorder.of(kind="status") if not m.doc()["online"]}) == 12,
        timeout=10,
        message="offline status from the 12",
    )
    recorder.close()
