"""The agent against the embedded amqtt broker that ``benchfleet demo`` uses."""

from __future__ import annotations

from tests.firmware_agent.conftest import config_doc


def test_agent_on_embedded_broker(amqtt_broker, bench_id, clock, tmp_path, harnesses, observers) -> None:
    obs = observers(amqtt_broker.url, bench_id)
    h = harnesses(amqtt_broker.url, bench_id, tmp_path, clock).start()
    obs.send_desired(1, config_doc(telemetry_interval_s=20))
    h.pump_until(lambda: any(c["version"] == 1 for c in obs.config_reports()), message="config applied")
    h.pump_until(lambda: obs.of("telemetry") and obs.events("boot"), message="telemetry and boot event")
    assert h.agent.config.telemetry_interval_s == 20
    assert obs.of("status")[-1]["online"] is True
    command_id = obs.send_command("ping")
    assert h.pump_until(lambda: obs.result(command_id), message="ping")["data"]["ok"] is True
    h.pump_until(lambda: h.outbox.count() == 0, message="outbox drained by PUBACKs")
