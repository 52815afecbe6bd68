"""Assembling Twin models from the rows of ``twins``, ``benches`` and ``vote_counts``."""

from __future__ import annotations

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


class ParseMemo:
    """Validated JSON sections by their text: a frozen model parsed once is reused for as long as the
    column holds the same text (most desired configs are shared; a twin's telemetry changes once a
    minute while the fleet list is read far more often). A parse cache, not state: SQL stays the owner."""

    def __init__(self) -> None:
        self.configs: dict[str, BenchConfig] = {}
        self.telemetry: dict[str, tuple[str, Telemetry]] = {}
        self.reported: dict[str, tuple[str, Reported]] = {}

    def config(self, text: str) -> BenchConfig:
        """The desired config of this text."""
        config = self.configs.get(text)
        if config is None:
            if len(self.configs) > 10_000:  # every bench its own config: keep memory bounded
                self.configs.clear()
            config = self.configs[text] = BenchConfig.model_validate_json(text)
        return config

    def telemetry_of(self, bench_id: str, text: str | None) -> Telemetry | None:
        """The telemetry sample of this text, for a bench."""
        if text is None:
            return None
        held = self.telemetry.get(bench_id)
        if held is not None and held[0] == text:
            return held[1]
        sample = Telemetry.model_validate_json(text)
        self.telemetry[bench_id] = (text, sample)
        return sample

    def reported_of(self, bench_id: str, text: str | None) -> Reported | None:
        """The reported document of this text, for a bench."""
        if text is None:
            return None
        held = self.reported.get(bench_id)
        if held is not None and held[0] == text:
            return held[1]
        doc = Reported.model_validate_json(text)
        self.reported[bench_id] = (text, doc)
        return doc


def twin_from_row(row: Any, counted: VoteCounts, memo: ParseMemo | None = None) -> Twin:
    """One Twin from a row of ``twin_select()``; the JSON sections are validated (or taken from ``memo``),
    the columns are trusted (they were validated on the way in)."""
    memo = memo or ParseMemo()
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
    telemetry = memo.telemetry_of(row["bench_id"], row["telemetry"])
    reported = memo.reported_of(row["bench_id"], row["reported"])
    connectivity = Connectivity(
        online=row["online"],
        reason=row["reason"],
        status_ts=aware(row["status_ts"]),
        last_seen=aware(row["last_seen"]),
    )
    # Plain constructors: pydantic-core validates them in Rust, and nested models already validated are
    # only type-checked (model_construct, Python code, measured 3× slower here).
    return Twin(
        bench_id=row["bench_id"],
        attributes=attributes,
        telemetry=telemetry,
        reported=reported,
        desired=memo.config(row["desired"]),
        desired_version=row["desired_version"],
        connectivity=connectivity,
        counted_votes=counted,
        votes_mismatch_since=aware(row["votes_mismatch_since"]),
        votes_suspect=row["votes_suspect"],
        telemetry_meta=SectionMeta(version=row["telemetry_version"], last_updated=aware(row["telemetry_ts"])),
        reported_meta=SectionMeta(version=row["reported_version"], last_updated=aware(row["reported_ts"])),
        desired_meta=SectionMeta(version=row["desired_version"], last_updated=aware(row["desired_updated"])),
        connectivity_meta=SectionMeta(
            version=row["connectivity_version"], last_updated=aware(row["connectivity_updated"])
        ),
    )
