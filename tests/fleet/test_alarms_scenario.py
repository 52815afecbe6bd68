"""The simulator's fault scenarios raise and clear the alarms a crew would expect: 12 simulated benches on a
real Mosquitto, their messages through the real ingestion pipeline into PostgreSQL and a SQLite TSDB, the
alarm job every 10 simulated minutes, notifications to a real HTTP receiver."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fleet.db import migrate
from fleet.db.engine import make_engine
from fleet.ingest.metrics import IngestMetrics
from fleet.ingest.pipeline import IngestPipeline, RawMessage
from fleet.ops.alarm_job import AlarmJob
from fleet.ops.alarms import AlarmFilter, AlarmStore, SignalRecorder
from fleet.ops.notify import Notifier, RecipientStore
from fleet.registry import default_fleet
from fleet.state.twin_store import TwinStore
from fleet.tsdb.sqlite_store import SqliteStore
from simulator.clock import StepClock
from simulator.runner import FleetRunner
from simulator.scenarios.model import parse_scenario
from simulator.sites import fleet_sites
from tests.fleet.alarm_kit import HookReceiver
from tests.services import MosquittoService
from tests.simulator.sim_harness import Recorder, advance, connect_all
from twins.broker_url import parse_broker_url

START = datetime(2026, 3, 20, 0, 0, tzinfo=UTC)  # the equinox: sun on every site
SPAN = timedelta(hours=20)
STEP = timedelta(minutes=10)

FAULTS = """
name = "crew-day"
[[faults]]
kind = "tamper"
benches = ["trebinje-01"]
start = "2h"
sensor = "door"
detail = "forced"
[[faults]]
kind = "outage"
benches = ["ravno-01"]
start = "3h"
end = "6h"
[[faults]]
kind = "frozen_sensor"
benches = ["prijedor-01"]
sensor = "battery"
start = "6h"
end = "10h"
[[faults]]
kind = "dead_port"
benches = ["kostajnica-01"]
port = "usb-1"
"""
QUIET = ("berkovici-01", "zavidovici-01")


@dataclass
class Outcome:
    """The alarm store and the webhooks after the run."""

    store: AlarmStore
    hooks: HookReceiver

    def alarms(self, bench_id: str, rule: str) -> list[tuple[str, list[str]]]:
        """(state, history actions) of each alarm of a bench and rule."""
        found = [a for a in self.store.search(AlarmFilter(bench_id=bench_id)) if a.rule == rule]
        return [(a.state, [t.action for t in self.store.history(a.id)]) for a in found]

    def notified(self, bench_id: str, rule: str) -> list[str]:
        """Events the webhook received about a bench and rule."""
        return [
            b["event"]
            for b in self.hooks.at("/all")
            if b["alarm"]["bench_id"] == bench_id and b["alarm"]["rule"] == rule
        ]


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outcome]:
    from tests.services import PostgresDatabase

    database = PostgresDatabase()
    database.create()
    broker = MosquittoService(tmp_path_factory.mktemp("alarm-mosquitto"))
    broker.start()
    hooks = HookReceiver()
    base = hooks.start()
    engine = make_engine(database.url)
    clock = StepClock(START)
    recorder = Recorder(broker.url, clock)
    runner = FleetRunner(
        fleet_sites(12, 7), parse_broker_url(broker.url), clock, seed=7, scenario=parse_scenario(FAULTS)
    )
    tsdb = SqliteStore(Path(tmp_path_factory.mktemp("alarm-tsdb")) / "tsdb.sqlite3")
    try:
        migrate.upgrade(engine)
        twins = TwinStore(engine)
        twins.register(default_fleet(), START)
        store = AlarmStore(engine)
        RecipientStore(engine).add("*", "warning", "webhook", f"{base}/all")
        pipeline = IngestPipeline(twins, tsdb, IngestMetrics(), clock, on_bench_event=SignalRecorder(store))
        job = AlarmJob(twins.list_twins, store, clock, tsdb=tsdb, notifier=Notifier(engine, None))
        runner.build()
        connect_all(runner)
        fed = 0
        for _ in range(int(SPAN / STEP)):
            advance(runner, clock, STEP, recorder)
            batch = recorder.of()[fed:]
            fed += len(batch)
            pipeline.handle([RawMessage(m.topic, m.payload, retain=m.retain) for m in batch])
            job.run()
        yield Outcome(store, hooks)
    finally:
        runner.stop()
        recorder.close()
        broker.stop()
        hooks.stop()
        tsdb.close()
        engine.dispose()
        database.drop()


# Nobody acknowledges in this run: each alarm is escalated after 30 minutes (to the escalation recipients,
# of whom there are none here), and the routed webhook hears of the raise and the clear only.


def test_tamper_raises_and_clears_an_hour_later(outcome: Outcome) -> None:
    assert outcome.alarms("trebinje-01", "tamper") == [("cleared", ["raised", "escalated", "cleared"])]
    assert outcome.notified("trebinje-01", "tamper") == ["alarm.raised", "alarm.cleared"]


def test_outage_raises_offline_and_the_reconnect_clears_it(outcome: Outcome) -> None:
    assert outcome.alarms("ravno-01", "offline") == [("cleared", ["raised", "escalated", "cleared"])]
    assert outcome.notified("ravno-01", "offline") == ["alarm.raised", "alarm.cleared"]


def test_frozen_battery_sensor_raises_and_clears(outcome: Outcome) -> None:
    assert outcome.alarms("prijedor-01", "frozen_sensor") == [("cleared", ["raised", "escalated", "cleared"])]
    assert outcome.notified("prijedor-01", "frozen_sensor") == ["alarm.raised", "alarm.cleared"]


def test_dead_port_raises_port_stopped_once(outcome: Outcome) -> None:
    assert outcome.alarms("kostajnica-01", "port_stopped") == [("active", ["raised", "escalated"])]
    assert outcome.notified("kostajnica-01", "port_stopped") == ["alarm.raised"]


def test_quiet_benches_raise_none_of_the_fault_alarms(outcome: Outcome) -> None:
    faults = {"tamper", "offline", "frozen_sensor", "port_stopped"}
    for bench_id in QUIET:
        rules = {a.rule for a in outcome.store.search(AlarmFilter(bench_id=bench_id))}
        assert rules & faults == set(), bench_id
