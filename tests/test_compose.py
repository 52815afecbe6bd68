"""docker-compose.yml: every BenchFleet service's settings are valid, and services it names exist.

Docker itself cannot run on the build machines (no engine); this checks what can be checked here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from fleet.provision import BrokerListeners, broker_config
from fleet.secret_key import generate_secret_key
from fleet.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]


def _compose() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    return doc


_VAR = re.compile(r"\$\{([A-Z_]+)(:[-?])?([^}]*)\}")
#: What an operator puts in .env: a generated secret per variable, the broker URL provision-server prints.
_FILLED = {
    "BENCHFLEET_MQTT": "mqtt://benchfleet-server:pw@mosquitto:1883",
    "BENCHFLEET_SIM_MQTT": "mqtt://benchfleet-sim:pw@mosquitto:1883",
}


def _env_values() -> dict[str, str]:
    names = {m.group(1) for m in _VAR.finditer((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))}
    return {n: _FILLED.get(n) or generate_secret_key() for n in names}


def _expand(value: str, values: dict[str, str] | None = None) -> str:
    """Compose's ${VAR:?message} with the values an operator put in .env."""
    filled = values or _env_values()
    return _VAR.sub(lambda m: filled[m.group(1)], str(value))


def test_benchfleet_services_have_valid_settings() -> None:
    services = _compose()["services"]
    ours = {name: s for name, s in services.items() if s.get("build") == "."}
    assert {"serve", "simulator"} <= set(ours)
    for name, service in ours.items():
        env = {k: _expand(v) for k, v in service.get("environment", {}).items()}
        settings = load_settings({}, env=env)  # raises SettingsError naming a bad value
        assert settings.mqtt_url.host == "mosquitto", name


def test_every_host_named_in_settings_is_a_service() -> None:
    services = _compose()["services"]
    serve_env = {k: _expand(v) for k, v in services["serve"]["environment"].items()}
    hosts = {re.match(r"^[a-z]+://(?:[^@/]*@)?([a-z0-9-]+)", v).group(1) for v in serve_env.values() if "://" in v}  # type: ignore[union-attr]
    assert hosts == {"mosquitto", "influxdb", "postgres", "redis"}
    assert hosts <= set(services)


def test_compose_broker_keeps_queued_messages_for_the_ingester() -> None:
    conf = (ROOT / "deploy" / "compose" / "mosquitto.conf").read_text(encoding="utf-8")
    assert "max_queued_messages 0" in conf
    assert "persistence true" in conf


def test_no_secret_has_a_default() -> None:
    """Issue 8: every variable is required (${VAR:?...}); nothing falls back to a published value."""
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    uses = list(_VAR.finditer(text))
    assert uses
    assert [m.group(0) for m in uses if m.group(2) != ":?"] == []
    assert "change-me" not in text
    assert "replace-with" not in text


def test_env_example_lists_every_variable_empty() -> None:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    entries = dict(line.split("=", 1) for line in example.splitlines() if line and not line.startswith("#"))
    used = {m.group(1) for m in _VAR.finditer((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))}
    assert set(entries) == used
    assert set(entries.values()) == {""}  # compose refuses to start until each is filled in


def test_compose_broker_uses_the_provisioned_files_with_tls() -> None:
    """The broker config is exactly what `benchfleet provision` generates for the shared broker folder."""
    conf = (ROOT / "deploy" / "compose" / "mosquitto.conf").read_text(encoding="utf-8")
    folder = Path("/var/lib/benchfleet-broker")
    listeners = BrokerListeners(
        bench="8883", server="1883", certfile="/mosquitto/certs/server.crt", keyfile="/mosquitto/certs/server.key"
    )
    assert broker_config(folder, listeners).strip() in conf
    services = _compose()["services"]
    assert "broker-files:/var/lib/benchfleet-broker" in services["mosquitto"]["volumes"]
    assert "broker-files:/var/lib/benchfleet-broker" in services["serve"]["volumes"]
    assert services["serve"]["environment"]["BENCHFLEET_BROKER_DIR"] == str(folder)
    assert services["mosquitto"]["ports"] == ["8883:8883"]
    assert "allow_anonymous true" not in conf
