"""Desired configuration through a real broker: applied, rejected, rolled back on hardware failure, stale."""

from __future__ import annotations

from pathlib import Path

from firmware_agent.hardware.simulated import Faults
from tests.firmware_agent.conftest import config_doc, poll_doc
from tests.services import MosquittoService


def _report(obs, version: int):
    return next((c for c in reversed(obs.config_reports()) if c["version"] == version), None)


def test_config_applied_persisted_and_reported(
    mosquitto: MosquittoService, bench_id, clock, tmp_path: Path, harnesses, observers
):
    obs = observers(mosquitto.url, bench_id)
    h = harnesses(mosquitto.url, bench_id, tmp_path, clock).start()
    wifi = {"enabled": False, "ssid": "Klupa", "max_clients": 5, "session_minutes": 30}
    obs.send_desired(1, config_doc(telemetry_interval_s=30, wifi=wifi, polls=[poll_doc()]))

    report = h.pump_until(lambda: _report(obs, 1), message="reported.config v1")
    assert report == {"version": 1, "status": "applied", "error": None}
    assert h.hardware.wifi_settings.enabled is False
    assert h.hardware.wifi_settings.ssid == "Klupa"
    reported = obs.of("reported")[-1]
    assert reported["applied_config"]["telemetry_interval_s"] == 30
    assert reported["firmware"]["version"] == "1.0.0"
    # Stored on disk: a new agent on the same folder starts with it, without any network.
    h.close()
    again = harnesses("mqtt://127.0.0.1:1", bench_id, tmp_path, clock)
    again.host.start()
    assert again.agent.applied.version == 1
    assert again.agent.config.wifi.ssid == "Klupa"
    assert again.hardware.wifi_settings.enabled is False


def test_invalid_value_rejected_with_field_error(
    mosquitto: MosquittoService, bench_id, clock, tmp_path, harnesses, observers
):
    obs = observers(mosquitto.url, bench_id)
    h = harnesses(mosquitto.url, bench_id, tmp_path, clock).start()
    obs.send_desired(1, config_doc(telemetry_interval_s=2))

    report = h.pump_until(lambda: _report(obs, 1), message="reported.config v1")
    assert report["status"] == "rejected"
    assert "telemetry_interval_s" in report["error"]
    assert h.agent.applied.version == 0
    assert h.agent.config.telemetry_interval_s == 60


def test_hardware_failure_midway_rolls_back(
    mosquitto: MosquittoService, bench_id, clock, tmp_path, harnesses, observers
):
    obs = observers(mosquitto.url, bench_id)
    # scooter-1 is the last port switched: usb-1, usb-2 and qi-1 change first and must be put back.
    h = harnesses(mosquitto.url, bench_id, tmp_path, clock, faults=Faults()).start()
    before = {p: h.hardware.is_on(p) for p in ("usb-1", "usb-2", "qi-1", "scooter-1")}
    assert all(before.values())
    h.hardware.faults.fail_switch.add("scooter-1")
    ports = {
        "usb": {"enabled": False},
        "wireless": {"enabled": False},
        "scooter": {"enabled": False, "max_power_w": 50},
    }
    obs.send_desired(1, config_doc(ports=ports))

    report = h.pump_until(lambda: _report(obs, 1), message="reported.config v1")
    assert report["status"] == "rejected"
    assert "scooter-1" in report["error"]
    assert {p: h.hardware.is_on(p) for p in before} == before
    assert h.agent.applied.version == 0
    assert not (tmp_path / "config.json").exists()


def test_stale_version_ignored(mosquitto: MosquittoService, bench_id, clock, tmp_path, harnesses, observers):
    obs = observers(mosquitto.url, bench_id)
    h = harnesses(mosquitto.url, bench_id, tmp_path, clock).start()
    obs.send_desired(3, config_doc(telemetry_interval_s=45))
    h.pump_until(lambda: _report(obs, 3), message="reported.config v3")

    obs.send_desired(2, config_doc(telemetry_interval_s=90))
    obs.send_desired(4, config_doc(telemetry_interval_s=120))
    h.pump_until(lambda: _report(obs, 4), message="reported.config v4")
    assert _report(obs, 2) is None
    assert h.agent.applied.version == 4
    assert h.agent.config.telemetry_interval_s == 120

    obs.send_desired(4, config_doc(telemetry_interval_s=300))  # same version again: ignored too
    obs.send_desired(5, config_doc(telemetry_interval_s=150))
    h.pump_until(lambda: _report(obs, 5), message="reported.config v5")
    assert h.agent.config.telemetry_interval_s == 150
    applied_intervals = {doc["applied_config"]["telemetry_interval_s"] for doc in obs.of("reported")}
    assert 90 not in applied_intervals
    assert 300 not in applied_intervals
