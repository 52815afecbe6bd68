"""What the fleet tells its listeners (dashboards, alerts): plain frozen dataclasses, no I/O."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from twins.twin import ConfigState, Twin


@dataclass(frozen=True, slots=True)
class TwinChanged:
    """A twin moved forward (telemetry, reported, status, desired or counted votes)."""

    twin: Twin
    section: str


@dataclass(frozen=True, slots=True)
class TwinsMoved:
    """Twins that an ingestion batch moved forward in SQL, as (bench id, section) pairs: a notification
    whose receivers read the twins themselves (fleet.state.cache), so an ingest worker neither reads its
    batch's twins back nor serialises them."""

    sections: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class ConfigStatusChanged:
    """A bench's desired config changed state: pending → applied / rejected."""

    bench_id: str
    municipality: str
    version: int
    state: ConfigState
    error: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class VoteCounted:
    """A vote event was counted for the first time."""

    bench_id: str
    municipality: str
    poll_id: str
    option: str
    at: datetime


FleetEvent = TwinChanged | TwinsMoved | ConfigStatusChanged | VoteCounted
Listener = Callable[[FleetEvent], None]
