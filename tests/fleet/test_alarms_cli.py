"""``benchfleet alarms ...`` on a real database file: recipients, thresholds, the alarm list, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from fleet.cli import main
from fleet.db.engine import make_engine
from fleet.ops.alarms import AlarmStore, BenchFindings
from tests.twins.samples import T0
from twins.alarm_rules import RULES_BY_CODE, Finding
from twins.reasons import Reason


def test_recipients_thresholds_and_list(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'fleet.sqlite3'}"
    env = {"BENCHFLEET_DB": db, "BENCHFLEET_DATA_DIR": str(tmp_path)}
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(main, ["alarms", *args], env=env)
        return result.exit_code, result.output

    code, out = run("recipient-add", "Mostar", "email", "crew@mostar.ba", "--min-severity", "major")
    assert code == 0, out
    added = json.loads(out)
    assert (added["municipality"], added["channel"], added["min_severity"]) == ("Mostar", "email", "major")
    code, out = run("recipient-add", "Mostar", "webhook", "not-a-url")
    assert code != 0
    assert "not an http(s) URL" in out
    assert [json.loads(line)["address"] for line in run("recipients")[1].splitlines()] == ["crew@mostar.ba"]

    assert run("threshold", "bench", "mostar-01", "battery_low_pct", "35")[0] == 0
    engine = make_engine(db)
    store = AlarmStore(engine)
    assert store.thresholds().for_bench("mostar-01", "Mostar").battery_low_pct == 35
    code, out = run("threshold", "bench", "mostar-01", "battery_lo", "35")
    assert code != 0
    assert "unknown alarm threshold(s): battery_lo" in out

    tamper = RULES_BY_CODE["tamper"]
    store.observe(
        [
            BenchFindings(
                "mostar-01", "Mostar", {"tamper": Finding(tamper, Reason("alarm_tamper", {"at": "2026-11-26T09:58Z"}))}
            )
        ],
        T0,
        [tamper],
    )
    (line,) = run("list", "--state", "active")[1].splitlines()
    assert json.loads(line)["rule"] == "tamper"
    assert run("recipient-remove", str(added["id"]))[0] == 0
    assert run("recipients")[1] == ""
    engine.dispose()
