"""Simulated fleet at scale against one Mosquitto, with a bare paho reference in the same run.

    python benchmarks/simulate_scale.py --benches 10000 [--broker mqtt://127.0.0.1:PORT] [--measure 120]

(a) fleet: `simulator.runner.FleetRunner`, i.e. N real `BenchAgent`s with simulated hardware and the pvlib
    physics, one paho client (own connection, client id `bench-<id>`, last will) per bench, all on one
    selector loop in one thread, real time (each bench publishes telemetry every 60 s).
(b) bare: N bare paho clients on the same selector loop, same client ids, last wills and connect ramp,
    publishing a telemetry payload of the same size at the same instants (QoS 1), without agent or physics.
Both are measured in steady state (after every client connected) over `--measure` seconds, in 10 s
windows: CPU of this process from `os.times()` (user + system), PUBACKs per second, connected clients.
An external `mosquitto_sub` counts the telemetry the broker delivered and the distinct bench ids.
Without `--broker`, a Mosquitto from Debian's package is started on a free port in a temporary folder.
Prints medians, the fleet/bare CPU ratio, and a Markdown table row for docs/performance.md (Simulator);
exits 1 (for CI) unless every bench connected and delivered and the fleet used less than one core.
"""

from __future__ import annotations

import argparse
import heapq
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from firmware_agent.wire import status_payload, status_topic  # noqa: E402
from simulator.cli import ensure_file_limit  # noqa: E402
from simulator.clock import AcceleratedClock  # noqa: E402
from simulator.runner import DEFAULT_CONNECT_RATE_PER_S, SIM_KEEPALIVE_S, FleetRunner  # noqa: E402
from simulator.selector_loop import SelectorLoop  # noqa: E402
from simulator.sites import fleet_sites  # noqa: E402
from tests.services import MosquittoService  # noqa: E402
from twins.broker_url import BrokerUrl, parse_broker_url  # noqa: E402

WINDOW_S = 10.0
INTERVAL_S = 60.0


@dataclass
class Window:
    """One measurement window."""

    seconds: float
    cpu_pct: float
    acked_per_s: float
    connected: int


@dataclass
class Result:
    """A phase's figures."""

    name: str
    clients: int
    ramp_s: float
    build_s: float
    windows: list[Window]
    delivered_per_s: float
    distinct: int
    rss_mb: float

    def median(self, attr: str) -> float:
        """Median of a window attribute."""
        return float(statistics.median(float(getattr(w, attr)) for w in self.windows))


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Subscriber:
    """``mosquitto_sub`` in its own process writing ``<unix time> <topic>`` per telemetry message."""

    def __init__(self, broker: BrokerUrl, folder: Path) -> None:
        self.path = folder / f"sub-{time.monotonic_ns()}.log"
        self.out = self.path.open("wb")
        argv = ["mosquitto_sub", "-h", broker.host, "-p", str(broker.port), "-t", "benches/+/telemetry", "-F", "%U %t"]
        if broker.username:
            argv += ["-u", broker.username, "-P", broker.password or ""]
        self.proc = subprocess.Popen(argv, stdout=self.out, stderr=subprocess.DEVNULL)

    def count(self, since: float, until: float) -> tuple[float, int]:
        """Telemetry messages per second delivered in [since, until) (wall clock) and distinct bench ids."""
        self.out.flush()
        n, ids = 0, set()
        for line in self.path.read_text().splitlines():
            stamp, _, topic = line.partition(" ")
            try:
                t = float(stamp)
            except ValueError:
                continue
            if since <= t < until:
                n += 1
                ids.add(topic.split("/")[1])
        return n / max(1e-9, until - since), len(ids)

    def stop(self) -> None:
        """End the subscriber."""
        self.proc.terminate()
        self.proc.wait(timeout=5)
        self.out.close()


