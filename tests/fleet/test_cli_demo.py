"""`benchfleet demo`, the README's first command, as a process; and the poll it seeds."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from fleet.demo_seed import DEMO_POLL_ID, seed_demo_polls
from tests.fleet.conftest import RuntimeFactory
from tests.services import MosquittoService
from tests.waiting import wait_until


def _twins_with_telemetry(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM twins WHERE telemetry IS NOT NULL").fetchone()[0])


def test_demo_runs_twelve_benches_and_stops_cleanly(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "fleet.cli", "demo", "--no-dashboard", "--data-dir", str(tmp_path), "--history", "1d"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "BENCHFLEET_LOG_LEVEL": "WARNING"},
    )
    try:
        wait_until(lambda: (tmp_path / "fleet.db").exists(), timeout=60, message="fleet database created")
        wait_until(
            lambda: _twins_with_telemetry(tmp_path / "fleet.db") == 12,
            timeout=90,
            interval=0.5,
            message="12 twins with telemetry",
        )
        with sqlite3.connect(tmp_path / "series.db") as conn:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert tables, "the embedded time-series store was written"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    text = out.decode()
    assert proc.returncode == 0, text
    assert "Dashboard: http://127.0.0.1:5000/" in text
    assert "login admin / " in text
    assert "history: " in text


def test_demo_poll_is_valid_and_seeded_once(mosquitto: MosquittoService, runtime_factory: RuntimeFactory) -> None:
    rt = runtime_factory(mosquitto.url)
    assert seed_demo_polls(rt.service) == 12
    assert seed_demo_polls(rt.service) == 0
    twin = rt.service.get_twin("mostar-01")
    assert twin is not None
    assert [p.id for p in twin.desired.polls] == [DEMO_POLL_ID]
    assert twin.desired.polls[0].is_open(rt.service.now())
    assert set(twin.desired.polls[0].question) == {"bs", "hr", "sr", "en"}
