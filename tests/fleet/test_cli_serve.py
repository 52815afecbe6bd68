"""`benchfleet serve` and `benchfleet ingest` as processes on one PostgreSQL database: a pushed desired version
survives an ingest worker writing the same twin and a restart of serve (the wave-1 last-writer-wins bug)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import requests
from paho.mqtt.enums import CallbackAPIVersion

from fleet.auth.store import UserStore
from fleet.db.engine import make_engine
from tests.payloads import dumps, telemetry
from tests.services import MosquittoService, free_port
from tests.waiting import wait_until


def _process(command: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "fleet.cli", command],
        env={**os.environ, **env, "BENCHFLEET_LOG_LEVEL": "WARNING"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        _stop(proc)


def _retained_version(broker: MosquittoService, bench_id: str) -> int:
    got: list[dict[str, Any]] = []
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"check-{uuid.uuid4().hex[:8]}")
    client.on_message = lambda _c, _u, m: got.append(json.loads(m.payload))
    client.connect(broker.host, broker.port)
    client.subscribe(f"benches/{bench_id}/desired", qos=1)
    client.loop_start()
    try:
        wait_until(lambda: got, timeout=10, message="retained desired message")
    finally:
        client.loop_stop()
        client.disconnect()
    return int(got[0]["version"])


@pytest.mark.slow
def test_desired_version_survives_an_ingest_worker_and_a_restart_of_serve(
    fresh_mosquitto: MosquittoService, db_url: str, tmp_path: Path, procs: list[subprocess.Popen[bytes]]
) -> None:
    engine = make_engine(db_url)
    users = UserStore(engine)  # `benchfleet user add` before the first serve: users only, no twins yet
    users.add_user("ada", "a-long-password", "admin")
    token = users.create_token("ada")
    engine.dispose()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {token}"}
    common = {"BENCHFLEET_MQTT": fresh_mosquitto.url, "BENCHFLEET_DB": db_url}

    def serve() -> subprocess.Popen[bytes]:
        proc = _process(
            "serve",
            {
                **common,
                "BENCHFLEET_HTTP": f"127.0.0.1:{port}",
                "BENCHFLEET_TSDB": f"sqlite:///{tmp_path / 'serve-series.db'}",
                "BENCHFLEET_DATA_DIR": str(tmp_path / "serve"),
                "BENCHFLEET_INGEST_CLIENT_ID": f"serve-{uuid.uuid4().hex[:6]}",
                "BENCHFLEET_SECRET_KEY": "a-secret-key-for-this-test-0123456789",
            },
        )
        procs.append(proc)
        wait_until(lambda: requests.get(f"{base}/healthz", timeout=2).ok, timeout=60, message="serve up")
        return proc

    first = serve()
    reply = requests.patch(
        f"{base}/api/benches/mostar-01/desired", json={"telemetry_interval_s": 30}, headers=auth, timeout=30
    )
    assert reply.status_code == 200, reply.text
    assert reply.headers["ETag"] == '"1"'

    # An ingest worker of its own writes the same twin (telemetry) after the push.
    ingest = _process(
        "ingest",
        {
            **common,
            "BENCHFLEET_TSDB": f"sqlite:///{tmp_path / 'ingest-series.db'}",
            "BENCHFLEET_DATA_DIR": str(tmp_path / "ingest"),
            "BENCHFLEET_INGEST_CLIENT_ID": f"ingest-{uuid.uuid4().hex[:6]}",
            "BENCHFLEET_SHARE_GROUP": "fleet",
        },
    )
    procs.append(ingest)
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-{uuid.uuid4().hex[:6]}")
    publisher.connect(fresh_mosquitto.host, fresh_mosquitto.port)
    publisher.loop_start()
    when = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    seq = 0

    def telemetry_landed() -> bool:
        nonlocal seq
        seq += 1
        doc = telemetry("mostar-01", seq=seq, ts=(when + timedelta(seconds=seq)).strftime("%Y-%m-%dT%H:%M:%SZ"))
        publisher.publish("benches/mostar-01/telemetry", dumps(doc), qos=1).wait_for_publish(5)
        body = requests.get(f"{base}/api/benches/mostar-01", headers=auth, timeout=10).json()
        return bool(body["telemetry"])

    try:
        wait_until(telemetry_landed, timeout=60, interval=0.5, message="telemetry ingested")
    finally:
        publisher.loop_stop()
        publisher.disconnect()

    _stop(first)
    serve()
    body = requests.get(f"{base}/api/benches/mostar-01", headers=auth, timeout=10)
    assert body.headers["ETag"] == '"1"'
    assert body.json()["desired"]["config"]["telemetry_interval_s"] == 30
    assert body.json()["telemetry"] is not None
    assert _retained_version(fresh_mosquitto, "mostar-01") == 1
    again = requests.patch(
        f"{base}/api/benches/mostar-01/desired", json={"telemetry_interval_s": 45}, headers=auth, timeout=30
    )
    assert again.status_code == 200, again.text
    assert again.headers["ETag"] == '"2"'  # never version 1 again
    assert ingest.poll() is None, "the ingest worker kept running"
