"""Config rollouts in waves to 50 real bench agents (simulated hardware) through real Mosquitto, state in
PostgreSQL: a canary that rejects halts the rollout before wave two; a new runtime on the same database
finishes a rollout the stopped one had started."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from firmware_agent.hardware.simulated import Faults
from fleet.ops.audit import AuditQuery
from fleet.ops.firmware import by_version, inventory
from fleet.ops.rollout_model import RolloutRequest
from fleet.ops.rollouts import RolloutJob
from fleet.registry import BenchRecord
from fleet.runtime import FleetRuntime
from fleet.service_api import EVERYTHING
from tests.firmware_agent.conftest import Harness
from tests.fleet.conftest import RuntimeFactory
from tests.services import MosquittoService
from tests.waiting import wait_until
from twins.clock import ManualClock
from twins.twin import Attributes

#: 12 default benches (seeded by the runtime) + 38 registered here.
EXTRA = [f"sim-{i:02d}" for i in range(38)]
USB_OFF = {"ports": {"usb": {"enabled": False}}}


def _register_extra(rt: FleetRuntime) -> list[str]:
    attrs = Attributes(name="Simulated bench", municipality="Mostar", lat=43.34, lon=17.81)
    rt.twins.register([BenchRecord(b, attrs) for b in EXTRA], rt.clock.now())
    rt.twins.ensure_rows(rt.clock.now())
    ids = sorted(rt.twins.municipalities())
    assert len(ids) == 50
    return ids


@pytest.fixture
def agents(fresh_mosquitto: MosquittoService, tmp_path: Path) -> Iterator[Callable[..., dict[str, Harness]]]:
    """Start one agent per bench id (a relay fault on the ones asked for); closed at the end."""
    started: list[Harness] = []

    def start(bench_ids: list[str], stuck_usb: frozenset[str] = frozenset()) -> dict[str, Harness]:
        out: dict[str, Harness] = {}
        for bench_id in bench_ids:
            folder = tmp_path / "agents" / bench_id
            folder.mkdir(parents=True)
            faults = Faults(fail_switch={"usb-1"}) if bench_id in stuck_usb else None
            agent = Harness(fresh_mosquitto.url, bench_id, folder, ManualClock(datetime.now(UTC)), faults=faults)
            started.append(agent)
            out[bench_id] = agent.start()
        return out

    yield start
    for agent in started:
        agent.close()


def _drive(agents: dict[str, Harness], job: RolloutJob, until: Callable[[], Any], message: str) -> Any:
    """Pump every agent and run the rollout job until ``until`` holds."""

    def step() -> Any:
        for agent in agents.values():
            agent.host.pump(timeout_s=0)
        job.run()
        return until()

    return wait_until(step, timeout=60, interval=0.02, message=message)


def _pump(agents: dict[str, Harness]) -> bool:
    for agent in agents.values():
        agent.host.pump(timeout_s=0)
    return True


def _quiet(rt: FleetRuntime) -> FleetRuntime:
    # The test runs the job itself, so it can stop between steps; the runtime's own copy would race ahead.
    rt.scheduler.remove_job("rollouts")
    wait_until(rt.publisher.connected.is_set, timeout=10, message="fleet publisher connected")
    return rt


def test_canary_that_rejects_halts_before_wave_two_and_rolls_back(
    fresh_mosquitto: MosquittoService, runtime_factory: RuntimeFactory, agents: Callable[..., dict[str, Harness]]
) -> None:
    rt = _quiet(runtime_factory(fresh_mosquitto.url))
    ids = _register_extra(rt)
    canary = "mostar-01"
    benches = agents(ids, stuck_usb=frozenset({canary}))
    assert rt.rollouts is not None
    request = RolloutRequest.from_json({"patch": USB_OFF, "targets": {"fleet": True}, "canary": canary, "percent": 20})
    rollout = rt.rollouts.create(request, "crew", EVERYTHING)
    assert rollout.waves == 3
    assert [b.bench_id for b in rollout.benches if b.wave == 0] == [canary]
    assert sum(b.wave == 1 for b in rollout.benches) == 10  # 20 % of the other 49, rounded up
    job = RolloutJob(rt.rollouts)

    def status() -> str | None:
        found = rt.rollouts.get(rollout.id) if rt.rollouts else None
        return found.status if found and found.status != "running" else None

    assert _drive(benches, job, status, "the rollout stops") == "halted"
    halted = rt.rollouts.get(rollout.id)
    assert halted is not None
    assert halted.wave == 0
    assert halted.reason == "wave 0: 1 of 1 bench(es) failed"
    by_id = {b.bench_id: b for b in halted.benches}
    assert by_id[canary].state == "rejected"
    assert "usb-1" in (by_id[canary].error or "")
    assert {b.state for b in halted.benches if b.bench_id != canary} == {"queued"}
    # Wave two never went out: no other bench has a desired version, and none applied one.
    others = rt.twins.get_twins([b for b in ids if b != canary])
    assert {t.desired_version for t in others.values()} == {0}
    assert {a.agent.applied.version for b, a in benches.items() if b != canary} == {0}
    assert halted.counts() == {"rejected": 1, "queued": 49}
    # The firmware inventory: every agent reported its firmware and model.
    rows = wait_until(
        lambda: [r for r in inventory(rt.twins.list_twins()) if r.version != "unknown"] if _pump(benches) else [],
        message="every bench reported",
    )
    assert by_version(rows) == {"1.0.0": ids}
    assert {r.model for r in rows} == {"simulated"}
    # Further runs send nothing more for a halted rollout.
    job.run()
    again = rt.rollouts.get(rollout.id)
    assert again is not None
    assert again.status == "halted"
    assert again.counts() == {"rejected": 1, "queued": 49}

    rolled = rt.rollouts.act(rollout.id, "rollback", "crew")
    assert rolled.status == "rolled_back"
    assert {b.bench_id: b.state for b in rolled.benches if b.state != "queued"} == {canary: "rolled_back"}
    twin = rt.twins.get_twin(canary)
    assert twin is not None
    assert twin.desired_version == 2  # the rollout's version, then the old config again
    assert twin.desired.ports.usb.enabled is True
    actions = [e.action for e in rt.service.audit_entries(AuditQuery(), EVERYTHING)]
    for action in ("rollout.create", "rollout.halt", "rollout.rollback", "desired.patch"):
        assert action in actions
    mine = rt.service.audit_entries(AuditQuery(bench_id=canary), EVERYTHING)
    assert [e.actor for e in mine if e.action == "desired.patch"] == ["crew", "crew"]


def test_new_runtime_on_the_same_database_finishes_a_started_rollout(
    fresh_mosquitto: MosquittoService, runtime_factory: RuntimeFactory, agents: Callable[..., dict[str, Harness]]
) -> None:
    first = _quiet(runtime_factory(fresh_mosquitto.url))
    ids = _register_extra(first)
    benches = agents(ids)
    assert first.rollouts is not None
    request = RolloutRequest.from_json({"patch": USB_OFF, "targets": {"fleet": True}, "percent": 20})
    rollout = first.rollouts.create(request, "crew", EVERYTHING)
    job = RolloutJob(first.rollouts)

    def in_wave_two() -> bool:
        found = first.rollouts.get(rollout.id) if first.rollouts else None
        return found is not None and found.wave == 1 and any(b.state == "pending" for b in found.benches)

    _drive(benches, job, in_wave_two, "wave two sent")
    mid = first.rollouts.get(rollout.id)
    assert mid is not None
    assert mid.status == "running"
    assert mid.counts()["queued"] == 39  # the last wave waits
    first.stop()  # the server goes away mid-rollout

    second = _quiet(runtime_factory(fresh_mosquitto.url))
    assert second.rollouts is not None
    job2 = RolloutJob(second.rollouts)

    def done() -> bool:
        found = second.rollouts.get(rollout.id) if second.rollouts else None
        return found is not None and found.status == "completed"

    _drive(benches, job2, done, "the new runtime completes the rollout")
    finished = second.rollouts.get(rollout.id)
    assert finished is not None
    assert finished.counts() == {"applied": 50}
    # Every bench was patched exactly once: the restart resent nothing.
    assert {t.desired_version for t in second.twins.get_twins(ids).values()} == {1}
    assert {a.agent.applied.version for a in benches.values()} == {1}
    assert all(not a.agent.config.ports.usb.enabled for a in benches.values())
    assert finished.finished_at is not None
    assert finished.finished_at - finished.created_at < timedelta(minutes=5)


def test_migration_0005_matches_the_declared_rollout_tables(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import MetaData

    from fleet.db.engine import make_engine
    from fleet.db.migrate import head_revision, upgrade  # the migration runs before any create_all
    from fleet.ops.releases import firmware_releases
    from fleet.ops.rollouts import rollout_benches, rollouts_table

    engine = make_engine(db_url)
    try:
        assert upgrade(engine).after == head_revision()
        declared = MetaData()
        rollouts_table.to_metadata(declared)
        rollout_benches.to_metadata(declared)
        firmware_releases.to_metadata(declared)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), declared)
        # Only differences about the rollout tables (the other tables have their own migration test).
        relevant = [d for d in diff if "rollout" in repr(d) or "firmware_releases" in repr(d)]
        assert relevant == []
    finally:
        engine.dispose()
