"""The fast line-protocol encoder writes exactly what influxdb_client.Point writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from influxdb_client import Point, WritePrecision

from fleet.tsdb.line_protocol import encode_batch, encode_point, to_ms
from tests.twins.samples import CONTRACT_TELEMETRY
from twins.messages import Telemetry
from twins.metrics import METRICS
from twins.series import SeriesPoint, telemetry_points

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
