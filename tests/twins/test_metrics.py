"""The metric table (twins/metrics.py): readable from every sample, one spelling, and the only place it is written."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.twins.samples import CONTRACT_TELEMETRY, telemetry_doc
from twins.messages import Telemetry
from twins.metrics import BY_KEY, METRICS, SOLAR_POWER, Metric
from twins.series import SEQ_FIELD, SERIES_FIELDS, TELEMETRY, SampledPoints, SeriesPoint, telemetry_points

ROOT = Path(__file__).resolve().parents[2]
PRODUCT_DIRS = ("twins", "fleet", "dashboards", "firmware_agent", "simulator")
PRODUCT_SUFFIXES = {".py", ".js", ".html"}
UNITS = {"%", "°C", "V", "A", "W", "Wh", ""}
KEY = re.compile(r"^[a-z]+(\.[a-z_]+)+$")


def sample(**over: Any) -> Telemetry:
    """The contract's sample with top-level sections replaced."""
    return Telemetry.model_validate_json(json.dumps(telemetry_doc(**over)))


def contract_ports() -> list[dict[str, Any]]:
    """The ports of the contract's sample."""
    ports: list[dict[str, Any]] = json.loads(CONTRACT_TELEMETRY)["ports"]
    return ports


@pytest.mark.parametrize("metric", METRICS, ids=lambda m: m.key)
def test_every_metric_reads_a_number_from_the_contract_sample(metric: Metric) -> None:
    value = metric.value_fn(sample())
    assert value is not None
    assert type(value) in (int, float)  # not bool: a TSDB field keeps one numeric type
    assert metric.unit in UNITS
    assert metric.kind in ("gauge", "counter")
    assert KEY.match(metric.key), metric.key


def test_values_of_the_contract_sample() -> None:
    values = {m.key: m.value_fn(sample()) for m in METRICS}
    assert values["battery.soc_pct"] == 81.2
    assert values["battery.current_a"] == -1.2
    assert values["solar.energy_today_wh"] == 410.0
    assert values["ports.power_w"] == 7.5
    assert values["ports.sessions_today"] == 14 + 3 + 1
    assert (values["ports.usb.power_w"], values["ports.usb.active"], values["ports.usb.sessions_today"]) == (7.5, 1, 14)
    assert (values["ports.wireless.active"], values["ports.wireless.sessions_today"]) == (0, 3)
    assert (values["ports.scooter.power_w"], values["ports.scooter.sessions_today"]) == (0.0, 1)
    assert (values["wifi.clients"], values["wifi.sessions_today"]) == (7, 53)


def test_ports_of_one_kind_add_up_and_a_missing_kind_has_no_value() -> None:
    usb = contract_ports()[0]
    two_usb = [usb, {**usb, "id": "usb-2", "active": False, "power_w": 2.5, "sessions_today": 4}]
    t = sample(ports=two_usb)
    assert BY_KEY["ports.usb.power_w"].value_fn(t) == 10.0
    assert BY_KEY["ports.usb.active"].value_fn(t) == 1
    assert BY_KEY["ports.usb.sessions_today"].value_fn(t) == 18
    assert BY_KEY["ports.scooter.power_w"].value_fn(t) is None
    point = telemetry_points(t, "Mostar")[0]
    assert "ports.scooter.power_w" not in point.fields  # absent, not 0: the bench has no scooter port
    assert point.fields["ports.power_w"] == 10.0


def test_value_types_do_not_depend_on_how_the_bench_spelled_numbers() -> None:
    """JSON ``7`` and ``7.0`` give the same field type, or InfluxDB would refuse the second (type conflict)."""
    floats = sample()
    ints = sample(
        battery={"soc_pct": 81, "voltage_v": 13, "current_a": -1, "temp_c": 21},
        solar={"power_w": 88, "energy_today_wh": 410},
        load={"power_w": 12},
        ports=[{**p, "power_w": int(p["power_w"])} for p in contract_ports()],
    )
    for m in METRICS:
        assert type(m.value_fn(ints)) is type(m.value_fn(floats)), m.key


def test_no_duplicate_keys_fields_or_labels() -> None:
    for attribute in ("key", "field", "label"):
        seen = [getattr(m, attribute) for m in METRICS]
        assert len(seen) == len(set(seen)), attribute
    assert SEQ_FIELD not in {m.field for m in METRICS}
    assert BY_KEY[SOLAR_POWER.key] is SOLAR_POWER
    assert all(m.translation_key == m.label for m in METRICS)


def test_one_wide_point_per_sample_with_every_metric() -> None:
    t = sample()
    points = telemetry_points(t, "Mostar")
    assert len(points) == 1
    point = points[0]
    assert point.measurement == TELEMETRY
    assert dict(point.tags) == {"bench_id": "mostar-01", "municipality": "Mostar"}
    assert point.ts == t.ts
    assert set(point.fields) == {m.field for m in METRICS} | {SEQ_FIELD}
    assert point.fields[SEQ_FIELD] == t.seq
    assert point.fields["battery.soc_pct"] == 81.2


