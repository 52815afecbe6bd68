"""Assembling Twin models from the rows of ``twins``, ``benches`` and ``vote_counts``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, select

from fleet.db.schema import benches, twins
from twins.config import BenchConfig
from twins.messages import Reported, Telemetry, VoteCounts
from twins.twin import Attributes, Connectivity, SectionMeta, Twin


def aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes (stored as UTC): make them aware again."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def twin_select() -> Select[Any]:
    """Every twin column with its bench's attributes (one row per registered bench with a twin)."""
    return select(
        twins,
        benches.c.name,
        benches.c.municipality,
        benches.c.entity,
        benches.c.canton,
        benches.c.lat,
        benches.c.lon,
        benches.c.altitude_m,
        benches.c.installed,
    ).select_from(twins.join(benches, benches.c.bench_id == twins.c.bench_id))


def twin_from_row(row: Mapping[str, Any], counted: VoteCounts) -> Twin:
    """One Twin from a row of ``twin_select()``; the JSON sections are validated, the rest is trusted."""
    attributes = Attributes(
        name=row["name"],
        municipality=row["municipality"],
        entity=row["entity"],
        canton=row["canton"],
        lat=row["lat"],
        lon=row["lon"],
        altitude_m=row["altitude_m"],
        installed=row["installed"],
    )
    telemetry = Telemetry.model_validate_json(row["telemetry"]) if row["telemetry"] else None
    reported = Reported.model_validate_json(row["reported"]) if row["reported"] else None
    connectivity = Connectivity(
        online=row["online"],
        reason=row["reason"],
        status_ts=aware(row["status_ts"]),
        last_seen=aware(row["last_seen"]),
    )
    # model_construct: every part above is already a validated model; re-validating 10k twins costs seconds.
    return Twin.model_construct(
        bench_id=row["bench_id"],
        attributes=attributes,
        telemetry=telemetry,
        reported=reported,
        desired=BenchConfig.model_validate_json(row["desired"]),
        desired_version=row["desired_version"],
        connectivity=connectivity,
        counted_votes=counted,
        votes_mismatch_since=aware(row["votes_mismatch_since"]),
        telemetry_meta=SectionMeta(version=row["telemetry_version"], last_updated=aware(row["telemetry_ts"])),
        reported_meta=SectionMeta(version=row["reported_version"], last_updated=aware(row["reported_ts"])),
        desired_meta=SectionMeta(version=row["desired_version"], last_updated=aware(row["desired_updated"])),
        connectivity_meta=SectionMeta(
            version=row["connectivity_version"], last_updated=aware(row["connectivity_updated"])
        ),
    )
