"""The column-wise encoder (``encode_columns``) writes the bytes the point encoder writes for the same points."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from fleet.tsdb.influx_v1 import InfluxV1Store, parse_influx_url
from fleet.tsdb.line_protocol import EncodedBatch, encode_batch, encode_columns
from simulator.backfill_run import bench_points, history_times, simulate_history
from simulator.sites import seed_sites
from twins.series import SeriesColumns

ROWS = st.integers(min_value=1, max_value=40)
names = st.text(min_size=1, max_size=10)
# Floats as benches report them (a few decimals), float sums with rounding noise, any finite float.
decimals = st.builds(round, st.floats(-1e6, 1e6, allow_nan=False), st.integers(0, 4))
noisy = st.builds(lambda a, b: a + b, st.floats(-1e3, 1e3).map(lambda v: round(v, 2)), st.just(0.1))
floats = st.one_of(decimals, noisy, st.floats(allow_nan=False, allow_infinity=False), st.sampled_from([-0.0, 0.0]))


@st.composite
def columns(draw: st.DrawFn) -> SeriesColumns:
    """A SeriesColumns with float, integer and boolean columns (and now and then a string or a NaN)."""
    rows = draw(ROWS)
    fields: dict[str, np.ndarray] = {}
    for name in draw(st.lists(names, min_size=1, max_size=6, unique=True)):
        kind = draw(st.sampled_from(["float", "int", "bool", "rare"]))
        if kind == "float":
            fields[name] = np.array(draw(st.lists(floats, min_size=rows, max_size=rows)), dtype=np.float64)
        elif kind == "int":
            fields[name] = draw(hnp.arrays(np.int64, rows))
        elif kind == "bool":
            fields[name] = draw(hnp.arrays(np.bool_, rows))
        else:  # what only the reference encoder writes: strings, a NaN dropped from one point
            rare = draw(st.sampled_from([np.array(["a b"] * rows), np.full(rows, np.nan)]))
            fields[name] = rare
    stamps = draw(hnp.arrays(np.int64, rows, elements=st.integers(-(10**12), 5 * 10**12)))
    tags = draw(st.dictionaries(names, st.text(max_size=8), max_size=3))
    return SeriesColumns(draw(names.filter(lambda m: not m.startswith("#"))), tags, stamps, fields)


@settings(max_examples=300, deadline=None)
@given(batch=columns())
def test_columns_encode_like_their_points(batch: SeriesColumns) -> None:
    assert encode_columns(batch) == encode_batch(batch.points())


def test_a_backfill_frame_encodes_like_its_points() -> None:
    """A sample frame of the backfill (a day at 60 s): the store's body equals the reference encoder's."""
    site = seed_sites()[4]
    times = history_times(datetime(2026, 6, 2, tzinfo=UTC), timedelta(days=1), timedelta(seconds=60))
    frame, ports, _, _ = simulate_history((site, site, 5, times, ()))
    chunks = list(bench_points(site, frame, ports))
    assert sum(map(len, chunks)) == len(times) == 1440
    for chunk in chunks:
        body = encode_batch(chunk)  # dispatches to encode_columns
        assert body == encode_batch(list(chunk))
        assert body.count(b"\n") == len(chunk) - 1


def test_series_columns_are_a_sequence_of_points() -> None:
    stamps = np.array([1_000, 61_000, 121_000], dtype=np.int64)
    batch = SeriesColumns("m", {"t": "x"}, stamps, {"a": np.array([1.5, 2.0, 3.25]), "n": np.array([1, 2, 3])})
    points = list(batch)
    assert len(batch) == 3
    assert len(points) == 3
    assert points[1].ts == datetime(1970, 1, 1, 0, 1, 1, tzinfo=UTC)
    assert dict(points[2].fields) == {"a": 3.25, "n": 3}
    assert type(points[2].fields["n"]) is int
    assert batch[-1] == points[2]
    tail = batch[1:]
    assert isinstance(tail, SeriesColumns)
    assert list(tail) == points[1:]


def test_prepared_batch_posts_its_body_and_reads_as_its_points() -> None:
    store = InfluxV1Store(parse_influx_url("influxdb://127.0.0.1:1/db"))
    batch = SeriesColumns("m", {}, np.array([5], dtype=np.int64), {"a": np.array([1.0])})
    prepared = store.prepare(batch)
    assert isinstance(prepared, EncodedBatch)
    assert prepared.body == b"m a=1 5"
    assert prepared[0:5] is prepared
    assert list(prepared) == list(batch)
    assert store.prepare(prepared) is prepared
