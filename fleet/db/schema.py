"""Tables of the fleet database: registry, twins and counted votes."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Float, Index, String, Table, Text

from fleet.db.metadata import metadata

benches = Table(
    "benches",
    metadata,
    Column("bench_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("municipality", String(100), nullable=False, index=True),
    Column("entity", String(20), nullable=False, default=""),
    Column("canton", String(100), nullable=False, default=""),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("altitude_m", Float, nullable=False, default=0.0),
    Column("installed", String(20), nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# The whole twin as one JSON document: sections change together in one ingestion batch, and the
# document is what the API serves. A later PostgreSQL-first design can split sections into columns.
twins = Table(
    "twins",
    metadata,
    Column("bench_id", String(64), primary_key=True),
    Column("doc", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# One row per vote event id: the primary key is what makes a vote count exactly once, however often
# MQTT redelivers it or the bench replays its outbox. Tallies are GROUP BYs over this table.
vote_events = Table(
    "vote_events",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("bench_id", String(64), nullable=False),
    Column("municipality", String(100), nullable=False),
    Column("poll_id", String(64), nullable=False),
    Column("option", String(32), nullable=False),
    Column("ts", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)
Index("ix_vote_events_poll", vote_events.c.poll_id, vote_events.c.bench_id, vote_events.c.option)

FLEET_TABLES = (benches, twins, vote_events)
