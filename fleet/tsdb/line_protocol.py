"""Fast InfluxDB line protocol for SeriesPoints, byte-for-byte what ``influxdb_client.Point`` writes.

``Point.to_line_protocol`` is the reference (tests/fleet/test_line_protocol.py compares the two on
generated points), but it costs ~30 µs a point in Python, which alone would cap ingestion below
5,000 messages/s. This encoder uses the same escaping tables, caches escaped keys and tag values
(a fleet repeats the same few thousand), and formats values the way Point does.

``encode_columns`` writes the same bytes for a ``SeriesColumns`` (a backfill's chunk: one series, many
timestamps) without one Python object per point or value: every row is laid out in one byte matrix
(constant pieces broadcast, numbers as digit columns computed with numpy, unused cells 0) and the zeros
are dropped at the end. ~2 µs a point against ~20 µs through SeriesPoints and ``encode_batch``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain
from operator import itemgetter
from typing import Any, overload

import numpy as np
from influxdb_client.client.write.point import _ESCAPE_KEY, _ESCAPE_MEASUREMENT, _ESCAPE_STRING

from twins.messages import Telemetry
from twins.series import (
    TELEMETRY,
    Column,
    SampledPoints,
    SeriesColumns,
    SeriesPoint,
    telemetry_tags,
    telemetry_values,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_CACHE = 200_000
_measurements: dict[str, str] = {}
_keys: dict[str, str] = {}
_tag_values: dict[str, str] = {}
_prefixes: dict[str, str] = {}
_series_keys: dict[tuple[object, ...], str] = {}
_telemetry_heads: dict[tuple[str, str], str] = {}
_plans: dict[tuple[tuple[str, ...], tuple[type, ...]], _Plan | None] = {}


def _measurement(name: str) -> str:
    got = _measurements.get(name)
    if got is None:
        got = _measurements[name] = name.translate(_ESCAPE_MEASUREMENT)
    return got


def _key(name: str) -> str:
    got = _keys.get(name)
    if got is None:
        if len(_keys) > _MAX_CACHE:
            _keys.clear()
        got = _keys[name] = name.translate(_ESCAPE_KEY)
    return got


def _tag_value(value: str) -> str:
    got = _tag_values.get(value)
    if got is None:
        if len(_tag_values) > _MAX_CACHE:
            _tag_values.clear()
        got = value.translate(_ESCAPE_KEY)
        if got.endswith("\\"):
            got += " "
        _tag_values[value] = got
    return got


def _field(key: str, value: object) -> str | None:
    # bool before int: bool is an int subclass. Order and formats follow Point._append_fields.
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        s = str(value)
        if s.endswith(".0"):
            s = s[:-2]
        return f"{_key(key)}={s}"
    if isinstance(value, bool):
        return f"{_key(key)}={'true' if value else 'false'}"
    if isinstance(value, int):
        return f"{_key(key)}={value}i"
    if isinstance(value, str):
        return f'{_key(key)}="{value.translate(_ESCAPE_STRING)}"'
    raise ValueError(f'Type: "{type(value)}" of field: "{key}" is not supported.')


def to_ms(ts: datetime) -> int:
    """Milliseconds since the epoch (floor), exact integer arithmetic."""
    delta = ts - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def _prefix(key: str) -> str:
    got = _prefixes.get(key)
    if got is None:
        if len(_prefixes) > _MAX_CACHE:
            _prefixes.clear()
        got = _prefixes[key] = f"{_key(key)}="
    return got


def _fields(fields: Mapping[str, object]) -> list[str]:
    # The two types of nearly every field (a telemetry point has ~20) are formatted inline, by exact type:
    # ``_field`` for each cost a third of a sample's encoding. Anything else takes ``_field``'s rules.
    parts: list[str] = []
    for key, value in sorted(fields.items()):
        kind = type(value)
        if kind is float:
            if value - value != 0.0:  # type: ignore[operator]  # NaN or ±inf: Point leaves the field out
                continue
            text = repr(value)
            parts.append(_prefix(key) + (text[:-2] if text.endswith(".0") else text))
        elif kind is int:
            parts.append(f"{_prefix(key)}{value}i")
        elif value is not None and (part := _field(key, value)) is not None:
            parts.append(part)
    return parts


@dataclass(frozen=True, slots=True)
class _Plan:
    """How to write one key set with one set of value types (floats and ints only) in one ``%``."""

    template: str  # "a=%r,b=%di,...," in key order
    ordered: Callable[[tuple[object, ...]], tuple[object, ...]] | None  # the values in key order (None: they are)
    floats: Callable[[tuple[object, ...]], tuple[object, ...]] | None  # the float values (their sum finite: all are)


def _getter(indices: Sequence[int]) -> Callable[[tuple[object, ...]], tuple[object, ...]]:
    if len(indices) == 1:
        only = indices[0]
        return lambda values: (values[only],)
    return itemgetter(*indices)


def _plan(keys: tuple[str, ...], types: tuple[type, ...]) -> _Plan | None:
    order = sorted(range(len(keys)), key=keys.__getitem__)
    prefixes = [_prefix(keys[i]) for i in order]
    if not keys or any(t is not float and t is not int for t in types) or any(".0," in p for p in prefixes):
        return None  # strings, bools, None: the general path
    cells = (
        p.replace("%", "%%") + ("%r," if types[i] is float else "%di,") for p, i in zip(prefixes, order, strict=True)
    )
    template = "".join(cells)
    float_at = [i for i in range(len(keys)) if types[i] is float]
    in_order = order == sorted(order)  # a telemetry point's fields come sorted (twins.series.FieldLayout)
    return _Plan(template, None if in_order else _getter(order), _getter(float_at) if float_at else None)


def _field_text(fields: Mapping[str, object]) -> str:
    """``k=v,...`` sorted by key, as Point writes it; '' for no writable field."""
    return _fill(tuple(fields), tuple(fields.values()))


def _fill(keys: tuple[str, ...], values: tuple[object, ...]) -> str:
    """``_field_text`` of the fields ``keys`` → ``values``.

    A batch repeats a few shapes (every telemetry point has the same ~20 keys, floats and ints): each
    shape's sorted order and escaped keys become one ``%`` template, filled in C, with the ".0" that
    Point drops from whole floats removed afterwards (13 -> 9 µs a telemetry point on the wave-4 machine).
    NaN or ±inf (left out by Point), and strings, bools or None take the general path.
    """
    shape = (keys, tuple(map(type, values)))
    try:
        plan = _plans[shape]
    except KeyError:
        if len(_plans) > _MAX_CACHE:
            _plans.clear()
        plan = _plans[shape] = _plan(*shape)
    if plan is not None and (plan.floats is None or math.isfinite(sum(plan.floats(values)))):  # type: ignore[arg-type]
        # Only a float's repr can end in ".0" before the comma (an int is followed by "i", and no key of
        # the template holds ".0,"): dropping those is what Point does to whole floats.
        ordered = values if plan.ordered is None else plan.ordered(values)
        return (plan.template % ordered).replace(".0,", ",")[:-1]
    return ",".join(_fields(dict(zip(keys, values, strict=True))))


def encode_point(point: SeriesPoint) -> str:
    """One line at millisecond precision; '' when the point has no writable field (as Point does)."""
    fields = _field_text(point.fields)
    if not fields:
        return ""
    return f"{_series_key(point.measurement, point.tags)} {fields} {to_ms(point.ts)}"


def _series_key(measurement: str, tags: Mapping[str, str]) -> str:
    """``measurement,tag=value,...`` (a fleet has a few thousand: cached by measurement and tags)."""
    cache_key = (measurement, *tags.items())
    got = _series_keys.get(cache_key)
    if got is None:
        parts = [
            f"{tk}={tv}"
            for k, v in sorted(tags.items())
            if v is not None and (tk := _key(k)) != "" and (tv := _tag_value(v)) != ""
        ]
        tag_part = "," + ",".join(parts) if parts else ""
        if len(_series_keys) > _MAX_CACHE:
            _series_keys.clear()
        got = _series_keys[cache_key] = f"{_measurement(measurement)}{tag_part}"
    return got


def _sample_lines(samples: Sequence[tuple[Telemetry, str]]) -> Iterator[str]:
    """The line of each sample's point (``telemetry_points``), made from its values without the point."""
    heads = _telemetry_heads
    for sample, municipality in samples:
        layout, values = telemetry_values(sample)
        fields = _fill(layout.keys, values)
        if not fields:
            continue
        head = heads.get((sample.bench_id, municipality))
        if head is None:
            if len(heads) > _MAX_CACHE:
                heads.clear()
            tags = telemetry_tags(sample.bench_id, municipality)
            head = heads[sample.bench_id, municipality] = _series_key(TELEMETRY, tags)
        yield f"{head} {fields} {to_ms(sample.ts)}"


