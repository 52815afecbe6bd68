"""Many agents in one thread: non-threaded paho clients on a selector loop, one shared SQLite file."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

from firmware_agent.agent import BenchAgent
from firmware_agent.config_store import DbConfigStore
from firmware_agent.hardware.simulated import SimulatedHardware
from firmware_agent.multihost import SelectorHost
from firmware_agent.outbox.sqlite import AgentDatabase, SqliteOutbox
from firmware_agent.transport.backoff import Backoff
from firmware_agent.transport.paho import PahoTransport
from tests.firmware_agent.conftest import ScriptedPhysics
from tests.services import MosquittoService
from tests.waiting import wait_until
from twins.broker_url import parse_broker_url

BENCHES = 25


def _build(host: SelectorHost, url: str, db: AgentDatabase, bench_id: str) -> BenchAgent:
    holder: list[BenchAgent] = []
    transport = PahoTransport(
        bench_id,
        parse_broker_url(url),
        host.clock,
        sink=lambda event: holder[0].handle(event, host.clock.now()),
        backoff=Backoff(0.05, 0.5),
    )
    hardware = SimulatedHardware(ScriptedPhysics(), host.clock)
    agent = BenchAgent(
        bench_id, hardware.bench(), SqliteOutbox(db, bench_id), transport, DbConfigStore(db, bench_id), "1.0.0"
    )
    holder.append(agent)
    host.add(agent, transport)
    return agent


def test_many_agents_share_one_thread_and_one_database(
    fresh_mosquitto: MosquittoService, clock, tmp_path: Path, observers
) -> None:
    obs = observers(fresh_mosquitto.url, "+", persistent=True)
    db = AgentDatabase(tmp_path / "fleet-outbox.sqlite3", synchronous="NORMAL")
    host = SelectorHost(clock)
    ids = [f"sim-{i:03d}" for i in range(BENCHES)]
    agents = [_build(host, fresh_mosquitto.url, db, b) for b in ids]
    threads_before = threading.active_count()

    def seqs() -> dict[str, set[int]]:
        out: dict[str, set[int]] = {b: set() for b in ids}
        for doc in obs.of("telemetry"):
            out[doc["bench_id"]].add(doc["seq"])
        return out

    def run_until(predicate, advance: timedelta | None = None, timeout: float = 30):  # type: ignore[no-untyped-def]
        def step() -> bool:
            if advance:
                clock.advance(advance)
            host.run_once(timeout_s=0.01)
            return bool(predicate())

        wait_until(step, timeout=timeout, interval=0.0)

    try:
        host.start()
        run_until(lambda: all(a.transport.is_connected() for a in agents))
        assert threading.active_count() == threads_before  # no thread per bench (none at all)
        for _ in range(4):
            clock.advance(timedelta(seconds=60))
            host.run_once(timeout_s=0.01)
        run_until(lambda: all(s >= set(range(5)) for s in seqs().values()))

        fresh_mosquitto.stop()
        run_until(lambda: not any(a.transport.is_connected() for a in agents))
        for _ in range(10):
            clock.advance(timedelta(seconds=60))
            host.run_once(timeout_s=0.0)
        assert all(a.outbox.count() >= 10 for a in agents)
        fresh_mosquitto.start()
        run_until(
            lambda: all(s >= set(range(15)) for s in seqs().values()) and all(a.outbox.count() == 0 for a in agents),
            advance=timedelta(seconds=1),
        )
        assert threading.active_count() == threads_before
        online = {doc["bench_id"] for doc in obs.of("status") if doc["online"]}
        assert online == set(ids)
    finally:
        host.stop()
        db.close()
    offline = wait_until(lambda: {d["bench_id"] for d in obs.of("status") if d.get("reason") == "shutdown"} == set(ids))
    assert offline
