"""Settings: flags > environment > TOML > defaults; every bad value stops with one line naming the setting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fleet.settings import Settings, SettingsError, load_settings, parse_mqtt_url


def _toml(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "benchfleet.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_defaults_without_any_source() -> None:
    s = load_settings(flags={}, env={})
    assert s == Settings()
    assert s.http == "127.0.0.1:5000"
    assert (s.http_host, s.http_port) == ("127.0.0.1", 5000)
    assert s.auto_register is False


def test_precedence_flags_over_env_over_toml_over_defaults(tmp_path: Path) -> None:
    toml = _toml(
        tmp_path,
        """[benchfleet]
mqtt = "mqtt://toml-broker:1883"
tsdb = "influxdb://toml-influx:8086/fleet"
db = "sqlite:///toml.db"
http = "0.0.0.0:7000"
""",
    )
    env = {
        "BENCHFLEET_TSDB": "sqlite:///env-series.db",
        "BENCHFLEET_DB": "postgresql://env-pg/fleet",
        "BENCHFLEET_HTTP": "127.0.0.1:6000",
    }
    flags = {"http": "127.0.0.1:8000", "mqtt": None}  # None means "flag not given"
    s = load_settings(flags=flags, env=env, config_file=toml)
    assert s.http == "127.0.0.1:8000"  # flag beats env and TOML
    assert s.db == "postgresql://env-pg/fleet"  # env beats TOML
    assert s.tsdb == "sqlite:///env-series.db"
    assert s.mqtt == "mqtt://toml-broker:1883"  # TOML beats the default
    assert s.log_level == Settings().log_level  # default


def test_config_file_from_environment(tmp_path: Path) -> None:
    toml = _toml(tmp_path, '[benchfleet]\nauto_register = true\nlog_level = "debug"\n')
    s = load_settings(env={"BENCHFLEET_CONFIG": str(toml)})
    assert s.auto_register is True
    assert s.log_level == "DEBUG"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1", True), ("true", True), ("YES", True), ("on", True), ("0", False), ("false", False), ("", False)],
)
def test_auto_register_from_env(text: str, expected: bool) -> None:
    assert load_settings(env={"BENCHFLEET_AUTO_REGISTER": text}).auto_register is expected


def test_boolean_flags_beat_env() -> None:
    s = load_settings(flags={"auto_register": False}, env={"BENCHFLEET_AUTO_REGISTER": "1"})
    assert s.auto_register is False


@pytest.mark.parametrize(
    ("var", "value", "fix"),
    [
        ("BENCHFLEET_MQTT", "http://broker:1883", "mqtt://"),
        ("BENCHFLEET_MQTT", "mqtt://", "mqtt://"),
        ("BENCHFLEET_MQTT", "mqtt://broker:99999", "mqtt://"),
        ("BENCHFLEET_MQTT", "broker:1883", "embedded"),
        ("BENCHFLEET_TSDB", "influx://host:8086/db", "influxdb://"),
        ("BENCHFLEET_TSDB", "influxdb://host:8086/", "influxdb://"),
        ("BENCHFLEET_TSDB", "influxdb://host:port/db", "influxdb://"),
        ("BENCHFLEET_TSDB", "sqlite://", "sqlite:///"),
        ("BENCHFLEET_DB", "mysql://host/fleet", "postgresql://"),
        ("BENCHFLEET_DB", "not a url", "sqlite:///"),
        ("BENCHFLEET_HTTP", "5000", "127.0.0.1:5000"),
        ("BENCHFLEET_HTTP", "localhost:http", "127.0.0.1:5000"),
        ("BENCHFLEET_HTTP", "localhost:70000", "127.0.0.1:5000"),
        ("BENCHFLEET_HTTP", ":5000", "127.0.0.1:5000"),
        ("BENCHFLEET_AUTO_REGISTER", "maybe", "1 or 0"),
        ("BENCHFLEET_PUBLIC_RESULTS", "2", "1 or 0"),
        ("BENCHFLEET_LOG_LEVEL", "loud", "INFO"),
    ],
)
def test_bad_env_setting_names_the_variable_and_the_fix(var: str, value: str, fix: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(env={var: value})
    message = str(info.value)
    assert message.startswith(f"{var}: ")
    assert repr(value) in message
    assert fix in message
    assert "\n" not in message


def test_bad_flag_is_reported_with_the_setting_name() -> None:
    with pytest.raises(SettingsError, match=r"^BENCHFLEET_HTTP: 'nowhere'"):
        load_settings(flags={"http": "nowhere"}, env={})


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ('[benchfleet]\nhttp = "nowhere"\n', "BENCHFLEET_HTTP: 'nowhere'"),
        ("[benchfleet]\nmqtt = 1883\n", "BENCHFLEET_MQTT: 1883 is not a string"),
        ("[benchfleet]\nauto_register = 1\n", "BENCHFLEET_AUTO_REGISTER: 1 is not a boolean"),
        ('[benchfleet]\nauto_register = "sometimes"\n', "BENCHFLEET_AUTO_REGISTER: 'sometimes'"),
        ("[benchfleet]\nmqtt_url = 'embedded'\n", "unknown key(s) mqtt_url"),
        ("[benchfleet\nmqtt = 1\n", "is not valid TOML"),
        ("benchfleet = 3\n", "must be a [benchfleet] table"),
    ],
)
def test_bad_toml_is_one_clear_line(tmp_path: Path, body: str, needle: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(env={}, config_file=_toml(tmp_path, body))
    assert needle in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_config_file_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"^BENCHFLEET_CONFIG: file .*nope.toml does not exist"):
        load_settings(env={"BENCHFLEET_CONFIG": str(tmp_path / "nope.toml")})


def test_toml_without_benchfleet_table_gives_defaults(tmp_path: Path) -> None:
    assert load_settings(env={}, config_file=_toml(tmp_path, "[other]\nx = 1\n")) == Settings()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("embedded", {"embedded": True}),
        ("mqtt://broker", {"host": "broker", "port": 1883, "tls": False}),
        ("mqtts://broker", {"host": "broker", "port": 8883, "tls": True}),
        ("mqtt://ana:s%40cret@broker:1884", {"username": "ana", "password": "s@cret", "port": 1884}),
    ],
)
def test_mqtt_url_parsing(url: str, expected: dict[str, Any]) -> None:
    parsed = parse_mqtt_url(url)
    for key, value in expected.items():
        assert getattr(parsed, key) == value
    assert "cret" not in parsed.redacted()


def test_settings_mqtt_url_property() -> None:
    s = load_settings(env={"BENCHFLEET_MQTT": "mqtts://u:p@broker.example:8883"})
    assert s.mqtt_url.redacted() == "mqtts://u@broker.example:8883"


def test_redis_is_the_one_redis_setting_and_the_old_queue_is_a_deprecated_fallback() -> None:
    both = load_settings(env={"BENCHFLEET_REDIS": "redis://r:6379/1", "BENCHFLEET_SOCKETIO_QUEUE": "redis://q:6379/0"})
    assert both.redis_url == "redis://r:6379/1"
    assert "ignored" in both.deprecations()[0]
    old = load_settings(env={"BENCHFLEET_SOCKETIO_QUEUE": "redis://q:6379/0"})
    assert old.redis_url == "redis://q:6379/0"
    assert old.deprecations() == [
        "BENCHFLEET_SOCKETIO_QUEUE is deprecated: set BENCHFLEET_REDIS to the same URL instead"
    ]
    assert load_settings(env={}).redis_url == ""
    assert load_settings(env={}).deprecations() == []


@pytest.mark.parametrize(
    ("var", "value", "fix"),
    [
        ("BENCHFLEET_REDIS", "http://r:6379", "redis://host:6379/0"),
        ("BENCHFLEET_REDIS", "redis://r:port/0", "redis://host:6379/0"),
        ("BENCHFLEET_SOCKETIO_QUEUE", "amqp://q", "set BENCHFLEET_REDIS"),
        ("BENCHFLEET_WORKER", "-1", "0..9999"),
        ("BENCHFLEET_WORKER", "two", "0..9999"),
    ],
)
def test_bad_redis_or_worker_names_the_setting(var: str, value: str, fix: str) -> None:
    with pytest.raises(SettingsError, match=var) as err:
        load_settings(env={var: value})
    assert fix in str(err.value)


def test_worker_slot_from_env_flag_or_toml(tmp_path: Path) -> None:
    toml = tmp_path / "b.toml"
    toml.write_text("[benchfleet]\nworker = 3\n")
    assert load_settings(env={}, config_file=toml).worker == 3
    assert load_settings(env={"BENCHFLEET_WORKER": "2"}, config_file=toml).worker == 2
    assert load_settings({"worker": 5}, env={"BENCHFLEET_WORKER": "2"}).worker == 5
