"""The fast line-protocol encoder writes exactly what influxdb_client.Point writes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from influxdb_client import Point, WritePrecision

from fleet.tsdb.line_protocol import encode_batch, encode_point, to_ms
from tests.twins.samples import CONTRACT_TELEMETRY, telemetry_doc
from twins.messages import Telemetry
from twins.metrics import METRICS
from twins.series import SampledPoints, SeriesPoint, telemetry_points

names = st.text(min_size=1, max_size=12)
values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.booleans(),
    st.text(max_size=20),
)
timestamps = st.datetimes(min_value=datetime(1980, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))


def reference(point: SeriesPoint) -> str:
    p = Point(point.measurement)
    for k, v in point.tags.items():
        p.tag(k, v)
    for k, v in point.fields.items():
        p.field(k, v)
    p.time(to_ms(point.ts), WritePrecision.MS)
    return p.to_line_protocol()


@settings(max_examples=300, deadline=None)
@given(
    measurement=names.filter(lambda m: not m.startswith("#")),
    tags=st.dictionaries(names, st.text(max_size=12), max_size=4),
    fields=st.dictionaries(names, values, max_size=5),
    ts=timestamps,
)
def test_same_bytes_as_point(measurement: str, tags: dict[str, str], fields: dict[str, object], ts: datetime) -> None:
    point = SeriesPoint(measurement, tags, fields, ts)  # type: ignore[arg-type]
    assert encode_point(point) == reference(point)


def test_millisecond_floor_and_batch_skips_empty_points() -> None:
    ts = datetime(2026, 11, 26, 10, 0, 0, 999_999, tzinfo=UTC)
    assert to_ms(ts) == to_ms(ts - timedelta(microseconds=999)) == 1795687200999
    full = SeriesPoint("telemetry", {"bench_id": "mostar-01"}, {"soc": 50.0}, ts)
    empty = SeriesPoint("telemetry", {"bench_id": "mostar-01"}, {"soc": float("nan")}, ts)
    assert encode_batch([full, empty, full]).split(b"\n") == [
        b"telemetry,bench_id=mostar-01 soc=50 1795687200999",
        b"telemetry,bench_id=mostar-01 soc=50 1795687200999",
    ]


def test_influx_store_encodes_like_point_after_cleaning() -> None:
    from fleet.tsdb.influx_v1 import encode_lines, to_line

    ts = datetime(2026, 11, 26, tzinfo=UTC)
    points = [
        SeriesPoint("m", {"a": "", "b": "x y"}, {"f": float("nan"), "g": 1.0, "s": 'q"uote'}, ts),
        SeriesPoint("m", {"b": "x"}, {"f": float("inf")}, ts),
    ]
    assert encode_lines(points) == "\n".join(line for line in map(to_line, points) if line).encode()


def test_wide_telemetry_point_encodes_like_point() -> None:
    """The one wide point of a contract sample: same bytes as Point, every metric field on one line."""
    sample = Telemetry.model_validate_json(CONTRACT_TELEMETRY)
    (point,) = telemetry_points(sample, "Mostar")
    line = encode_point(point)
    assert line == reference(point)
    assert line.startswith("telemetry,bench_id=mostar-01,municipality=Mostar battery.current_a=-1.2,")
    assert line.count("=") == 2 + len(METRICS) + 1  # two tags, every metric, seq
    assert ",battery.soc_pct=81.2," in line
    assert ",ports.usb.active=1i," in line
    assert ",seq=1042i," in line
    assert line.endswith(",wifi.sessions_today=53i 1795687200000")


_port_lists = st.lists(
    st.fixed_dictionaries(
        {
            "kind": st.sampled_from(["usb", "wireless", "scooter"]),
            "active": st.booleans(),
            "power_w": st.sampled_from([0.0, 1.0, 7.5]) | st.floats(0, 10_000, allow_nan=False),
            "sessions_today": st.integers(0, 10_000),
        }
    ),
    max_size=5,
)


@settings(max_examples=100, deadline=None)
@given(ports=st.lists(_port_lists, min_size=1, max_size=4), soc=st.floats(0, 100), seq=st.integers(0, 2**63 - 1))
def test_sampled_points_encode_as_their_points(ports: list[list[dict[str, object]]], soc: float, seq: int) -> None:
    """Samples written from their values (SampledPoints) give the bytes of their points through encode_point:
    any mix and order of port kinds, whole and fractional floats, with other points after them."""
    samples = []
    for i, bench_ports in enumerate(ports):
        doc = telemetry_doc(
            f"bench-{i}",
            seq=seq,
            ports=[{"id": f"p-{j}", **p} for j, p in enumerate(bench_ports)],
            battery={"soc_pct": soc, "voltage_v": 13.0, "current_a": -1.25, "temp_c": 21.5},
        )
        samples.append((Telemetry.model_validate_json(json.dumps(doc)), f"Town {i % 2}"))
    other = SeriesPoint("event", {"bench_id": "bench-0", "type": "boot"}, {"id": "x", "data": "{}"}, samples[0][0].ts)
    sampled = SampledPoints(samples, [other])
    points = [p for sample, town in samples for p in telemetry_points(sample, town)] + [other]
    assert encode_batch(sampled) == encode_batch(points) == "\n".join(map(reference, points)).encode()
    assert encode_batch(sampled[1:]) == encode_batch(points[1:])  # a writer's slice keeps the fast path
