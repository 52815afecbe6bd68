"""docker-compose.yml: every BenchFleet service's settings are valid, and services it names exist.

Docker itself cannot run on the build machines (no engine); this checks what can be checked here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from fleet.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]


def _compose() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    return doc


def _expand(value: str) -> str:
    """Compose's ${VAR:-default} with the defaults."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(value))


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
