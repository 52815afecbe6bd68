"""Commands from the fleet: sent on ``benches/{id}/cmd``, tracked in SQL until the bench's ``cmd_result`` or a timeout.

Every state change is a conditional UPDATE ``WHERE status = 'sent'``: a late answer cannot revive a timed-out
command, a redelivered answer changes nothing, and several ingest processes may see the same answer.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from pydantic import ValidationError
from sqlalchemy import Column, DateTime, Engine, Index, String, Table, Text, select, update

from fleet.db.metadata import metadata
from fleet.db.schema import benches
from fleet.ops.audit import AuditLog, append
from twins.clock import Clock, to_rfc3339
from twins.codec import Decoded, describe_errors
from twins.messages import CmdResultEvent, Command

log = logging.getLogger(__name__)

CommandStatus = Literal["sent", "succeeded", "failed", "timed_out"]

commands_table = Table(
    "commands",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("bench_id", String(64), nullable=False),
    Column("name", String(32), nullable=False),
    Column("args", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("result", Text, nullable=True),
    Column("error", Text, nullable=True),
    Column("actor", String(64), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=False),
    Column("deadline", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
)
Index("ix_commands_bench", commands_table.c.bench_id, commands_table.c.sent_at)
# The timeout job scans only the commands still waiting.
Index("ix_commands_status_deadline", commands_table.c.status, commands_table.c.deadline)

_c = commands_table.c

#: Commands an operator may send, and how long the bench has to answer each. ``ota`` is not here: firmware
#: goes out through rollouts, which follow its progress.
TIMEOUTS: dict[str, timedelta] = {
    "ping": timedelta(seconds=30),
    "self_test": timedelta(seconds=90),
    "reboot": timedelta(seconds=60),
}


class CommandRefused(ValueError):
    """A command that cannot be sent as asked; the message names what is wrong."""


class CommandSink(Protocol):
    """Where commands go (the fleet's MQTT publisher: QoS 1, not retained)."""

    def publish_command(self, command: Command) -> object:
        """Publish one command."""
        ...


@dataclass(frozen=True, slots=True)
class CommandRecord:
    """A command and how it went."""

    id: str
    bench_id: str
    name: str
    args: dict[str, Any]
    status: CommandStatus
    result: dict[str, Any] | None
    error: str | None
    actor: str
    sent_at: datetime
    deadline: datetime
    finished_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        """The API form (contract section 5), with the bench's error text and who sent it."""
        return {
            "id": self.id,
            "bench_id": self.bench_id,
            "name": self.name,
            "status": self.status,
            "result": self.result,
            "error": self.error,
            "actor": self.actor,
            "sent_at": to_rfc3339(self.sent_at),
            "finished_at": to_rfc3339(self.finished_at) if self.finished_at else None,
        }


def _aware(ts: datetime | None) -> datetime | None:
    return ts if ts is None or ts.tzinfo else ts.replace(tzinfo=UTC)


def _record(row: Any) -> CommandRecord:
    return CommandRecord(
        id=row.id,
        bench_id=row.bench_id,
        name=row.name,
        args=json.loads(row.args),
        status=row.status,
        result=json.loads(row.result) if row.result is not None else None,
        error=row.error,
        actor=row.actor,
        sent_at=_aware(row.sent_at) or row.sent_at,
        deadline=_aware(row.deadline) or row.deadline,
        finished_at=_aware(row.finished_at),
    )


class CommandService:
    """Sends commands (row first, then the MQTT message) and reads them back."""

    def __init__(
        self,
        engine: Engine,
        sink: CommandSink,
        audit: AuditLog,
        clock: Clock,
        timeouts: Mapping[str, timedelta] | None = None,
    ) -> None:
        self._engine = engine
        self._sink = sink
        self._audit = audit
        self._clock = clock
        self._timeouts = dict(TIMEOUTS if timeouts is None else timeouts)

    def send(self, bench_id: str, name: str, args: Mapping[str, Any], actor: str) -> CommandRecord:
        """Record and publish a command; KeyError for an unknown bench, CommandRefused for a bad name or args."""
        timeout = self._timeouts.get(name)
        if timeout is None:
            raise CommandRefused(f"unknown command {name!r}: use one of {', '.join(self._timeouts)}")
        now = self._clock.now()
        try:
            command = Command(v=1, bench_id=bench_id, ts=now, id=uuid.uuid4(), name=name, args=dict(args))  # type: ignore[arg-type]
        except ValidationError as err:
            raise CommandRefused(describe_errors(err)) from err
        row = {
            "id": str(command.id),
            "bench_id": bench_id,
            "name": name,
            "args": json.dumps(command.args, sort_keys=True),
            "status": "sent",
            "actor": actor,
            "sent_at": now,
            "deadline": now + timeout,
        }
        with self._engine.begin() as conn:
            if conn.execute(select(benches.c.bench_id).where(benches.c.bench_id == bench_id)).first() is None:
                raise KeyError(bench_id)
            conn.execute(commands_table.insert().values(**row))
            self._audit.record(
                actor,
                "command.send",
                f"command:{command.id}",
                None,
                {"name": name, "args": command.args, "status": "sent"},
                bench_id=bench_id,
                conn=conn,
            )
        # Published after the commit, so an answer, however fast, finds its row.
        self._sink.publish_command(command)
        found = self.get(str(command.id))
        assert found is not None
        return found

    def get(self, command_id: str) -> CommandRecord | None:
        """One command, or None."""
        with self._engine.connect() as conn:
            row = conn.execute(select(commands_table).where(_c.id == command_id)).first()
        return _record(row) if row else None

    def recent(self, bench_id: str, limit: int = 20) -> list[CommandRecord]:
        """The bench's latest commands, newest first."""
        q = select(commands_table).where(_c.bench_id == bench_id).order_by(_c.sent_at.desc()).limit(limit)
        with self._engine.connect() as conn:
            return [_record(r) for r in conn.execute(q)]


def record_command_results(engine: Engine, accepted: Iterable[Decoded], now: datetime) -> int:
    """Finish the commands answered by the ``cmd_result`` events among ``accepted`` (a pipeline batch); safe to
    repeat. An answer counts only from the bench the command went to. Returns how many commands finished."""
    answers = [d.message for d in accepted if isinstance(d.message, CmdResultEvent)]
    if not answers:
        return 0
    finished = 0
    with engine.begin() as conn:
        for ev in answers:
            status: CommandStatus = "succeeded" if ev.data.ok else "failed"
            stmt = (
                update(commands_table)
                .where(_c.id == str(ev.id), _c.bench_id == ev.bench_id, _c.status == "sent")
                .values(status=status, result=json.dumps(ev.data.result), error=ev.data.error, finished_at=now)
            )
            if conn.execute(stmt).rowcount != 1:
                continue  # redelivered, unknown, another bench's, or already timed out
            finished += 1
            after = {"status": status, "result": ev.data.result, "error": ev.data.error}
            append(
                conn,
                now,
                f"bench:{ev.bench_id}",
                "command.result",
                f"command:{ev.id}",
                {"status": "sent"},
                after,
                ev.bench_id,
            )
    return finished


class CommandTimeouts:
    """The scheduled job that marks commands past their deadline ``timed_out``."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    def run(self) -> int:
        """One pass; returns how many commands timed out."""
        now = self._clock.now()
        with self._engine.begin() as conn:
            overdue = conn.execute(
                select(_c.id, _c.bench_id).where(_c.status == "sent", _c.deadline < now).limit(1000)
            ).all()
            count = 0
            for command_id, bench_id in overdue:
                stmt = (
                    update(commands_table)
                    .where(_c.id == command_id, _c.status == "sent")
                    .values(status="timed_out", finished_at=now)
                )
                if conn.execute(stmt).rowcount == 1:
                    count += 1
                    append(
                        conn,
                        now,
                        "system",
                        "command.timeout",
                        f"command:{command_id}",
                        {"status": "sent"},
                        {"status": "timed_out"},
                        bench_id,
                    )
        if count:
            log.info("%d command(s) timed out", count)
        return count
