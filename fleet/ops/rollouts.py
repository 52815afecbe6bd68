"""Configuration and firmware rollouts in waves (a canary, a percentage, the rest), in SQL, advanced by a job.

Every step reads the rollout from SQL and changes it with a conditional UPDATE, so the job may stop at any
point (a restart, a lost scheduler lock) and the next run continues where the last one stopped. A bench's
config (or firmware version) before the rollout touched it is stored before anything is sent, so a rollback can
put it back. A config rollout patches desired configs; a firmware rollout sends the registered release for each
bench's model as an ``ota`` command and follows the command and the bench's reported firmware.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Float,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    func,
    or_,
    select,
    update,
)

from fleet.db.metadata import metadata
from fleet.ops.audit import AuditLog
from fleet.ops.commands import CommandRefused, CommandService
from fleet.ops.releases import ReleaseStore
from fleet.ops.rollout_model import (
    FINAL,
    TRANSITIONS,
    Rollout,
    RolloutBench,
    RolloutConflict,
    RolloutRefused,
    RolloutRequest,
    Targets,
    restore_patch,
)
from fleet.service_api import Scope
from fleet.state.desired import DesiredBusy
from fleet.state.twin_store import TwinStore
from twins.clock import Clock
from twins.twin import InvalidConfig, Twin, config_state_of, patch_desired
from twins.waves import FAILED_STATES, SETTLED_STATES, HaltRule

log = logging.getLogger(__name__)

#: How long a bench has to answer an ``ota`` command (download, verify, stage; the restart comes after).
OTA_COMMAND_TIMEOUT = timedelta(minutes=10)
#: How long a process that took a queued bench for sending has before another may send it (after a crash).
CLAIM_LEASE = timedelta(seconds=60)

rollouts_table = Table(
    "rollouts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("patch", Text, nullable=False),
    Column("targets", Text, nullable=False),
    Column("percent", Float, nullable=False),
    Column("max_failure_pct", Float, nullable=False),
    Column("timeout_s", Integer, nullable=False),
    Column("wave", Integer, nullable=False),
    Column("waves", Integer, nullable=False),
    # A wave whose failures an operator accepted by resuming a halted rollout: not halted on again.
    Column("accepted_wave", Integer, nullable=False),
    Column("reason", Text, nullable=True),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
)
# No index on status: rollouts number in the hundreds, and the job reads them all every few seconds anyway.

rollout_benches = Table(
    "rollout_benches",
    metadata,
    Column("rollout_id", String(36), nullable=False),
    Column("bench_id", String(64), nullable=False),
    Column("wave", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("desired_version", Integer, nullable=True),
    # The bench's desired config before this rollout patched it (JSON), for a rollback.
    Column("previous", Text, nullable=True),
    Column("error", Text, nullable=True),
    # The ``ota`` command of a firmware rollout.
    Column("command_id", String(36), nullable=True),
    # The latest ``ota_progress`` stage the bench reported for it.
    Column("ota_stage", String(16), nullable=True),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    PrimaryKeyConstraint("rollout_id", "bench_id", name="pk_rollout_benches"),
)

_r = rollouts_table.c
_b = rollout_benches.c


class DesiredPatcher(Protocol):
    """What applies a merge-patch to one bench's desired config (FleetService: versioned, published, audited)."""

    def patch_desired(self, bench_id: str, patch: Mapping[str, Any], if_match: int | None, actor: str) -> Twin:
        """Commit and publish the patch as the bench's next desired version."""
        ...