def encode_batch(points: Sequence[SeriesPoint]) -> bytes:
    """The /write body for a batch; points without fields are left out (a SeriesColumns column-wise, the
    samples of SampledPoints from their values)."""
    if isinstance(points, SeriesColumns):
        return encode_columns(points)
    if isinstance(points, SampledPoints):
        others = (line for line in map(encode_point, points.others) if line)
        return "\n".join(chain(_sample_lines(points.samples), others)).encode()
    return "\n".join(line for line in map(encode_point, points) if line).encode()


# -- column-wise -------------------------------------------------------------------------------------
_FILL = 0  # the byte of an unused cell of the row matrix: no line holds a NUL, so dropping them is exact
_MAX_DECIMALS = 4  # repr() writes k / 10**d positionally up to here ("0.0001"; "1e-05" is not)
_EXACT_BELOW = 10**15  # up to 15 significant digits a decimal is the shortest repr of its nearest float
_BOOLS = np.frombuffer(b"false" + b"true\0", dtype=np.uint8).reshape(2, 5)
Matrix = np.ndarray[Any, np.dtype[np.uint8]]


def _constant(text: str, rows: int) -> Matrix:
    row = np.frombuffer(text.encode(), dtype=np.uint8)
    return np.broadcast_to(row, (rows, len(row)))


