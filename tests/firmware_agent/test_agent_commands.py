"""Commands over a real broker: each answered by a cmd_result event carrying the command's id."""

from __future__ import annotations

import json
import uuid

from firmware_agent.hardware.simulated import Faults


def test_ping(mosquitto, bench_id, clock, tmp_path, harnesses, observers) -> None:
    obs = observers(mosquitto.url, bench_id)
    h = harnesses(mosquitto.url, bench_id, tmp_path, clock).start()
    command_id = obs.send_command("ping")
    result = h.pump_until(lambda: obs.result(command_id), message="ping answered")
    assert result["data"]["ok"] is True
    assert result["data"]["name"] == "ping"
    assert result["data"]["result"]["firmware"] == "1.0.0"


def test_self_test_finds_a_dead_port_and_restores_switches(mosquitto, bench_id, clock, tmp_path, harnesses, observers):
    obs = observers(mosquitto.url, bench_id)
    h = harnesses(mosquitto.url, bench_id, tmp_path, clock, faults=Faults(dead_ports={"qi-1"})).start()
    h.hardware.faults.fail_switch.add("usb-2")
    command_id = obs.send_command("self_test")
    result = h.pump_until(lambda: obs.result(command_id), message="self_test answered")["data"]
    assert result["ok"] is False
    checks = result["result"]["checks"]
    assert checks["usb-1"] == "ok"
    assert checks["scooter-1"] == "ok"
    assert checks["qi-1"] == "switched on but reads off"
    assert "usb-2" in checks["usb-2"]
    assert checks["battery"] == "ok"
    assert result["error"] == "failed: qi-1, usb-2"
    assert all(h.hardware.is_on(p) for p in ("usb-1", "scooter-1", "qi-1"))


def test_self_test_all_ok(mosquitto, bench_id, clock, tmp_path, harnesses, observers) -> None:
    obs = observers(mosquitto.url, bench_id)
    h = harnesses(mosquitto.url, bench_id, tmp_path, clock).start()
    command_id = obs.send_command("self_test")
    result = h.pump_until(lambda: obs.result(command_id), message="self_test answered")["data"]
    assert result["ok"] is True
    assert set(result["result"]["checks"]) == {"usb-1", "usb-2", "qi-1", "scooter-1", "battery", "solar"}


def test_reboot_answers_then_asks_for_a_restart(mosquitto, bench_id, clock, tmp_path, harnesses, observers) -> None:
    obs = observers(mosquitto.url, bench_id)
    h = harnesses(mosquitto.url, bench_id, tmp_path, clock).start()
    command_id = obs.send_command("reboot")
    h.pump_until(lambda: obs.result(command_id), message="reboot answered")
    assert h.agent.restart_requested == "reboot"


def test_malformed_and_unknown_commands_are_answered_with_an_error(
    mosquitto, bench_id, clock, tmp_path, harnesses, observers
) -> None:
    obs = observers(mosquitto.url, bench_id)
    h = harnesses(mosquitto.url, bench_id, tmp_path, clock).start()
    unknown = str(uuid.uuid4())
    doc = {"v": 1, "bench_id": bench_id, "ts": "2026-11-26T10:00:00Z", "id": unknown, "name": "selfdestruct"}
    obs.publish("cmd", json.dumps(doc).encode())
    bad_args = obs.send_command("ota", {"version": "2.0.0", "url": "ftp://x", "sha256": "00", "signature": "x"})
    answer = h.pump_until(lambda: obs.result(unknown), message="unknown command answered")["data"]
    assert answer["ok"] is False
    assert answer["name"] == "selfdestruct"
    assert "name" in answer["error"]
    ota = h.pump_until(lambda: obs.result(bad_args), message="bad ota answered")["data"]
    assert ota["ok"] is False
    assert "url" in ota["error"]
    assert "sha256" in ota["error"]
    obs.publish("cmd", b"not json")  # no id to answer to: ignored, the agent keeps running
    ping = obs.send_command("ping")
    assert h.pump_until(lambda: obs.result(ping), message="still answering")["data"]["ok"] is True
