"""The composition root: option checks with clear errors, and a full run stopped by an event."""

from __future__ import annotations

import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
import requests

from firmware_agent.main import AgentOptions, build_options, check_options, run_agent
from tests.services import free_port
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"bench_id": "Mostar 01"}, "--bench-id"),
        ({"mqtt_url": "http://broker"}, "--mqtt"),
        ({"hardware": "modbus:/dev/ttyS0"}, "--hardware"),
        ({"ota_public_key": Path("/nonexistent/key.pem")}, "--ota-public-key"),
    ],
)
def test_bad_options_name_the_option(changes: dict, message: str) -> None:
    options = AgentOptions(**{"bench_id": "mostar-01", "mqtt_url": "mqtt://127.0.0.1:1883", **changes})
    with pytest.raises(ValueError, match=message):
        check_options(options)


def test_build_options_from_cli_values(tmp_path: Path) -> None:
    options = build_options(
        bench_id="mostar-01", mqtt_url="mqtts://mostar-01:x@broker:8883", data_dir=tmp_path, kiosk_http="off"
    )
    assert options.kiosk_port is None
    assert build_options(bench_id="mostar-01", mqtt_url="mqtt://h", kiosk_http="0.0.0.0:9000").kiosk_port == 9000
    with pytest.raises(ValueError, match="--kiosk"):
        build_options(bench_id="mostar-01", mqtt_url="mqtt://h", kiosk_http="localhost")


def test_module_entry_point_reports_bad_options_in_one_line() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "firmware_agent", "--bench-id", "x", "--mqtt", "mqtt://h"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error: --bench-id: invalid bench id 'x'")
    assert "Traceback" not in proc.stderr


def test_run_agent_until_stopped(mosquitto, tmp_path: Path, observers) -> None:
    bench_id = f"run-{uuid.uuid4().hex[:8]}"
    obs = observers(mosquitto.url, bench_id)
    kiosk_port = free_port()
    options = AgentOptions(
        bench_id=bench_id, mqtt_url=mosquitto.url, data_dir=tmp_path / "agent", kiosk_port=kiosk_port, tick_s=0.1
    )
    stop = threading.Event()
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(run_agent(options, stop)))
    thread.start()
    try:
        wait_until(lambda: obs.of("telemetry") and obs.events("boot"), timeout=20, message="agent publishing")
        assert requests.get(f"http://127.0.0.1:{kiosk_port}/api/polls", timeout=5).json()["polls"] == []
        reported = wait_until(lambda: obs.of("reported"), timeout=10)[-1]
        assert reported["hardware"]["driver"] == "sim"
        assert (tmp_path / "agent" / "outbox.sqlite3").exists()
    finally:
        stop.set()
        thread.join(timeout=20)
    assert result == [0]
    assert obs.of("status")[-1]["online"] is False
