"""Fast InfluxDB line protocol for SeriesPoints, byte-for-byte what ``influxdb_client.Point`` writes.

``Point.to_line_protocol`` is the reference (tests/fleet/test_line_protocol.py compares the two on
generated points), but it costs ~30 µs a point in Python, which alone would cap ingestion below
5,000 messages/s. This encoder uses the same escaping tables, caches escaped keys and tag values
(a fleet repeats the same few thousand), and formats values the way Point does.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from influxdb_client.client.write.point import _ESCAPE_KEY, _ESCAPE_MEASUREMENT, _ESCAPE_STRING

from twins.series import SeriesPoint

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_CACHE = 200_000
_measurements: dict[str, str] = {}
_keys: dict[str, str] = {}
_tag_values: dict[str, str] = {}
_prefixes: dict[str, str] = {}
_series_keys: dict[tuple[object, ...], str] = {}


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


def encode_point(point: SeriesPoint) -> str:
    """One line at millisecond precision; '' when the point has no writable field (as Point does)."""
    fields = _fields(point.fields)
    if not fields:
        return ""
    return f"{_series_key(point)} {','.join(fields)} {to_ms(point.ts)}"


def _series_key(point: SeriesPoint) -> str:
    """``measurement,tag=value,...`` (a fleet has a few thousand: cached by measurement and tags)."""
    cache_key = (point.measurement, *point.tags.items())
    got = _series_keys.get(cache_key)
    if got is None:
        tags = [
            f"{tk}={tv}"
            for k, v in sorted(point.tags.items())
            if v is not None and (tk := _key(k)) != "" and (tv := _tag_value(v)) != ""
        ]
        tag_part = "," + ",".join(tags) if tags else ""
        if len(_series_keys) > _MAX_CACHE:
            _series_keys.clear()
        got = _series_keys[cache_key] = f"{_measurement(point.measurement)}{tag_part}"
    return got


def encode_batch(points: Sequence[SeriesPoint]) -> bytes:
    """The /write body for a batch; points without fields are left out."""
    return "\n".join(line for line in map(encode_point, points) if line).encode()