def _aware(ts: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes (stored as UTC).
    return ts if ts is None or ts.tzinfo else ts.replace(tzinfo=UTC)


class RolloutService:
    """Creates rollouts, reads them, and carries out the operator's pause, resume, abort and rollback."""

    def __init__(
        self,
        engine: Engine,
        twins: TwinStore,
        patcher: DesiredPatcher,
        audit: AuditLog,
        clock: Clock,
        *,
        releases: ReleaseStore | None = None,
        commands: CommandService | None = None,
    ) -> None:
        self._engine = engine
        self._twins = twins
        self._patcher = patcher
        self._audit = audit
        self._clock = clock
        self.releases = releases
        self._commands = commands

    # --- creating and reading -----------------------------------------------------------------------------

    def create(self, request: RolloutRequest, actor: str, scope: Scope) -> Rollout:
        """Record a rollout (its benches queued by wave); the job sends it. RolloutRefused names what is wrong:
        a bench unknown or outside ``scope``, no bench at all, a canary not among the targets, a bad patch."""
        bench_ids = self._resolve(request.targets, scope)
        try:
            waves = request.plan.waves(bench_ids)
        except ValueError as err:
            raise RolloutRefused(str(err)) from err
        if request.kind == "firmware":
            self._check_releases(request.patch["version"], bench_ids)
        else:
            canary = self._twins.get_twin(waves[0][0])
            assert canary is not None
            try:
                # Checked on the canary's config before anything is stored: a patch no bench could take is a 400.
                patch_desired(canary, dict(request.patch), self._clock.now())
            except InvalidConfig as err:
                raise RolloutRefused(f"patch: {err}") from err
        now = self._clock.now()
        rollout_id = str(uuid.uuid4())
        with self._engine.begin() as conn:
            conn.execute(
                rollouts_table.insert().values(
                    id=rollout_id,
                    kind=request.kind,
                    status="running",
                    patch=json.dumps(request.patch, sort_keys=True),
                    targets=json.dumps(request.targets.as_json()),
                    percent=request.plan.percent,
                    max_failure_pct=request.rule.max_failure_pct,
                    timeout_s=int(request.timeout.total_seconds()),
                    wave=0,
                    waves=len(waves),
                    accepted_wave=-1,
                    created_by=actor,
                    created_at=now,
                    updated_at=now,
                )
            )
            conn.execute(
                rollout_benches.insert(),
                [
                    {"rollout_id": rollout_id, "bench_id": b, "wave": i, "state": "queued"}
                    for i, wave in enumerate(waves)
                    for b in wave
                ],
            )
            after = {
                "kind": request.kind,
                "patch": request.patch,
                "targets": request.targets.as_json(),
                "waves": [len(w) for w in waves],
                "canary": waves[0][0],
                "max_failure_pct": request.rule.max_failure_pct,
            }
            self._audit.record(actor, "rollout.create", f"rollout:{rollout_id}", None, after, conn=conn)
        found = self.get(rollout_id)
        assert found is not None
        return found

    def _check_releases(self, version: str, bench_ids: list[str]) -> None:
        """Every target must have reported its model, and a release of ``version`` must exist for it."""
        if self.releases is None or self._commands is None:
            raise RolloutRefused("kind: firmware rollouts are not wired in this process")
        missing: list[str] = []
        for bench_id, twin in sorted(self._twins.get_twins(bench_ids).items()):
            model = twin.reported.hardware.model if twin.reported else None
            if model is None:
                missing.append(f"{bench_id} (model not reported yet)")
            elif self.releases.get(version, model) is None:
                missing.append(f"{bench_id} (model {model})")
        if missing:
            raise RolloutRefused(f"version: no release {version} registered for {', '.join(missing)}")

    def _resolve(self, targets: Targets, scope: Scope) -> list[str]:
        known = self._twins.municipalities()
        if targets.bench_ids:
            outside = sorted(b for b in targets.bench_ids if b not in known or not scope.allows(known[b]))
            if outside:
                raise RolloutRefused(f"targets.bench_ids: unknown bench(es): {', '.join(outside)}")
            return sorted(set(targets.bench_ids))
        if targets.municipality is not None:
            found = sorted(b for b, m in known.items() if m == targets.municipality and scope.allows(m))
            if not found:
                raise RolloutRefused(f"targets.municipality: no bench in {targets.municipality!r}")
            return found
        found = sorted(b for b, m in known.items() if scope.allows(m))
        if not found:
            raise RolloutRefused("targets.fleet: no bench to roll out to")
        return found

    def get(self, rollout_id: str) -> Rollout | None:
        """One rollout with its benches, or None."""
        with self._engine.connect() as conn:
            row = conn.execute(select(rollouts_table).where(_r.id == rollout_id)).first()
            if row is None:
                return None
            rows = conn.execute(
                select(rollout_benches).where(_b.rollout_id == rollout_id).order_by(_b.wave, _b.bench_id)
            ).all()
        return _rollout(row, rows)

    def recent(self, limit: int = 50) -> list[Rollout]:
        """The latest rollouts, newest first, without their benches' detail."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(rollouts_table).order_by(_r.created_at.desc()).limit(limit)).all()
        return [_rollout(r, ()) for r in rows]

    def active_ids(self) -> list[str]:
        """Rollouts the job has to look at: running ones, and paused or halted ones (their sent benches are
        still followed)."""
        live = ("running", "paused", "halted")
        with self._engine.connect() as conn:
            return list(conn.execute(select(_r.id).where(_r.status.in_(live)).order_by(_r.created_at)).scalars())

    def municipalities_of(self, rollout: Rollout) -> set[str]:
        """The municipalities of a rollout's benches (for scoping who may see it)."""
        return set(self._twins.municipalities([b.bench_id for b in rollout.benches]).values())

    # --- operator actions ---------------------------------------------------------------------------------

    def act(self, rollout_id: str, action: str, actor: str) -> Rollout:
        """Pause, resume or abort; KeyError for an unknown rollout, RolloutConflict when not allowed now."""
        if action == "rollback":
            return self.rollback(rollout_id, actor)
        allowed, target = TRANSITIONS[action]
        current = self.get(rollout_id)
        if current is None:
            raise KeyError(rollout_id)
        if current.status not in allowed:
            raise RolloutConflict(f"cannot {action} a rollout that is {current.status}")
        now = self._clock.now()
        values: dict[str, Any] = {"status": target, "updated_at": now}
        if action == "resume" and current.status == "halted":
            values["accepted_wave"] = current.wave  # the operator looked at the failures and goes on
        if target in FINAL:
            values["finished_at"] = now
        with self._engine.begin() as conn:
            stmt = update(rollouts_table).where(_r.id == rollout_id, _r.status == current.status).values(**values)
            if conn.execute(stmt).rowcount != 1:
                raise RolloutConflict(f"rollout {rollout_id} changed meanwhile; try again")
            self._audit.record(
                actor,
                f"rollout.{action}",
                f"rollout:{rollout_id}",
                {"status": current.status},
                {"status": target},
                conn=conn,
            )
        found = self.get(rollout_id)
        assert found is not None
        return found

    def rollback(self, rollout_id: str, actor: str) -> Rollout:
        """Stop the rollout and give every bench it touched its previous desired config back (as new versions)."""
        current = self.get(rollout_id)
        if current is None:
            raise KeyError(rollout_id)
        left = [b for b in current.benches if b.state != "rolled_back" and b.state != "queued"]
        if current.status == "rolled_back" and not left:
            raise RolloutConflict("the rollout is already rolled back")
        now = self._clock.now()
        with self._engine.begin() as conn:
            # Rolling back again is allowed while benches are left (a firmware update that was still in flight).
            stmt = (
                update(rollouts_table)
                .where(_r.id == rollout_id, _r.status == current.status)
                .values(status="rolled_back", updated_at=now, finished_at=now)
            )
            if conn.execute(stmt).rowcount != 1:
                raise RolloutConflict(f"rollout {rollout_id} changed meanwhile; try again")
            touched = conn.execute(
                select(_b.bench_id, _b.previous).where(
                    _b.rollout_id == rollout_id, _b.previous.is_not(None), _b.state != "rolled_back"
                )
            ).all()
        restored: list[str] = []
        restore = self._restore_firmware if current.kind == "firmware" else self._restore
        for bench_id, previous in touched:
            error = restore(bench_id, json.loads(previous), actor)
            with self._engine.begin() as conn:
                conn.execute(
                    update(rollout_benches)
                    .where(_b.rollout_id == rollout_id, _b.bench_id == bench_id)
                    .values(state="rolled_back" if error is None else "failed", error=error, finished_at=now)
                )
            if error is None:
                restored.append(bench_id)
        self._audit.record(
            actor,
            "rollout.rollback",
            f"rollout:{rollout_id}",
            {"status": current.status},
            {"status": "rolled_back", "restored": restored},
        )
        found = self.get(rollout_id)
        assert found is not None
        return found

    def _restore(self, bench_id: str, previous: dict[str, Any], actor: str) -> str | None:
        twin = self._twins.get_twin(bench_id)
        if twin is None:
            return "bench no longer registered"
        patch = restore_patch(twin.desired.model_dump(mode="json"), previous)
        if not patch:
            return None
        try:
            self._patcher.patch_desired(bench_id, patch, None, actor)
        except (InvalidConfig, DesiredBusy, KeyError) as err:
            return f"rollback failed: {err}"
        return None

    def _restore_firmware(self, bench_id: str, previous: Any, actor: str) -> str | None:
        twin = self._twins.get_twin(bench_id)
        if twin is None or twin.reported is None:
            return "bench no longer registered" if twin is None else "bench has not reported its firmware"
        if twin.reported.firmware.version == previous:
            if self._update_in_flight(bench_id):
                return "update still in flight: roll back again once it finished"
            return None  # never upgraded (refused or failed): nothing to undo
        release = self.releases.get(previous, twin.reported.hardware.model) if self.releases else None
        if release is None or self._commands is None:
            return f"rollback failed: no release {previous} registered for model {twin.reported.hardware.model}"
        self._commands.send(bench_id, "ota", release.ota_args(rollback=True), actor)
        return None

    def _update_in_flight(self, bench_id: str) -> bool:
        with self._engine.connect() as conn:
            ids = conn.execute(
                select(_b.command_id).where(_b.bench_id == bench_id, _b.state == "pending", _b.command_id.is_not(None))
            ).scalars()
            return any(self._commands is not None and (c := self._commands.get(i)) and c.status == "sent" for i in ids)

    # --- advancing (the job) ------------------------------------------------------------------------------

    def advance(self, rollout_id: str) -> str | None:
        """One step of a running rollout: send its current wave's queued benches, follow the pending ones,
        then halt, move to the next wave or complete. Returns the status after the step (None: not running)."""
        with self._engine.connect() as conn:
            row = conn.execute(select(rollouts_table).where(_r.id == rollout_id)).first()
        if row is None or row.status in FINAL:
            return None
        wave = row.wave
        patch = json.loads(row.patch)
        now = self._clock.now()
        timeout = timedelta(seconds=row.timeout_s)
        send, follow = (
            (self._send_firmware, self._follow_firmware) if row.kind == "firmware" else (self._send, self._follow)
        )
        if row.status != "running":
            # Paused or halted: nothing new goes out, but what was sent is still followed to its end.
            follow(rollout_id, [b for b in self._wave(rollout_id, wave) if b.state == "pending"], now, timeout)
            return str(row.status)
        for bench in self._wave(rollout_id, wave):
            if bench.state == "queued":
                send(rollout_id, bench.bench_id, patch, row.created_by)
        follow(rollout_id, [b for b in self._wave(rollout_id, wave) if b.state == "pending"], now, timeout)
        states = [b.state for b in self._wave(rollout_id, wave)]
        failed = sum(s in FAILED_STATES for s in states)
        rule = HaltRule(row.max_failure_pct)
        if wave != row.accepted_wave and rule.halts(wave, failed, len(states)):
            reason = f"wave {wave}: {failed} of {len(states)} bench(es) failed"
            return self._move(rollout_id, wave, "halted", wave, reason, "rollout.halt")
        if not all(s in SETTLED_STATES for s in states):
            return "running"
        if wave + 1 < row.waves:
            return self._move(rollout_id, wave, "running", wave + 1, None, "rollout.wave")
        return self._move(rollout_id, wave, "completed", wave, None, "rollout.complete")

    def _wave(self, rollout_id: str, wave: int) -> list[RolloutBench]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(rollout_benches).where(_b.rollout_id == rollout_id, _b.wave == wave).order_by(_b.bench_id)
            ).all()
        return [_bench(r) for r in rows]

    def _send(self, rollout_id: str, bench_id: str, patch: dict[str, Any], actor: str) -> None:
        twin = self._twins.get_twin(bench_id)
        key = (_b.rollout_id == rollout_id, _b.bench_id == bench_id)
        if twin is None:
            self._set(key, state="failed", error="bench no longer registered", finished_at=self._clock.now())
            return
        if not self._claim(rollout_id, bench_id, twin.desired.model_dump_json()):
            return
        try:
            patched = self._patcher.patch_desired(bench_id, patch, None, actor)
        except InvalidConfig as err:
            self._set(key, state="rejected", error=f"invalid for this bench: {err}", finished_at=self._clock.now())
            return
        except KeyError:
            self._set(key, state="failed", error="bench no longer registered", finished_at=self._clock.now())
            return
        except DesiredBusy as err:
            log.info("rollout %s: %s; sent again once the claim lease ends", rollout_id, err)
            return
        self._set(key, state="pending", desired_version=patched.desired_version, sent_at=self._clock.now())

    def _claim(self, rollout_id: str, bench_id: str, previous: str) -> bool:
        """Take a queued bench for sending, for ``CLAIM_LEASE``; False when another process holds it.

        The previous config (or firmware version) is stored here, before anything goes out, and only once: if
        the process dies after the claim, the bench is sent again once the lease ends, and a rollback still
        restores what was there before the rollout. The lease keeps two schedulers from sending it twice."""
        now = self._clock.now()
        stmt = (
            update(rollout_benches)
            .where(
                _b.rollout_id == rollout_id,
                _b.bench_id == bench_id,
                _b.state == "queued",
                or_(_b.sent_at.is_(None), _b.sent_at < now - CLAIM_LEASE),
            )
            .values(previous=func.coalesce(_b.previous, previous), sent_at=now)
        )
        with self._engine.begin() as conn:
            return bool(conn.execute(stmt).rowcount == 1)

    def _send_firmware(self, rollout_id: str, bench_id: str, patch: dict[str, Any], actor: str) -> None:
        key = (_b.rollout_id == rollout_id, _b.bench_id == bench_id)
        twin = self._twins.get_twin(bench_id)
        version = patch["version"]
        model = twin.reported.hardware.model if twin and twin.reported else None
        release = self.releases.get(version, model) if self.releases and model else None
        if twin is None or twin.reported is None or release is None or self._commands is None:
            error = f"no release {version} for this bench's model ({model or 'not reported'})"
            self._set(key, state="failed", error=error, finished_at=self._clock.now())
            return
        if not self._claim(rollout_id, bench_id, json.dumps(twin.reported.firmware.version)):
            return
        if twin.reported.firmware.version == version:
            self._set(key, state="applied", error="already running", finished_at=self._clock.now())
            return
        try:
            command = self._commands.send(bench_id, "ota", release.ota_args(), actor)
        except (CommandRefused, KeyError) as err:
            self._set(key, state="failed", error=str(err), finished_at=self._clock.now())
            return
        self._set(key, state="pending", command_id=command.id, sent_at=self._clock.now())

    def _follow_firmware(
        self, rollout_id: str, pending: Sequence[RolloutBench], now: datetime, timeout: timedelta
    ) -> None:
        if not pending or self._commands is None:
            return
        rows = {b.bench_id: b for b in pending}
        with self._engine.connect() as conn:
            commands = dict(
                conn.execute(
                    select(_b.bench_id, _b.command_id).where(_b.rollout_id == rollout_id, _b.state == "pending")
                ).all()
            )
        twins = self._twins.get_twins(list(rows))
        row = self.get_row(rollout_id)
        target = json.loads(row.patch)["version"] if row else None
        for bench_id, bench in rows.items():
            key = (_b.rollout_id == rollout_id, _b.bench_id == bench_id, _b.state == "pending")
            twin = twins.get(bench_id)
            command = self._commands.get(commands[bench_id]) if commands.get(bench_id) else None
            if twin is not None and twin.reported is not None and twin.reported.firmware.version == target:
                # Reported by the new version itself, after its restart: the update took.
                self._set(key, state="applied", finished_at=now)
            elif command is not None and command.status in ("failed", "timed_out"):
                state = "failed" if command.status == "failed" else "timed_out"
                self._set(key, state=state, error=command.error or f"ota {command.status}", finished_at=now)
            elif bench.sent_at is not None and now - bench.sent_at > timeout:
                self._set(key, state="timed_out", error=f"not running {target} within {timeout}", finished_at=now)

    def get_row(self, rollout_id: str) -> Any:
        """The rollout's SQL row (None if unknown)."""
        with self._engine.connect() as conn:
            return conn.execute(select(rollouts_table).where(_r.id == rollout_id)).first()

    def _follow(self, rollout_id: str, pending: Sequence[RolloutBench], now: datetime, timeout: timedelta) -> None:
        if not pending:
            return
        twins = self._twins.get_twins([b.bench_id for b in pending])
        for bench in pending:
            twin = twins.get(bench.bench_id)
            key = (_b.rollout_id == rollout_id, _b.bench_id == bench.bench_id, _b.state == "pending")
            state = config_state_of(bench.desired_version or 0, twin.reported if twin else None)
            if state in ("applied", "rejected"):
                report = twin.reported.config if twin and twin.reported else None
                self._set(key, state=state, error=report.error if report else None, finished_at=now)
            elif bench.sent_at is not None and now - bench.sent_at > timeout:
                self._set(key, state="timed_out", error=f"no answer within {timeout}", finished_at=now)

    def _set(self, where: tuple[Any, ...], **values: Any) -> None:
        with self._engine.begin() as conn:
            conn.execute(update(rollout_benches).where(*where).values(**values))

    def _move(
        self, rollout_id: str, wave: int, status: str, next_wave: int, reason: str | None, action: str
    ) -> str | None:
        now = self._clock.now()
        values: dict[str, Any] = {"status": status, "wave": next_wave, "reason": reason, "updated_at": now}
        if status in FINAL:
            values["finished_at"] = now
        with self._engine.begin() as conn:
            stmt = (
                update(rollouts_table)
                .where(_r.id == rollout_id, _r.status == "running", _r.wave == wave)
                .values(**values)
            )
            if conn.execute(stmt).rowcount != 1:
                return None  # paused, aborted or moved on by someone else meanwhile
            after = {"status": status, "wave": next_wave, "reason": reason}
            self._audit.record(
                "system", action, f"rollout:{rollout_id}", {"status": "running", "wave": wave}, after, conn=conn
            )
        log.info("rollout %s: %s (wave %d)%s", rollout_id, status, next_wave, f": {reason}" if reason else "")
        return status