def _digits(values: np.ndarray[Any, np.dtype[np.int64]], width: int | None = None) -> Matrix:
    """Decimal digits of non-negative integers, one row each, right-aligned; leading zeros are unused
    cells (``width`` given: zero-padded to that many digits instead)."""
    top = int(values.max()) if len(values) else 0
    pad = width is not None
    width = width if width is not None else len(str(top))
    out = np.empty((len(values), width), dtype=np.uint8)
    rest = values.copy()
    for pos in range(width - 1, -1, -1):
        out[:, pos] = rest % 10 + 48
        rest //= 10
    if not pad and width > 1:
        powers = 10 ** np.arange(width - 1, 0, -1, dtype=np.int64)
        lead = out[:, : width - 1]
        lead[values[:, None] < powers[None, :]] = _FILL
    return out


def _sign(negative: np.ndarray[Any, np.dtype[np.bool_]]) -> list[Matrix]:
    return [np.where(negative, 45, _FILL).astype(np.uint8)[:, None]] if negative.any() else []


def _int_cells(values: np.ndarray[Any, Any]) -> list[Matrix] | None:
    if values.dtype.kind == "u" and len(values) and int(values.max()) > np.iinfo(np.int64).max:
        return None
    ints = values.astype(np.int64)
    if len(ints) and int(ints.min()) == np.iinfo(np.int64).min:
        return None  # its magnitude does not fit: let the reference encoder write it
    return [*_sign(ints < 0), _digits(np.abs(ints)), _constant("i", len(ints))]


