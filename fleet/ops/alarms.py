"""Alarms owned by SQL: one alarm per (bench, rule) while it lasts, its lifecycle and full history.

States: ``pending`` (the condition holds, not yet long enough: hidden) → ``active`` → ``acknowledged``
→ ``cleared`` (automatically, once the condition has been gone for the rule's ``clear_after``). Every
write that can race with another process is one conditional statement; every transition appends an
``alarm_history`` row and, in the same transaction, the notifications it owes (fleet/ops/notify.py sends them).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from fleet.ops.alarm_model import Alarm, Transition, reason_json, row_to_alarm, utc
from fleet.ops.alarm_tables import alarm_history, alarm_signals, alarm_thresholds, alarms, new_row_id
from fleet.ops.notify import enqueue_notifications
from twins.alarm_rules import RULES, RULES_BY_CODE, AlarmRule, AlarmThresholds, Finding
from twins.messages import BenchEvent

log = logging.getLogger(__name__)

AlarmState = Literal["active", "acknowledged", "cleared"]
ALARM_STATES: tuple[AlarmState, ...] = ("active", "acknowledged", "cleared")
ThresholdScope = Literal["municipality", "bench"]
SYSTEM = "system"

_a = alarms.c


class AlarmNotFound(LookupError):
    """No alarm with that id (or not a visible one)."""


class AlarmConflict(ValueError):
    """The alarm is not in a state that allows the action (e.g. acknowledging a cleared alarm)."""


class AuditHook(Protocol):
    """The audit log's ``record`` (fleet/ops/audit.py ``AuditLog.record``), called inside the change's transaction."""

    def __call__(
        self,
        actor: str,
        action: str,
        target: str,
        before: Any = None,
        after: Any = None,
        *,
        bench_id: str | None = None,
        conn: Connection | None = None,
    ) -> None:
        """Append one entry."""


def no_audit(
    actor: str,
    action: str,
    target: str,
    before: Any = None,
    after: Any = None,
    *,
    bench_id: str | None = None,
    conn: Connection | None = None,
) -> None:
    """No audit log wired (the composition root passes ``AuditLog.record``)."""


@dataclass(frozen=True, slots=True)
class AlarmFilter:
    """What a list of alarms is narrowed to; ``municipalities`` None = every one (the caller's scope)."""

    municipalities: frozenset[str] | None = None
    state: str | None = None
    severity: str | None = None
    municipality: str | None = None
    bench_id: str | None = None
    limit: int = 500


def open_key(bench_id: str, rule: str) -> str:
    """The unique key of the one open alarm of a bench and rule."""
    return f"{bench_id}/{rule}"


@dataclass(frozen=True, slots=True)
class BenchFindings:
    """The rules that hold for one bench right now."""

    bench_id: str
    municipality: str
    findings: Mapping[str, Finding]
    #: Rules that could not be judged this time (their input unavailable): left as they are.
    unknown: frozenset[str] = frozenset()


class AlarmStore:
    """The alarms in SQL: evaluation results in, lifecycle actions, queries for the API and the sender."""

    def __init__(self, engine: Engine, audit: AuditHook = no_audit) -> None:
        self.engine = engine
        self.audit = audit

    # --- evaluation ---------------------------------------------------------------------------------

    def observe(self, benches: Iterable[BenchFindings], now: datetime, rules: Iterable[AlarmRule] = RULES) -> int:
        """Move every (bench, rule) forward given what holds now; returns how many transitions were made."""
        rules = tuple(rules)
        batch = list(benches)
        ids = [b.bench_id for b in batch]
        made = 0
        with self.engine.begin() as conn:
            open_rows = {
                (r.bench_id, r.rule): r
                for r in conn.execute(select(alarms).where(_a.open_key.is_not(None), _a.bench_id.in_(ids)))
            }
            for bench in batch:
                for rule in rules:
                    if rule.code in bench.unknown:
                        continue
                    row = open_rows.get((bench.bench_id, rule.code))
                    made += self._step(conn, bench, rule, bench.findings.get(rule.code), row, now)
        return made

    def _step(
        self, conn: Connection, bench: BenchFindings, rule: AlarmRule, found: Finding | None, row: Any, now: datetime
    ) -> int:
        if found is not None:
            return self._holds(conn, bench, rule, found, row, now)
        if row is None:
            return 0
        if row.state == "pending":  # never raised: nobody heard of it, it just goes
            conn.execute(delete(alarms).where(_a.id == row.id, _a.state == "pending"))
            return 0
        since = utc(row.clearing_since)
        if since is None and rule.clear_after > timedelta(0):
            conn.execute(update(alarms).where(_a.id == row.id, _a.clearing_since.is_(None)).values(clearing_since=now))
            return 0
        if since is not None and now - since < rule.clear_after:
            return 0
        done = conn.execute(
            update(alarms)
            .where(_a.id == row.id, _a.open_key.is_not(None))
            .values(state="cleared", cleared_at=now, open_key=None, updated_at=now)
        ).rowcount
        if done:
            self._transition(conn, row.id, now, "cleared", SYSTEM, "condition ended")
        return done

    def _holds(
        self, conn: Connection, bench: BenchFindings, rule: AlarmRule, found: Finding, row: Any, now: datetime
    ) -> int:
        if row is None:
            raise_now = rule.raise_after <= timedelta(0)
            values = {
                "bench_id": bench.bench_id,
                "municipality": bench.municipality,
                "rule": rule.code,
                "severity": rule.severity,
                "state": "active" if raise_now else "pending",
                "message": found.message,
                "text": reason_json(found.reason),
                "open_key": open_key(bench.bench_id, rule.code),
                "condition_since": now,
                "raised_at": now if raise_now else None,
                "updated_at": now,
            }
            try:
                with conn.begin_nested():
                    new_id = new_row_id(conn.execute(insert(alarms).values(**values)))
            except IntegrityError:  # another process opened it first: it owns this step
                return 0
            if raise_now:
                self._transition(conn, new_id, now, "raised", SYSTEM, found.message)
                return 1
            return 0
        made = 0
        if row.clearing_since is not None:
            conn.execute(update(alarms).where(_a.id == row.id).values(clearing_since=None))
        # The English text changes exactly when a shown parameter does; older rows gain their text once.
        if row.message != found.message or row.text is None:
            conn.execute(
                update(alarms).where(_a.id == row.id).values(message=found.message, text=reason_json(found.reason))
            )
        since = utc(row.condition_since)
        if row.state == "pending" and since is not None and now - since >= rule.raise_after:
            made = conn.execute(
                update(alarms)
                .where(_a.id == row.id, _a.state == "pending")
                .values(state="active", raised_at=now, updated_at=now)
            ).rowcount
            if made:
                self._transition(conn, row.id, now, "raised", SYSTEM, found.message)
        return made

    def _transition(self, conn: Connection, alarm_id: int, at: datetime, action: str, actor: str, detail: str) -> int:
        history_id = new_row_id(
            conn.execute(
                insert(alarm_history).values(
                    alarm_id=alarm_id, at=at, action=action, actor=actor, detail=detail, announced=False
                )
            )
        )
        row = conn.execute(select(alarms).where(_a.id == alarm_id)).one()
        enqueue_notifications(conn, history_id, row_to_alarm(row), action, at)
        return history_id

    # --- escalation ------------------------------------------------------------------------------------

    def escalate_due(self, now: datetime, after: timedelta) -> int:
        """Escalate every alarm still active (unacknowledged) ``after`` its raise; each once."""
        due = select(_a.id).where(_a.state == "active", _a.escalated_at.is_(None), _a.raised_at <= now - after)
        made = 0
        with self.engine.begin() as conn:
            for (alarm_id,) in conn.execute(due).all():
                done = conn.execute(
                    update(alarms)
                    .where(_a.id == alarm_id, _a.state == "active", _a.escalated_at.is_(None))
                    .values(escalated_at=now, updated_at=now)
                ).rowcount
                if done:
                    self._transition(conn, alarm_id, now, "escalated", SYSTEM, f"not acknowledged within {after}")
                    made += 1
        return made

    # --- actions ------------------------------------------------------------------------------------

    def acknowledge(self, alarm_id: int, actor: str, comment: str, now: datetime) -> Alarm:
        """active → acknowledged, by ``actor`` with ``comment``; AlarmConflict if it is not active."""
        values = {"state": "acknowledged", "acknowledged_by": actor, "acknowledged_at": now, "ack_comment": comment}
        return self._act(alarm_id, actor, now, ("active",), values, "acknowledged", comment)

    def assign(self, alarm_id: int, assignee: str, actor: str, now: datetime) -> Alarm:
        """Set who works on an alarm that is not cleared; AlarmConflict otherwise."""
        return self._act(alarm_id, actor, now, ("active", "acknowledged"), {"assignee": assignee}, "assigned", assignee)

    def _act(
        self,
        alarm_id: int,
        actor: str,
        now: datetime,
        allowed: tuple[str, ...],
        values: dict[str, Any],
        action: str,
        detail: str,
    ) -> Alarm:
        # One conditional UPDATE decides (the state in the WHERE); history and audit entry commit with it.
        with self.engine.begin() as conn:
            row = conn.execute(select(alarms).where(_a.id == alarm_id, _a.state != "pending")).first()
            if row is None:
                raise AlarmNotFound(f"no alarm {alarm_id}")
            before = row_to_alarm(row)
            done = conn.execute(
                update(alarms).where(_a.id == alarm_id, _a.state.in_(allowed)).values(**values, updated_at=now)
            ).rowcount
            if not done:
                state = self._state(conn, alarm_id)
                raise AlarmConflict(f"alarm {alarm_id} is {state}; it must be {' or '.join(allowed)} to be {action}")
            self._transition(conn, alarm_id, now, action, actor, detail)
            after = row_to_alarm(conn.execute(select(alarms).where(_a.id == alarm_id)).one())
            verb = {"acknowledged": "alarm.acknowledge", "assigned": "alarm.assign"}[action]
            self.audit(
                actor, verb, f"alarm:{alarm_id}", before.as_json(), after.as_json(), bench_id=after.bench_id, conn=conn
            )
        return after

    @staticmethod
    def _state(conn: Connection, alarm_id: int) -> str:
        state = conn.execute(select(_a.state).where(_a.id == alarm_id)).scalar()
        if state is None or state == "pending":
            raise AlarmNotFound(f"no alarm {alarm_id}")
        return str(state)

    # --- queries ------------------------------------------------------------------------------------

    def get(self, alarm_id: int) -> Alarm:
        """One raised alarm; AlarmNotFound otherwise."""
        with self.engine.connect() as conn:
            row = conn.execute(select(alarms).where(_a.id == alarm_id, _a.state != "pending")).first()
        if row is None:
            raise AlarmNotFound(f"no alarm {alarm_id}")
        return row_to_alarm(row)

    def search(self, flt: AlarmFilter = AlarmFilter()) -> list[Alarm]:
        """Raised alarms matching ``flt``, newest first."""
        q = select(alarms).where(_a.state != "pending")
        if flt.municipalities is not None:
            q = q.where(_a.municipality.in_(sorted(flt.municipalities)))
        for column, value in (
            (_a.state, flt.state),
            (_a.severity, flt.severity),
            (_a.municipality, flt.municipality),
            (_a.bench_id, flt.bench_id),
        ):
            if value:
                q = q.where(column == value)
        q = q.order_by(_a.raised_at.desc(), _a.id.desc()).limit(flt.limit)
        with self.engine.connect() as conn:
            return [row_to_alarm(r) for r in conn.execute(q)]

    def raised_rules(self) -> dict[str, frozenset[str]]:
        """The rules with a raised, not yet cleared alarm, per bench (for the rules' hysteresis)."""
        q = select(_a.bench_id, _a.rule).where(_a.state.in_(("active", "acknowledged")))
        found: dict[str, set[str]] = {}
        with self.engine.connect() as conn:
            for bench_id, rule in conn.execute(q):
                found.setdefault(bench_id, set()).add(rule)
        return {b: frozenset(r) for b, r in found.items()}

    def history(self, alarm_id: int) -> list[Transition]:
        """Every transition of one alarm, oldest first."""
        h = alarm_history.c
        with self.engine.connect() as conn:
            rows = conn.execute(select(alarm_history).where(h.alarm_id == alarm_id).order_by(h.id))
            return [Transition(r.id, r.alarm_id, utc(r.at) or r.at, r.action, r.actor, r.detail) for r in rows]

    def claim_unannounced(self, limit: int = 200) -> list[tuple[Transition, Alarm]]:
        """Transitions no process has announced yet, each claimed by exactly one caller (conditional UPDATE)."""
        h = alarm_history.c
        claimed: list[tuple[Transition, Alarm]] = []
        with self.engine.begin() as conn:
            rows = conn.execute(select(alarm_history).where(h.announced.is_(False)).order_by(h.id).limit(limit)).all()
            for r in rows:
                if conn.execute(
                    update(alarm_history).where(h.id == r.id, h.announced.is_(False)).values(announced=True)
                ).rowcount:
                    alarm = row_to_alarm(conn.execute(select(alarms).where(_a.id == r.alarm_id)).one())
                    claimed.append(
                        (Transition(r.id, r.alarm_id, utc(r.at) or r.at, r.action, r.actor, r.detail), alarm)
                    )
        return claimed

    # --- thresholds ---------------------------------------------------------------------------------

    def set_threshold(self, scope: ThresholdScope, target: str, name: str, value: float | None) -> None:
        """Override (or with None, drop the override of) one threshold for a municipality or a bench."""
        AlarmThresholds().with_overrides({name: 0.0} if value is None else {name: value})  # names it if unknown
        if scope not in ("municipality", "bench"):
            raise ValueError(f"threshold scope {scope!r}: use municipality or bench")
        t = alarm_thresholds.c
        key = (t.scope == scope, t.target == target, t.name == name)
        with self.engine.begin() as conn:
            conn.execute(delete(alarm_thresholds).where(*key))
            if value is not None:
                conn.execute(insert(alarm_thresholds).values(scope=scope, target=target, name=name, value=float(value)))

    def thresholds(self) -> ThresholdBook:
        """Every override, for one evaluation run."""
        t = alarm_thresholds.c
        book: dict[tuple[str, str], dict[str, float]] = {}
        with self.engine.connect() as conn:
            for scope, target, name, value in conn.execute(select(t.scope, t.target, t.name, t.value)):
                book.setdefault((scope, target), {})[name] = value
        return ThresholdBook(book)

    # --- signals ------------------------------------------------------------------------------------

    def record_signal(self, event_id: str, bench_id: str, kind: str, at: datetime, detail: str = "") -> bool:
        """Remember an event-like alarm input (tamper); False if that event was recorded already."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(alarm_signals).values(event_id=event_id, bench_id=bench_id, kind=kind, at=at, detail=detail)
                )
        except IntegrityError:
            return False
        return True

    def last_signals(self, kind: str, since: datetime) -> dict[str, datetime]:
        """Newest signal of ``kind`` per bench since ``since``."""
        s = alarm_signals.c
        q = select(s.bench_id, func.max(s.at)).where(s.kind == kind, s.at >= since).group_by(s.bench_id)
        with self.engine.connect() as conn:
            return {b: utc(at) or at for b, at in conn.execute(q)}


class SignalRecorder:
    """Ingestion's hook for bench events: keeps those that alarm rules read (tamper) in SQL, once per event id."""

    KINDS = frozenset({"tamper"})

    def __init__(self, store: AlarmStore) -> None:
        self._store = store

    def __call__(self, event: BenchEvent) -> None:
        """Record the event if it is an alarm signal."""
        if event.type in self.KINDS:
            self._store.record_signal(str(event.id), event.bench_id, event.type, event.ts, event.data.model_dump_json())


@dataclass(frozen=True, slots=True)
class ThresholdBook:
    """The threshold overrides; a bench's override beats its municipality's, which beats the default."""

    overrides: Mapping[tuple[str, str], Mapping[str, float]]

    def for_bench(self, bench_id: str, municipality: str) -> AlarmThresholds:
        """The thresholds that apply to one bench."""
        merged = {
            **self.overrides.get(("municipality", municipality), {}),
            **self.overrides.get(("bench", bench_id), {}),
        }
        return AlarmThresholds().with_overrides(merged) if merged else AlarmThresholds()


__all__ = ["RULES_BY_CODE", "Alarm", "AlarmConflict", "AlarmFilter", "AlarmNotFound", "AlarmStore", "BenchFindings"]
