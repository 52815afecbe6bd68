"""The process roles' command line: `benches import` tells running processes, the `dashboard` role exists."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from fleet.cli import main
from fleet.event_bus import EventBus
from fleet.event_relay import RedisEventRelay
from fleet.events import FleetEvent, TwinChanged
from tests.services import RedisService
from tests.waiting import wait_until

CSV_HEADER = "bench_id,name,municipality,entity,canton,lat,lon,altitude_m,installed\n"


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisService]:
    server = RedisService(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


def test_benches_import_announces_the_new_benches(redis_server: RedisService, tmp_path: Path) -> None:
    bus = EventBus()
    seen: list[FleetEvent] = []
    bus.subscribe(seen.append)
    relay = RedisEventRelay(redis_server.url, bus, origin="running-dashboard")  # a process already running
    relay.start()
    csv = tmp_path / "new.csv"
    csv.write_text(CSV_HEADER + "konjic-01,Klupa Konjic,Konjic,FBiH,Hercegovačko-neretvanski,43.65,17.96,280,2026-12\n")
    env = {"BENCHFLEET_DB": f"sqlite:///{tmp_path / 'fleet.db'}", "BENCHFLEET_REDIS": redis_server.url}
    try:
        wait_until(relay.subscribed.is_set, timeout=10, message="relay subscribed")
        result = CliRunner().invoke(main, ["benches", "import", str(csv)], env=env)
        assert result.exit_code == 0, result.output
        assert "announced 1 benches to running processes" in result.output
        wait_until(lambda: seen, timeout=10, message="the import's event")
    finally:
        relay.stop()
    assert len(seen) == 1
    event = seen[0]
    assert isinstance(event, TwinChanged)
    assert (event.twin.bench_id, event.section, event.twin.attributes.municipality) == (
        "konjic-01",
        "attributes",
        "Konjic",
    )


def test_benches_import_without_redis_still_imports_and_says_so(tmp_path: Path) -> None:
    csv = tmp_path / "new.csv"
    csv.write_text(CSV_HEADER + "konjic-01,Klupa Konjic,Konjic,FBiH,HNK,43.65,17.96,280,2026-12\n")
    env = {"BENCHFLEET_DB": f"sqlite:///{tmp_path / 'fleet.db'}", "BENCHFLEET_REDIS": "redis://127.0.0.1:1/0"}
    result = CliRunner().invoke(main, ["benches", "import", str(csv)], env=env)
    assert result.exit_code == 0, result.output
    assert "imported 1 benches" in result.output
    assert "Redis unreachable" in result.output


def test_dashboard_role_is_a_command() -> None:
    result = CliRunner().invoke(main, ["dashboard", "--help"])
    assert result.exit_code == 0
    assert "no ingestion, no scheduler" in result.output
    ingest = CliRunner().invoke(main, ["ingest", "--help"])
    assert "--worker" in ingest.output
    assert "--share-group" in ingest.output
