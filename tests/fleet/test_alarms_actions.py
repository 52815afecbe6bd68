"""Acknowledge and assign on PostgreSQL: racing writers (one wins), the audit hook inside the transaction
(a failing audit undoes the action), conflicts named, and two evaluators never open a second alarm."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection

from fleet.db import migrate
from fleet.db.engine import make_engine
from fleet.ops.alarms import AlarmConflict, AlarmFilter, AlarmStore, BenchFindings
from tests.twins.samples import T0
from twins.alarm_rules import RULES, RULES_BY_CODE, Finding
from twins.reasons import Reason

TAMPER = RULES_BY_CODE["tamper"]


@pytest.fixture
def store(db_url: str) -> Iterator[AlarmStore]:
    engine = make_engine(db_url)
    migrate.upgrade(engine)
    yield AlarmStore(engine)
    engine.dispose()


def _tamper(bench_id: str = "mostar-01") -> BenchFindings:
    return BenchFindings(
        bench_id, "Mostar", {"tamper": Finding(TAMPER, Reason("alarm_tamper", {"at": "2026-11-26T09:58Z"}))}
    )


def _one(store: AlarmStore) -> int:
    store.observe([_tamper()], T0)
    (alarm,) = store.search(AlarmFilter(bench_id="mostar-01"))
    return alarm.id


def test_racing_acknowledgements_one_wins(store: AlarmStore) -> None:
    alarm_id = _one(store)
    results: list[str] = []
    start = threading.Barrier(8)

    def ack(n: int) -> None:
        start.wait()
        try:
            store.acknowledge(alarm_id, f"user{n}", "mine", T0)
            results.append("ok")
        except AlarmConflict:
            results.append("conflict")

    threads = [threading.Thread(target=ack, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results) == ["conflict"] * 7 + ["ok"]
    actions = [t.action for t in store.history(alarm_id)]
    assert actions == ["raised", "acknowledged"]


def test_racing_evaluators_open_one_alarm(store: AlarmStore) -> None:
    start = threading.Barrier(6)

    def evaluate() -> None:
        start.wait()
        store.observe([_tamper()], T0, RULES)

    threads = [threading.Thread(target=evaluate) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    (alarm,) = store.search(AlarmFilter(bench_id="mostar-01"))
    assert [t.action for t in store.history(alarm.id)] == ["raised"]


def test_audit_hook_runs_in_the_transaction(db_url: str, store: AlarmStore) -> None:
    entries: list[tuple[str, str, str, Any, Any, str | None]] = []

    def record(
        actor: str,
        action: str,
        target: str,
        before: Any = None,
        after: Any = None,
        *,
        bench_id: str | None = None,
        conn: Connection | None = None,
    ) -> None:
        assert conn is not None
        assert conn.in_transaction()
        entries.append((actor, action, target, before["state"], after["state"], bench_id))

    audited = AlarmStore(store.engine, audit=record)
    alarm_id = _one(audited)
    audited.acknowledge(alarm_id, "ana", "seen", T0)
    audited.assign(alarm_id, "Emir", "ana", T0)
    assert entries == [
        ("ana", "alarm.acknowledge", f"alarm:{alarm_id}", "active", "acknowledged", "mostar-01"),
        ("ana", "alarm.assign", f"alarm:{alarm_id}", "acknowledged", "acknowledged", "mostar-01"),
    ]


def test_a_failing_audit_undoes_the_action(store: AlarmStore) -> None:
    def broken(*_args: Any, **_kw: Any) -> None:
        raise RuntimeError("audit log unavailable")

    audited = AlarmStore(store.engine, audit=broken)
    alarm_id = _one(audited)
    with pytest.raises(RuntimeError, match="audit log unavailable"):
        audited.acknowledge(alarm_id, "ana", "seen", T0)
    assert store.get(alarm_id).state == "active"
    assert [t.action for t in store.history(alarm_id)] == ["raised"]


def test_cleared_alarms_cannot_be_acknowledged_or_assigned(store: AlarmStore) -> None:
    alarm_id = _one(store)
    store.observe([BenchFindings("mostar-01", "Mostar", {})], T0)  # tamper clears at once when it ends
    assert store.get(alarm_id).state == "cleared"
    with pytest.raises(AlarmConflict, match="is cleared"):
        store.acknowledge(alarm_id, "ana", "late", T0)
    with pytest.raises(AlarmConflict, match="is cleared"):
        store.assign(alarm_id, "Emir", "ana", T0)
    store.observe([_tamper()], T0)  # it happens again: a new alarm, the old one stays in the history
    assert [a.state for a in store.search(AlarmFilter(bench_id="mostar-01"))] == ["active", "cleared"]
