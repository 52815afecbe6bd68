"""``run_simulate`` (``benchfleet simulate``): a short live run, and flags refused with a clear message."""

from __future__ import annotations

import resource
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from simulator.cli import run_simulate, simulated_start
from tests.services import MosquittoService
from tests.simulator.sim_harness import Recorder


def test_live_run_with_a_shipped_scenario(
    fresh_mosquitto: MosquittoService, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """20 benches (12 seed + 8 ``sim-``), the vandalism night at 1 sim hour per second for 4 s: exit 0, all publish."""
    recorder = Recorder(fresh_mosquitto.url)
    try:
        code = run_simulate(
            mqtt_url=fresh_mosquitto.url, benches=20, speed=900.0, seed=1, scenario=Path("vandalism_night"),
            backfill=None, tsdb=None, data_dir=tmp_path / "sim", duration=4.0,
        )  # fmt: skip
        assert code == 0
        seen = recorder.seen_benches("telemetry")
        assert len(seen) == 20
        assert "sim-00008" in seen
        assert (tmp_path / "sim" / "agents.sqlite3").exists()
        err = capsys.readouterr().err
        assert "scenario vandalism-night" in err
        assert "BENCHFLEET_AUTO_REGISTER=1" in err
        assert "20/20 connected" in err
    finally:
        recorder.close()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mqtt_url": "http://broker"}, "--mqtt: broker URL"),
        ({"benches": 0}, "--benches must be at least 1"),
        ({"speed": 0.0}, "--speed must be positive"),
        ({"duration": -1.0}, "--duration must be positive"),
        ({"scenario": Path("no_such_scenario")}, "scenario no_such_scenario"),
    ],
)
def test_bad_flags_are_named(kwargs: dict[str, object], message: str) -> None:
    """Each bad flag stops the command with a message naming it."""
    args: dict[str, object] = {
        "mqtt_url": "mqtt://127.0.0.1:1", "benches": 1, "speed": 1.0, "seed": 1, "scenario": None,
        "backfill": None, "tsdb": None, "data_dir": None, "duration": 1.0,
    }  # fmt: skip
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        run_simulate(**args)  # type: ignore[arg-type]


def test_more_benches_than_open_files_allow_is_refused() -> None:
    """One socket per bench: beyond the hard ``ulimit -n`` the command says how to raise it."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        pytest.skip("no hard open-file limit on this machine")
    with pytest.raises(ValueError, match="ulimit -n"):
        run_simulate("mqtt://127.0.0.1:1", hard + 1, 1.0, 1, None, None, None, None, 1.0)


def test_accelerated_runs_are_backdated_to_end_now() -> None:
    """At 60x for 10 real minutes the run starts 590 simulated minutes ago, so it never runs into the future."""
    now = datetime(2026, 11, 26, 12, 0, 30, 500, tzinfo=UTC)
    assert simulated_start(now, 60.0, 600.0) == datetime(2026, 11, 26, 2, 10, 30, tzinfo=UTC)
    # simulated time at the end of the run (start + 60 x 600 s) equals the wall clock then (now + 600 s)
    assert simulated_start(now, 60.0, 600.0) + timedelta(seconds=60 * 600) == now.replace(microsecond=0) + timedelta(
        seconds=600
    )
    assert simulated_start(now, 1.0, 600.0) == now.replace(microsecond=0)
    assert simulated_start(now, 60.0, None) == now.replace(microsecond=0)