def _measure(
    name: str,
    clients: int,
    step: Callable[[], None],
    connected: Callable[[], int],
    acked: Callable[[], int],
    subscriber: Subscriber,
    measure_s: float,
    build_s: float,
    ramp_timeout_s: float,
) -> Result:
    ramp_start = time.monotonic()
    while connected() < clients and time.monotonic() - ramp_start < ramp_timeout_s:
        step()
    ramp_s = time.monotonic() - ramp_start
    print(f"[{name}] {connected()}/{clients} connected after {ramp_s:.1f} s", flush=True)
    # One telemetry interval to settle (every client published once and the broker caught up).
    settle_end = time.monotonic() + INTERVAL_S
    while time.monotonic() < settle_end:
        step()
    windows: list[Window] = []
    wall_start = time.time()
    end = time.monotonic() + measure_s
    while time.monotonic() < end:
        t0, c0, a0 = time.monotonic(), _cpu(), acked()
        while time.monotonic() - t0 < WINDOW_S:
            step()
        dt = time.monotonic() - t0
        window = Window(dt, 100 * (_cpu() - c0) / dt, (acked() - a0) / dt, connected())
        windows.append(window)
        print(
            f"[{name}] {window.cpu_pct:5.1f} % CPU, {window.acked_per_s:7.1f} acked/s, {window.connected} connected",
            flush=True,
        )
    delivered, distinct = subscriber.count(wall_start, time.time())
    return Result(name, clients, ramp_s, build_s, windows, delivered, distinct, _rss_mb())


def run_fleet(broker: BrokerUrl, n: int, seed: int, measure_s: float, subscriber: Subscriber, rate: float) -> Result:
    """Phase (a): the simulated fleet in real time."""
    t = time.monotonic()
    clock = AcceleratedClock(datetime.now(UTC).replace(microsecond=0), 1.0)
    runner = FleetRunner(fleet_sites(n, seed), broker, clock, seed=seed, connect_rate_per_s=rate)
    runner.build()
    build_s = time.monotonic() - t
    print(f"[fleet] built {n} benches in {build_s:.1f} s", flush=True)
    try:
        return _measure(
            "fleet", n, lambda: runner.run_once(0.05), lambda: runner.stats().connected,
            lambda: runner.counters.acked, subscriber, measure_s, build_s, ramp_timeout_s=n / rate + 120,
        )  # fmt: skip
    finally:
        runner.stop(timeout_s=30)


class BareFleet:
    """N bare paho clients publishing one stored payload per bench every 60 s on the same selector loop."""

    def __init__(self, broker: BrokerUrl, ids: list[str], payload: bytes, rate: float) -> None:
        self.loop = SelectorLoop()
        self.acked = 0
        self.clients: list[mqtt.Client] = []
        self.ids = ids
        self.payload = payload
        self.rate = rate
        self.broker = broker
        now = time.monotonic()
        self.due = [(now + INTERVAL_S * i / len(ids), i) for i in range(len(ids))]
        heapq.heapify(self.due)
        for bench_id in ids:
            client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-{bench_id}", clean_session=False)
            if broker.username:
                client.username_pw_set(broker.username, broker.password)
            offline = status_payload(bench_id, False, datetime.now(UTC), "connection lost")
            client.will_set(status_topic(bench_id), offline, qos=1, retain=True)
            client.on_publish = self._on_publish
            self.loop.attach(client)
            self.clients.append(client)
        self.started = time.monotonic()
        self.next_connect = 0

    def _on_publish(self, *args: object) -> None:
        self.acked += 1

    def step(self) -> None:
        """Serve sockets, connect the ramp's share, publish what is due."""
        self.loop.poll(0.05)
        allowed = min(len(self.clients), int((time.monotonic() - self.started) * self.rate) + 1)
        while self.next_connect < allowed:
            client = self.clients[self.next_connect]
            client.connect(self.broker.host, self.broker.port, keepalive=SIM_KEEPALIVE_S)
            self.next_connect += 1
        now = time.monotonic()
        while self.due and self.due[0][0] <= now:
            t, i = heapq.heappop(self.due)
            client = self.clients[i]
            if client.is_connected():
                client.publish(f"benches/{self.ids[i]}/telemetry", self.payload, qos=1)
            heapq.heappush(self.due, (t + INTERVAL_S, i))
        self.loop.flush()

    def connected(self) -> int:
        """Clients with a session."""
        return sum(1 for c in self.clients if c.is_connected())

    def stop(self) -> None:
        """Disconnect everyone."""
        for c in self.clients:
            c.disconnect()
        end = time.monotonic() + 30
        while self.loop.open_sockets and time.monotonic() < end:
            self.loop.poll(0.05)
        self.loop.close()


def run_bare(
    broker: BrokerUrl, n: int, seed: int, measure_s: float, subscriber: Subscriber, rate: float, payload: bytes
) -> Result:
    """Phase (b): the bare reference."""
    t = time.monotonic()
    bare = BareFleet(broker, [s.bench_id for s in fleet_sites(n, seed)], payload, rate)
    build_s = time.monotonic() - t
    try:
        return _measure("bare", n, bare.step, bare.connected, lambda: bare.acked, subscriber, measure_s, build_s,
                        ramp_timeout_s=n / rate + 120)  # fmt: skip
    finally:
        bare.stop()