def _bench(r: Any) -> RolloutBench:
    return RolloutBench(
        r.bench_id,
        r.wave,
        r.state,
        r.desired_version,
        r.error,
        _aware(r.sent_at),
        _aware(r.finished_at),
        r.command_id,
        r.ota_stage,
    )


def _rollout(row: Any, benches: Sequence[Any]) -> Rollout:
    return Rollout(
        id=row.id,
        kind=row.kind,
        status=row.status,
        patch=json.loads(row.patch),
        targets=json.loads(row.targets),
        wave=row.wave,
        waves=row.waves,
        reason=row.reason,
        created_by=row.created_by,
        created_at=_aware(row.created_at) or row.created_at,
        updated_at=_aware(row.updated_at) or row.updated_at,
        finished_at=_aware(row.finished_at),
        benches=tuple(_bench(b) for b in benches),
    )


class RolloutJob:
    """The scheduled job: one step of every running rollout, each read afresh from SQL."""

    def __init__(self, service: RolloutService) -> None:
        self._service = service

    def run(self) -> int:
        """One pass; returns how many rollouts were advanced."""
        count = 0
        for rollout_id in self._service.active_ids():
            try:
                self._service.advance(rollout_id)
                count += 1
            except Exception:  # one broken rollout must not stop the others
                log.exception("rollout %s could not advance", rollout_id)
        return count
