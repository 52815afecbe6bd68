"""A bench world for alarm tests: twins built from contract payloads, a real SQLite TSDB for their
histories, the fleet database migrated with Alembic, a manual clock; plus real SMTP and HTTP receivers."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import Engine

from fleet.db import migrate
from fleet.db.engine import make_engine
from fleet.mail import SmtpSettings
from fleet.ops.alarm_job import AlarmJob, AlarmJobSettings
from fleet.ops.alarms import AlarmStore
from fleet.ops.notify import Notifier, RecipientStore
from fleet.tsdb.base import TimeSeriesStore
from fleet.tsdb.factory import open_tsdb
from tests.services import free_port
from tests.twins.samples import T0, telemetry_doc
from twins.clock import ManualClock
from twins.messages import Status, Telemetry
from twins.series import telemetry_points
from twins.twin import Attributes, Twin, apply_status, apply_telemetry, new_twin

MUNICIPALITIES = {"mostar-01": "Mostar", "mostar-02": "Mostar", "tuzla-01": "Tuzla"}
COORDS = {"Mostar": (43.34, 17.81), "Tuzla": (44.54, 18.67)}


def telemetry(bench_id: str, when: datetime, seq: int, **over: Any) -> Telemetry:
    """A contract telemetry sample with ``over`` merged at the top level."""
    return Telemetry.model_validate_json(json.dumps(telemetry_doc(bench_id=bench_id, when=when, seq=seq, **over)))


@dataclass
class World:
    """Benches whose twins and TSDB histories a test shapes, and the alarm machinery over them."""

    engine: Engine
    tsdb: TimeSeriesStore
    clock: ManualClock
    store: AlarmStore
    recipients: RecipientStore
    notifier: Notifier
    job: AlarmJob
    twins: dict[str, Twin] = field(default_factory=dict)
    seq: int = 0
    #: Top-level telemetry overrides per bench (``battery`` is merged into the default battery).
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Benches whose sensors repeat their last reading, and benches that send nothing.
    frozen: set[str] = field(default_factory=set)
    silent: set[str] = field(default_factory=set)

    def send(self, bench_id: str, **over: Any) -> Telemetry:
        """A telemetry sample at the clock's time: into the twin and the TSDB.

        Readings wander a little, as real sensors do, unless the bench is in ``frozen``."""
        self.seq += 1
        over = {**self.overrides.get(bench_id, {}), **over}
        noise = random.Random(0 if bench_id in self.frozen else self.seq)  # seeded: repeatable runs
        over["battery"] = {
            "soc_pct": 81.2,
            "voltage_v": round(13.1 + noise.uniform(-0.05, 0.05), 3),
            "current_a": round(-1.2 + noise.uniform(-0.1, 0.1), 3),
            "temp_c": round(21.5 + noise.uniform(-0.3, 0.3), 2),
            **over.get("battery", {}),
        }
        over.setdefault("votes", {})  # no votes cast: the tally matches (the mismatch case sets it directly)
        over.setdefault("solar", {"power_w": round(88.2 + noise.uniform(-2, 2), 2), "energy_today_wh": 410.0})
        sample = telemetry(bench_id, self.clock.now(), self.seq, **over)
        self.twins[bench_id] = apply_telemetry(self.twins[bench_id], sample, self.clock.now())[0]
        self.tsdb.write(telemetry_points(sample, MUNICIPALITIES[bench_id]))
        return sample

    def status(self, bench_id: str, online: bool) -> None:
        """The bench's status (an offline last will, or back online)."""
        doc = {"v": 1, "bench_id": bench_id, "ts": self.clock.now().isoformat(), "online": online, "reason": None}
        status = Status.model_validate_json(json.dumps(doc))
        self.twins[bench_id] = apply_status(self.twins[bench_id], status, self.clock.now())[0]

    def update(self, bench_id: str, **fields: Any) -> None:
        """Change twin fields directly (what ingestion would have written)."""
        self.twins[bench_id] = self.twins[bench_id].model_copy(update=fields)

    def tick(self, minutes: float = 1.0, runs: int = 1) -> None:
        """Advance the clock, let every bench not ``silent`` send a sample, run the job ``runs`` times."""
        self.clock.advance(timedelta(minutes=minutes))
        for bench_id in self.twins:
            if bench_id not in self.silent:
                self.send(bench_id)
        for _ in range(runs):
            self.job.run()


def make_world(
    db_url: str,
    tmp_path: Path,
    smtp: SmtpSettings | None = None,
    start: datetime = T0,
    escalate_after: timedelta = timedelta(days=30),
) -> World:
    """Migrate the database, open a SQLite TSDB and build the job over three benches."""
    engine = make_engine(db_url)
    migrate.upgrade(engine)
    tsdb = open_tsdb(f"sqlite:///{tmp_path / 'tsdb.sqlite3'}")
    clock = ManualClock(start)
    store = AlarmStore(engine)
    notifier = Notifier(engine, smtp)
    world_twins: dict[str, Twin] = {}
    settings = AlarmJobSettings(escalate_after=escalate_after)
    job = AlarmJob(lambda: list(world_twins.values()), store, clock, tsdb=tsdb, notifier=notifier, settings=settings)
    world = World(engine, tsdb, clock, store, RecipientStore(engine), notifier, job, world_twins)
    for bench_id, municipality in MUNICIPALITIES.items():
        lat, lon = COORDS[municipality]
        world.twins[bench_id] = new_twin(
            bench_id, Attributes(name=bench_id, municipality=municipality, lat=lat, lon=lon)
        )
        world.send(bench_id)
    return world


class SmtpReceiver:
    """A real SMTP server (aiosmtpd) on loopback that keeps every message."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        """Keep the message."""
        with self._lock:
            self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    def start(self) -> SmtpSettings:
        """Start listening; the settings to send to it."""
        self.controller.start()
        return SmtpSettings(host="127.0.0.1", port=self.port)

    def to(self, address: str) -> list[Message]:
        """Messages addressed to ``address``."""
        with self._lock:
            return [m for m in self.messages if m["To"] == address]


class HookReceiver:
    """A real HTTP server on loopback that keeps every JSON POST, by path."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, Any]]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.posts.append((self.path, json.loads(body)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> str:
        """Start serving; the base URL."""
        self.thread.start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def at(self, path: str) -> list[dict[str, Any]]:
        """Bodies posted to ``path``."""
        return [body for p, body in list(self.posts) if p == path]

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


def receivers() -> Iterator[tuple[SmtpReceiver, SmtpSettings, HookReceiver, str]]:
    """Start both receivers (a fixture body)."""
    smtp = SmtpReceiver()
    settings = smtp.start()
    hooks = HookReceiver()
    base = hooks.start()
    try:
        yield smtp, settings, hooks, base
    finally:
        smtp.controller.stop()
        hooks.stop()
