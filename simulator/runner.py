"""The runner: N simulated benches (real ``BenchAgent`` objects with simulated hardware) on one selector loop.

No thread per bench: one loop thread owns every agent, physics model and paho client. Each bench has its
own MQTT connection, client id ``bench-<id>`` and last will. Ticks happen at exact simulated instants
(``start + phase + k * telemetry_interval``) so what benches measure is reproducible from the seed;
connections ramp up at ``connect_rate_per_s`` so a big fleet does not storm the broker.
"""

from __future__ import annotations

import contextlib
import heapq
import logging
import random
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from firmware_agent.agent import AgentSettings, BenchAgent
from firmware_agent.config_store import AppliedConfig, ConfigStore, DbConfigStore
from firmware_agent.hardware.simulated import SimulatedHardware
from firmware_agent.outbox.base import Outbox
from firmware_agent.outbox.sqlite import AgentDatabase, SqliteOutbox
from firmware_agent.transport.backoff import Backoff
from firmware_agent.transport.base import Connected, Disconnected, Published, Received, TransportEvent
from firmware_agent.transport.paho import PahoTransport
from firmware_agent.votes import VoteBox, VoteRefused
from firmware_agent.wire import status_payload, status_topic
from simulator.memory_outbox import MemoryOutbox
from simulator.physics.bench_model import BenchModel
from simulator.physics.climate import climate_for
from simulator.physics.solar import Site
from simulator.physics.votes import PollSpec, VoteDraw
from simulator.physics.weather import SolarDayCache
from simulator.physics_source import ModelPhysics, physics_ports
from simulator.scenarios.effects import NO_EFFECTS, Action, BenchSchedule, Effects, build_schedules
from simulator.scenarios.model import Scenario
from simulator.selector_loop import SelectorLoop
from simulator.sites import BenchSite
from twins.broker_url import BrokerUrl
from twins.clock import ManualClock
from twins.messages import VoteCounts
from twins.topics import QOS, TopicKind, topic_for

log = logging.getLogger(__name__)

FIRMWARE_VERSION = "sim-1.0.0"
DEFAULT_CONNECT_RATE_PER_S = 250.0
SIM_KEEPALIVE_S = 60
MAX_TICKS_PER_POLL = 2000


class SimClock(Protocol):
    """Simulated time as the runner needs it (``AcceleratedClock`` or ``StepClock``)."""

    start: datetime
    """Where simulated time began: the benches' schedules count from here, so runs repeat exactly."""

    def now(self) -> datetime:
        """Simulated time now."""
        ...

    def now_s(self) -> float:
        """Simulated time now, epoch s."""
        ...

    def real_seconds_until(self, t_s: float) -> float:
        """Real seconds until the simulated instant ``t_s``."""
        ...


class MemoryConfigStore:
    """The applied config of a simulated bench, kept in memory (``firmware_agent.config_store.ConfigStore``)."""

    __slots__ = ("applied",)

    def __init__(self) -> None:
        self.applied: AppliedConfig | None = None

    def load(self) -> AppliedConfig | None:
        """The stored config."""
        return self.applied

    def save(self, applied: AppliedConfig) -> None:
        """Keep the config."""
        self.applied = applied


# Garbage a bench with broken firmware puts on its telemetry topic, in turn (each one a reject reason).
MALFORMED_PAYLOADS: tuple[bytes, ...] = (
    b"\x00\xff\xfe not json at all",
    b'{"v":1,"bench_id":"%(id)s","ts":"yesterday","seq":1}',
    b'{"v":1,"bench_id":"%(id)s","ts":"2026-01-01T00:00:00Z","seq":"many","battery":{"soc_pct":"full"}}',
    b'{"v":1,"bench_id":"%(id)s","ts":"2026-01-01T00:00:00Z","seq":7,"battery":{"soc_pct":81.2,',
    b"[1, 2, 3]",
)


@dataclass(eq=False)
class SimBench:
    """One simulated bench and everything the loop keeps for it."""

    index: int
    site: BenchSite
    clock: ManualClock
    physics: ModelPhysics
    hardware: SimulatedHardware
    transport: PahoTransport
    agent: BenchAgent
    votes: VoteBox
    schedule: BenchSchedule | None
    effects: Effects = NO_EFFECTS
    last_tick_s: float = 0.0
    offline: bool = False
    malformed_sent: int = 0
    connect_attempts: int = 0
    acked: int = 0

    @property
    def bench_id(self) -> str:
        """The bench's id."""
        return self.site.bench_id

    @property
    def topic_prefix(self) -> str:
        """``benches/<id>/``: the bench's own topics."""
        return f"benches/{self.site.bench_id}/"


