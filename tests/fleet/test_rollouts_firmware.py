"""A firmware campaign to real agents (simulated hardware) through real Mosquitto, artifacts from a real HTTP
server, state in PostgreSQL: the release fails on two benches of wave two (provisioned with a stale OTA key),
the campaign halts, and the rollback puts the upgraded benches back on the previous release."""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from dashboards.app import create_app
from dashboards.config import DashboardConfig
from firmware_agent.ota.manifest import sign_release
from fleet.auth.store import UserStore
from fleet.ops.audit import AuditQuery
from fleet.ops.firmware import by_version, inventory
from fleet.ops.rollouts import RolloutJob
from fleet.service_api import EVERYTHING
from tests.firmware_agent.conftest import Harness
from tests.firmware_agent.test_agent_ota import release_tarball
from tests.fleet.conftest import RuntimeFactory
from tests.services import MosquittoService
from tests.waiting import wait_until
from twins.clock import ManualClock

IDS = ["berkovici-01", "jablanica-01", "kostajnica-01", "maglaj-01", "mostar-01", "nevesinje-01"]
STALE_KEY = {"kostajnica-01", "maglaj-01"}  # both in wave two (canary, then 60 % of five = three benches)


class Quiet(SimpleHTTPRequestHandler):
    """Serves the artifact folder without logging every request."""

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def www(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder served over HTTP on 127.0.0.1: (folder, base URL)."""
    folder = tmp_path / "www"
    folder.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join(timeout=5)


class Fleet:
    """The agents, restarted like systemd does when one exits for an update (into the version now current)."""

    def __init__(self, url: str, root: Path, keys: dict[str, Ed25519PublicKey]) -> None:
        self.url, self.root, self.keys = url, root, keys
        self.agents: dict[str, Harness] = {}

    def start(self, bench_id: str, version: str) -> None:
        folder = self.root / bench_id
        folder.mkdir(parents=True, exist_ok=True)
        clock = ManualClock(datetime.now(UTC))
        harness = Harness(self.url, bench_id, folder, clock, firmware_version=version, updater_key=self.keys[bench_id])
        self.agents[bench_id] = harness.start()

    def pump(self) -> None:
        for bench_id, agent in list(self.agents.items()):
            agent.host.pump(timeout_s=0)
            if agent.agent.restart_requested == "ota":
                agent.close()
                self.start(bench_id, agent.releases.current_version() or "1.0.0")

    def close(self) -> None:
        for agent in self.agents.values():
            agent.close()


@pytest.fixture
def fleet_agents(fresh_mosquitto: MosquittoService, tmp_path: Path) -> Iterator[Callable[..., Fleet]]:
    """Start the six agents (stale key on two); closed at the end."""
    made: list[Fleet] = []

    def build(good: Ed25519PublicKey) -> Fleet:
        stale = Ed25519PrivateKey.generate().public_key()
        fleet = Fleet(fresh_mosquitto.url, tmp_path / "agents", {b: stale if b in STALE_KEY else good for b in IDS})
        made.append(fleet)
        for bench_id in IDS:
            fleet.start(bench_id, "1.0.0")
        return fleet

    yield build
    for fleet in made:
        fleet.close()


def _release(folder: Path, base: str, version: str, key: Ed25519PrivateKey) -> dict[str, Any]:
    data = release_tarball(version)
    (folder / f"bench-{version}.tar.gz").write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    return {
        "version": version,
        "model": "simulated",
        "url": f"{base}/bench-{version}.tar.gz",
        "sha256": digest,
        "signature": sign_release(key, version, "simulated", digest),
    }


def test_campaign_that_fails_on_some_benches_halts_and_rolls_them_back(
    fresh_mosquitto: MosquittoService,
    runtime_factory: RuntimeFactory,
    fleet_agents: Callable[..., Fleet],
    www: tuple[Path, str],
) -> None:
    folder, base = www
    rt = runtime_factory(fresh_mosquitto.url)
    rt.scheduler.remove_job("rollouts")  # the test steps the job itself
    wait_until(rt.publisher.connected.is_set, timeout=10, message="fleet publisher connected")
    assert rt.rollouts is not None
    users = UserStore(rt.engine)
    users.add_user("crew", "a-long-password", "maintenance")
    app = create_app(DashboardConfig(secret_key="k" * 32, secure_cookies=False), rt.service, users)
    client, auth = app.test_client(), {"Authorization": f"Bearer {users.create_token('crew')}"}
    signing = Ed25519PrivateKey.generate()
    fleet = fleet_agents(signing.public_key())

    for version in ("1.0.0", "1.1.0"):
        answer = client.post("/api/firmware/releases", json=_release(folder, base, version, signing), headers=auth)
        assert answer.status_code == 200, answer.get_json()
    again = client.post("/api/firmware/releases", json=_release(folder, base, "1.1.0", signing), headers=auth)
    assert again.status_code == 400
    assert "already registered" in again.get_json()["error"]["message"]

    def versions() -> dict[str, list[str]]:
        fleet.pump()
        return by_version(inventory(rt.twins.get_twins(IDS).values()))

    wait_until(lambda: versions() == {"1.0.0": IDS}, timeout=30, message="every bench reported 1.0.0")
    made = client.post(
        "/api/rollouts",
        json={"kind": "firmware", "version": "1.1.0", "targets": {"bench_ids": IDS}, "percent": 60},
        headers=auth,
    )
    assert made.status_code == 202, made.get_json()
    rid = made.get_json()["id"]
    job = RolloutJob(rt.rollouts)

    def rollout() -> dict[str, Any]:
        doc: dict[str, Any] = client.get(f"/api/rollouts/{rid}", headers=auth).get_json()
        return doc

    def step(until: Callable[[dict[str, Any]], bool]) -> Callable[[], bool]:
        def check() -> bool:
            fleet.pump()
            job.run()
            return until(rollout())

        return check

    wait_until(step(lambda d: d["status"] != "running"), timeout=60, interval=0.02, message="campaign stops")
    # The update in flight on the one good bench of wave two is still followed to its end.
    wait_until(
        step(lambda d: all(b["state"] != "pending" for b in d["benches"])),
        timeout=60,
        interval=0.02,
        message="wave two settled",
    )
    # An applied bench's last stages travel through its outbox and may be ingested after the firmware it
    # reported made it "applied" (a batch each, now that a worker does not linger): follow them too.
    wait_until(
        step(
            lambda d: (
                {b["ota_stage"] for b in d["benches"] if b["state"] == "applied"} <= {"staged", "switching", "done"}
            )
        ),
        timeout=60,
        interval=0.02,
        message="applied benches' last stages",
    )
    doc = rollout()
    assert doc["status"] == "halted"
    # Halted as soon as wave two's failures passed 10 %: after the first or both stale-key refusals.
    assert doc["reason"] in ("wave 1: 1 of 3 bench(es) failed", "wave 1: 2 of 3 bench(es) failed")
    states = {b["bench_id"]: b["state"] for b in doc["benches"]}
    assert states == {
        "berkovici-01": "applied",
        "jablanica-01": "applied",
        "kostajnica-01": "failed",
        "maglaj-01": "failed",
        "mostar-01": "queued",
        "nevesinje-01": "queued",
    }
    errors = {b["bench_id"]: b["error"] for b in doc["benches"] if b["state"] == "failed"}
    assert all("signature does not verify" in e for e in errors.values()), errors
    # ota_progress is followed: the stage each bench last reported for this release.
    assert {b["bench_id"]: b["ota_stage"] for b in doc["benches"] if b["state"] == "failed"} == {
        "kostajnica-01": "rejected",
        "maglaj-01": "rejected",
    }
    assert {b["ota_stage"] for b in doc["benches"] if b["state"] == "applied"} <= {"staged", "switching", "done"}
    assert versions() == {
        "1.0.0": ["kostajnica-01", "maglaj-01", "mostar-01", "nevesinje-01"],
        "1.1.0": ["berkovici-01", "jablanica-01"],
    }

    back = client.post(f"/api/rollouts/{rid}/rollback", headers=auth)
    assert back.status_code == 200, back.get_json()
    assert back.get_json()["status"] == "rolled_back"
    wait_until(lambda: versions() == {"1.0.0": IDS}, timeout=60, interval=0.02, message="upgraded benches rolled back")
    assert {b: fleet.agents[b].releases.current_version() for b in ("berkovici-01", "jablanica-01")} == {
        "berkovici-01": "1.0.0",
        "jablanica-01": "1.0.0",
    }
    assert {b["bench_id"]: b["state"] for b in rollout()["benches"] if b["state"] != "queued"} == dict.fromkeys(
        IDS[:4], "rolled_back"
    )
    actions = [e.action for e in rt.service.audit_entries(AuditQuery(), EVERYTHING)]
    for action in ("firmware.release", "rollout.create", "rollout.halt", "rollout.rollback", "command.send"):
        assert action in actions
