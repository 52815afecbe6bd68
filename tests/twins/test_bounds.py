"""Issue 8, item 5: every number in the contract fits the stores (int64, finite floats, sane years)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.twins.samples import EVENT_DATA, event_doc, reported_doc, telemetry_doc
from twins.codec import Rejected, RejectReason, decode
from twins.config import DEFAULT_CONFIG_DOC, BenchConfig
from twins.messages import INT64_MAX

BIG = 10**30  # what the attack of issue 8 sent; InfluxDB refused the whole line


def _telemetry(**over: Any) -> bytes:
    doc = telemetry_doc()
    for path, value in over.items():
        target = doc
        *parents, leaf = path.split("__")
        for p in parents:
            target = target[int(p)] if isinstance(target, list) else target[p]
        if isinstance(target, list):
            target[int(leaf)] = value
        else:
            target[leaf] = value
    return json.dumps(doc).encode()


def _rejected(topic: str, raw: bytes) -> Rejected:
    with pytest.raises(Rejected) as info:
        decode(topic, raw)
    assert info.value.reason is RejectReason.INVALID_PAYLOAD
    return info.value


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("seq", BIG),
        ("seq", INT64_MAX + 1),
        ("wifi__clients", BIG),
        ("wifi__sessions_today", 2**64),
        ("ports__0__sessions_today", BIG),
        ("ts", "0001-01-01T00:00:00Z"),
        ("ts", "1970-01-01T00:00:00Z"),
        ("ts", "9999-12-31T23:59:59Z"),
    ],
)
def test_telemetry_numbers_beyond_the_stores_are_rejected(field: str, value: object) -> None:
    err = _rejected("benches/mostar-01/telemetry", _telemetry(**{field: value}))
    assert field.split("__")[-1] in err.detail


def test_vote_counts_beyond_int64_are_rejected() -> None:
    err = _rejected("benches/mostar-01/telemetry", _telemetry(votes={"park-2026": {"yes": BIG}}))
    assert "votes.park-2026.yes" in err.detail


def test_largest_int64_counter_is_accepted() -> None:
    decoded = decode("benches/mostar-01/telemetry", _telemetry(wifi__sessions_today=INT64_MAX))
    assert decoded.message.wifi.sessions_today == INT64_MAX  # type: ignore[union-attr]


@pytest.mark.parametrize("energy", ["Infinity", "1e400", "NaN", "-Infinity", "1e6"])
def test_port_session_energy_must_be_finite_and_physical(energy: str) -> None:
    data = json.dumps({**EVENT_DATA["port_session"], "energy_wh": 0.0}).replace("0.0", energy)
    raw = json.dumps(event_doc("port_session", {})).replace('"data": {}', f'"data": {data}').encode()
    err = _rejected("benches/mostar-01/events", raw)
    assert "energy_wh" in err.detail


def test_port_session_in_year_one_is_rejected() -> None:
    data = {**EVENT_DATA["port_session"], "started": "0001-01-01T00:00:00Z"}
    err = _rejected("benches/mostar-01/events", json.dumps(event_doc("port_session", data)).encode())
    assert "started" in err.detail


@pytest.mark.parametrize("value", ["Infinity", "NaN", "1e400"])
def test_battery_reading_must_be_finite(value: str) -> None:
    raw = _telemetry().replace(b'"temp_c": 21.5', f'"temp_c": {value}'.encode())
    assert value.encode() in raw
    assert "temp_c" in _rejected("benches/mostar-01/telemetry", raw).detail


def test_hardware_and_config_report_numbers_are_bounded() -> None:
    doc = reported_doc(config={"version": BIG, "status": "applied"})
    assert "config.version" in _rejected("benches/mostar-01/reported", json.dumps(doc).encode()).detail
    doc = reported_doc()
    doc["hardware"]["battery_wh"] = 1e300
    assert "battery_wh" in _rejected("benches/mostar-01/reported", json.dumps(doc).encode()).detail


def test_config_floats_must_be_finite() -> None:
    doc = json.loads(json.dumps(DEFAULT_CONFIG_DOC))
    doc["load_shedding"]["scooter_below_pct"] = float("nan")  # NaN passes every ge/le check by itself
    with pytest.raises(ValueError, match="scooter_below_pct"):
        BenchConfig.model_validate(doc)