@dataclass(frozen=True)
class FleetStats:
    """A snapshot of the fleet: connections, messages and simulated time."""

    benches: int
    connected: int
    samples: int
    """Telemetry samples taken (each becomes one publish, now or after an outage)."""
    acked: int
    """Messages the broker acknowledged (PUBACK), telemetry and events."""
    connects: int
    disconnects: int
    sim_time: datetime


@dataclass
class _Counters:
    connects: int = 0
    disconnects: int = 0
    acked: int = 0
    foreign: int = 0
    """Messages the broker delivered on other benches' topics (dropped)."""


@dataclass
class FleetRunner:
    """Builds the benches of a run and drives them from one thread (``run``) or step by step (``run_once``)."""

    sites: list[BenchSite]
    broker: BrokerUrl
    clock: SimClock
    seed: int = 0
    scenario: Scenario | None = None
    run_end: datetime | None = None
    db: AgentDatabase | None = None
    """Shared SQLite file for outboxes and configs (the demo); None keeps them in memory."""
    connect_rate_per_s: float = DEFAULT_CONNECT_RATE_PER_S
    keepalive_s: int = SIM_KEEPALIVE_S
    solar_cache: SolarDayCache = field(default_factory=lambda: SolarDayCache(max_entries=1024))
    initial_soc: dict[str, float] = field(default_factory=dict)
    """Battery charge (%) each bench starts with, e.g. where its simulated history ended; others the default."""
    history_votes: dict[str, VoteCounts] = field(default_factory=dict)
    """Votes each bench collected in its simulated history: its own tally starts with them, as the fleet's
    counted votes do, so the vote-tally check compares like with like."""
    benches: list[SimBench] = field(default_factory=list, init=False)
    loop: SelectorLoop = field(default_factory=SelectorLoop, init=False)
    counters: _Counters = field(default_factory=_Counters, init=False)
    _ticks: list[tuple[float, int]] = field(default_factory=list, init=False)
    _reconnects: list[tuple[float, int]] = field(default_factory=list, init=False)
    _to_connect: deque[int] = field(default_factory=deque, init=False)
    _ramp_started: float = field(default=0.0, init=False)
    _ramp_done: int = field(default=0, init=False)
    _stopping: bool = field(default=False, init=False)
    _warned_unreachable: bool = field(default=False, init=False)
    _rng: random.Random = field(default_factory=random.Random, init=False)

    # -- building --------------------------------------------------------------------------------
    def build(self) -> None:
        """Create every bench (agent started, hardware at the stored config), schedule ticks and connects."""
        start = self.clock.start
        t0 = start.timestamp()
        self._rng = random.Random(f"runner:{self.seed}")
        schedules = (
            build_schedules(self.scenario, [s.bench_id for s in self.sites], start, self.run_end, self.seed)
            if self.scenario is not None
            else {}
        )
        skies = {s.bench_id: s for s in self.sites if not s.home_id}
        count = len(self.sites)
        for index, site in enumerate(self.sites):
            sky = skies.get(site.sky_id, site)
            model = BenchModel(
                bench_id=site.bench_id,
                site=Site(sky.bench_id, sky.lat, sky.lon, sky.altitude_m),
                climate=climate_for(site.municipality),
                solar=self.solar_cache,
                weather_seed=self.seed,
                usage_seed=self.seed,
            )
            bench = self._make_bench(index, site, model, start, schedules.get(site.bench_id))
            self.benches.append(bench)
            bench.agent.start(start)
            # Spread the fleet's samples evenly over the telemetry interval (deterministic phase).
            interval = bench.agent.config.telemetry_interval_s
            phase = interval * index / count
            heapq.heappush(self._ticks, (t0 + phase, index))
            self._to_connect.append(index)
        self._ramp_started = time.monotonic()

    def _make_bench(
        self, index: int, site: BenchSite, model: BenchModel, start: datetime, schedule: BenchSchedule | None
    ) -> SimBench:
        holder: list[SimBench] = []
        clock = ManualClock(start)

        def open_polls(now: datetime) -> tuple[PollSpec, ...]:
            polls = holder[0].agent.config.polls if holder else []
            return tuple(PollSpec(p.id, tuple(o.id for o in p.options)) for p in polls if p.is_open(now))

        def on_vote(vote: VoteDraw) -> None:
            try:
                holder[0].votes.cast(vote.poll_id, vote.option)
            except VoteRefused as err:
                log.debug("%s: simulated vote refused: %s", site.bench_id, err)

        physics = ModelPhysics(
            model, start, open_polls=open_polls, on_vote=on_vote, soc_pct=self.initial_soc.get(site.bench_id)
        )
        hardware = SimulatedHardware(physics, clock, ports=physics_ports(model))
        outbox: Outbox
        config_store: ConfigStore
        if self.db is not None:
            sqlite_outbox = SqliteOutbox(self.db, site.bench_id)
            if site.bench_id in self.history_votes and not sqlite_outbox.vote_counts():
                sqlite_outbox.add_to_tally(self.history_votes[site.bench_id])
            outbox = sqlite_outbox
            config_store = DbConfigStore(self.db, site.bench_id)
        else:
            memory_outbox = MemoryOutbox()
            memory_outbox.add_to_tally(self.history_votes.get(site.bench_id, {}))
            outbox = memory_outbox
            config_store = MemoryConfigStore()
        transport = PahoTransport(
            site.bench_id,
            self.broker,
            self.clock,
            sink=lambda event: self._on_event(index, event),
            backoff=Backoff(rng=random.Random(f"backoff:{self.seed}:{site.bench_id}")),
            keepalive_s=self.keepalive_s,
        )
        self.loop.attach(transport.client)
        agent = BenchAgent(
            site.bench_id,
            hardware.bench(model="simulated", panel_wp=model.assumptions.panel.panel_wp),
            outbox,
            transport,
            config_store,
            firmware_version=FIRMWARE_VERSION,
            settings=AgentSettings(boot_reason="start"),
        )
        votes = VoteBox(site.bench_id, clock, outbox, lambda: agent.config)
        bench = SimBench(
            index, site, clock, physics, hardware, transport, agent, votes, schedule, last_tick_s=start.timestamp()
        )
        holder.append(bench)
        return bench

    # -- network events --------------------------------------------------------------------------
    def _now_for(self, bench: SimBench) -> datetime:
        return datetime.fromtimestamp(self.clock.now_s() + bench.effects.skew_s, UTC)

    def _on_event(self, index: int, event: TransportEvent) -> None:
        bench = self.benches[index]
        kind = type(event)
        if kind is Published:
            self.counters.acked += 1
            bench.acked += 1
        elif kind is Connected:
            self.counters.connects += 1
        elif kind is Received and not event.topic.startswith(bench.topic_prefix):  # type: ignore[union-attr]
            # Some brokers (amqtt 0.11, the demo's embedded one) also deliver what matches *another*
            # client's wildcard subscription; a bench only acts on its own topics, so drop it quietly.
            self.counters.foreign += 1
            return
        elif kind is Disconnected:
            self.counters.disconnects += 1
            if not self._stopping and not bench.offline:
                delay = bench.transport.next_reconnect_delay()
                heapq.heappush(self._reconnects, (time.monotonic() + delay, index))
        try:
            bench.agent.handle(event, self._now_for(bench))
        except Exception:  # one bench's bug must not stop the fleet
            log.exception("%s: agent failed handling %s", bench.bench_id, kind.__name__)

    def _connect(self, bench: SimBench) -> None:
        if bench.offline or self._stopping or bench.transport.client.socket() is not None:
            return
        bench.connect_attempts += 1
        try:
            if bench.connect_attempts == 1:
                bench.transport.connect_nonthreaded()
            else:
                bench.transport.client.reconnect()
        except OSError as err:
            delay = bench.transport.next_reconnect_delay()
            if not self._warned_unreachable:
                self._warned_unreachable = True
                log.warning(
                    "broker %s unreachable (%s); benches keep retrying with backoff", self.broker.redacted(), err
                )
            log.debug("%s: connect failed (%s), next try in %.1f s", bench.bench_id, err, delay)
            heapq.heappush(self._reconnects, (time.monotonic() + delay, bench.index))

    def _drop_connection(self, bench: SimBench) -> None:
        """Cut the link without a DISCONNECT packet, as a dead modem does: the broker fires the last will."""
        sock = bench.transport.client.socket()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # type: ignore[attr-defined]

    # -- ticks -----------------------------------------------------------------------------------
    def _tick(self, bench: SimBench, t_s: float) -> None:
        schedule = bench.schedule
        if schedule is not None:
            self._apply_faults(bench, schedule, t_s)
        bench.clock.set(datetime.fromtimestamp(t_s, UTC))
        try:
            bench.agent.tick(datetime.fromtimestamp(t_s + bench.effects.skew_s, UTC))
        except Exception:
            log.exception("%s: agent tick failed", bench.bench_id)
        bench.last_tick_s = t_s

    def _apply_faults(self, bench: SimBench, schedule: BenchSchedule, t_s: float) -> None:
        effects = schedule.effects(t_s)
        bench.effects = effects
        bench.physics.effects = effects
        bench.hardware.faults.dead_ports = set(effects.dead_ports)
        if effects.offline and not bench.offline:
            bench.offline = True
            self._drop_connection(bench)
        elif not effects.offline and bench.offline:
            bench.offline = False
            heapq.heappush(self._reconnects, (time.monotonic(), bench.index))
        for action in schedule.actions(bench.last_tick_s, t_s):
            _ACTIONS[action.kind](self, bench, action)

    def _tamper(self, bench: SimBench, action: Action) -> None:
        bench.hardware.raise_tamper(action.sensor, action.detail)

    def _malformed(self, bench: SimBench, action: Action) -> None:
        if not bench.transport.is_connected():
            return
        payload = MALFORMED_PAYLOADS[bench.malformed_sent % len(MALFORMED_PAYLOADS)]
        payload = payload.replace(b"%(id)s", bench.bench_id.encode())
        bench.malformed_sent += 1
        bench.transport.client.publish(topic_for(bench.bench_id, TopicKind.TELEMETRY), payload, qos=QOS)

    # -- the loop --------------------------------------------------------------------------------
    def run_once(self, max_wait_s: float = 0.05) -> None:
        """Serve the network for up to ``max_wait_s``, then do every tick, connect and reconnect now due."""
        wait = max_wait_s
        if self._ticks:
            wait = min(wait, self.clock.real_seconds_until(self._ticks[0][0]))
        if self._to_connect:
            wait = min(wait, 0.01)
        self.loop.poll(wait)
        now_s = self.clock.now_s()
        ticks = self._ticks
        budget = MAX_TICKS_PER_POLL  # when the fleet falls behind its clock, keep serving the network
        while ticks and ticks[0][0] <= now_s and budget > 0:
            budget -= 1
            t_s, index = heapq.heappop(ticks)
            bench = self.benches[index]
            self._tick(bench, t_s)
            heapq.heappush(ticks, (t_s + bench.agent.config.telemetry_interval_s, index))
        self._ramp()
        mono = time.monotonic()
        while self._reconnects and self._reconnects[0][0] <= mono:
            _, index = heapq.heappop(self._reconnects)
            self._connect(self.benches[index])
        self.loop.flush()

    def _ramp(self) -> None:
        if not self._to_connect:
            return
        allowed = int((time.monotonic() - self._ramp_started) * self.connect_rate_per_s) + 1
        while self._to_connect and self._ramp_done < allowed:
            self._connect(self.benches[self._to_connect.popleft()])
            self._ramp_done += 1

    def run(self, stop: threading.Event, until_s: float | None = None) -> None:
        """Run until ``stop`` is set or simulated time reaches ``until_s``."""
        while not stop.is_set() and (until_s is None or self.clock.now_s() < until_s):
            self.run_once(0.05)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Say offline (retained status, as a clean shutdown does), disconnect everyone and close sockets."""
        if self._stopping:
            return
        self._stopping = True
        now = self.clock.now()
        for bench in self.benches:
            client = bench.transport.client
            if bench.transport.is_connected():
                client.publish(
                    status_topic(bench.bench_id), status_payload(bench.bench_id, False, now, "shutdown"), QOS, True
                )
            client.disconnect()
        deadline = time.monotonic() + timeout_s
        while self.loop.open_sockets and time.monotonic() < deadline:
            self.loop.poll(0.05)
        self.loop.close()

    # -- reporting -------------------------------------------------------------------------------
    def stats(self) -> FleetStats:
        """Connections, samples and acknowledgements so far."""
        return FleetStats(
            benches=len(self.benches),
            connected=sum(1 for b in self.benches if b.transport.is_connected()),
            samples=sum(b.agent.sampler.seq for b in self.benches),
            acked=self.counters.acked,
            connects=self.counters.connects,
            disconnects=self.counters.disconnects,
            sim_time=self.clock.now(),
        )

    def bench(self, bench_id: str) -> SimBench:
        """A bench of the run by id."""
        for bench in self.benches:
            if bench.bench_id == bench_id:
                return bench
        raise KeyError(f"no bench {bench_id!r} in this run")


_ACTIONS = {"tamper": FleetRunner._tamper, "malformed": FleetRunner._malformed}

__all__ = ["FleetRunner", "FleetStats", "MemoryConfigStore", "SimBench", "SimClock"]
