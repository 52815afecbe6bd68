"""One set of agent flags: `benchfleet agent` and `python -m firmware_agent` are built from firmware_agent/flags.py."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from firmware_agent.__main__ import main as module_main
from firmware_agent.flags import agent_parser, parse_agent_args
from fleet.cli import main as benchfleet


def _flags(help_text: str) -> set[str]:
    return set(re.findall(r"--[a-z][a-z-]+", help_text))


def test_both_entry_points_offer_the_same_flags(capsys: pytest.CaptureFixture[str]) -> None:
    defined = {flag for action in agent_parser("x")._actions for flag in action.option_strings if flag != "-h"}
    assert "--kiosk-votes-per-minute" in defined
    cli = CliRunner().invoke(benchfleet, ["agent", "--help"])
    assert cli.exit_code == 0, cli.output
    with pytest.raises(SystemExit) as exited:
        module_main(["--help"])
    assert exited.value.code == 0
    assert _flags(cli.output) == _flags(capsys.readouterr().out) == defined


def test_flags_reach_the_options() -> None:
    options = parse_agent_args(
        ["--bench-id", "mostar-01", "--mqtt", "mqtt://h", "--kiosk", "off", "--kiosk-votes-per-minute", "12",
         "--drain-rate", "5", "--rollback-timeout", "60"],
        prog="test",
        env={},
    )  # fmt: skip
    assert (options.kiosk_votes_per_minute, options.kiosk_port, options.drain_rate_per_s) == (12, None, 5.0)
    assert options.rollback_timeout_s == 60.0


def test_mqtt_falls_back_to_the_environment() -> None:
    options = parse_agent_args(["--bench-id", "mostar-01"], prog="test", env={"BENCHFLEET_MQTT": "mqtts://b:8883"})
    assert options.mqtt_url == "mqtts://b:8883"
    with pytest.raises(SystemExit):
        parse_agent_args(["--bench-id", "mostar-01"], prog="test", env={})


def test_benchfleet_agent_names_a_bad_value() -> None:
    result = CliRunner().invoke(benchfleet, ["agent", "--bench-id", "mostar-01", "--mqtt", "http://h"])
    assert result.exit_code == 1
    assert "--mqtt" in result.output