def _float_cells(values: np.ndarray[Any, Any]) -> list[Matrix] | None:
    """``str(value)`` without a trailing ``.0``, as ``_field`` writes a float: decimals with at most
    _MAX_DECIMALS places (what benches report) from their digits, any other value through ``repr``."""
    x = values.astype(np.float64)
    if not np.isfinite(x).all():
        return None  # the reference drops the field from those points only: let it write the batch
    with np.errstate(all="ignore"):
        for decimals in range(_MAX_DECIMALS + 1):
            scale = 10.0**decimals
            scaled = np.rint(x * scale)
            exact = (scaled / scale == x) & (np.abs(scaled) < _EXACT_BELOW)
            if exact.all():
                break
    magnitude = np.where(exact, np.abs(scaled), 0.0).astype(np.int64)
    unit = 10**decimals
    cells = [*_sign(np.signbit(x) & exact), _digits(magnitude // unit)]
    if decimals:
        fraction = magnitude % unit
        digits = _digits(fraction, decimals)
        for j in range(decimals):  # trailing zeros of the fraction are not written, nor a point before none
            digits[fraction % 10 ** (decimals - j) == 0, j] = _FILL
        dot = np.where(fraction == 0, _FILL, 46).astype(np.uint8)[:, None]
        cells += [dot, digits]
    if not exact.all():
        cells = [np.concatenate(cells, axis=1)]
        cells[0][~exact] = _FILL
        rows = np.flatnonzero(~exact)
        texts = [_float_text(v) for v in x[rows].tolist()]
        others = np.array(texts, dtype="S").view(np.uint8).reshape(len(rows), -1)
        cells.append(np.zeros((len(x), others.shape[1]), dtype=np.uint8))
        cells[1][rows] = others
    return cells


def _float_text(value: float) -> bytes:
    s = str(value)
    return (s[:-2] if s.endswith(".0") else s).encode()


def _value_cells(column: Column) -> list[Matrix] | None:
    """The cells of one field's values, or None when only the reference encoder can write them."""
    values = np.asarray(column)
    if values.dtype == np.bool_:
        return [_BOOLS[values.astype(np.intp)]]
    if values.dtype.kind in "iu":
        return _int_cells(values)
    if values.dtype.kind == "f":
        return _float_cells(values)
    return None  # strings, None (a field missing from some points), objects


def encode_columns(batch: SeriesColumns) -> bytes:
    """The /write body for a SeriesColumns: the same bytes as ``encode_batch`` of its points.

    Floats, integers and booleans are written column-wise; a batch holding anything else (strings,
    None, non-finite floats) goes through ``encode_batch`` of its points.
    """
    rows = len(batch)
    if rows == 0 or not batch.fields:
        return b""
    tags = [
        f"{tk}={tv}"
        for k, v in sorted(batch.tags.items())
        if v is not None and (tk := _key(k)) != "" and (tv := _tag_value(v)) != ""
    ]
    tag_part = "," + ",".join(tags) if tags else ""
    head = f"{_measurement(batch.measurement)}{tag_part} "
    if "\0" in head or any("\0" in name for name in batch.fields):
        return encode_batch(batch.points())  # a NUL would be taken for an unused cell
    cells: list[Matrix] = [_constant(head, rows)]
    for i, name in enumerate(sorted(batch.fields)):
        values = _value_cells(batch.fields[name])
        if values is None:
            return encode_batch(batch.points())
        cells.append(_constant(f"{',' if i else ''}{_key(name)}=", rows))
        cells.extend(values)
    stamps = np.asarray(batch.ts_ms).astype(np.int64)
    cells.append(_constant(" ", rows))
    cells.extend(_sign(stamps < 0))
    cells += [_digits(np.abs(stamps)), _constant("\n", rows)]
    matrix = np.concatenate(cells, axis=1)
    body: bytes = matrix[matrix != _FILL].tobytes()
    return body[:-1]


class EncodedBatch(Sequence[SeriesPoint]):
    """Points with their /write body encoded ahead (``InfluxV1Store.prepare``): the store POSTs ``body``
    as it is, so the encoding can run on another thread than the write. Otherwise just the points (a
    spool or another store reads them); a slice of part of it is the points' slice, without the body."""

    __slots__ = ("body", "points")

    def __init__(self, points: Sequence[SeriesPoint], body: bytes) -> None:
        """Wrap ``points`` with ``body``, which must be ``encode_batch(points)``."""
        self.points = points
        self.body = body

    def __len__(self) -> int:
        return len(self.points)

    @overload
    def __getitem__(self, index: int) -> SeriesPoint: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[SeriesPoint]: ...

    def __getitem__(self, index: int | slice) -> SeriesPoint | Sequence[SeriesPoint]:
        if isinstance(index, slice):
            if index.indices(len(self.points)) == (0, len(self.points), 1):
                return self
            return self.points[index]
        return self.points[index]

    def __iter__(self) -> Iterator[SeriesPoint]:
        return iter(self.points)