def test_series_fields_are_the_metric_keys() -> None:
    assert list(SERIES_FIELDS) == [m.key for m in METRICS]
    assert all(SERIES_FIELDS[m.key] == (TELEMETRY, m.field) for m in METRICS)


def _product_files() -> list[Path]:
    return sorted(
        p
        for d in PRODUCT_DIRS
        for p in (ROOT / d).rglob("*")
        if p.suffix in PRODUCT_SUFFIXES and p.is_file() and "vendor" not in p.parts
    )


def test_each_tsdb_field_is_written_in_exactly_one_product_file() -> None:
    """A metric's TSDB field name, as a quoted string, appears only in twins/metrics.py: everything else derives."""
    texts = {p.relative_to(ROOT).as_posix(): p.read_text(encoding="utf-8") for p in _product_files()}
    assert "twins/metrics.py" in texts
    assert len(texts) > 50  # the walk found the product
    for m in METRICS:
        quoted = re.compile(r"[\"']" + re.escape(m.field) + r"[\"']")
        found = sorted(path for path, text in texts.items() if quoted.search(text))
        assert found == ["twins/metrics.py"], f"{m.field}: written in {found}"


def test_old_spellings_are_gone_from_product_code() -> None:
    """The former TSDB field names (``battery_soc_pct``...) are written nowhere."""
    old = re.compile(
        r"[\"'](battery_soc_pct|battery_voltage_v|battery_current_a|battery_temp_c|solar_energy_today_wh)[\"']"
    )
    found = {p.relative_to(ROOT).as_posix(): old.findall(p.read_text(encoding="utf-8")) for p in _product_files()}
    assert {path: hits for path, hits in found.items() if hits} == {}


#: The twin summary's and fleet columns' names before they became the metric keys.
OLD_SUMMARY_NAMES = re.compile(
    r"\b(soc_pct|temp_c|solar_power_w|energy_today_wh|load_power_w|ports_power_w|port_sessions|wifi_clients)\b"
)


def test_dashboards_read_metrics_by_their_keys_only() -> None:
    """The summary JSON, fleet columns, templates and scripts spell a metric only as its key (``battery.soc_pct``)."""
    keys = re.compile("|".join(re.escape(m.key) for m in sorted(METRICS, key=lambda m: -len(m.key))))
    files = [p for p in _product_files() if p.relative_to(ROOT).parts[0] == "dashboards"]
    assert any(p.suffix == ".js" for p in files)
    assert any(p.suffix == ".html" for p in files)
    found = {
        p.relative_to(ROOT).as_posix(): OLD_SUMMARY_NAMES.findall(keys.sub("", p.read_text(encoding="utf-8")))
        for p in files
    }
    assert {path: hits for path, hits in found.items() if hits} == {}


def test_docs_list_every_metric() -> None:
    """docs/tsdb.md documents the point layout: every field of the table is in it."""
    doc = (ROOT / "docs" / "tsdb.md").read_text(encoding="utf-8")
    assert [m.key for m in METRICS if f"| `{m.field}` | {m.unit or 'count'} |" not in doc] == []


_port_docs = st.lists(
    st.fixed_dictionaries(
        {
            "kind": st.sampled_from(["usb", "wireless", "scooter"]),
            "active": st.booleans(),
            # -0.0 included: a sum that started from the first port instead of 0.0 would keep its sign.
            "power_w": st.sampled_from([0.0, -0.0, 0.1, 7.5]) | st.floats(0, 10_000, allow_nan=False),
            "sessions_today": st.integers(0, 10_000),
        }
    ),
    max_size=8,
)


@given(_port_docs)
def test_the_one_pass_port_sums_equal_each_metrics_value_fn(ports: list[dict[str, Any]]) -> None:
    doc = telemetry_doc(ports=[{"id": f"p-{i}", **p} for i, p in enumerate(ports)])
    sample = Telemetry.model_validate_json(json.dumps(doc))
    [point] = telemetry_points(sample, "Mostar")
    for metric in METRICS:
        expected = metric.value_fn(sample)
        if expected is None:
            assert metric.field not in point.fields, metric.key
        else:
            got = point.fields[metric.field]
            assert (got, type(got), repr(got)) == (expected, type(expected), repr(expected)), metric.key


def test_sampled_points_are_the_points_of_their_samples_then_the_others() -> None:
    """SampledPoints reads as telemetry_points of each sample followed by the other points: by index, by
    slice (a slice across both parts keeps its kind) and whole."""
    samples = [(sample(bench_id="mostar-01", seq=i), "Mostar") for i in range(3)]
    other = SeriesPoint("event", {"bench_id": "mostar-01"}, {"id": "e"}, samples[0][0].ts)
    sampled = SampledPoints(samples, [other])
    expected = [p for s, town in samples for p in telemetry_points(s, town)] + [other]
    assert len(sampled) == 4
    assert list(sampled) == expected
    assert [sampled[i] for i in range(-4, 4)] == expected + expected
    assert isinstance(sampled[2:], SampledPoints)
    assert list(sampled[2:]) == expected[2:]
    assert list(sampled[1:3]) == expected[1:3]
    assert list(sampled[::2]) == expected[::2]
    assert list(sampled[3:1]) == []
    with pytest.raises(IndexError):
        sampled[4]
