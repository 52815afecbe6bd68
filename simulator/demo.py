"""The 12 seed benches, live, for ``benchfleet demo``: one background thread runs the whole simulated fleet."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from firmware_agent.kiosk.app import KioskServer, create_kiosk_app
from firmware_agent.kiosk.status import StatusSource, kiosk_status
from firmware_agent.outbox.sqlite import AgentDatabase
from simulator.clock import AcceleratedClock
from simulator.runner import FleetRunner, FleetStats, SimBench
from simulator.scenarios.model import DATA_DIR, load_scenario
from simulator.sites import BenchSite, seed_sites
from twins.broker_url import parse_broker_url
from twins.messages import VoteCounts

log = logging.getLogger(__name__)

DEMO_SEED = 2023
STOP_TIMEOUT_S = 10.0
DEMO_SCENARIO = DATA_DIR / "demo.toml"
"""The faults the demo brings over its first minutes (simulator/scenarios/data/demo.toml)."""
# amqtt 0.11 (the demo's embedded broker) can fail a session when many clients connect at the same
# moment ("dictionary changed size during iteration"); a few per second avoids that.
DEMO_CONNECT_RATE_PER_S = 4.0


@dataclass
class DemoFleet:
    """The running demo fleet; ``stop`` says offline, disconnects and joins the thread."""

    runner: FleetRunner
    clock: AcceleratedClock
    """The demo's simulated time (give the same clock to the fleet so both agree on "now")."""
    thread: threading.Thread
    stop_event: threading.Event
    db: AgentDatabase

    def stats(self) -> FleetStats:
        """Connected benches, samples and acknowledgements so far (approximate while running)."""
        return self.runner.stats()

    def stop(self) -> None:
        """Stop the benches (each publishes an offline status) and close their outboxes."""
        self.stop_event.set()
        self.thread.join(timeout=STOP_TIMEOUT_S)
        if self.thread.is_alive():
            log.warning("demo fleet did not stop within %.0f s", STOP_TIMEOUT_S)
            return
        self.db.close()


@dataclass
class DemoKiosks:
    """Each simulated bench's kiosk page, on its own port; ``stop`` ends them."""

    servers: dict[str, KioskServer]

    def urls(self) -> tuple[tuple[str, str], ...]:
        """(bench id, kiosk URL) of every bench, in bench order."""
        return tuple((bench_id, server.url) for bench_id, server in self.servers.items())

    def stop(self) -> None:
        """Stop serving every kiosk."""
        for server in self.servers.values():
            server.stop()


def start_demo_kiosks(fleet: DemoFleet, host: str = "127.0.0.1", port: int = 0) -> DemoKiosks:
    """Serve every bench's kiosk (as a real bench's touchscreen does), from ``port`` on (0: ports the OS picks).

    Votes go through the bench's own VoteBox into its outbox, so they reach the fleet like a citizen's.
    """
    servers: dict[str, KioskServer] = {}
    for offset, bench in enumerate(fleet.runner.benches):
        app = create_kiosk_app(bench.votes, bench.clock, status=_status_of(bench))
        server = KioskServer(app, host, port + offset if port else 0)
        server.start()
        servers[bench.bench_id] = server
    return DemoKiosks(servers)


def _status_of(bench: SimBench) -> StatusSource:
    """What this bench offers now, from its agent's config and shed loads at the bench's own simulated time."""
    return lambda: kiosk_status(bench.agent.config, bench.agent.shed, bench.clock.now())


def demo_clock(speed: float, start: datetime | None = None) -> AcceleratedClock:
    """The demo's simulated time: from ``start`` (default now) at ``speed`` simulated seconds per second."""
    return AcceleratedClock(start or datetime.now(UTC).replace(microsecond=0), speed)


def start_demo_fleet(
    mqtt_url: str,
    data_dir: Path,
    speed: float,
    scenario: Path | None = None,
    sites: list[BenchSite] | None = None,
    seed: int = DEMO_SEED,
    start: datetime | None = None,
    clock: AcceleratedClock | None = None,
    initial_soc: dict[str, float] | None = None,
    history_votes: dict[str, VoteCounts] | None = None,
) -> DemoFleet:
    """Start the seed benches (or ``sites``) against ``mqtt_url``: accelerated by ``speed``, from now.

    Outboxes and applied configs live in one SQLite file in ``data_dir``, so a demo restarted on the same
    folder resumes each bench's config version and unsent messages. The desired config (polls included)
    comes from the fleet over MQTT, as for real benches.

    Accelerated benches stamp their samples with simulated time, which runs ahead of the wall clock; a
    fleet on the wall clock rejects them (``ts_in_future``). So build the fleet with the same clock:
    ``clock = demo_clock(speed)``, ``build_runtime(settings, clock)``, ``start_demo_fleet(..., clock=clock)``
    (``speed`` and ``start`` are then the clock's). Without ``clock`` one is made from ``start`` (default now).

    ``initial_soc`` continues each bench's battery where its history ended (no jump to one shared value);
    ``history_votes`` starts each bench's own vote tally with the votes of its history;
    ``benchfleet demo`` passes ``DEMO_SCENARIO`` as ``scenario``, so alarms and health have something to show.
    """
    broker = parse_broker_url(mqtt_url)
    plan = load_scenario(scenario) if scenario is not None else None
    data_dir.mkdir(parents=True, exist_ok=True)
    db = AgentDatabase(data_dir / "agents.sqlite3", synchronous="NORMAL")
    clock = clock or demo_clock(speed, start)
    runner = FleetRunner(
        sites if sites is not None else seed_sites(),
        broker,
        clock,
        seed=seed,
        scenario=plan,
        db=db,
        connect_rate_per_s=DEMO_CONNECT_RATE_PER_S,
        initial_soc=dict(initial_soc or {}),
        history_votes=dict(history_votes or {}),
    )
    runner.build()
    stop = threading.Event()

    def run() -> None:
        try:
            runner.run(stop)
        except Exception:
            log.exception("demo fleet stopped by an error")
        finally:
            runner.stop()

    thread = threading.Thread(target=run, name="demo-fleet", daemon=True)
    thread.start()
    log.info("demo fleet: %d benches at %gx against %s", len(runner.benches), speed, broker.redacted())
    return DemoFleet(runner, clock, thread, stop, db)
