"""`benchfleet demo` restarted on its folder keeps the history and continues each bench's battery."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.waiting import wait_until

SOC = "battery.soc_pct"


def _latest_sample(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        return str(conn.execute("SELECT max(json_extract(telemetry, '$.ts')) FROM twins").fetchone()[0])


def _socs(db: Path) -> dict[str, float]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT bench_id, json_extract(telemetry, '$.battery.soc_pct') FROM twins WHERE telemetry IS NOT NULL"
        ).fetchall()
    return {bench: float(soc) for bench, soc in rows}


def _run_until_telemetry(folder: Path, fresher_than: dict[str, float] | None = None) -> str:
    """Run the demo until every running bench reported (again), then stop it; its output."""
    env = {**os.environ, "BENCHFLEET_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "fleet.cli", "demo", "--no-dashboard", "--data-dir", str(folder), "--history", "1d"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    try:
        wait_until(lambda: (folder / "fleet.db").exists(), timeout=60, message="fleet database")
        wait_until(lambda: len(_socs(folder / "fleet.db")) >= 11, timeout=120, interval=0.5, message="telemetry")
        if fresher_than is not None:
            wait_until(
                lambda: sum(_socs(folder / "fleet.db")[b] != v for b, v in fresher_than.items()) >= 8,
                timeout=60, interval=0.5, message="new samples after the restart",
            )  # fmt: skip
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out.decode()
    return out.decode()


def test_a_restarted_demo_continues_where_it_stopped(tmp_path: Path) -> None:
    first = _run_until_telemetry(tmp_path)
    assert "history: 1152 simulated samples" in first
    before = _socs(tmp_path / "fleet.db")
    stopped_at = _latest_sample(tmp_path / "fleet.db")
    second = _run_until_telemetry(tmp_path, fresher_than=before)
    assert "history: kept from the earlier run" in second
    assert "unchanged from the earlier run" in second
    after = _socs(tmp_path / "fleet.db")
    assert _latest_sample(tmp_path / "fleet.db") > stopped_at  # simulated time went on, not back to the wall clock
    # Each bench goes on from its last reported charge: no reset to one shared starting value.
    jumps = {b: abs(after[b] - before[b]) for b in before.keys() & after.keys()}
    assert max(jumps.values()) < 12.0, jumps
    assert len({round(v) for v in after.values()}) >= 5, after
