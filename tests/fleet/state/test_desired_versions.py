"""Desired versions allocated by PostgreSQL, through the real HTTP API of a served dashboard."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import requests
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select

from fleet.db.schema import desired_history
from fleet.runtime import FleetRuntime
from tests.dashboards.served import served
from tests.fleet.conftest import RuntimeFactory
from tests.services import MosquittoService
from tests.waiting import wait_until


@dataclass
class Api:
    """A served dashboard over a runtime, and an admin's bearer token."""

    base: str
    runtime: FleetRuntime
    auth: dict[str, str]

    def patch(self, bench_id: str, doc: dict[str, Any], if_match: int | None = None) -> requests.Response:
        headers = dict(self.auth)
        if if_match is not None:
            headers["If-Match"] = str(if_match)
        return requests.patch(f"{self.base}/api/benches/{bench_id}/desired", json=doc, headers=headers, timeout=60)


@pytest.fixture
def api(mosquitto: MosquittoService, runtime_factory: RuntimeFactory) -> Iterator[Api]:
    from dashboards.app import create_app
    from dashboards.config import DashboardConfig
    from fleet.auth.store import UserStore

    runtime = runtime_factory(mosquitto.url)
    wait_until(runtime.publisher.connected.is_set, timeout=10, message="desired publisher connected")
    users = UserStore(runtime.engine)
    users.add_user("ada", "a-long-password", "admin")
    token = users.create_token("ada")
    app = create_app(DashboardConfig(secret_key="k" * 32, secure_cookies=False), runtime.service, users)
    try:
        with served(app) as base:
            yield Api(base, runtime, {"Authorization": f"Bearer {token}"})
    finally:
        app.extensions["benchfleet"].live.stop()


def _history(runtime: FleetRuntime, bench_id: str) -> list[int]:
    q = select(desired_history.c.version).where(desired_history.c.bench_id == bench_id)
    with runtime.engine.connect() as conn:
        return sorted(v for (v,) in conn.execute(q))


def _retained_desired(url: str, bench_id: str) -> dict[str, Any]:
    """The retained desired message as a bench connecting now would get it."""
    got: list[dict[str, Any]] = []
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"check-{uuid.uuid4().hex[:8]}")
    client.on_message = lambda _c, _u, m: got.append(json.loads(m.payload))
    host, port = url.removeprefix("mqtt://").split(":")
    client.connect(host, int(port))
    client.subscribe(f"benches/{bench_id}/desired", qos=1)
    client.loop_start()
    try:
        wait_until(lambda: got, timeout=10, message="retained desired message")
    finally:
        client.loop_stop()
        client.disconnect()
    return got[0]


def test_100_patches_with_the_same_if_match_exactly_one_wins(api: Api) -> None:
    barrier = threading.Barrier(100)

    def one(i: int) -> int:
        barrier.wait(timeout=30)
        return api.patch("jablanica-01", {"telemetry_interval_s": 30 + i}, if_match=0).status_code

    with ThreadPoolExecutor(max_workers=100) as pool:
        codes = list(pool.map(one, range(100)))
    assert codes.count(200) == 1
    assert codes.count(412) == 99
    twin = api.runtime.service.get_twin("jablanica-01")
    assert twin is not None
    assert twin.desired_version == 1
    assert _history(api.runtime, "jablanica-01") == [1]


def test_200_patches_without_if_match_get_versions_1_to_200(api: Api, mosquitto: MosquittoService) -> None:
    def run(offset: int) -> list[int]:
        codes = []
        for i in range(100):
            codes.append(api.patch("maglaj-01", {"telemetry_interval_s": 10 + offset + i}).status_code)
        return codes

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(run, (0, 500)))
    assert [c for r in results for c in r] == [200] * 200
    assert _history(api.runtime, "maglaj-01") == list(range(1, 201))  # no gap, no duplicate
    twin = api.runtime.service.get_twin("maglaj-01")
    assert twin is not None
    assert twin.desired_version == 200
    retained = _retained_desired(mosquitto.url, "maglaj-01")
    assert retained["version"] == 200
    assert retained["config"] == twin.desired.model_dump(mode="json")


def test_a_restart_keeps_the_desired_version(mosquitto: MosquittoService, runtime_factory: RuntimeFactory) -> None:
    first = runtime_factory(mosquitto.url)
    for interval in (20, 30, 40):
        first.service.patch_desired("zepce-01", {"telemetry_interval_s": interval}, None, "ada")
    first.stop()
    second = runtime_factory(mosquitto.url)
    twin = second.service.get_twin("zepce-01")
    assert twin is not None
    assert twin.desired_version == 3
    assert twin.desired.telemetry_interval_s == 40
    assert second.service.patch_desired("zepce-01", {"telemetry_interval_s": 50}, 3, "ada").desired_version == 4
    assert _history(second, "zepce-01") == [1, 2, 3, 4]


def test_two_processes_patching_at_once_leave_the_newest_config_retained(
    mosquitto: MosquittoService, runtime_factory: RuntimeFactory, tmp_path: Path
) -> None:
    # Two runtimes = two processes' worth of engines, publishers and locks on one PostgreSQL database.
    runtimes = [runtime_factory(mosquitto.url, data_dir=str(tmp_path / f"data-{i}")) for i in range(2)]
    for rt in runtimes:
        wait_until(rt.publisher.connected.is_set, timeout=10, message="desired publisher connected")

    def run(rt: FleetRuntime, offset: int) -> list[int]:
        return [
            rt.service.patch_desired("ravno-01", {"telemetry_interval_s": 10 + offset + i}, None, "ada").desired_version
            for i in range(40)
        ]

    with ThreadPoolExecutor(max_workers=2) as pool:
        versions = [v for r in pool.map(run, runtimes, (0, 500)) for v in r]
    assert sorted(versions) == list(range(1, 81))
    assert _history(runtimes[0], "ravno-01") == list(range(1, 81))
    twin = runtimes[1].service.get_twin("ravno-01")
    assert twin is not None
    retained = _retained_desired(mosquitto.url, "ravno-01")
    assert retained["version"] == twin.desired_version == 80
    assert retained["config"] == twin.desired.model_dump(mode="json")
