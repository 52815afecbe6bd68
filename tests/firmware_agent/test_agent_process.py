"""The agent as a real process: SIGKILL with a full outbox loses nothing; SIGTERM says offline and exits 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

from firmware_agent.outbox.base import Category
from firmware_agent.outbox.sqlite import AgentDatabase, SqliteOutbox
from tests.firmware_agent.conftest import config_doc, poll_doc
from tests.services import free_port
from tests.waiting import wait_until
from twins.codec import encode
from twins.messages import BatteryReading, LoadReading, SolarReading, Telemetry, WifiReading
from twins.topics import TopicKind

ROOT = Path(__file__).resolve().parents[2]
PREFILLED = 300


def _prefill(data_dir: Path, bench_id: str) -> None:
    """Samples an earlier run could not send (seq 10000+ so they differ from this boot's)."""
    data_dir.mkdir(parents=True)
    db = AgentDatabase(data_dir / "outbox.sqlite3")
    outbox = SqliteOutbox(db, bench_id)
    start = datetime.now(UTC) - timedelta(hours=6)
    for i in range(PREFILLED):
        sample = Telemetry(
            v=1,
            bench_id=bench_id,
            ts=start + timedelta(minutes=i),
            seq=10_000 + i,
            battery=BatteryReading(soc_pct=70, voltage_v=13.1, current_a=0.5, temp_c=10),
            solar=SolarReading(power_w=0, energy_today_wh=0),
            load=LoadReading(power_w=4),
            ports=[],
            wifi=WifiReading(clients=0, sessions_today=0),
            votes={},
        )
        outbox.put(TopicKind.TELEMETRY, Category.TELEMETRY, encode(sample), sample.ts.timestamp())
    db.close()


def _spawn(bench_id: str, url: str, data_dir: Path, kiosk_port: int) -> subprocess.Popen[bytes]:
    argv = [
        sys.executable, "-m", "firmware_agent", "--bench-id", bench_id, "--mqtt", url, "--hardware", "sim",
        "--data-dir", str(data_dir), "--kiosk", f"127.0.0.1:{kiosk_port}", "--kiosk-votes-per-minute", "1000",
        "--drain-rate", "40",
    ]  # fmt: skip
    log = (data_dir.parent / f"agent-{bench_id}.log").open("ab")
    return subprocess.Popen(argv, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=log, stderr=log)


def test_sigkill_with_full_outbox_loses_nothing(mosquitto, tmp_path: Path, observers) -> None:
    bench_id = f"kill-{uuid.uuid4().hex[:8]}"
    data_dir = tmp_path / "agent"
    _prefill(data_dir, bench_id)
    obs = observers(mosquitto.url, bench_id)
    opens = datetime.now(UTC) - timedelta(days=1)
    obs.send_desired(1, config_doc(polls=[poll_doc(opens=opens)]))
    kiosk_port = free_port()
    kiosk = f"http://127.0.0.1:{kiosk_port}"
    proc = _spawn(bench_id, mosquitto.url, data_dir, kiosk_port)
    try:
        wait_until(
            lambda: requests.get(f"{kiosk}/api/polls", timeout=2).json()["polls"], timeout=30, message="poll open"
        )
        votes = [
            requests.post(f"{kiosk}/api/votes", json={"poll_id": "park-2026", "option": "yes"}, timeout=5).json()["id"]
            for _ in range(10)
        ]
        wait_until(lambda: len(obs.seqs()) >= 40, timeout=30, message="draining started")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        will = wait_until(lambda: [s for s in obs.of("status") if s.get("reason") == "connection lost"], timeout=10)
        online = [s for s in obs.of("status") if s["online"]]
        assert will[-1]["online"] is False
        assert will[-1]["ts"] == online[-1]["ts"]  # same instant: the fleet never takes the will for stale
        db = AgentDatabase(data_dir / "outbox.sqlite3")
        left = SqliteOutbox(db, bench_id).count()
        db.close()
        assert left >= 100, "the outbox should still be well filled when the agent is killed"
        assert len({s for s in obs.seqs() if s >= 10_000}) < PREFILLED

        proc = _spawn(bench_id, mosquitto.url, data_dir, kiosk_port)
        wanted = set(range(10_000, 10_000 + PREFILLED))
        wait_until(
            lambda: wanted <= obs.seqs() and set(votes) <= {e["id"] for e in obs.events("vote")},
            timeout=40,
            message="every prefilled sample and vote delivered after the restart",
        )
        boots = obs.events("boot")
        assert len(boots) >= 2
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        last_status = wait_until(lambda: [s for s in obs.of("status") if s.get("reason") == "shutdown"], timeout=5)
        assert last_status[-1]["online"] is False
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
