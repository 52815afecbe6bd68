"""The contract's timestamp type: RFC 3339, always stored as aware UTC, written with ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, PlainSerializer

from twins.clock import to_rfc3339


def _as_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[
    AwareDatetime,
    AfterValidator(_as_utc),
    PlainSerializer(to_rfc3339, return_type=str, when_used="json"),
]
"""An aware datetime normalised to UTC; naive datetimes are rejected."""
