"""The agent process's composition root: builds hardware, outbox, transport, agent, kiosk and OTA, and runs."""

from __future__ import annotations

import logging
import queue
import signal
import threading
from dataclasses import dataclass
from datetime import timedelta
from importlib import metadata
from pathlib import Path

from twins.broker_url import parse_broker_url
from twins.clock import SystemClock
from twins.ids import require_bench_id

from .agent import AgentSettings, BenchAgent
from .config_store import FileConfigStore
from .hardware.factory import HardwareSpec, build_bench, parse_hardware_spec
from .host import RESTART_EXIT_CODE, AgentHost
from .kiosk.app import KioskServer, create_kiosk_app
from .kiosk.status import kiosk_status
from .ota.releases import ReleaseStore
from .ota.updater import OtaUpdater
from .ota.verify import load_public_key
from .outbox.sqlite import AgentDatabase, SqliteOutbox
from .transport.base import TransportEvent
from .transport.paho import PahoTransport
from .votes import VoteBox

log = logging.getLogger(__name__)

__all__ = ["RESTART_EXIT_CODE", "AgentOptions", "HardwareSpec", "build_options", "parse_hardware_spec", "run_agent"]


@dataclass(frozen=True)
class AgentOptions:
    """Everything ``benchfleet agent`` can set."""

    bench_id: str
    mqtt_url: str
    hardware: str = "sim"
    data_dir: Path = Path("/var/lib/benchfleet-agent")
    kiosk_host: str = "127.0.0.1"
    kiosk_port: int | None = 8080
    kiosk_votes_per_minute: int = 6
    ota_public_key: Path | None = None
    rollback_timeout_s: float = 300.0
    ca_certs: Path | None = None
    firmware_version: str | None = None
    drain_rate_per_s: float = 20.0
    outbox_max_messages: int = 20_000
    tick_s: float = 1.0


def package_version() -> str:
    """The installed benchfleet version (the firmware version of a bench without OTA releases)."""
    try:
        return metadata.version("benchfleet")
    except metadata.PackageNotFoundError:
        return "0.0.0+dev"


def check_options(options: AgentOptions) -> HardwareSpec:
    """Validate options before anything starts; raise ValueError naming the option and the fix."""
    try:
        require_bench_id(options.bench_id)
    except ValueError as err:
        raise ValueError(f"--bench-id: {err}") from err
    try:
        parse_broker_url(options.mqtt_url)
    except ValueError as err:
        raise ValueError(f"--mqtt: {err}") from err
    if options.ota_public_key is not None and not options.ota_public_key.is_file():
        raise ValueError(f"--ota-public-key: {options.ota_public_key} does not exist")
    if options.kiosk_votes_per_minute < 1:
        raise ValueError("--kiosk-votes-per-minute: must be at least 1")
    return parse_hardware_spec(options.hardware)


def run_agent(options: AgentOptions, stop: threading.Event | None = None) -> int:
    """Run the agent until ``stop`` is set or SIGTERM (exit 0), or it needs a restart (RESTART_EXIT_CODE).

    Raises ValueError for bad options before touching any hardware or network.
    """
    spec = check_options(options)
    broker = parse_broker_url(options.mqtt_url)
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    clock = SystemClock()
    options.data_dir.mkdir(parents=True, exist_ok=True)
    db = AgentDatabase(options.data_dir / "outbox.sqlite3")
    outbox = SqliteOutbox(db, options.bench_id, max_messages=options.outbox_max_messages)
    releases = ReleaseStore(options.data_dir)
    key = load_public_key(options.ota_public_key) if options.ota_public_key else None
    bench = build_bench(spec, clock)
    events: queue.Queue[TransportEvent] = queue.Queue()
    transport = PahoTransport(
        options.bench_id,
        broker,
        clock,
        sink=events.put,
        ca_certs=str(options.ca_certs) if options.ca_certs else None,
    )
    agent = BenchAgent(
        options.bench_id,
        bench,
        outbox,
        transport,
        FileConfigStore(options.data_dir / "config.json"),
        firmware_version=options.firmware_version or releases.current_version() or package_version(),
        settings=AgentSettings(
            drain_rate_per_s=options.drain_rate_per_s, rollback_timeout_s=options.rollback_timeout_s
        ),
        releases=releases,
        updater=OtaUpdater(releases, key),
    )
    kiosk: KioskServer | None = None
    if options.kiosk_port is not None:
        votes = VoteBox(options.bench_id, clock, outbox, lambda: agent.config)
        app = create_kiosk_app(
            votes,
            clock,
            max_votes=options.kiosk_votes_per_minute,
            per=timedelta(minutes=1),
            status=lambda: kiosk_status(agent.config, agent.shed, clock.now()),
        )
        kiosk = KioskServer(app, options.kiosk_host, options.kiosk_port)
        kiosk.start()
        log.info("%s: kiosk on %s", options.bench_id, kiosk.url)
    host = AgentHost(agent, transport, events, clock)
    log.info("%s: agent %s starting, broker %s", options.bench_id, agent.firmware.version, broker.redacted())
    try:
        host.start()
        return host.run(stop, tick_s=options.tick_s)
    finally:
        if kiosk is not None:
            kiosk.stop()
        bench.close()
        db.close()


def _host_port(text: str, option: str) -> tuple[str, int | None]:
    """``host:port`` (or ``off``) to a pair; raise ValueError naming the option."""
    if text.strip().lower() == "off":
        return "127.0.0.1", None
    host, sep, port = text.strip().rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{option} {text!r}: expected host:port such as 127.0.0.1:8080, or 'off'")
    return host or "127.0.0.1", int(port)


def build_options(
    *,
    bench_id: str,
    mqtt_url: str,
    hardware: str = "sim",
    data_dir: Path = Path("/var/lib/benchfleet-agent"),
    kiosk_http: str = "127.0.0.1:8080",
    ota_public_key: Path | None = None,
    rollback_timeout: float = 300.0,
    **extra: object,
) -> AgentOptions:
    """AgentOptions from CLI values (``kiosk_http`` is ``host:port`` or ``off``); ValueError on bad input."""
    kiosk_host, kiosk_port = _host_port(kiosk_http, "--kiosk")
    options = AgentOptions(
        bench_id=bench_id,
        mqtt_url=mqtt_url,
        hardware=hardware,
        data_dir=Path(data_dir),
        kiosk_host=kiosk_host,
        kiosk_port=kiosk_port,
        ota_public_key=ota_public_key,
        rollback_timeout_s=rollback_timeout,
        **extra,  # type: ignore[arg-type]
    )
    check_options(options)
    return options
