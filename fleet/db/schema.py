"""Tables of the fleet database: registry, twins (one column group per section), counted votes, desired history."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, DateTime, Float, Index, Integer, String, Table, Text

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

# One row per twin, one group of columns per section. Each section is written by its own conditional
# UPDATE (docs/state.md): a section's order key (telemetry ts+seq, reported ts, status ts, desired
# version) sits in the WHERE, so a writer holding an older value can never overwrite a newer one,
# whichever process or worker it runs in. JSON documents are kept as text: pydantic writes and
# reads them, and the reported document is compared as text.
twins = Table(
    "twins",
    metadata,
    Column("bench_id", String(64), primary_key=True),
    Column("telemetry", Text, nullable=True),
    Column("telemetry_ts", DateTime(timezone=True), nullable=True),
    Column("telemetry_seq", BigInteger, nullable=True),
    Column("telemetry_version", Integer, nullable=False, default=0),
    Column("reported", Text, nullable=True),
    Column("reported_ts", DateTime(timezone=True), nullable=True),
    Column("reported_version", Integer, nullable=False, default=0),
    Column("online", Boolean, nullable=True),
    Column("reason", Text, nullable=True),
    Column("status_ts", DateTime(timezone=True), nullable=True),
    Column("last_seen", DateTime(timezone=True), nullable=True),
    Column("connectivity_version", Integer, nullable=False, default=0),
    Column("connectivity_updated", DateTime(timezone=True), nullable=True),
    Column("desired", Text, nullable=False),
    Column("desired_version", Integer, nullable=False, default=0),
    Column("desired_updated", DateTime(timezone=True), nullable=True),
    Column("votes_mismatch_since", DateTime(timezone=True), nullable=True),
    # Votes of this bench held as suspect (implausible rate) and not yet reviewed: the health rule reads it.
    Column("votes_suspect", Integer, nullable=False, default=0, server_default="0"),
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
    # counted (in vote_counts), suspect (held for review: implausible rate) or discarded (a review said no).
    Column("status", String(16), nullable=False, default="counted", server_default="counted"),
)
Index("ix_vote_events_poll", vote_events.c.poll_id, vote_events.c.bench_id, vote_events.c.option)

# Counted votes per (bench, poll, option), incremented in the transaction that inserts the new vote
# events: reading 10k twins must not GROUP BY millions of vote rows. vote_events stays the authority
# (the migration and tests rebuild this table from it).
vote_counts = Table(
    "vote_counts",
    metadata,
    Column("bench_id", String(64), primary_key=True),
    Column("poll_id", String(64), primary_key=True),
    Column("option", String(32), primary_key=True),
    Column("votes", Integer, nullable=False),
)

# Every desired version ever allocated, with who set it: the primary key makes a version number
# impossible to hand out twice, and the audit log builds on it.
desired_history = Table(
    "desired_history",
    metadata,
    Column("bench_id", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("config", Text, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

Index("ix_vote_events_rate", vote_events.c.bench_id, vote_events.c.poll_id, vote_events.c.received_at)

# Who owns a poll id: a municipality, or the whole fleet (NULL, set by an admin). The dashboards claim an
# id on first use; ingestion refuses votes into a poll owned by another municipality than the bench's.
polls = Table(
    "polls",
    metadata,
    Column("poll_id", String(64), primary_key=True),
    Column("owner", String(100), nullable=True),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

FLEET_TABLES = (benches, twins, vote_events, vote_counts, desired_history, polls)
