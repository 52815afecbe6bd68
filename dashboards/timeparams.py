"""Query parameters of time: ``-24h`` / RFC 3339 instants and ``5m`` bucket widths."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import TypeAdapter, ValidationError

from twins import durations
from twins.timefmt import UtcDatetime

_INSTANT: TypeAdapter[datetime] = TypeAdapter(UtcDatetime)
MAX_BUCKETS = 5000


class TimeParamError(ValueError):
    """A time parameter that cannot be understood; the message names the parameter and the form."""


def parse_duration(name: str, text: str) -> timedelta:
    """``5m`` → 5 minutes (``twins.durations``: units s, m, h, d, w); TimeParamError naming the parameter."""
    try:
        return durations.parse_duration(text)
    except ValueError:
        raise TimeParamError(f"{name}={text!r}: use a positive duration such as 30s, 5m, 1h, 7d") from None


def parse_instant(name: str, text: str, now: datetime) -> datetime:
    """``-24h`` (relative to ``now``), ``now`` or an RFC 3339 UTC instant."""
    text = text.strip()
    if text == "now":
        return now
    if text.startswith("-"):
        return now - parse_duration(name, text[1:])
    try:
        return _INSTANT.validate_python(text)
    except ValidationError as err:
        raise TimeParamError(f"{name}={text!r}: use -24h or an RFC 3339 time like 2026-11-26T10:00:00Z") from err


def window(start: str, end: str | None, every: str | None, now: datetime) -> tuple[datetime, datetime, timedelta]:
    """Validated (start, end, every) of a series request; ``every`` defaults to about 300 buckets."""
    t0 = parse_instant("start", start, now)
    t1 = parse_instant("end", end, now) if end else now
    if t1 <= t0:
        raise TimeParamError("start must be before end")
    step = parse_duration("every", every) if every else max(timedelta(minutes=1), (t1 - t0) / 300)
    if (t1 - t0) / step > MAX_BUCKETS:
        raise TimeParamError(f"every={every!r} gives more than {MAX_BUCKETS} buckets: choose a wider bucket")
    return t0, t1, step