def _sample_payload(seed: int) -> bytes:
    """A real telemetry payload of a simulated bench (so the bare clients publish the same size)."""
    from firmware_agent.sampler import Sampler
    from twins.codec import encode

    clock = AcceleratedClock(datetime.now(UTC).replace(microsecond=0), 1.0)
    runner = FleetRunner(fleet_sites(1, seed), parse_broker_url("mqtt://127.0.0.1:1"), clock, seed=seed)
    runner.build()
    bench = runner.benches[0]
    bench.clock.t = clock.start.replace(second=30)
    sample = Sampler(bench.bench_id, bench.agent.bench).sample(
        bench.clock.t, frozenset(), {"park-2026": {"yes": 3, "no": 1}}
    )
    return encode(sample)


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--benches", type=int, default=10_000)
    parser.add_argument("--broker", default=None, help="mqtt://host:port (default: start a Mosquitto)")
    parser.add_argument("--measure", type=float, default=120.0, help="steady-state seconds measured per phase")
    parser.add_argument("--connect-rate", type=float, default=DEFAULT_CONNECT_RATE_PER_S)
    parser.add_argument("--seed", type=int, default=2023)
    parser.add_argument("--skip-bare", action="store_true")
    args = parser.parse_args()
    ensure_file_limit(args.benches + 100)  # our sockets; a started broker (a child) inherits the limit
    folder = Path(tempfile.mkdtemp(prefix="simscale-"))
    service = None
    if args.broker is None:
        service = MosquittoService(folder / "mosquitto")
        service.start()
        args.broker = service.url
    broker = parse_broker_url(args.broker)
    subscriber = Subscriber(broker, folder)
    payload = _sample_payload(args.seed)
    try:
        fleet = run_fleet(broker, args.benches, args.seed, args.measure, subscriber, args.connect_rate)
        bare = None if args.skip_bare else run_bare(broker, args.benches, args.seed, args.measure, subscriber,
                                                    args.connect_rate, payload)  # fmt: skip
    finally:
        subscriber.stop()
        if service is not None:
            service.stop()
    print()
    print(
        f"benches: {args.benches}, telemetry every {INTERVAL_S:.0f} s (expected {args.benches / INTERVAL_S:.1f}/s), "
        f"payload {len(payload)} B, {os.cpu_count()} cores, medians of {len(fleet.windows)} x {WINDOW_S:.0f} s windows"
    )
    for r in (fleet, bare):
        if r is None:
            continue
        print(
            f"{r.name:>5}: connected {r.median('connected'):.0f}/{r.clients} "
            f"(ramp {r.ramp_s:.1f} s, build {r.build_s:.1f} s), CPU {r.median('cpu_pct'):.1f} % of one core, "
            f"{r.median('acked_per_s'):.1f} acked/s, broker delivered {r.delivered_per_s:.1f} telemetry/s "
            f"from {r.distinct} benches, RSS {r.rss_mb:.0f} MB"
        )
    if bare is not None:
        ratio = fleet.median("cpu_pct") / max(1e-9, bare.median("cpu_pct"))
        print(f"ratio fleet/bare CPU: {ratio:.2f}")
        print(
            f"| {args.benches} | {fleet.median('connected'):.0f} | {fleet.delivered_per_s:.1f} "
            f"| {fleet.median('cpu_pct'):.1f} % | {bare.median('cpu_pct'):.1f} % | {ratio:.2f} "
            f"| {fleet.rss_mb:.0f} MB | {fleet.ramp_s:.0f} s |"
        )
    return check_targets(fleet, args.benches)


def check_targets(fleet: Result, benches: int) -> int:
    """Exit status for CI: 0 if every bench connected and delivered and the fleet used less than one core."""
    failures = []
    if fleet.median("connected") < benches:
        failures.append(f"only {fleet.median('connected'):.0f}/{benches} connected")
    if fleet.delivered_per_s < 0.9 * benches / INTERVAL_S:
        failures.append(f"delivered {fleet.delivered_per_s:.1f}/s, expected {benches / INTERVAL_S:.1f}/s")
    if fleet.median("cpu_pct") >= 100.0:
        failures.append(f"CPU {fleet.median('cpu_pct'):.0f} % of one core (target: less than one core)")
    for failure in failures:
        print(f"TARGET MISSED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
