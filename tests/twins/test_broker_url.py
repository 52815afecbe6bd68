"""One broker URL type for the fleet, the agent and the simulator."""

from __future__ import annotations

import pytest

from fleet.settings import SettingsError, parse_mqtt_url
from twins.broker_url import parse_broker_url


def test_broker_url_parsing() -> None:
    url = parse_broker_url("mqtts://mostar-01:p%40ss@broker.example.org")
    assert (url.host, url.port, url.tls, url.username, url.password) == (
        "broker.example.org",
        8883,
        True,
        "mostar-01",
        "p@ss",
    )
    assert "p@ss" not in repr(url)
    assert url.redacted() == "mqtts://mostar-01@broker.example.org:8883"
    assert parse_broker_url("mqtt://10.0.0.1").port == 1883


@pytest.mark.parametrize(("bad", "message"), [("http://x", "scheme"), ("mqtt://", "host"), ("mqtt://h:99999", "port")])
def test_bad_broker_urls_name_the_problem_and_the_form(bad: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as err:
        parse_broker_url(bad)
    assert "mqtt://[user:pass@]host:1883" in str(err.value)


def test_the_fleet_setting_is_the_same_url_or_embedded() -> None:
    text = "mqtts://ana:s%40cret@broker:8884"
    assert parse_mqtt_url(text).redacted() == parse_broker_url(text).redacted() == "mqtts://ana@broker:8884"
    assert parse_mqtt_url("embedded").embedded
    with pytest.raises(SettingsError, match=r"BENCHFLEET_MQTT: .*scheme.*embedded"):
        parse_mqtt_url("http://broker")
