"""The contract's timestamp type: RFC 3339, always stored as aware UTC, written with ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, PlainSerializer

from twins.clock import to_rfc3339

#: Timestamps outside these years are a clock fault or an attack (InfluxDB keeps 1677-2262 only).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def _as_utc(value: datetime) -> datetime:
    utc = value.astimezone(UTC)
    if not EARLIEST <= utc < LATEST:
        raise ValueError(f"timestamp {utc.year}: must be between {EARLIEST.year} and {LATEST.year - 1}")
    return utc


UtcDatetime = Annotated[
    AwareDatetime,
    AfterValidator(_as_utc),
    PlainSerializer(to_rfc3339, return_type=str, when_used="json"),
]
"""An aware datetime normalised to UTC; naive datetimes are rejected."""
