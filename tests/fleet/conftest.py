"""Fixtures for the server side: a running fleet runtime against real services."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from fleet.runtime import FleetRuntime, build_runtime
from fleet.settings import load_settings
from tests.waiting import wait_until
from twins.clock import SystemClock


def make_settings(tmp_path: Path, mqtt_url: str, tsdb_url: str | None = None, db_url: str | None = None, **extra: str):
    """Settings for a runtime whose files live in ``tmp_path`` (fleet database: ``db_url``, else SQLite there)."""
    flags = {
        "mqtt": mqtt_url,
        "tsdb": tsdb_url or f"sqlite:///{tmp_path / 'series.db'}",
        "db": db_url or f"sqlite:///{tmp_path / 'fleet.db'}",
        "data_dir": str(tmp_path / "data"),
        "ingest_client_id": f"ingest-{uuid.uuid4().hex[:8]}",
        **extra,
    }
    return load_settings(flags, env={})


RuntimeFactory = Callable[..., FleetRuntime]


@pytest.fixture
def runtime_factory(tmp_path: Path, db_url: str) -> Iterator[RuntimeFactory]:
    """Build (and at the end stop) fleet runtimes on the test's PostgreSQL database; started and connected
    before they are returned."""
    started: list[FleetRuntime] = []

    def build(mqtt_url: str, tsdb_url: str | None = None, *, start: bool = True, **extra: str) -> FleetRuntime:
        extra.setdefault("db", db_url)
        runtime = build_runtime(make_settings(tmp_path, mqtt_url, tsdb_url, **extra), SystemClock())
        if start:
            runtime.start()
            wait_until(runtime.source.connected.is_set, timeout=10, message="ingester connected")
            started.append(runtime)
        return runtime

    yield build
    for runtime in started:
        with contextlib.suppress(Exception):
            runtime.stop()


@pytest.fixture
def publisher_factory() -> Iterator[Callable[[str], mqtt.Client]]:
    """Connected paho publishers (loop running) for a broker URL like mqtt://127.0.0.1:PORT."""
    clients: list[mqtt.Client] = []

    def make(url: str) -> mqtt.Client:
        host, port = url.removeprefix("mqtt://").split(":")
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}")
        client.max_inflight_messages_set(1000)
        client.connect(host, int(port))
        client.loop_start()
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.disconnect()
        c.loop_stop()
