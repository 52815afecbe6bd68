"""The runner end to end on a real Mosquitto: every fault shows in telemetry as a crew would see it.

One 30-simulated-hour run of the 12 seed benches (stepped clock, ~10 s real) with one fault per bench;
each test reads what a subscriber on ``benches/#`` received, as the fleet would.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from statistics import median
from typing import Any

import pytest

from simulator.clock import StepClock
from simulator.runner import FleetRunner
from simulator.scenarios.model import parse_scenario
from simulator.sites import fleet_sites
from tests.services import MosquittoService
from tests.simulator.sim_harness import Recorder, advance, connect_all, settle
from twins.broker_url import parse_broker_url
from twins.codec import Rejected, decode_payload
from twins.topics import TopicKind

START = datetime(2026, 3, 20, 0, 0, tzinfo=UTC)  # 01:00 local; the equinox: sun on every site
SPAN = timedelta(hours=30)
OUTAGE = (START + timedelta(hours=3), START + timedelta(hours=9))
SKEW_S = 3600.0

EVERY_FAULT = """
name = "every-fault"
[[faults]]
kind = "soiling"
benches = ["mostar-01"]
rate_pct_per_day = 40
max_pct = 80
rain_probability = 0
[[faults]]
kind = "snow"
benches = ["nevesinje-01"]
cover_pct = 100
melt_pct_per_day = 0
[[faults]]
kind = "shading"
benches = ["zepce-01"]
loss_pct = 100
from_hour = 10
to_hour = 14
[[faults]]
kind = "battery_degradation"
benches = ["novi-grad-01"]
capacity_pct = 25
[[faults]]
kind = "dead_port"
benches = ["kostajnica-01"]
port = "usb-1"
[[faults]]
kind = "tamper"
benches = ["trebinje-01"]
start = "2h"
sensor = "door"
detail = "forced"
[[faults]]
kind = "frozen_sensor"
benches = ["prijedor-01"]
sensor = "battery"
start = "6h"
end = "12h"
[[faults]]
kind = "clock_skew"
benches = ["maglaj-01"]
skew_s = 3600
[[faults]]
kind = "malformed"
benches = ["jablanica-01"]
every_min = 30
[[faults]]
kind = "outage"
benches = ["ravno-01"]
start = "3h"
end = "9h"
"""
CLEAN = ("berkovici-01", "zavidovici-01")


@dataclass
class Run:
    """A finished run: the runner (for the physics' own expectations) and what the broker delivered."""

    runner: FleetRunner
    recorder: Recorder

    def telemetry(self, bench_id: str) -> list[dict[str, Any]]:
        """Well-formed samples of a bench, by seq (duplicates from QoS 1 redelivery removed)."""
        return list({d["seq"]: d for d in self.recorder.telemetry(bench_id)}.values())


def _ts(doc: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(doc["ts"].replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """Run the 12 benches with one fault each for 30 simulated hours against a broker of this module."""
    broker = MosquittoService(tmp_path_factory.mktemp("sim-mosquitto"))
    broker.start()
    clock = StepClock(START)
    recorder = Recorder(broker.url, clock)
    runner = FleetRunner(
        fleet_sites(12, 7), parse_broker_url(broker.url), clock, seed=7, scenario=parse_scenario(EVERY_FAULT)
    )
    try:
        runner.build()
        connect_all(runner)
        advance(runner, clock, SPAN, recorder)
        settle(runner, clock, recorder)
        yield Run(runner, recorder)
    finally:
        runner.stop()
        recorder.close()
        broker.stop()


def _day_yield(run: Run, bench_id: str, day: datetime) -> tuple[float, float]:
    """(energy the bench reported for a local day, energy its panel could have given that day), Wh."""
    docs = [d for d in run.telemetry(bench_id) if _ts(d).date() == day.date() and _ts(d).hour < 22]
    reported = max(d["solar"]["energy_today_wh"] for d in docs)
    model = run.runner.bench(bench_id).physics.model
    solar = model.solar_day(model.ordinal_at(day.timestamp()))
    available, _ = solar.energy_wh(solar.start_s, max(_ts(d) for d in docs).timestamp())
    return reported, available


def test_soiling_lowers_yield_against_the_expectation(run: Run) -> None:
    """A soiled panel harvests clearly less than the site's sun allows; clean benches harvest what it allows."""
    reported, available = _day_yield(run, "mostar-01", START)
    assert available > 100
    assert reported / available < 0.9
    for bench_id in CLEAN:
        if max(d["battery"]["soc_pct"] for d in run.telemetry(bench_id)[:1300]) < 99:  # full batteries curtail
            clean, possible = _day_yield(run, bench_id, START)
            assert clean / possible > 0.97


def test_snow_covered_panel_yields_nothing_on_a_sunny_day(run: Run) -> None:
    """Nevesinje's panel under snow: zero solar power all day although its sky gives energy."""
    docs = run.telemetry("nevesinje-01")
    assert max(d["solar"]["power_w"] for d in docs) == 0.0
    _, available = _day_yield(run, "nevesinje-01", START)
    assert available > 100


def test_fixed_shading_cuts_only_the_shaded_hours(run: Run) -> None:
    """Shaded 10-14 h local (09-13 UTC in March): no power then, power in the morning and afternoon."""
    docs = [d for d in run.telemetry("zepce-01") if _ts(d).date() == START.date()]
    shaded = [d["solar"]["power_w"] for d in docs if 9 <= _ts(d).hour < 13]
    open_sky = [d["solar"]["power_w"] for d in docs if 7 <= _ts(d).hour < 9 or 13 <= _ts(d).hour < 15]
    assert shaded
    assert max(shaded) == 0.0
    assert max(open_sky) > 5.0


def test_degraded_battery_drains_much_faster_overnight(run: Run) -> None:
    """Same night, similar loads: the degraded battery loses several times the charge the others lose."""

    def night_drop(bench_id: str) -> float:
        by_hour = {(_ts(d).day, _ts(d).hour): d["battery"]["soc_pct"] for d in run.telemetry(bench_id)}
        return float(by_hour[(20, 20)] - by_hour[(21, 4)])

    others = [night_drop(b.bench_id) for b in run.runner.benches if b.bench_id not in ("novi-grad-01", "prijedor-01")]
    assert night_drop("novi-grad-01") > 2.5 * median(others)


def test_dead_port_never_delivers_while_others_are_used(run: Run) -> None:
    """Kostajnica's usb-1 is never active and counts no session; the same port elsewhere does."""
    dead = [p for d in run.telemetry("kostajnica-01") for p in d["ports"] if p["id"] == "usb-1"]
    assert dead
    assert not any(p["active"] or p["power_w"] > 0 or p["sessions_today"] > 0 for p in dead)
    elsewhere = [
        max(p["sessions_today"] for d in run.telemetry(b.bench_id) for p in d["ports"] if p["id"] == "usb-1")
        for b in run.runner.benches
    ]
    assert sum(1 for n in elsewhere if n > 0) >= 6


def test_tamper_raises_a_tamper_event(run: Run) -> None:
    """The forced door is reported once as a ``tamper`` event carrying the sensor and detail."""
    events = [m.doc() for m in run.recorder.of("trebinje-01", "events")]
    tampers = {e["id"]: e for e in events if e["type"] == "tamper"}
    assert len(tampers) == 1
    (event,) = tampers.values()
    assert event["data"]["sensor"] == "door"
    assert START + timedelta(hours=2) <= _ts(event) <= START + timedelta(hours=2, minutes=2)
    others = [m.doc() for b in ("mostar-01", "ravno-01") for m in run.recorder.of(b, "events")]
    assert not any(e["type"] == "tamper" for e in others)


def test_frozen_sensor_repeats_identical_readings(run: Run) -> None:
    """While frozen the battery section never changes; before and after it does, every sample."""
    docs = run.telemetry("prijedor-01")
    frozen = [d for d in docs if START + timedelta(hours=6, minutes=1) <= _ts(d) < START + timedelta(hours=12)]
    after = [d for d in docs if START + timedelta(hours=12) <= _ts(d) < START + timedelta(hours=14)]
    assert len(frozen) > 300
    assert len({json.dumps(d["battery"], sort_keys=True) for d in frozen}) == 1
    assert len({json.dumps(d["battery"], sort_keys=True) for d in after}) > 60


def test_clock_skew_shifts_every_timestamp(run: Run) -> None:
    """A skewed bench's samples carry timestamps an hour ahead of when they arrive; others are on time."""

    def lags(bench_id: str) -> list[float]:
        return [_ts(m.doc()).timestamp() - m.received_s for m in run.recorder.of(bench_id, "telemetry")
                if m.received_s > START.timestamp() + 600]  # fmt: skip

    skewed = lags("maglaj-01")
    assert all(SKEW_S - 120 <= lag <= SKEW_S + 5 for lag in skewed)
    assert all(-120 <= lag <= 5 for lag in lags("mostar-01"))


def test_malformed_messages_are_rejected_by_the_contract(run: Run) -> None:
    """Garbage on Jablanica's telemetry topic every 30 min: each fails decoding; good samples still flow."""
    bad = 0
    for message in run.recorder.of("jablanica-01", "telemetry"):
        try:
            decode_payload(TopicKind.TELEMETRY, message.payload)
        except Rejected:
            bad += 1
    assert 55 <= bad <= 61  # 30 h / 30 min
    assert len(run.telemetry("jablanica-01")) >= 1790


def test_outage_fires_the_last_will_and_replays_the_outbox(run: Run) -> None:
    """Ravno: offline (last will) during the outage, nothing arrives, then every stored sample arrives."""
    statuses = [(m.received_s, m.doc()) for m in run.recorder.of("ravno-01", "status")]
    offline = [s for s in statuses if not s[1]["online"]]
    assert offline
    assert OUTAGE[0].timestamp() <= offline[0][0] <= OUTAGE[0].timestamp() + 120
    assert any(s[1]["online"] and s[0] >= OUTAGE[1].timestamp() for s in statuses)
    during = [m for m in run.recorder.of("ravno-01", "telemetry")
              if OUTAGE[0].timestamp() + 120 < m.received_s < OUTAGE[1].timestamp()]  # fmt: skip
    assert during == []
    docs = run.telemetry("ravno-01")
    assert [d["seq"] for d in docs] == list(range(len(docs)))  # no gap: the outbox kept everything
    stored = [d for d in docs if OUTAGE[0] + timedelta(minutes=2) < _ts(d) < OUTAGE[1]]
    assert len(stored) >= 355


def _telemetry_of_run(url: str, seed: int) -> dict[str, list[dict[str, Any]]]:
    """Three benches with a rainy soiling fault, 3 simulated hours, stepped; their telemetry by bench."""
    scenario = parse_scenario(
        'name = "det"\n[[faults]]\nkind = "soiling"\nbenches = ["*"]\nrate_pct_per_day = 20\nrain_probability = 0.5'
    )
    clock = StepClock(datetime(2026, 7, 1, 4, 0, tzinfo=UTC))
    recorder = Recorder(url, clock)
    runner = FleetRunner(fleet_sites(3, seed), parse_broker_url(url), clock, seed=seed, scenario=scenario)
    try:
        runner.build()
        connect_all(runner)
        advance(runner, clock, timedelta(hours=3), recorder)
        settle(runner, clock, recorder)
        return {b.bench_id: recorder.telemetry(b.bench_id)[:180] for b in runner.benches}
    finally:
        runner.stop()
        recorder.close()


def test_a_run_is_reproducible_from_its_seed(fresh_mosquitto: MosquittoService) -> None:
    """Same seed, same telemetry, value for value; another seed, other values."""
    first = _telemetry_of_run(fresh_mosquitto.url, seed=11)
    again = _telemetry_of_run(fresh_mosquitto.url, seed=11)
    other = _telemetry_of_run(fresh_mosquitto.url, seed=12)
    assert all(len(docs) == 180 for docs in first.values())
    assert first == again
    assert [d["battery"] for d in first["berkovici-01"]] != [d["battery"] for d in other["berkovici-01"]]


def test_broker_restart_loses_no_sample(fresh_mosquitto: MosquittoService) -> None:
    """The broker goes down for 30 simulated minutes: every bench reconnects and no ``seq`` is missing."""
    clock = StepClock(datetime(2026, 5, 4, 8, 0, tzinfo=UTC))
    recorder = Recorder(fresh_mosquitto.url, clock, client_id="restart-recorder")
    runner = FleetRunner(fleet_sites(12, 4), parse_broker_url(fresh_mosquitto.url), clock, seed=4)
    try:
        runner.build()
        connect_all(runner)
        advance(runner, clock, timedelta(minutes=20), recorder)
        fresh_mosquitto.stop()
        advance(runner, clock, timedelta(minutes=30))
        assert runner.stats().connected == 0
        fresh_mosquitto.start()
        connect_all(runner, timeout=60)
        advance(runner, clock, timedelta(minutes=20), recorder)
        settle(runner, clock, recorder)
        assert runner.stats().disconnects >= 12
        for bench in runner.benches:
            seqs = {d["seq"] for d in recorder.telemetry(bench.bench_id)}
            assert seqs == set(range(bench.agent.sampler.seq)), bench.bench_id
            assert len(seqs) >= 70
    finally:
        runner.stop()
        recorder.close()
